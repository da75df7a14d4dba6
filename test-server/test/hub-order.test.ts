/**
 * The hub keeps each peer's history in the order it arrived even when event
 * batches wait in its ingest queue: a restart's hello and a disconnect come
 * after the batches that arrived before them. A coordinator whose ingest
 * slice is 0 ms queues every batch and takes in one a turn, and a flood from
 * other agents keeps the queue long while the peer restarts.
 */
import test from 'ava';
import {randomUUID} from 'node:crypto';
import type {HubEvents} from '../src/hub/hub.js';
import {rawAgent, startCoordinator, until} from './support.js';

const event = (seq: number) => ({seq, time: Date.now(), type: 'test.event', data: {}});

test('a restarted peer\'s hello and its old connection\'s end wait behind the old process\'s batches: nothing of either process is lost', async (t) => {
  const coordinator = await startCoordinator(t, {ingestSliceMs: 0});
  const seen: string[] = [];
  const recorded: number[] = [];
  coordinator.hub.on('registered', (agent) => agent.name === 'phoenix' && seen.push(`registered ${agent.pid}`));
  coordinator.hub.on('disconnected', (name) => name === 'phoenix' && seen.push('disconnected'));
  coordinator.hub.on('events', (name, events: HubEvents['events'][1]) => {
    if (name !== 'phoenix') return;
    seen.push(`events ${events.map((e) => e.seq).join(',')}`);
    for (const e of events) recorded.push(e.seq);
  });
  const hello = (pid: number, instance: string) => ({protocol: 1, peer: 'phoenix', pid, version: 'test', address: '127.0.0.1:1', commands: [], instance});

  const first = await rawAgent(t, coordinator.url, coordinator.token);
  t.like(await first.timeout(5000).emitWithAck('hello', hello(1001, randomUUID())), {ok: true});
  const flood = await Promise.all(
    Array.from({length: 3}, async (_, i) => {
      const socket = await rawAgent(t, coordinator.url, coordinator.token);
      t.like(await socket.timeout(5000).emitWithAck('hello', {...hello(10 + i, randomUUID()), peer: `other-${i}`}), {ok: true});
      return socket;
    }),
  );
  for (const [i, socket] of flood.entries()) {
    for (let k = 0; k < 300; k++) socket.emit('events', {peer: `other-${i}`, events: [event(k + 1)]}, () => {});
  }
  // Sent, not awaited, and the connection dropped at once: the batch waits in the queue as the process "dies".
  // Dropped, not disconnected: socket.io ignores an event that arrives with the client's own disconnect.
  first.emit('events', {peer: 'phoenix', events: [event(1), event(2), event(3)]}, () => {});
  first.io.engine.close();

  const second = await rawAgent(t, coordinator.url, coordinator.token);
  const ack = (await second.timeout(5000).emitWithAck('hello', hello(1002, randomUUID()))) as {ok: boolean};
  t.true(ack.ok, JSON.stringify(ack));
  t.like(await second.timeout(5000).emitWithAck('events', {peer: 'phoenix', events: [event(1), event(2)]}), {ok: true, lastSeq: 2});

  await until(() => recorded.length >= 5, 5000, 'five events');
  t.deepEqual(seen, ['registered 1001', 'events 1,2,3', 'disconnected', 'registered 1002', 'events 1,2']);
  t.deepEqual(recorded, [1, 2, 3, 1, 2], 'the new process counts from 1, and none of its events is taken for a duplicate');
  t.like(coordinator.hub.get('phoenix'), {pid: 1002, lastSeq: 2});
});
