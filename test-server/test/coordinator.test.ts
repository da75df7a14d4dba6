/**
 * The coordinator in this process, with real peer processes: registration,
 * commands through the hub and through REST, processes killed from outside,
 * reconnects, and malformed input on both the agent socket and the HTTP API.
 * Everything on 127.0.0.1; every wait is on an event or a condition with a
 * deadline; every test closes its coordinator, which stops its peers.
 */
import test from 'ava';
import type {ExecutionContext} from 'ava';
import {io} from 'socket.io-client';
import type {PeerEvent} from '@peerlab/client-agent/protocol';
import type {Coordinator} from '../src/coordinator.js';
import {generateNames} from '@peerlab/events/names';
import type {PeerHandle, PeerExit} from '../src/runners/runner.js';
import type {PeerHost} from '../src/runners/local/peer-host.js';
import type {AgentInfo, HubEvents} from '../src/hub/hub.js';
import {call, isAlive, isError, rawAgent, record, startCoordinator, until, waitForEvent} from './support.js';

interface Row {
  name: string;
  pid: number | null;
  state: string;
  registered: boolean;
  address: string | null;
  exit: PeerExit | null;
}

async function rows(t: ExecutionContext, base: string): Promise<Map<string, Row>> {
  const reply = await call(base, 'GET', '/api/peers');
  t.is(reply.status, 200, JSON.stringify(reply.body));
  return new Map((reply.body as {peers: Row[]}).peers.map((r) => [r.name, r]));
}

/** Every event each peer has streamed, in arrival order. */
function eventLog(coordinator: Coordinator): Map<string, PeerEvent[]> {
  const log = new Map<string, PeerEvent[]>();
  coordinator.hub.on('events', (name, events) => log.set(name, [...(log.get(name) ?? []), ...events]));
  return log;
}

test.serial('10 peers start and register; GET /api/peers lists them with pids; /healthz answers', async (t) => {
  const coordinator = await startCoordinator(t);
  const names = generateNames(10);
  const started = performance.now();
  const hosts = await coordinator.spawn(names);
  const elapsed = performance.now() - started;
  t.log(`10 peers registered in ${elapsed.toFixed(0)} ms`);

  t.deepEqual(coordinator.hub.agents().map((a) => a.name), [...names].sort());
  const health = await call(coordinator.url, 'GET', '/healthz');
  t.is(health.status, 200);
  t.like(health.body, {ok: true, runId: coordinator.runId, peers: 10, registered: 10});

  const listed = await rows(t, coordinator.url);
  t.deepEqual([...listed.keys()].sort(), [...names].sort());
  for (const host of hosts) {
    const row = listed.get(host.name)!;
    t.is(row.pid, host.pid!, host.name);
    t.is(row.pid, coordinator.hub.get(host.name)?.pid ?? null, `${host.name}: the pid the agent reported is the process's`);
    t.true(Number.isInteger(row.pid) && isAlive(row.pid!), host.name);
    t.like(row, {state: 'running', registered: true, exit: null});
    t.regex(row.address ?? '', /^127\.0\.0\.1:\d+$/);
  }
  t.is(new Set(hosts.map((h) => h.pid)).size, 10, 'ten distinct processes');
});

