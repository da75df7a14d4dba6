/**
 * A member whose probe is acked by one holding more members than it does
 * pulls that member's state once its own view is quiet (PushPull.heardCount), so a
 * gap the epidemic left closes in about a probe period, not at the periodic
 * exchange. Real sockets in this process. Gossip is off (retransmitMult 0)
 * and the periodic exchange is a week away, so the only way news crosses is
 * the one under test.
 */
import test from 'ava';
import dgram from 'node:dgram';
import net from 'node:net';
import type {SwimConfig} from '../src/config.js';
import {profiles} from '../src/config.js';
import type {Membership} from '../src/membership/membership.js';
import type {Teardown} from './helpers/membership.js';
import {member} from './helpers/membership.js';
import {eventually} from './helpers/peer-process.js';

const WEEK = 7 * 24 * 3600 * 1000;
const base: SwimConfig = {...profiles.lan, probeIntervalMs: 200, probeTimeoutMs: 100, retransmitMult: 0, pushPullIntervalMs: WEEK, reconnectIntervalMs: WEEK, gapPullQuietMs: 300};

const knows = (m: Membership, name: string) => m.live().some((x) => x.name === name);

/** Until a synchronous condition holds: the shared poll, every 10 ms; its time in ms. */
const until = async (check: () => boolean, ms: number): Promise<number> =>
  (await eventually('condition', ms, async () => (check() ? true : undefined), 10)).elapsedMs;

/** a and b know each other; x joined through b only, and no gossip tells a. */
async function gap(t: Teardown, config: SwimConfig, tag: string) {
  const a = await member(t, `a${tag}`, config);
  const b = await member(t, `b${tag}`, config);
  const x = await member(t, `x${tag}`, config);
  a.start();
  await b.join([a.transport.address]);
  await x.join([b.transport.address]);
  return {a, b, x};
}

test.serial('a member missing news pulls it from a member that counts more, once its view is quiet', async (t) => {
  const {a, b, x} = await gap(t, base, '1');
  t.true(knows(b, 'x1') && knows(x, 'a1'), 'b and x know the whole group');
  // a probes b, its only other member, every probe period; b's ack says 3, a holds 2 and has been quiet since b joined.
  const took = await until(() => knows(a, 'x1'), 5000);
  t.log(`a learned of x in ${Math.round(took)} ms`);

  // The control: with the pull off, the same gap stays open at least twice as long (and far longer: a week).
  const off = await gap(t, {...base, gapPullQuietMs: 0}, '2');
  t.false(knows(off.a, 'x2'));
  const hold = Math.max(2 * took, 1500);
  await t.throwsAsync(until(() => knows(off.a, 'x2'), hold), {message: /not within/});
});

/**
 * A UDP socket and a TCP server on one port: what a member at that address
 * would have. It acks every probe, saying `count`, and never answers a pull.
 */
async function fakeMember(t: Teardown) {
  const server = net.createServer();
  const pulls: Array<{at: number; body: string; closed: boolean}> = [];
  server.on('connection', (socket) => {
    const pull = {at: performance.now(), body: '', closed: false};
    pulls.push(pull);
    socket.on('data', (chunk) => {
      pull.body += chunk.toString('utf8');
    });
    socket.on('close', () => {
      pull.closed = true;
    });
    setTimeout(() => socket.destroy(), 50);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const udp = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => udp.bind(port, '127.0.0.1', resolve));
  const fake = {address: `127.0.0.1:${port}`, pulls, count: 50, acks: 0};
  udp.on('message', (buf, rinfo) => {
    const ping = JSON.parse(buf.toString('utf8')) as {t: string; s: number; to: string};
    if (ping.t !== 'ping') return;
    fake.acks++;
    udp.send(JSON.stringify({t: 'ack', s: ping.s, f: ping.to, c: fake.count}), rinfo.port, rinfo.address);
  });
  t.teardown(() => {
    udp.close();
    server.close();
  });
  const send = (to: Membership, message: unknown) =>
    new Promise<void>((resolve, reject) => udp.send(JSON.stringify(message), to.transport.address.port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
  return Object.assign(fake, {send});
}

test.serial('only an ack to its own probe is read, not before the view is quiet, not for a count no higher than its own, and after a pull that taught nothing only twice as late', async (t) => {
  const quiet = 400;
  const peer = await member(t, 'peer', {...base, gapPullQuietMs: quiet});
  peer.start();
  const fake = await fakeMember(t);
  // An ack nobody asked for, from a member not known there: no pull, ever (the first pull is checked below).
  await fake.send(peer, {t: 'ack', s: 123_456, f: 'mallory', c: 50});
  // Now known, which changes the view; the peer probes mallory from here on, and each ack says 50.
  const introduced = performance.now();
  await fake.send(peer, {t: 'gossip', f: 'mallory', u: [['a', 'mallory', 0, fake.address]]});
  await until(() => fake.pulls[0]?.closed === true, 3000);
  const first = fake.pulls[0]!;
  t.true(first.at - introduced >= quiet, `pulled ${Math.round(first.at - introduced)} ms after the view changed`);
  t.regex(first.body, /"t":"push-pull"/);
  t.regex(first.body, /"join":false/);
  // Acks come every probe period (200 ms): each pull comes as soon as allowed, and after one that taught nothing, twice as late.
  for (const wait of [2 * quiet, 4 * quiet]) {
    const last = fake.pulls.at(-1)!;
    await until(() => fake.pulls.length >= 2 && fake.pulls.at(-1) !== last, wait + 3000);
    const gap = fake.pulls.at(-1)!.at - last.at;
    // Timed where the pull arrives, a connection later than where it was decided: a few ms either way.
    t.true(gap >= wait - 20, `pulled again ${Math.round(gap)} ms after a pull that taught nothing (the wait: ${wait} ms)`);
    t.true(gap < wait + 1000, `but not much later: ${Math.round(gap)} ms`);
  }
  // A count no higher than the peer's own (itself and mallory) is nothing missed: no pull past the next wait.
  fake.count = 2;
  const before = fake.pulls.length;
  const since = fake.pulls.at(-1)!.at;
  const acks = fake.acks;
  await until(() => performance.now() - since > 8 * quiet + 300 && fake.acks > acks + 5, 8 * quiet + 3000);
  t.is(fake.pulls.length, before, 'no pull on an equal count');
  // A pull is allowed now, but an ack that answers no probe of the peer's is not read, whatever it says.
  for (let s = 0; s < 3; s++) await fake.send(peer, {t: 'ack', s: 900_000 + s, f: 'mallory', c: 50});
  const pinged = fake.acks;
  await until(() => fake.acks >= pinged + 3, 3000);
  t.is(fake.pulls.length, before, 'no pull on an ack nobody asked for');
  fake.count = 50;
  await until(() => fake.pulls.length > before, 3000);
});
