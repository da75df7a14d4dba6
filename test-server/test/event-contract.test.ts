/**
 * The hub checks each event an agent sends against the event contract: a
 * listed type with a wrong or missing field is not recorded as the peer's
 * but as an `event.rejected` naming peer, seq and field; the events around
 * it are recorded in order, its seq counts (no gap), and an extension type
 * passes as it came. Real sockets, and a real run whose history is read back.
 */
import test from 'ava';
import {chmod, readFile, writeFile} from 'node:fs/promises';
import path from 'node:path';
import type {PeerEvent} from '@peerlab/client-agent/protocol';
import type {HubEvents} from '../src/hub/hub.js';
import {runScenario} from '../src/engine/engine.js';
import {parseScenarioText} from '../src/scenario/load.js';
import {readHistory} from '@peerlab/checkers/history/read';
import {evaluate} from '@peerlab/checkers/verdict';
import {rawAgent, record, startCoordinator, tempDir} from './support.js';

const batch = (base: number) => [
  {seq: base, time: 1, type: 'peer.started', data: {address: '127.0.0.1:1', incarnation: 0, profile: 'local'}},
  // The reference peer never sends this: incarnation is a string.
  {seq: base + 1, time: 2, type: 'member.dead', data: {name: 'bob', incarnation: '7', from: 'zed'}},
  {seq: base + 2, time: 3, type: 'member.joined', data: {name: 'bob', address: '127.0.0.1:2', incarnation: 0}},
  {seq: base + 3, time: 4, type: 'x.custom', data: {anything: [1, 'two']}},
];

test('a malformed event is rejected by name, seq and field; the events around it are recorded, with no gap', async (t) => {
  const coordinator = await startCoordinator(t);
  const events = record<HubEvents['events']>(coordinator.hub, 'events');
  const rejected = record<HubEvents['rejected']>(coordinator.hub, 'rejected');
  const gaps = record<HubEvents['gap']>(coordinator.hub, 'gap');
  const socket = await rawAgent(t, coordinator.url, coordinator.token);
  t.like(await socket.timeout(5000).emitWithAck('hello', {protocol: 1, peer: 'zed', pid: process.pid, version: 'test', address: '127.0.0.1:1', commands: []}), {ok: true});

  const ack = (await socket.timeout(5000).emitWithAck('events', {peer: 'zed', events: batch(1)})) as {ok: boolean; lastSeq: number; rejected?: unknown[]};
  t.like(ack, {ok: true, lastSeq: 4});
  t.is(ack.rejected?.length, 1);
  t.like(ack.rejected?.[0], {seq: 2, field: 'data.incarnation'});
  t.is(rejected.length, 1);
  const [detail] = rejected[0]!;
  t.like(detail, {peer: 'zed', seq: 2, time: 2, type: 'member.dead', field: 'data.incarnation'});
  t.is(detail.message, 'events.events[1].data.incarnation: expected a number in a member.dead event, got "7"');
  // In order, split around the rejection; the extension type as it came.
  t.deepEqual(
    events.map(([name, list]) => [name, list.map((e: PeerEvent) => e.seq)]),
    [['zed', [1]], ['zed', [3, 4]]],
  );
  t.deepEqual(events[1]![1][1]!.data, {anything: [1, 'two']});

  // The rejected seq counted: the next batch is no gap, and a resend of it is a duplicate, not a second rejection.
  t.like(await socket.timeout(5000).emitWithAck('events', {peer: 'zed', events: [...batch(1).slice(1), {seq: 5, time: 5, type: 'member.left', data: {name: 'bob', incarnation: 0}}]}), {ok: true, lastSeq: 5});
  t.is(rejected.length, 1);
  t.deepEqual(gaps, []);
  t.is(coordinator.hub.get('zed')?.lastSeq, 5);
});

test('a command reply waits for events that were rejected as well as recorded (waitForSeq wakes on a rejection)', async (t) => {
  const coordinator = await startCoordinator(t);
  const socket = await rawAgent(t, coordinator.url, coordinator.token);
  t.like(await socket.timeout(5000).emitWithAck('hello', {protocol: 1, peer: 'zed', pid: process.pid, version: 'test', address: '127.0.0.1:1', commands: []}), {ok: true});
  const waiting = coordinator.hub.waitForSeq('zed', 1, 10_000);
  await socket.timeout(5000).emitWithAck('events', {peer: 'zed', events: [{seq: 1, time: 1, type: 'chat.sent', data: {id: 'm1', sender: 'zed', seq: 'one', text: 'hi'}}]});
  t.true(await waiting);
});