test.serial('commands round-trip to one peer, to every peer, and through REST; the snapshot shows members and delivered ids', async (t) => {
  const coordinator = await startCoordinator(t);
  const events = eventLog(coordinator);
  const names = ['alice', 'bob', 'charly'];
  await coordinator.spawn(names);

  const sent = await coordinator.hub.command('alice', 'send', {text: 'hi'});
  if (!sent.ok) return t.fail(sent.error.message);
  const id = (sent.result as {id: string}).id;
  t.regex(id, /^alice:\w+:1$/);
  t.is(sent.text, `sent ${id}`);

  const replies = await Promise.all(names.map((name) => coordinator.hub.command(name, 'members')));
  replies.forEach((reply, i) => {
    if (!reply.ok) return t.fail(`${names[i]}: ${reply.error.message}`);
    const result = reply.result as {self: string; members: {name: string; state: string}[]};
    t.is(result.self, names[i]!);
    t.true(result.members.some((m) => m.name === names[i] && m.state === 'alive'));
  });
  t.is(new Set(replies.map((r) => r.id)).size, 3, 'each command has its own id');

  const base = coordinator.url;
  const members = await call(base, 'POST', '/api/peers/bob/commands', {json: {name: 'members'}});
  t.is(members.status, 200, JSON.stringify(members.body));
  t.like(members.body, {ok: true, result: {self: 'bob'}});
  t.regex(members.body.text, /checksum/);
  const viaRest = await call(base, 'POST', '/api/peers/bob/commands', {json: {name: 'send', args: {text: 'via rest'}, timeoutMs: 5000}});
  t.is(viaRest.status, 200, JSON.stringify(viaRest.body));
  t.regex(viaRest.body.result.id, /^bob:\w+:1$/);
  const json = await call(base, 'POST', '/api/peers/bob/commands', {json: {name: 'status', args: {json: true}}});
  t.is(json.status, 200);
  t.is(json.body.text, undefined, 'a json flag asks for the data, not the rendering');
  t.like(json.body.result, {name: 'bob', state: 'alive'});

  // bob's own event stream says when alice's message reached him.
  await until(() => events.get('bob')?.some((e) => e.type === 'chat.delivered' && e.data.id === id), 10_000, `bob delivers ${id}`);
  const snapshot = await call(base, 'GET', '/api/peers/bob/snapshot');
  t.is(snapshot.status, 200, JSON.stringify(snapshot.body));
  const body = snapshot.body as {peer: string; members: {name: string; address: string; state: string; incarnation: number}[]; messages: {count: number; ids: string[]}};
  t.is(body.peer, 'bob');
  t.true(body.members.some((m) => m.name === 'bob'));
  for (const member of body.members) {
    t.true(['alive', 'suspect', 'dead', 'left'].includes(member.state), JSON.stringify(member));
    t.true(Number.isInteger(member.incarnation) && member.incarnation >= 0, JSON.stringify(member));
    t.regex(member.address, /^127\.0\.0\.1:\d+$/);
  }
  t.true(body.messages.ids.includes(id), JSON.stringify(body.messages));
  t.is(body.messages.count, body.messages.ids.length);
  // The row's message count is folded from the same event stream.
  const row = (await rows(t, base)).get('bob') as Row & {messages: number};
  t.true(row.messages >= 1, JSON.stringify(row));
});

test.serial('a peer killed from outside is reported with its signal', async (t) => {
  const coordinator = await startCoordinator(t);
  await coordinator.spawn(['alice', 'bob']);
  const host = coordinator.runner.get('bob')!;
  const pid = host.pid!;
  const exited = waitForEvent<[PeerHandle, PeerExit]>(coordinator.runner, 'exit', (h) => h.name === 'bob');
  const disconnected = waitForEvent<HubEvents['disconnected']>(coordinator.hub, 'disconnected', (name) => name === 'bob');

  process.kill(pid, 'SIGKILL');
  const [, exit] = await exited;
  t.like(exit, {signal: 'SIGKILL', code: null, unexpectedly: true});
  const [, reason] = await disconnected;
  t.log(`hub saw bob go: ${reason}`);
  t.false(coordinator.hub.isConnected('bob'));

  const listed = await rows(t, coordinator.url);
  t.like(listed.get('bob'), {pid, state: 'exited', registered: false, exit: {signal: 'SIGKILL', code: null, unexpectedly: true}});
  t.like(listed.get('alice'), {state: 'running', registered: true, exit: null});
  const gone = await coordinator.hub.command('bob', 'members');
  t.like(gone, {ok: false, error: {code: 'not-connected'}});
  const rest = await call(coordinator.url, 'POST', '/api/peers/bob/commands', {json: {name: 'members'}});
  isError(t, rest, 409, 'not-connected');
});

