/**
 * A member that hears another count more live members than it does pulls
 * that member's state once its own view is quiet (PushPull.heardCount), so a
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
import {Logger} from '../src/log.js';
import {Membership} from '../src/membership/membership.js';
import {Transport} from '../src/membership/transport.js';

const WEEK = 7 * 24 * 3600 * 1000;
const base: SwimConfig = {...profiles.lan, probeIntervalMs: 100, probeTimeoutMs: 50, retransmitMult: 0, pushPullIntervalMs: WEEK, reconnectIntervalMs: WEEK, gapPullQuietMs: 300};

type Teardown = {teardown(fn: () => Promise<void> | void): void};

async function member(t: Teardown, name: string, config: SwimConfig): Promise<Membership> {
  const transport = await Transport.open('127.0.0.1', 0, {maxBytes: 1 << 20, maxInbound: 32, readDeadlineMs: config.tcpTimeoutMs});
  const membership = new Membership({name, config, transport, log: new Logger(name, () => {})});
  t.teardown(async () => {
    await membership.stop();
    await transport.close();
  });
  return membership;
}

const knows = (m: Membership, name: string) => m.live().some((x) => x.name === name);

async function until(check: () => boolean, ms: number): Promise<number> {
  const started = performance.now();
  while (!check()) {
    if (performance.now() - started > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return performance.now() - started;
}

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
  t.false(knows(a, 'x1'), 'a has the gap');
  // b pings a every other probe period or so, saying 3; a counts 2 and has been quiet since b joined.
  const took = await until(() => knows(a, 'x1'), 5000);
  t.log(`a learned of x in ${Math.round(took)} ms`);
  t.deepEqual(new Set(a.live().map((m) => m.name)), new Set(['a1', 'b1', 'x1']));

  // The control: with the pull off, the same gap stays open at least twice as long (and far longer: a week).
  const off = await gap(t, {...base, gapPullQuietMs: 0}, '2');
  t.false(knows(off.a, 'x2'));
  const hold = Math.max(2 * took, 1500);
  await t.throwsAsync(until(() => knows(off.a, 'x2'), hold), {message: /not within/});
});

/** A UDP socket and a TCP server on one port: what a member at that address would have (it acks, and never answers a pull). */
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
    // No answer: the pull fails, which is all a peer does about it.
    setTimeout(() => socket.destroy(), 50);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const udp = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => udp.bind(port, '127.0.0.1', resolve));
  // Answers the peer's probes, so that it stays alive there however long a loaded machine makes the test.
  udp.on('message', (buf, rinfo) => {
    const ping = JSON.parse(buf.toString('utf8')) as {t: string; s: number; to: string};
    if (ping.t === 'ping') udp.send(JSON.stringify({t: 'ack', s: ping.s, f: ping.to}), rinfo.port, rinfo.address);
  });
  t.teardown(() => {
    udp.close();
    server.close();
  });
  const send = (to: Membership, message: unknown) =>
    new Promise<void>((resolve, reject) => udp.send(JSON.stringify(message), to.transport.address.port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
  return {address: `127.0.0.1:${port}`, pulls, send};
}

test.serial('only a sender known at that address is pulled from, not before the view is quiet, and after a pull that taught nothing only twice as late', async (t) => {
  const quiet = 400;
  const peer = await member(t, 'peer', {...base, gapPullQuietMs: quiet});
  peer.start();
  const fake = await fakeMember(t);
  const counts = (c: number) => fake.send(peer, {t: 'gossip', f: 'mallory', u: [], c});
  // Unknown at its address: a forged datagram must not aim a connection anywhere.
  await counts(50);
  // Now known, which changes the view: a count heard at once is not acted on.
  const introduced = performance.now();
  await fake.send(peer, {t: 'gossip', f: 'mallory', u: [['a', 'mallory', 0, fake.address]], c: 50});
  await until(() => knows(peer, 'mallory'), 2000);
  await counts(50);
  // Heard again once the view has been quiet: pulled.
  await until(() => performance.now() - introduced > quiet + 50, 2000);
  await counts(50);
  await until(() => fake.pulls[0]?.closed === true, 3000);
  const first = fake.pulls[0]!;
  t.true(first.at - introduced >= quiet, `pulled ${Math.round(first.at - introduced)} ms after the view changed`);
  t.regex(first.body, /"t":"push-pull"/);
  t.regex(first.body, /"join":false/);
  // Right after that pull: a count no higher than the peer's own (itself and mallory), then a higher one. Neither
  // pulls. The pull taught nothing (mallory never answers), so the next waits twice the quiet time, and so on.
  await counts(2);
  await counts(50);
  for (const wait of [2 * quiet, 4 * quiet]) {
    const last = fake.pulls.at(-1)!;
    await until(() => performance.now() - last.at > quiet + 50, 2000);
    await counts(50);
    await until(() => performance.now() - last.at > wait + 50, 4000);
    await counts(50);
    await until(() => fake.pulls.length >= 2 && fake.pulls.at(-1) !== last, 3000);
    const gap = fake.pulls.at(-1)!.at - last.at;
    t.true(gap >= wait, `pulled again ${Math.round(gap)} ms after a pull that taught nothing`);
  }
});
