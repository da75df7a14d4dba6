/**
 * Before an agent has shown its token: the hub refuses wrong and empty tokens,
 * compares them in constant time, and caps the size of what an unauthenticated
 * connection may send, while authenticated agents keep their large batches.
 */
import test from 'ava';
import {io} from 'socket.io-client';
import {Coordinator} from '../src/coordinator.js';
import {PRE_AUTH_MAX_BYTES} from '../src/hub/frame-limit.js';
import type {HubEvents} from '../src/hub/hub.js';
import {openRawWebSocket} from './raw-http.js';
import type {RawWebSocket} from './raw-http.js';
import {rawAgent, record, startCoordinator, until, waitForEvent} from './support.js';

test('an empty run token is refused rather than switching the HTTP check off', async (t) => {
  await t.throwsAsync(Coordinator.start({host: '0.0.0.0', token: ''}), {instanceOf: RangeError, message: /^token: /});
  await t.throwsAsync(Coordinator.start({token: '  '}), {instanceOf: RangeError, message: /^token: /});
});

const hello = (peer: string) => ({protocol: 1, peer, pid: process.pid, version: 'test', address: '127.0.0.1:1', commands: []});

/** Waits for the engine.io open packet, so what is sent next reaches socket.io. */
async function opened(ws: RawWebSocket): Promise<void> {
  await until(() => ws.received.some((frame) => frame.startsWith('0{')), 5000, 'engine.io open packet');
}

test.serial('before its token is accepted, a connection cannot send a large frame: refused on its header, not buffered', async (t) => {
  const coordinator = await startCoordinator(t);
  const bystander = await rawAgent(t, coordinator.url, coordinator.token);
  t.like(await bystander.timeout(5000).emitWithAck('hello', hello('bystander')), {ok: true});

  // A frame that declares 16 MiB (what the server used to accept from anyone) and sends 1 KiB of it:
  // the server must close at the header, without waiting for (or holding) the rest.
  const attacker = await openRawWebSocket(coordinator.url);
  t.teardown(() => attacker.socket.destroy());
  await opened(attacker);
  attacker.sendPartialFrame(16 * 1024 * 1024, Buffer.alloc(1024, 0x61));
  t.is(await attacker.closed(5000), 1009, 'closed as "message too big"');

  // Failing the token does not lift the limit either.
  const refused = await openRawWebSocket(coordinator.url);
  t.teardown(() => refused.socket.destroy());
  await opened(refused);
  refused.sendText('40{"token":"not-the-token"}');
  await until(() => refused.received.some((frame) => frame.startsWith('44') && frame.includes('unauthorized')), 5000, 'CONNECT_ERROR');
  refused.sendPartialFrame(PRE_AUTH_MAX_BYTES + 1, Buffer.alloc(16));
  t.is(await refused.closed(5000), 1009);

  t.true(bystander.connected, 'other agents keep their connections');
  t.like(await bystander.timeout(5000).emitWithAck('events', {peer: 'bystander', events: [{seq: 1, time: Date.now(), type: 't', data: {}}]}), {ok: true, lastSeq: 1});
});

test.serial('once authenticated, an agent sends its multi-megabyte batches as before', async (t) => {
  const coordinator = await startCoordinator(t);
  const errors = record<HubEvents['protocol-error']>(coordinator.hub, 'protocol-error');
  const agent = await rawAgent(t, coordinator.url, coordinator.token);
  t.like(await agent.timeout(5000).emitWithAck('hello', hello('big')), {ok: true});
  const padding = 'x'.repeat(200);
  const events = Array.from({length: 20_000}, (_, i) => ({seq: i + 1, time: Date.now(), type: 'bulk', data: {padding}}));
  t.true(JSON.stringify(events).length > 4 * 1024 * 1024, 'well above the pre-authentication limit');
  t.like(await agent.timeout(10_000).emitWithAck('events', {peer: 'big', events}), {ok: true, lastSeq: 20_000});
  t.true(agent.connected);
  t.deepEqual(errors, [], 'the limit was raised for this connection');
});

test.serial('wrong, missing and non-string tokens are refused; the right one is accepted', async (t) => {
  const coordinator = await startCoordinator(t);
  for (const token of [undefined, '', 'x', coordinator.token.slice(0, -1), `${coordinator.token}0`, coordinator.token.toUpperCase()]) {
    await t.throwsAsync(rawAgent(t, coordinator.url, token), {message: /unauthorized/}, JSON.stringify(token));
  }
  const numeric = io(coordinator.url, {transports: ['websocket'], auth: {token: 12345}, reconnection: false, forceNew: true});
  t.teardown(() => void numeric.disconnect());
  const [error] = await waitForEvent<[Error]>(numeric, 'connect_error', () => true, 5000);
  t.regex(error.message, /unauthorized/);
  t.true((await rawAgent(t, coordinator.url, coordinator.token)).connected);
});
