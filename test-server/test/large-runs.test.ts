/**
 * What keeps a run of hundreds of peers on a small machine observable: the
 * names dealt out across peer hosts (so the first registrants, everyone's
 * bootstrap contacts, do not share one process), the agents' flush interval
 * sized for the run, a listen backlog that takes a burst of thousands of
 * connections, and peer hosts below the coordinator's CPU priority
 * while a process of one peer keeps it. Real coordinators and peer processes.
 */
import test from 'ava';
import {execFileSync} from 'node:child_process';
import {readFileSync} from 'node:fs';
import {getPriority} from 'node:os';
import {agentGraceFor, bootstrapContactsFor, flushIntervalFor, hostGroups, listenBacklogFor} from '../src/coordinator.js';
import {PEER_HOST_NICE} from '../src/runners/local/local-runner.js';
import {rawAgent, startCoordinator, until} from './support.js';

test('names are dealt out across processes in turn, every name once, sizes within one of each other', (t) => {
  t.deepEqual(hostGroups(['a', 'b', 'c', 'd', 'e', 'f'], 3), [['a', 'c', 'e'], ['b', 'd', 'f']]);
  t.deepEqual(hostGroups(['a', 'b', 'c'], 1), [['a'], ['b'], ['c']]);
  t.deepEqual(hostGroups(['a', 'b'], 5), [['a', 'b']]);
  for (const [n, per] of [[1000, 25], [2000, 50], [7, 3], [101, 10]] as const) {
    const names = Array.from({length: n}, (_, i) => `p${i}`);
    const groups = hostGroups(names, per);
    t.is(groups.length, Math.ceil(n / per));
    t.deepEqual(groups.flat().sort(), [...names].sort());
    const sizes = groups.map((g) => g.length);
    t.true(Math.max(...sizes) <= per && Math.max(...sizes) - Math.min(...sizes) <= 1, `${n}/${per}: ${sizes.join(',')}`);
    // The eight oldest, the bootstrap's contacts, are in eight processes.
    t.is(new Set(names.slice(0, 8).map((name) => groups.findIndex((g) => g.includes(name)))).size, Math.min(8, groups.length));
  }
});

test('the agents\' grace period is 3 s, and 10 ms a peer in larger runs', (t) => {
  t.is(agentGraceFor(0), 3000);
  t.is(agentGraceFor(300), 3000);
  t.is(agentGraceFor(2000), 20_000);
});

test('the flush interval grows with the run, from 50 ms to a second', (t) => {
  t.is(flushIntervalFor(0), 50);
  t.is(flushIntervalFor(3), 50);
  t.is(flushIntervalFor(200), 200);
  t.is(flushIntervalFor(1000), 1000);
  t.is(flushIntervalFor(2000), 1000);
});

test('the bootstrap service hands out 8 contacts, and one per 25 peers in larger runs', async (t) => {
  t.is(bootstrapContactsFor(0), 8);
  t.is(bootstrapContactsFor(200), 8);
  t.is(bootstrapContactsFor(1000), 40);
  t.is(bootstrapContactsFor(2000), 80);
  const coordinator = await startCoordinator(t, {expectedPeers: 1000});
  const base = `${coordinator.url}/bootstrap`;
  for (let i = 0; i < 45; i++) {
    const reply = await fetch(`${base}/join`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({name: `p${i}`, address: `127.0.0.1:${20000 + i}`})});
    t.is(reply.status, 200);
  }
  const list = (await (await fetch(`${base}/list`)).json()) as {contacts: unknown[]};
  t.is(list.contacts.length, 40);
});

test('the coordinator\'s port holds two pending connections a peer, 511 at least, as the kernel sees it', async (t) => {
  t.is(listenBacklogFor(0), 511);
  t.is(listenBacklogFor(2000), 4000);
  const coordinator = await startCoordinator(t, {expectedPeers: 1500});
  const port = new URL(coordinator.url).port;
  // For a listening socket, ss's Send-Q column is its backlog (capped by net.core.somaxconn).
  const line = execFileSync('ss', ['-ltnH', `sport = :${port}`], {encoding: 'utf8'}).trim();
  const somaxconn = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));
  t.is(Number(line.split(/\s+/)[2]), Math.min(3000, somaxconn), line);
});

test('agents are told the flush interval sized for the run', async (t) => {
  const coordinator = await startCoordinator(t, {expectedPeers: 400});
  const socket = await rawAgent(t, coordinator.url, coordinator.token);
  const ack = (await socket.timeout(5000).emitWithAck('hello', {protocol: 1, peer: 'probe', pid: process.pid, version: 'test', address: '127.0.0.1:1', commands: []})) as {ok: boolean; settings?: {flushIntervalMs: number}};
  t.true(ack.ok, JSON.stringify(ack));
  t.is(ack.settings?.flushIntervalMs, 400);
});

test('a process carrying several peers runs below the coordinator, a process of one peer beside it', async (t) => {
  const coordinator = await startCoordinator(t);
  const [host] = await coordinator.spawn(['host-a', 'host-b'], {perProcess: 2});
  const [single] = await coordinator.spawn(['single']);
  const own = getPriority();
  t.is(getPriority(host!.pid!), Math.min(19, own + PEER_HOST_NICE));
  t.is(getPriority(single!.pid!), own);
});

test('peers in processes of several are made bootstrap contacts at most a process\'s share each, so joins spread over the processes', async (t) => {
  // 8 contacts (the service's floor) for 16 peers, 2 to a process: one contact a process. The peers of the
  // processes started first register first, and would otherwise take most of the eight.
  const coordinator = await startCoordinator(t, {expectedPeers: 16});
  const names = Array.from({length: 16}, (_, i) => `spread-${String(i).padStart(2, '0')}`);
  await coordinator.spawn(names, {perProcess: 2});
  // A hosted peer asks the service for contacts once its hello is answered: all sixteen, soon after the spawn.
  const list = await until(async () => {
    const l = (await (await fetch(`${coordinator.url}/bootstrap/list`)).json()) as {contacts: Array<{name: string}>; candidates: Array<{name: string}>};
    return l.contacts.length + l.candidates.length === names.length ? l : undefined;
  }, 30_000, 'all sixteen peers known to the bootstrap service');
  const groups = hostGroups(names, 2);
  const processOf = (name: string) => groups.findIndex((g) => g.includes(name));
  t.is(list.contacts.length, 8);
  t.is(new Set(list.contacts.map((c) => processOf(c.name))).size, 8, JSON.stringify(list.contacts.map((c) => [c.name, processOf(c.name)])));
});