test.serial('peers started together are answered hold and join only once the last of them has registered', async (t) => {
  const coordinator = await startCoordinator(t);
  const names = generateNames(6);
  let lastRegistered = 0;
  coordinator.hub.on('registered', () => (lastRegistered = Date.now()));
  await coordinator.spawn(names);
  const registeredAt = lastRegistered;
  // Each join begins at the bootstrap service, which stamps it (same machine, same clock).
  const joins = await until(
    async () => {
      const {contacts, candidates} = await coordinator.bootstrap.list();
      const all = [...contacts, ...candidates];
      return all.length === names.length && all;
    },
    20_000,
    'every peer has asked the bootstrap service',
  );
  t.true(
    joins.every((c) => c.since >= registeredAt),
    `joins began ${joins.map((c) => `${c.name} ${c.since - registeredAt}`).join(', ')} ms after the last registration`,
  );
  await until(() => names.every((n) => coordinator.views.liveCount(n) === names.length), 20_000, 'the group converges');
});

test.serial('the hub answers hold to the names it holds, and go when released; others start at once', async (t) => {
  const coordinator = await startCoordinator(t);
  const hello = (peer: string) => ({protocol: 1, peer, pid: process.pid, version: 'test', address: '127.0.0.1:1', commands: []});
  const release = coordinator.hub.hold(['held-1', 'held-2']);
  const held = await rawAgent(t, coordinator.url, coordinator.token);
  const went = new Promise<void>((resolve) => held.once('go', () => resolve()));
  t.like(await held.timeout(5000).emitWithAck('hello', hello('held-1')), {ok: true, hold: true});
  const free = await rawAgent(t, coordinator.url, coordinator.token);
  let freeWent = false;
  free.once('go', () => (freeWent = true));
  const freeAck = (await free.timeout(5000).emitWithAck('hello', hello('free'))) as Record<string, unknown>;
  t.is(freeAck.ok, true);
  t.false('hold' in freeAck, 'a peer outside any batch begins at once');
  release();
  await went;
  // After the release, the rest of the batch is not held: it would never hear a go.
  const late = await rawAgent(t, coordinator.url, coordinator.token);
  const lateAck = (await late.timeout(5000).emitWithAck('hello', hello('held-2'))) as Record<string, unknown>;
  t.is(lateAck.ok, true);
  t.false('hold' in lateAck);
  // A ping after the go: anything the hub had sent to the free agent has arrived by its answer.
  await free.timeout(5000).emitWithAck('hello', hello('free'));
  t.false(freeWent, 'no go for a peer that was not held');
});

test.serial('an agent reconnects after a dropped connection without losing an event', async (t) => {
  const coordinator = await startCoordinator(t);
  const events = eventLog(coordinator);
  const gaps = record<HubEvents['gap']>(coordinator.hub, 'gap');
  const refusals = record<HubEvents['protocol-error']>(coordinator.hub, 'protocol-error');
  await coordinator.spawn(['alice', 'bob']);
  const before = coordinator.hub.get('bob')!;
  t.is(before.registrations, 1);

  const dropped = waitForEvent<HubEvents['disconnected']>(coordinator.hub, 'disconnected', (name) => name === 'bob');
  const again = waitForEvent<[AgentInfo]>(coordinator.hub, 'registered', (info) => info.name === 'bob');
  // Something happens at bob while he is away: alice's message reaches him meanwhile or just after.
  coordinator.hub.once('disconnected', () => void coordinator.hub.command('alice', 'send', {text: 'while bob is away'}));
  t.true(coordinator.hub.disconnect('bob'));
  const [, reason] = await dropped;
  t.is(reason, 'server namespace disconnect');
  const [info] = await again;
  t.is(info.registrations, 2);
  t.is(info.pid, before.pid, 'the same process');
  t.is(coordinator.hub.get('bob')?.registrations, 2);
  t.true(coordinator.runner.get('bob')!.alive);

  const reply = await coordinator.hub.command('bob', 'send', {text: 'back again'});
  if (!reply.ok) return t.fail(reply.error.message);
  const id = (reply.result as {id: string}).id;
  await until(() => events.get('bob')?.some((e) => e.type === 'chat.sent' && e.data.id === id), 10_000, `bob's chat.sent for ${id}`);
  await until(() => events.get('bob')?.some((e) => e.type === 'chat.delivered' && String(e.data.id).startsWith('alice:')), 10_000, 'bob delivers alice\'s message');

  const seqs = events.get('bob')!.map((e) => e.seq);
  t.deepEqual(seqs, seqs.map((_, i) => i + 1), 'bob\'s events arrive once each, in order, from 1');
  t.deepEqual(gaps, []);
  t.deepEqual(refusals, [], 'the agent sent nothing the hub had to refuse');
  t.is(coordinator.hub.get('bob')?.lastSeq, seqs.length);
});

