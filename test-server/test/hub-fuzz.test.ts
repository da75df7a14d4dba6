/**
 * Fuzzing over real sockets: a bounded number of random messages sent to a
 * running hub by a socket.io client, and random bodies to the REST command
 * route. The property: every message gets an error reply or a correct result
 * (a protocol-error event where there is no ack to answer), never a crash, a
 * hang, or a dropped connection, for the sender or for the agent beside it.
 *
 * Bounded to a few seconds; PEERLAB_FUZZ_RUNS=<n> raises the runs for a long
 * session (fast-check prints the seed and the shrunk message of a failure).
 */
import {randomUUID} from 'node:crypto';
import test from 'ava';
import type {ExecutionContext} from 'ava';
import fc from 'fast-check';
import {PEER_NAME} from '@peerlab/events/names';
import type {Coordinator} from '../src/coordinator.js';
import type {HubEvents} from '../src/hub/hub.js';
import {echoAgent, rawAgent, record, startCoordinator} from './support.js';

const RUNS = Number(process.env.PEERLAB_FUZZ_RUNS) || 300;
// A hang is a reply that never comes; the deadline only has to outlast a loaded machine.
const REPLY_DEADLINE_MS = 10_000;

const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Names socket.io-client will not emit; everything else is fair game, 'error' included. */
const RESERVED = new Set(['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener']);

const peerName = fc.stringMatching(PEER_NAME);
const json = fc.jsonValue({maxDepth: 3});
const odd = fc.oneof(
  json,
  fc.constantFrom(null, 0, -1, '', '__proto__', [], {}, 2 ** 53, 1e308),
  fc.uint8Array({maxLength: 64}).map((bytes) => Buffer.from(bytes)),
  fc.dictionary(fc.constantFrom('__proto__', 'constructor', 'prototype', 'peer', 'events', 'seq'), json, {maxKeys: 2}),
);

/** Usually a good value, sometimes an odd one. */
const mostly = <T>(good: fc.Arbitrary<T>): fc.Arbitrary<unknown> => fc.oneof({arbitrary: good, weight: 20}, {arbitrary: odd, weight: 1});

const hello = fc.record(
  {
    protocol: fc.oneof(fc.constant(1), odd),
    peer: fc.oneof(peerName, fc.constantFrom('fuzzer', 'bystander'), odd),
    // Never this process's pid: a hello with a live agent's name and pid is that agent reconnecting, by design.
    pid: fc.oneof(fc.integer({min: 1, max: 2 ** 31}).filter((pid) => pid !== process.pid), odd),
    version: fc.oneof(fc.string({minLength: 1, maxLength: 10}), odd),
    address: fc.oneof(fc.constant('127.0.0.1:1'), odd),
    instance: fc.oneof(fc.uuid(), odd),
    commands: fc.oneof(fc.constant([]), fc.array(fc.record({name: fc.oneof(fc.string({minLength: 1}), odd), args: fc.oneof(fc.constant([]), fc.array(odd, {maxLength: 2}))}), {maxLength: 2}), odd),
  },
  {requiredKeys: []},
);

const events = fc.record(
  {
    // Mostly well-formed, so that batches are taken in as well as refused.
    peer: fc.oneof({arbitrary: fc.constant('fuzzer'), weight: 6}, {arbitrary: fc.constant('bystander'), weight: 1}, {arbitrary: peerName, weight: 1}, {arbitrary: odd, weight: 1}),
    events: fc.oneof(
      {
        arbitrary: fc
          .tuple(fc.integer({min: -2, max: 40}), fc.array(fc.record({time: mostly(fc.integer({min: 0})), type: mostly(fc.constant('fuzz.event')), data: mostly(fc.constant({}))}), {maxLength: 5}))
          .map(([first, list]) => list.map((e, i) => ({seq: first + i, ...e}))),
        weight: 6,
      },
      {arbitrary: odd, weight: 1},
    ),
  },
  {requiredKeys: ['peer', 'events']},
);

