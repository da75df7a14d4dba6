/**
 * A member new to the table joins the probe round under way (memberlist's
 * aliveNode), instead of waiting for the next round: a round is N probe
 * intervals, half an hour at 2,000 members, and the members known when a
 * round began would otherwise take every ping of it. A real member on
 * loopback; the others are bare UDP sockets that never ack (they stay
 * suspect, and so are still probed).
 */
import test from 'ava';
import type {SwimConfig} from '../src/config.js';
import {profiles} from '../src/config.js';
import {formatAddress as at} from '../src/membership/types.js';
import {member} from './helpers/membership.js';
import {UdpMember} from './helpers/udp-member.js';

const config: SwimConfig = {...profiles.local, probeIntervalMs: 40, probeTimeoutMs: 10, suspicionMult: 50};
const pings = (m: UdpMember) => m.received.filter((d) => d.t === 'ping').length;

test('a member heard of mid-round is probed in that round, before any member is probed twice', async (t) => {
  const first = await Promise.all(Array.from({length: 12}, () => UdpMember.bind(t)));
  const me = await member(t, 'me', config);
  me.start();
  const addr = at(me.transport.address);
  await first[0]!.send(addr, {t: 'gossip', f: 'm0', u: first.map((m, i) => ({k: 'alive', n: `m${i}`, i: 0, a: m.address}))});
  // The round with the twelve is under way once one of them is pinged.
  await Promise.any(first.map((m) => m.until((d) => d.t === 'ping', 5000)));
  t.true(first.every((m) => pings(m) <= 1));

  const late = await UdpMember.bind(t);
  await first[0]!.send(addr, {t: 'gossip', f: 'm0', u: [{k: 'alive', n: 'late', i: 0, a: late.address}]});
  await late.until((d) => d.t === 'ping', 5000);
  const twice = first.map((m, i) => ({name: `m${i}`, pings: pings(m)})).filter((m) => m.pings > 1);
  t.deepEqual(twice, [], 'members probed a second time before the newcomer was probed once');
});