test.serial('malformed agent messages get errors while the hub keeps serving', async (t) => {
  const coordinator = await startCoordinator(t);
  await coordinator.spawn(['alice']);
  const errors = record<HubEvents['protocol-error']>(coordinator.hub, 'protocol-error');
  const socket = await rawAgent(t, coordinator.url, coordinator.token);
  const ask = async (channel: string, ...args: unknown[]) => (await socket.timeout(5000).emitWithAck(channel, ...args)) as {ok: boolean; error?: {message: string; code: string}; runId?: string; lastSeq?: number};
  const refused = async (what: string, reply: Promise<Awaited<ReturnType<typeof ask>>>, message: RegExp, code = 'bad-message') => {
    const answer = await reply;
    t.is(answer.ok, false, `${what}: ${JSON.stringify(answer)}`);
    t.is(answer.error?.code, code, what);
    t.regex(answer.error?.message ?? '', message, what);
  };
  const hello = {protocol: 1, peer: 'raw-1', pid: process.pid, version: 'test', address: '127.0.0.1:1', commands: []};
  const event = (seq: number) => ({seq, time: Date.now(), type: 'test.event', data: {}});

  let bad = 0;
  await refused('hello: not an object', ask('hello', 'garbage'), /^hello: expected an object, got "garbage"/), bad++;
  await refused('hello: wrong protocol', ask('hello', {...hello, protocol: 99}), /^hello\.protocol: expected 1, got 99/), bad++;
  await refused('hello: bad name', ask('hello', {...hello, peer: 'not a name!'}), /^hello\.peer: /), bad++;
  await refused('hello: missing fields', ask('hello', {protocol: 1, peer: 'raw-1'}), /^hello\.pid: .*got nothing/), bad++;
  await refused('hello: bad command spec', ask('hello', {...hello, commands: [{name: 'x', args: [{name: 'a', type: 'date'}]}]}), /^hello\.commands\[0\]\.args\[0\]\.type: /), bad++;
  await refused('events before hello', ask('events', {peer: 'raw-1', events: [event(1)]}), /events before hello/), bad++;
  await refused('unknown message', ask('make-coffee', {strength: 9}), /unknown message "make-coffee"/), bad++;
  // Messages without an ack must not break anything either.
  socket.emit('hello', 42);
  socket.emit('make-coffee');
  bad += 2;
  await refused('duplicate name', ask('hello', {...hello, peer: 'alice'}), /a peer named alice is already registered/, 'duplicate-name'), bad++;
  t.is(coordinator.hub.get('alice')?.pid, coordinator.runner.get('alice')?.pid, 'the live alice keeps her name');

  const ack = await ask('hello', hello);
  t.like(ack, {ok: true, runId: coordinator.runId});
  await refused('rename', ask('hello', {...hello, peer: 'raw-2'}), /already registered as raw-1/), bad++;
  // Registered, but not a process of the runner: REST can see it, not stop it.
  isError(t, await call(coordinator.url, 'DELETE', '/api/peers/raw-1'), 409, 'not-managed');
  await refused('events for another peer', ask('events', {peer: 'alice', events: [event(1)]}), /^events\.peer: expected raw-1 .*got alice/), bad++;
  await refused('seq 0', ask('events', {peer: 'raw-1', events: [event(0)]}), /^events\.events\[0\]\.seq: expected an integer >= 1, got 0/), bad++;
  await refused('seq not a number', ask('events', {peer: 'raw-1', events: [{...event(1), seq: 'one'}]}), /^events\.events\[0\]\.seq: /), bad++;
  await refused('seq skips', ask('events', {peer: 'raw-1', events: [event(1), event(3)]}), /^events\.events\[1\]\.seq: expected 2 /), bad++;
  await refused('seq backwards', ask('events', {peer: 'raw-1', events: [event(2), event(1)]}), /^events\.events\[1\]\.seq: expected 3 /), bad++;
  await refused('event without data', ask('events', {peer: 'raw-1', events: [{seq: 1, time: Date.now(), type: 'x'}]}), /^events\.events\[0\]\.data: /), bad++;
  await refused('events not a list', ask('events', {peer: 'raw-1', events: 'many'}), /^events\.events: /), bad++;

  // Nothing bad was taken in: the stream still starts at 1.
  t.like(await ask('events', {peer: 'raw-1', events: [event(1), event(2)]}), {ok: true, lastSeq: 2});
  t.like(await ask('events', {peer: 'raw-1', events: [event(2), event(3)]}), {ok: true, lastSeq: 3}, 'a resent event is a duplicate, not an error');
  t.true(socket.connected, 'the hub answers errors and keeps the connection');

  await until(() => errors.length >= bad, 5000, `${bad} protocol-error events`);
  t.is(errors.length, bad);
  for (const [detail] of errors) t.is(detail.socket, socket.id!);
  // socket.io runs catch-all listeners before named ones, so only the tally per channel is fixed.
  const tally = (channels: string[]) => Object.fromEntries([...new Set(channels)].map((c) => [c, channels.filter((x) => x === c).length]));
  t.deepEqual(tally(errors.map(([d]) => d.channel)), {hello: 8, events: 8, 'make-coffee': 2});

  const reply = await coordinator.hub.command('alice', 'members');
  t.true(reply.ok, JSON.stringify(reply));
  t.like(coordinator.hub.get('raw-1'), {registrations: 1, lastSeq: 3});

  const intruder = io(coordinator.url, {transports: ['websocket'], auth: {token: 'not-the-token'}, reconnection: false, forceNew: true});
  t.teardown(() => void intruder.disconnect());
  const [error] = await waitForEvent<[Error]>(intruder, 'connect_error', () => true, 5000);
  t.regex(error.message, /unauthorized/);
  t.false(intruder.connected);
});

