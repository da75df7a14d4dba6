/**
 * A full-state exchange whose answer arrives after the membership stopped
 * takes nothing in: no member appears, no event is emitted, and the join
 * says no seed answered. Real sockets: a TCP server on loopback that holds
 * its answer until the test lets it go.
 */
import test from 'ava';
import net from 'node:net';
import type {SwimConfig} from '../src/config.js';
import {profiles} from '../src/config.js';
import type {Membership} from '../src/membership/membership.js';
import type {Teardown} from './helpers/membership.js';
import {member} from './helpers/membership.js';
import {eventually} from './helpers/peer-process.js';

const WEEK = 7 * 24 * 3600 * 1000;
const config: SwimConfig = {...profiles.lan, probeIntervalMs: WEEK, gossipIntervalMs: WEEK, pushPullIntervalMs: WEEK, reconnectIntervalMs: WEEK};

/** A seed that reads a push-pull and answers it, with itself and `ghost` alive, only once released. */
async function heldSeed(t: Teardown) {
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  let asked = false;
  const server = net.createServer({allowHalfOpen: true}, (socket) => {
    let body = '';
    socket.on('data', (chunk) => {
      body += chunk.toString('utf8');
      if (!body.endsWith('\n')) return;
      asked = true;
      void released.then(() => {
        const members = [
          {n: 'seed', a: address, s: 'alive', i: 0},
          {n: 'ghost', a: '127.0.0.1:9', s: 'alive', i: 3},
        ];
        socket.end(JSON.stringify({t: 'push-pull-reply', f: 'seed', members}));
      });
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const {port} = server.address() as net.AddressInfo;
  const address = `127.0.0.1:${port}`;
  t.teardown(() => void server.close());
  return {at: {host: '127.0.0.1', port}, release, asked: () => asked};
}

const names = (m: Membership) => m.all().map((x) => x.name).sort();

test('the answer to a join is taken in while the membership runs', async (t) => {
  const a = await member(t, 'a', config);
  const seed = await heldSeed(t);
  const joining = a.join([seed.at]);
  await eventually('the seed asked', 5000, async () => (seed.asked() ? true : undefined), 5);
  seed.release();
  const result = await joining;
  t.is(result.contacted, 1, result.errors.join('; '));
  t.deepEqual(names(a), ['a', 'ghost', 'seed']);
});

test('an answer that arrives after stop() is not taken in: no member, no event, no seed counted', async (t) => {
  const a = await member(t, 'a', config);
  const seed = await heldSeed(t);
  const events: string[] = [];
  for (const name of ['joined', 'alive', 'suspect', 'dead', 'contacted', 'updated'] as const) a.on(name, () => events.push(name));
  const joining = a.join([seed.at]);
  await eventually('the seed asked', 5000, async () => (seed.asked() ? true : undefined), 5);
  await a.stop();
  seed.release();
  const result = await joining;
  t.is(result.contacted, 0);
  t.regex(result.errors.join('; '), /stopped or left before the answer came/);
  t.deepEqual(names(a), ['a']);
  t.deepEqual(events, []);
});

test('an answer that arrives during a leave is not taken in, and a join asking seeds one at a time asks no further', async (t) => {
  const a = await member(t, 'a', {...config, leavePropagateMs: 200});
  const [first, second] = [await heldSeed(t), await heldSeed(t)];
  const joined: string[] = [];
  a.on('joined', (m) => joined.push(m.name));
  const joining = a.join([first.at, second.at], {hedgeMs: 10_000});
  await eventually('the first seed asked', 5000, async () => (first.asked() ? true : undefined), 5);
  const leaving = a.leave();
  first.release();
  const result = await joining;
  await leaving;
  t.is(result.contacted, 0);
  t.regex(result.errors.join('; '), /stopped or left before the answer came/);
  t.deepEqual(joined, []);
  t.false(second.asked(), 'the second seed was not asked for a state nobody would take in');
});
