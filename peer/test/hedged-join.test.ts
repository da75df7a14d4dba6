/**
 * A newcomer joining through bootstrap contacts asks one at a time, hedged:
 * the next contact when the one before fails or is slow, done at the first
 * answer. Real sockets in this process; the slow contact is a TCP server that
 * accepts and never answers.
 */
import test from 'ava';
import net from 'node:net';
import {profiles} from '../src/config.js';
import {member as memberWith} from './helpers/membership.js';
import type {Address} from '../src/membership/types.js';

const config = profiles.local;
const member = (t: Parameters<typeof memberWith>[0], name: string) => memberWith(t, name, config);

async function blackHole(t: {teardown(fn: () => void): void}): Promise<{address: Address; connections: () => number}> {
  let connections = 0;
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => {
    connections++;
    sockets.push(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return {address: {host: '127.0.0.1', port: (server.address() as net.AddressInfo).port}, connections: () => connections};
}

test('a slow first contact does not hold the join up: the next is asked after hedgeMs, and the first answer completes it', async (t) => {
  const seed = await member(t, 'seed');
  seed.start();
  const joiner = await member(t, 'joiner');
  const slow = await blackHole(t);
  const contacted: Array<{seeds: number}> = [];
  joiner.on('contacted', (e) => contacted.push(e));
  const started = performance.now();
  const result = await joiner.join([slow.address, seed.transport.address], {hedgeMs: 200});
  const took = performance.now() - started;
  t.is(result.contacted, 1);
  t.true(took < config.tcpTimeoutMs, `done in ${Math.round(took)} ms, before the slow contact's ${config.tcpTimeoutMs} ms deadline`);
  t.true(took >= 190, 'the second contact was asked only after hedgeMs');
  t.is(slow.connections(), 1);
  t.deepEqual(contacted.map((c) => c.seeds), [2], 'one contacted event, naming both seeds');
  t.truthy(joiner.all().find((m) => m.name === 'seed'), 'the answer was merged');
});

test('a quick first contact is the only one asked', async (t) => {
  const seed = await member(t, 'seed2');
  seed.start();
  const joiner = await member(t, 'joiner2');
  const slow = await blackHole(t);
  const result = await joiner.join([seed.transport.address, slow.address], {hedgeMs: 1000});
  t.is(result.contacted, 1);
  t.is(slow.connections(), 0);
});

test('a contact that refuses is followed by the next at once, and a join through none that answer says so', async (t) => {
  const refused: Address = {host: '127.0.0.1', port: 1};
  const seed = await member(t, 'seed3');
  seed.start();
  const joiner = await member(t, 'joiner3');
  const started = performance.now();
  const result = await joiner.join([refused, seed.transport.address], {hedgeMs: 5000});
  t.is(result.contacted, 1);
  t.true(performance.now() - started < 2000, 'no hedge wait after a refusal');
  const alone = await member(t, 'alone');
  const none = await alone.join([refused, {host: '127.0.0.1', port: 2}], {hedgeMs: 100});
  t.is(none.contacted, 0);
  t.is(none.errors.length, 2);
});