test.serial('malformed HTTP requests get JSON errors with fitting statuses while the server keeps serving', async (t) => {
  const coordinator = await startCoordinator(t);
  await coordinator.spawn(['alice', 'bob']);
  const base = coordinator.url;
  const command = (peer: string, body: unknown) => call(base, 'POST', `/api/peers/${peer}/commands`, {json: body});

  let e = isError(t, await call(base, 'POST', '/api/peers/alice/commands', {raw: '{"name": "members",'}), 400, 'bad-request');
  t.regex(e.message, /^body: malformed JSON/);
  e = isError(t, await call(base, 'POST', '/api/peers', {raw: 'not json'}), 400, 'bad-request');
  t.is(e.field, 'body');
  e = isError(t, await call(base, 'POST', '/api/peers/alice/commands'), 400, 'bad-request');
  t.regex(e.message, /^body: /, 'no body at all');
  e = isError(t, await command('alice', {}), 400, 'bad-request');
  t.is(e.field, 'name');
  t.regex(e.message, /^name: /);
  e = isError(t, await command('alice', {name: 'members', colour: 'blue'}), 400, 'bad-request');
  t.regex(e.message, /colour/);
  e = isError(t, await command('alice', {name: 'members', args: ['--json']}), 400, 'bad-request');
  t.regex(e.message, /^args: /);
  e = isError(t, await command('alice', {name: 'members', timeoutMs: -1}), 400, 'bad-request');
  t.regex(e.message, /^timeoutMs: /);
  e = isError(t, await command('nobody', {name: 'members'}), 404, 'unknown-peer');
  t.regex(e.message, /nobody/);
  isError(t, await call(base, 'GET', '/api/peers/nobody/snapshot'), 404, 'unknown-peer');
  e = isError(t, await command('alice', {name: 'fly', args: {}}), 400, 'unknown-command');
  t.regex(e.message, /unknown command "fly"/);
  e = isError(t, await command('alice', {name: 'send', args: {}}), 400, 'bad-arguments');
  t.regex(e.message, /missing <text>/);
  e = isError(t, await command('alice', {name: 'send', args: {text: 'x', loud: true}}), 400, 'bad-arguments');
  t.regex(e.message, /unknown argument "loud"/);
  e = isError(t, await command('alice', {name: 'members', args: {json: 'yes'}}), 400, 'bad-arguments');
  t.regex(e.message, /json must be true or false/);
  e = isError(t, await call(base, 'GET', '/api/nothing-here'), 404, 'not-found');
  t.regex(e.message, /GET \/api\/nothing-here/);
  isError(t, await call(base, 'PUT', '/api/peers/alice'), 404, 'not-found');
  e = isError(t, await call(base, 'POST', '/api/peers', {json: {names: ['alice']}}), 409, 'already-running');
  t.regex(e.message, /alice/);
  e = isError(t, await call(base, 'POST', '/api/peers', {json: {names: ['bad name']}}), 400, 'bad-request');
  t.regex(e.message, /^names\.0: /);
  isError(t, await call(base, 'POST', '/api/peers', {json: {count: 0}}), 400, 'bad-request');
  isError(t, await call(base, 'POST', '/api/peers', {json: {count: 1, names: ['x']}}), 400, 'bad-request');
  e = isError(t, await call(base, 'POST', '/api/peers', {json: {names: ['carl', 'carl']}}), 400, 'bad-request');
  t.regex(e.message, /duplicates/);
  e = isError(t, await call(base, 'DELETE', '/api/peers/alice?signal=bogus'), 400, 'bad-request');
  t.is(e.field, 'signal');
  isError(t, await call(base, 'DELETE', '/api/peers/nobody'), 404, 'unknown-peer');
  t.true(coordinator.runner.get('alice')!.alive, 'a refused DELETE stops nothing');

  const good = await command('alice', {name: 'members'});
  t.is(good.status, 200, JSON.stringify(good.body));
  t.like(good.body, {ok: true, result: {self: 'alice'}});

  const started = performance.now();
  const spawned = await call(base, 'POST', '/api/peers', {json: {count: 2}});
  t.log(`POST /api/peers {"count":2} answered in ${(performance.now() - started).toFixed(0)} ms`);
  t.is(spawned.status, 201, JSON.stringify(spawned.body));
  const created = (spawned.body as {peers: Row[]}).peers;
  t.deepEqual(created.map((r) => r.name), ['charly', 'dave']);
  for (const row of created) {
    t.like(row, {registered: true, state: 'running', exit: null});
    t.true(isAlive(row.pid!));
  }
  t.is((await rows(t, base)).size, 4);

  const pid = coordinator.runner.get('charly')!.pid!;
  const stopped = await call(base, 'DELETE', '/api/peers/charly');
  t.is(stopped.status, 200, JSON.stringify(stopped.body));
  t.like(stopped.body, {name: 'charly', exit: {code: 0, signal: null, unexpectedly: false}});
  t.false(isAlive(pid));
  t.like((await rows(t, base)).get('charly'), {state: 'exited', exit: {code: 0}});
  isError(t, await call(base, 'DELETE', '/api/peers/charly'), 409, 'not-running');
  const killed = await call(base, 'DELETE', '/api/peers/dave?signal=SIGKILL');
  t.is(killed.status, 200, JSON.stringify(killed.body));
  t.like(killed.body, {name: 'dave', exit: {code: null, signal: 'SIGKILL', unexpectedly: false}});
});