const anyChannel = fc.oneof(fc.constantFrom('hello', 'events', 'command', 'snapshot', 'ping', 'error', 'message'), fc.string({maxLength: 12}).filter((c) => !RESERVED.has(c)));
const message = fc.oneof(
  {arbitrary: fc.record({channel: fc.constant('events'), args: fc.tuple(events), withAck: fc.boolean()}), weight: 3},
  {arbitrary: fc.record({channel: fc.constant('hello'), args: fc.tuple(hello), withAck: fc.boolean()}), weight: 1},
  {arbitrary: fc.record({channel: anyChannel, args: fc.oneof(fc.tuple(hello), fc.tuple(events), fc.array(odd, {maxLength: 3})), withAck: fc.boolean()}), weight: 2},
);

/** An agent that has nothing to do with the fuzzing, whose service must not suffer from it. */
async function bystanderStillServed(t: ExecutionContext, coordinator: Coordinator, bystander: Awaited<ReturnType<typeof echoAgent>>, seq: number): Promise<void> {
  if (!bystander.socket.connected) throw new Error('the bystander lost its connection');
  const ack = await bystander.socket.timeout(REPLY_DEADLINE_MS).emitWithAck('events', {peer: 'bystander', events: [{seq, time: Date.now(), type: 'bystander.tick', data: {}}]});
  if (!isObj(ack) || ack.ok !== true || ack.lastSeq !== seq) throw new Error(`bystander's events: ${JSON.stringify(ack)}`);
  const reply = await coordinator.hub.command('bystander', 'echo', {seq}, REPLY_DEADLINE_MS);
  if (!reply.ok) throw new Error(`bystander's command: ${JSON.stringify(reply)}`);
  t.is(coordinator.hub.get('bystander')?.lastSeq, seq);
}

test.serial('random messages to a running hub get an error or a correct result; no crash, hang or dropped connection', async (t) => {
  t.timeout(60_000 + RUNS * 100);
  const coordinator = await startCoordinator(t, {log: () => {}});
  const errors = record<HubEvents['protocol-error']>(coordinator.hub, 'protocol-error');
  const bystander = await echoAgent(t, coordinator, 'bystander', randomUUID());
  const fuzzer = await rawAgent(t, coordinator.url, coordinator.token);
  // Registered first, so that event batches for "fuzzer" can be taken in as well as refused.
  t.like(await fuzzer.timeout(REPLY_DEADLINE_MS).emitWithAck('hello', {protocol: 1, peer: 'fuzzer', pid: 1, version: 'fuzz', address: '127.0.0.1:1', commands: [], instance: randomUUID()}), {ok: true});
  let tick = 0;
  let lastSeq = 0;
  let accepted = 0;
  const started = performance.now();

  await fc.assert(
    fc.asyncProperty(message, async ({channel, args, withAck}) => {
      const errorsBefore = errors.length;
      if (withAck) {
        const reply: unknown = await fuzzer.timeout(REPLY_DEADLINE_MS).emitWithAck(channel, ...args);
        if (!isObj(reply) || typeof reply.ok !== 'boolean') throw new Error(`reply is no {ok}: ${JSON.stringify(reply)}`);
        if (reply.ok === false) {
          if (!isObj(reply.error) || typeof reply.error.message !== 'string' || typeof reply.error.code !== 'string') throw new Error(`error reply without message and code: ${JSON.stringify(reply)}`);
        } else if ((accepted++, channel === 'hello')) {
          if (reply.runId !== coordinator.runId) throw new Error(`hello accepted with ${JSON.stringify(reply)}`);
          // A new hello may start a new process's stream, whose sequence begins again.
          lastSeq = 0;
        } else if (channel === 'events') {
          // A correct result: the high-water mark never goes back, and it is the hub's.
          if (!Number.isSafeInteger(reply.lastSeq) || reply.lastSeq < lastSeq) throw new Error(`lastSeq went from ${lastSeq} to ${reply.lastSeq}`);
          lastSeq = reply.lastSeq as number;
        } else {
          throw new Error(`"${channel}" is no message of the protocol, yet was accepted: ${JSON.stringify(reply)}`);
        }
      } else {
        fuzzer.emit(channel, ...args);
        // Whether a hello without an ack was taken is not told: if it was, the stream's sequence may begin again.
        if (channel === 'hello') lastSeq = 0;
      }
      // The bystander's round trip comes after the fuzzer's message on the same server: it is handled by then.
      await bystanderStillServed(t, coordinator, bystander, ++tick);
      if (!withAck && channel !== 'hello' && channel !== 'events' && errors.length === errorsBefore) throw new Error(`"${channel}" without an ack was not reported`);
      if (!fuzzer.connected) throw new Error('the fuzzer lost its connection');
    }),
    {numRuns: RUNS, includeErrorInReport: true},
  );
  t.log(`${RUNS} random messages in ${(performance.now() - started).toFixed(0)} ms: ${accepted} accepted, ${errors.length} protocol errors reported`);
  t.true(fuzzer.connected && bystander.socket.connected);
  t.deepEqual(coordinator.hub.agents().map((a) => a.name).filter((n) => n === 'bystander'), ['bystander']);
});