/** A peer in "another language": a bare socket.io agent that sends one malformed event among good ones. */
async function writeRawPeer(dir: string): Promise<string> {
  const client = import.meta.resolve('socket.io-client');
  const file = path.join(dir, 'raw-peer.mjs');
  await writeFile(
    file,
    `import {io} from ${JSON.stringify(client)};
const flag = (n) => process.argv[process.argv.indexOf(n) + 1];
const name = flag('--name');
const socket = io(flag('--coordinator'), {transports: ['websocket'], auth: {token: process.env.PEERLAB_TOKEN}});
const other = name === 'alice' ? 'bob' : 'alice';
const events = [
  {seq: 1, time: Date.now(), type: 'peer.started', data: {address: '127.0.0.1:1', incarnation: 0, profile: 'local'}},
  {seq: 2, time: Date.now(), type: 'member.dead', data: {name: other, incarnation: 'seven', from: name}},
  {seq: 3, time: Date.now(), type: 'member.joined', data: {name: other, address: '127.0.0.1:2', incarnation: 0}},
];
socket.on('connect', async () => {
  // It declares what it reports: membership, with incarnations; without that, the invariants on membership judge nothing.
  const capabilities = {events: ['membership'], fields: ['incarnation']};
  const ack = await socket.timeout(5000).emitWithAck('hello', {protocol: 1, peer: name, pid: process.pid, version: 'raw', address: '127.0.0.1:1', commands: [], capabilities});
  if (!ack.ok) process.exit(3);
  await socket.timeout(5000).emitWithAck('events', {peer: name, events});
});
socket.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
`,
  );
  await chmod(file, 0o755);
  return file;
}

test('a run records the rejection in its history; the await still judges the events around it', async (t) => {
  const dir = await tempDir(t, 'peerlab-contract-');
  const peerBin = await writeRawPeer(dir);
  const [scenario] = parseScenarioText(
    `name: a malformed event
peers: [alice, bob]
steps:
  - start: all
  - await: {state: {of: bob, is: alive, seen_by: [alice]}}
    within: 20s
`,
    path.join(dir, 'scenario.yaml'),
    [],
  );
  const result = await runScenario(scenario!, {outDir: path.join(dir, 'runs'), seed: 1, attempt: 1, peerBin});
  t.is(result.status, 'pass', JSON.stringify(result.steps));
  const history = await readHistory(result.historyPath);
  const rejections = history.filter((e) => e.type === 'event.rejected');
  t.is(rejections.length, 2);
  const alice = rejections.find((e) => e.data.peer === 'alice');
  t.like(alice, {src: 'coordinator', data: {peer: 'alice', seq: 2, type: 'member.dead', field: 'data.incarnation'}});
  t.regex(String(alice!.data.message), /^events\.events\[1\]\.data\.incarnation: expected a number in a member\.dead event, got "seven"$/);
  // The good events around it are the peer's, with their seqs; the bad one is not.
  t.deepEqual(history.filter((e) => e.src === 'peer:alice').map((e) => [e.seq, e.type]), [[1, 'peer.started'], [3, 'member.joined']]);
  t.false(history.some((e) => e.type === 'peer.gap'));
  // The line as written: one coordinator event of its own.
  const line = (await readFile(result.historyPath, 'utf8')).split('\n').find((l) => l.includes('"event.rejected"') && l.includes('"alice"'));
  t.log(line);
  t.truthy(line);
});

test('a model-bounded await is unknown, naming the step, when no peer reported its timing', async (t) => {
  const dir = await tempDir(t, 'peerlab-contract-');
  const peerBin = await writeRawPeer(dir);
  const [scenario] = parseScenarioText(
    `name: no timing
peers: [alice, bob]
steps:
  - start: all
  - await: converged
    within: 3x model
`,
    path.join(dir, 'scenario.yaml'),
    [],
  );
  const result = await runScenario(scenario!, {outDir: path.join(dir, 'runs'), seed: 1, attempt: 1, peerBin});
  t.is(result.status, 'unknown', JSON.stringify(result.steps));
  t.like(result.steps[1], {status: 'unknown', message: 'step 2 (await converged within 3x model): no peer reported its timing in its peer.started, so the model bound cannot be worked out'});
  const evaluation = evaluate(await readHistory(result.historyPath));
  t.is(evaluation.steps[1]?.message, result.steps[1]?.message, 'peerlab check says the same');
});