test.serial('beyond loopback, no token means refused; peers still register with theirs', async (t) => {
  const coordinator = await startCoordinator(t, {host: '0.0.0.0'});
  const url = new URL(coordinator.url);
  t.is(url.hostname, '0.0.0.0');
  // Traffic goes to loopback only, even though the server listens everywhere.
  const base = `http://127.0.0.1:${url.port}`;

  for (const route of ['/healthz', '/api/peers', '/bootstrap/peers']) {
    const e = isError(t, await call(base, 'GET', route), 401, 'unauthorized');
    t.regex(e.message, /Authorization: Bearer/);
  }
  isError(t, await call(base, 'GET', '/api/peers', {headers: {authorization: 'Bearer wrong'}}), 401, 'unauthorized');
  isError(t, await call(base, 'GET', '/api/peers', {headers: {authorization: coordinator.token}}), 401, 'unauthorized');
  isError(t, await call(base, 'POST', '/api/peers', {json: {count: 1}}), 401, 'unauthorized');
  const authorization = {authorization: `Bearer ${coordinator.token}`};
  const allowed = await call(base, 'GET', '/api/peers', {headers: authorization});
  t.is(allowed.status, 200);
  t.deepEqual(allowed.body, {peers: []});
  t.is((await call(base, 'GET', '/healthz', {headers: {'x-peerlab-token': coordinator.token}})).status, 200);

  await t.throwsAsync(rawAgent(t, base, undefined), {message: /unauthorized/});
  await t.throwsAsync(rawAgent(t, base, 'wrong'), {message: /unauthorized/});

  // Peers get the token by environment: the agent and the bootstrap client both use it.
  await coordinator.spawn(['alice', 'bob']);
  const listed = await call(base, 'GET', '/api/peers', {headers: authorization});
  t.is(listed.status, 200);
  t.true((listed.body as {peers: Row[]}).peers.every((r) => r.registered));
  // They found each other through the bootstrap service, which also wants the token.
  await until(async () => {
    const reply = await coordinator.hub.command('alice', 'members');
    return reply.ok && (reply.result as {count: number}).count === 2;
  }, 10_000, 'alice sees bob');
  const reply = await call(base, 'POST', '/api/peers/bob/commands', {json: {name: 'members'}, headers: authorization});
  t.is(reply.status, 200, JSON.stringify(reply.body));
});