test.serial('a message whose ack comes without a payload, or after two, is answered with an error, not left to time out', async (t) => {
  const coordinator = await startCoordinator(t, {log: () => {}});
  const agent = await rawAgent(t, coordinator.url, coordinator.token);
  const ask = (channel: string, ...args: unknown[]) => agent.timeout(REPLY_DEADLINE_MS).emitWithAck(channel, ...args) as Promise<Record<string, any>>;
  const good = {protocol: 1, peer: 'lone', pid: 1, version: 'test', address: '127.0.0.1:1', commands: []};
  t.like(await ask('hello'), {ok: false, error: {code: 'bad-message', message: 'hello: expected one message, got 0 arguments'}});
  t.like(await ask('hello', good, 'extra'), {ok: false, error: {code: 'bad-message', message: 'hello: expected one message, got 2 arguments'}});
  t.false(coordinator.hub.isConnected('lone'), 'the refused hello registered nobody');
  t.like(await ask('hello', good), {ok: true});
  const batch = {peer: 'lone', events: [{seq: 1, time: 0, type: 't', data: {}}]};
  t.like(await ask('events'), {ok: false, error: {code: 'bad-message', message: 'events: expected one message, got 0 arguments'}});
  t.like(await ask('events', batch, batch), {ok: false, error: {code: 'bad-message'}});
  t.like(await ask('events', batch), {ok: true, lastSeq: 1});
  t.like(await ask('nonsense'), {ok: false, error: {code: 'bad-message'}});
});

test.serial('random bodies to the REST command route: JSON answers with fitting statuses, never a 500', async (t) => {
  t.timeout(60_000 + RUNS * 100);
  const coordinator = await startCoordinator(t, {log: () => {}});
  await echoAgent(t, coordinator, 'echo');
  const commandBody = fc.record(
    {
      name: fc.oneof(fc.string({minLength: 1, maxLength: 64}), odd),
      args: fc.oneof(fc.dictionary(fc.oneof(fc.string({maxLength: 8}), fc.constantFrom('__proto__', 'constructor', 'prototype')), json, {maxKeys: 3}), odd),
      timeoutMs: fc.oneof(fc.integer({min: 1, max: 600_000}), odd),
      extra: odd,
    },
    {requiredKeys: []},
  );
  const body = fc.oneof(commandBody.map((b) => JSON.stringify(b)), json.map((v) => JSON.stringify(v)), fc.string({maxLength: 40}));
  const started = performance.now();
  await fc.assert(
    fc.asyncProperty(body, async (text) => {
      const response = await fetch(`${coordinator.url}/api/peers/echo/commands`, {method: 'POST', headers: {'content-type': 'application/json'}, body: text});
      const reply = (await response.json()) as Record<string, any>;
      if (response.status === 200) {
        if (reply.ok !== true) throw new Error(`200 without ok: ${JSON.stringify(reply)}`);
        return;
      }
      if (![400, 413].includes(response.status)) throw new Error(`${response.status} for ${text}: ${JSON.stringify(reply)}`);
      if (!isObj(reply.error) || typeof reply.error.message !== 'string' || reply.error.code !== 'bad-request') throw new Error(`error without message: ${JSON.stringify(reply)}`);
    }),
    {numRuns: RUNS, includeErrorInReport: true},
  );
  t.log(`${RUNS} random bodies in ${(performance.now() - started).toFixed(0)} ms`);
  t.is((await fetch(`${coordinator.url}/healthz`)).status, 200);
});
