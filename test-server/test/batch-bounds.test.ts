/**
 * What the coordinator holds for batches it has not yet taken in stays
 * bounded: a resend of a waiting batch takes its place instead of queueing a
 * second copy, and the hello ack caps how many events an agent's batch
 * carries, sized for the run.
 */
import test from 'ava';
import {randomUUID} from 'node:crypto';
import {Agent, Registry} from '@peerlab/client-agent';
import type {HubEvents} from '../src/hub/hub.js';
import {maxBatchEventsFor} from '../src/coordinator.js';
import {rawAgent, startCoordinator, until} from './support.js';

const event = (seq: number) => ({seq, time: Date.now(), type: 'test.event', data: {}});
const range = (from: number, to: number) => Array.from({length: to - from + 1}, (_, i) => event(from + i));
const hello = (peer: string) => ({protocol: 1, peer, pid: 4242, version: 'test', address: '127.0.0.1:1', commands: [], instance: randomUUID()});

test('a batch resent while the first copy waits takes its place: recorded once, answered once, to the resend', async (t) => {
  // A 0 ms slice takes in one batch a turn, and a flood from other agents keeps the queue long.
  const coordinator = await startCoordinator(t, {ingestSliceMs: 0});
  const batches: number[][] = [];
  coordinator.hub.on('events', (name, events: HubEvents['events'][1]) => name === 'echo' && batches.push(events.map((e) => e.seq)));
  const flood = await Promise.all(
    Array.from({length: 3}, async (_, i) => {
      const socket = await rawAgent(t, coordinator.url, coordinator.token);
      t.like(await socket.timeout(5000).emitWithAck('hello', hello(`other-${i}`)), {ok: true});
      return socket;
    }),
  );
  const echo = await rawAgent(t, coordinator.url, coordinator.token);
  t.like(await echo.timeout(5000).emitWithAck('hello', hello('echo')), {ok: true});

  for (const [i, socket] of flood.entries()) for (let k = 0; k < 1000; k++) socket.emit('events', {peer: `other-${i}`, events: [event(k + 1)]}, () => {});
  const replies: string[] = [];
  echo.emit('events', {peer: 'echo', events: range(1, 3)}, (ack: {lastSeq: number}) => replies.push(`first ${ack.lastSeq}`));
  // The same oldest events again, and newer ones: what an agent sends when it gave up waiting.
  echo.emit('events', {peer: 'echo', events: range(1, 5)}, (ack: {lastSeq: number}) => replies.push(`resend ${ack.lastSeq}`));
  // A batch that does not hold the waiting one's events is a batch of its own.
  echo.emit('events', {peer: 'echo', events: range(6, 7)}, (ack: {lastSeq: number}) => replies.push(`next ${ack.lastSeq}`));

  await until(() => replies.length >= 2, 10_000, 'the answers');
  await until(() => coordinator.hub.get('other-2')?.lastSeq === 1000, 10_000, 'the flood taken in');
  t.deepEqual(batches, [[1, 2, 3, 4, 5], [6, 7]]);
  t.deepEqual(replies, ['resend 5', 'next 7'], 'the replaced copy is not answered: its sender stopped waiting for it');
});

test('the hello ack caps an agent\'s batches, sized for the run: N agents\' batches in flight stay near a million events', async (t) => {
  t.is(maxBatchEventsFor(0), 5000);
  t.is(maxBatchEventsFor(200), 5000);
  t.is(maxBatchEventsFor(1000), 1000);
  t.is(maxBatchEventsFor(2000), 500);
  t.is(maxBatchEventsFor(100_000), 100, 'a floor, so that huge runs still send batches worth their round trip');

  const coordinator = await startCoordinator(t, {expectedPeers: 2000});
  t.is(coordinator.hub.settings.maxBatchEvents, 500);
  const sizes: number[] = [];
  coordinator.hub.on('events', (name, events: HubEvents['events'][1]) => name === 'batcher' && sizes.push(events.length));
  const agent = new Agent({
    url: coordinator.url,
    token: coordinator.token,
    name: 'batcher',
    version: 'test',
    address: '127.0.0.1:1',
    registry: new Registry<undefined>(),
    context: undefined,
    snapshot: () => ({peer: 'batcher', time: Date.now(), members: [], messages: {count: 0, ids: []}}),
    onGiveUp: (reason) => t.fail(reason),
  });
  t.teardown(() => agent.close());
  // Recorded before it connects: one backlog of 1,800 events, sent once registered.
  for (let i = 0; i < 1800; i++) agent.emit('test.event', {i});
  t.like(await agent.start(), {ok: true, settings: {maxBatchEvents: 500}});
  await until(() => sizes.reduce((a, b) => a + b, 0) >= 1800, 10_000, 'every event');
  t.deepEqual(sizes, [500, 500, 500, 300]);
});
