/**
 * The reconnect loop tries a member held dead with Serf's probability, the
 * dead over the live: a group of ten that holds one member dead tries it
 * about once an interval between them, not ten times. Real members on
 * loopback in this process; where the dead member was, a TCP server counts
 * the connections that arrive.
 */
import test from 'ava';
import net from 'node:net';
import type {SwimConfig} from '../src/config.js';
import {profiles} from '../src/config.js';
import type {Membership} from '../src/membership/membership.js';
import {member} from './helpers/membership.js';
import {eventually} from './helpers/peer-process.js';

const INTERVAL_MS = 50;
const config: SwimConfig = {...profiles.local, reconnectIntervalMs: INTERVAL_MS};

test('a group of ten holding one member dead tries it about once an interval between them, not once each', async (t) => {
  const members: Membership[] = [];
  for (let i = 0; i < 10; i++) members.push(await member(t, `rr${i}`, config));
  members[0]!.start();
  for (const m of members.slice(1)) await m.join([members[0]!.transport.address]);
  await eventually('the group formed', 10_000, async () => (members.every((m) => m.live().length === 10) ? true : undefined));

  // rr9 goes silently; a server on its port counts who still dials it and hangs up at once.
  const gone = members.pop()!;
  const {port} = gone.transport.address;
  await gone.stop();
  await gone.transport.close();
  let dialled = 0;
  const server = net.createServer((socket) => {
    dialled++;
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', () => resolve()));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  await eventually('every member holds rr9 dead', 15_000, async () =>
    members.every((m) => m.all().some((x) => x.name === 'rr9' && x.state === 'dead')) ? true : undefined,
  );

  const from = dialled;
  const started = Date.now();
  await eventually('forty intervals pass', 10_000, async () => (Date.now() - started >= 40 * INTERVAL_MS ? true : undefined));
  const intervals = (Date.now() - started) / INTERVAL_MS;
  const tries = dialled - from;
  t.log(`${tries} reconnects to the dead member in ${Math.round(intervals)} intervals, 9 members`);
  // Expected about one an interval (9 members, each 1/9 of the time); every member every time would be nine.
  t.true(tries <= 3 * intervals, `${tries} tries in ${Math.round(intervals)} intervals`);
  t.true(tries > 0, 'the dead member is still tried');
});
