/**
 * Lifeguard's local health (memberlist's awareness): a member whose probe of
 * a silent target fails while the helpers it asked do not even nack counts
 * that against itself; with the helpers' nacks it does not, and a nack forged
 * from another address counts for nothing. A helper whose target stays silent
 * nacks the prober. Real members on loopback in this process; the helpers and
 * the target are bare UDP sockets the test answers for, and each records the
 * prober's score when a probe reaches it, which is after the probe before it
 * has ended (probes never overlap) and before this one can move the score.
 */
import test from 'ava';
import dgram from 'node:dgram';
import type {SwimConfig} from '../src/config.js';
import {profiles} from '../src/config.js';
import {Awareness} from '../src/membership/awareness.js';
import {formatAddress as at} from '../src/membership/types.js';
import type {Membership} from '../src/membership/membership.js';
import {member} from './helpers/membership.js';
import type {Teardown} from './helpers/membership.js';
import {eventually} from './helpers/peer-process.js';
import {UdpMember} from './helpers/udp-member.js';

const config: SwimConfig = {...profiles.local, probeIntervalMs: 100, probeTimeoutMs: 30, awarenessMaxMultiplier: 8};

test('the score moves by what it is told, held between 0 and max - 1, and stretches a window by score + 1', (t) => {
  const a = new Awareness(8);
  a.apply(-1);
  t.is(a.score, 0);
  t.is(a.scale(100), 100);
  a.apply(3);
  t.is(a.scale(100), 400);
  a.apply(20);
  t.is(a.score, 7);
  t.is(a.scale(100), 800);
  const off = new Awareness(1);
  off.apply(5);
  t.is(off.scale(100), 100);
});

type Seen = {kind: 'ping' | 'ping-req'; by: string; score: number};

interface Fake {
  name: string;
  address: string;
}

/**
 * A bare socket playing a member: acks pings when `acks`; answers a ping-req
 * with a nack from itself (`nacks: 'own'`), from another socket in its name
 * (`'forged'`), or not at all; and logs what reached it with the prober's score.
 */
async function fake(t: Teardown, name: string, prober: () => Membership, seen: Seen[], behaviour: {acks: boolean; nacks: 'own' | 'forged' | 'none'}): Promise<Fake> {
  const bind = async () => {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    t.teardown(() => {
      socket.close();
    });
    return socket;
  };
  const socket = await bind();
  const forger = behaviour.nacks === 'forged' ? await bind() : undefined;
  socket.on('message', (buf, from) => {
    const m = JSON.parse(buf.toString('utf8')) as {t: string; s: number};
    if (m.t !== 'ping' && m.t !== 'ping-req') return;
    seen.push({kind: m.t, by: name, score: prober().healthScore});
    if (m.t === 'ping' && behaviour.acks) socket.send(JSON.stringify({t: 'ack', s: m.s, f: name}), from.port, from.address);
    if (m.t === 'ping-req' && behaviour.nacks !== 'none') (forger ?? socket).send(JSON.stringify({t: 'nack', s: m.s, f: name}), from.port, from.address);
  });
  return {name, address: `127.0.0.1:${socket.address().port}`};
}

/**
 * A prober that knows two helpers (which ack its pings) and a target that
 * never answers: the score the prober had when its first probe after a
 * failed probe of the target began.
 */
async function scoreAfterFailedProbe(t: Teardown & {log(...v: unknown[]): void}, nacks: 'own' | 'forged' | 'none'): Promise<number> {
  const seen: Seen[] = [];
  let me: Membership | undefined;
  const prober = () => me!;
  const target = await fake(t, 'target', prober, seen, {acks: false, nacks: 'none'});
  const helpers = [await fake(t, 'h1', prober, seen, {acks: true, nacks}), await fake(t, 'h2', prober, seen, {acks: true, nacks})];
  me = await member(t, 'me', config);
  me.start();
  const intro = await UdpMember.bind(t);
  await intro.send(at(me.transport.address), {t: 'gossip', f: 'h1', u: [...helpers, target].map((m) => ({k: 'alive', n: m.name, i: 0, a: m.address}))});
  const {value} = await eventually(
    'a probe after a failed probe of the target',
    10_000,
    async () => {
      const req = seen.findIndex((s) => s.kind === 'ping-req');
      if (req < 0) return undefined;
      return seen.slice(req).find((s) => s.kind === 'ping')?.score;
    },
    5,
  );
  t.log(`nacks ${nacks}: the prober's score after a failed probe of the target: ${value}`);
  return value;
}

test.serial('a probe that fails while the helpers do not nack counts against the prober itself', async (t) => {
  t.true((await scoreAfterFailedProbe(t, 'none')) >= 2);
});

test.serial('a probe that fails while the helpers nack leaves the prober healthy', async (t) => {
  t.is(await scoreAfterFailedProbe(t, 'own'), 0);
});

test.serial('a nack in a helper\'s name from another address counts for nothing', async (t) => {
  t.true((await scoreAfterFailedProbe(t, 'forged')) >= 2);
});

test.serial('a helper answers a ping-req whose target stays silent with a nack, and one whose target acks with an ack', async (t) => {
  const seen: Seen[] = [];
  let helper: Membership | undefined;
  const silent = await fake(t, 'silent', () => helper!, seen, {acks: false, nacks: 'none'});
  const answering = await fake(t, 'answering', () => helper!, seen, {acks: true, nacks: 'none'});
  const prober = await UdpMember.bind(t);
  helper = await member(t, 'helper', config);
  helper.start();
  const to = at(helper.transport.address);
  await prober.send(to, {t: 'gossip', f: 'prober', u: [{k: 'alive', n: 'prober', i: 0, a: prober.address}, ...[silent, answering].map((m) => ({k: 'alive', n: m.name, i: 0, a: m.address}))]});
  await eventually('the helper knows all three', 5000, async () => (helper!.live().length === 4 ? true : undefined));

  await prober.send(to, {t: 'ping-req', s: 7, f: 'prober', a: prober.address, to: 'silent', ta: silent.address});
  await prober.until((d) => d.t === 'nack' && d.s === 7 && d.f === 'helper', 5000);
  t.false(prober.received.some((d) => d.t === 'ack' && d.s === 7));

  await prober.send(to, {t: 'ping-req', s: 8, f: 'prober', a: prober.address, to: 'answering', ta: answering.address});
  await prober.until((d) => d.t === 'ack' && d.s === 8, 5000);
  // The ack came first and cancelled the nack: none follows it, even past the time a nack would have gone.
  const acked = Date.now();
  await eventually('twice the probe timeout passes', 5000, async () => (Date.now() - acked > 2 * config.probeTimeoutMs ? true : undefined), 5);
  await prober.pingBarrier(to, 'helper', 5000, 'prober');
  t.false(prober.received.some((d) => d.t === 'nack' && d.s === 8));
});