test.serial('a stray PEERLAB_BOOTSTRAP_TOKEN in the environment does not reach the coordinator\'s bootstrap: peers the fleet starts still join through it', async (t) => {
  // Left in the shell for a stand-alone bootstrap service; the peer prefers it to PEERLAB_TOKEN, and peers inherit the environment.
  const before = process.env.PEERLAB_BOOTSTRAP_TOKEN;
  process.env.PEERLAB_BOOTSTRAP_TOKEN = 'wrong-token-for-another-bootstrap-service';
  t.teardown(() => {
    if (before === undefined) delete process.env.PEERLAB_BOOTSTRAP_TOKEN;
    else process.env.PEERLAB_BOOTSTRAP_TOKEN = before;
  });
  const coordinator = await startCoordinator(t, {host: '0.0.0.0'});
  const base = `http://127.0.0.1:${new URL(coordinator.url).port}`;
  const authorization = {authorization: `Bearer ${coordinator.token}`};
  await coordinator.spawn(['alice', 'bob']);
  // Both recorded by the coordinator's bootstrap service: their /join carried the run token, not the stray one.
  // A peer joins once it has registered, so the list is awaited.
  const listed = await until(async () => {
    const reply = await call(base, 'GET', '/bootstrap/list', {headers: authorization});
    t.is(reply.status, 200, JSON.stringify(reply.body));
    const {contacts = [], candidates = []} = reply.body as {contacts?: Array<{name: string}>; candidates?: Array<{name: string}>};
    const names = [...contacts, ...candidates].map((p) => p.name).sort();
    return names.length === 2 && names;
  }, 10_000, 'both peers recorded by the bootstrap service');
  t.deepEqual(listed, ['alice', 'bob']);
  await until(async () => {
    const reply = await coordinator.hub.command('alice', 'members');
    return reply.ok && (reply.result as {count: number}).count === 2;
  }, 10_000, 'alice sees bob, found through the bootstrap');
});

test.serial('on loopback, REST needs no token but agents still do', async (t) => {
  const coordinator = await startCoordinator(t, {host: '127.0.0.1'});
  t.regex(coordinator.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const health = await call(coordinator.url, 'GET', '/healthz');
  t.is(health.status, 200);
  t.like(health.body, {ok: true, peers: 0, registered: 0});
  t.is((await call(coordinator.url, 'GET', '/api/peers')).status, 200);
  await t.throwsAsync(rawAgent(t, coordinator.url, undefined), {message: /unauthorized/});
});

test.serial('an agent grace period longer than a minute is passed to peers as is', async (t) => {
  const coordinator = await startCoordinator(t, {agentGraceMs: 120_000, registerTimeoutMs: 10_000});
  const [host] = await coordinator.spawn(['alice']);
  t.true((host as PeerHost).launch.args.includes('120000'));
  t.like(coordinator.hub.get('alice'), {registrations: 1});
});
