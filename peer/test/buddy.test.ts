/**
 * memberlist's buddy system (from Lifeguard): a probe of a member this peer
 * holds as suspect carries that suspicion, so the one member that must hear
 * it, to refute it, does, on every probe, long after the gossip has spent its
 * copies. A real member on loopback; the suspect is a bare UDP socket that
 * never acks.
 */
import test from 'ava';
import type {SwimConfig} from '../src/config.js';
import {profiles, retransmitLimit} from '../src/config.js';
import {formatAddress as at} from '../src/membership/types.js';
import {member} from './helpers/membership.js';
import type {Datagram} from './helpers/udp-member.js';
import {UdpMember} from './helpers/udp-member.js';

// A suspicion that outlasts many probes (at least 50 intervals, 5 s), so the gossip's copies run out while it stands.
const config: SwimConfig = {...profiles.local, probeIntervalMs: 100, probeTimeoutMs: 30, suspicionMult: 50};

const carriesSuspicion = (d: Datagram) => d.t === 'ping' && JSON.stringify(d.u?.[0]) === JSON.stringify(['s', 'target', 0, 'me']);

test('every ping to a member held as suspect carries the suspicion, after the gossip has sent it its limit of times', async (t) => {
  const target = await UdpMember.bind(t);
  const me = await member(t, 'me', config);
  me.start();
  await target.send(at(me.transport.address), {t: 'gossip', f: 'target', u: [{k: 'alive', n: 'target', i: 0, a: target.address}]});

  const first = await target.until(carriesSuspicion, 5000);
  // The gossip sends a suspicion this many times in all (piggybacked or in its own datagrams); twice as many pings later, it has none left.
  const limit = retransmitLimit(config, 2);
  const later = await target.until((d) => d.t === 'ping', 10_000, first + 1);
  let last = later;
  for (let n = 1; n < 2 * limit + 2; n++) last = await target.until((d) => d.t === 'ping', 10_000, last + 1);
  t.is(me.all().find((m) => m.name === 'target')?.state, 'suspect');
  const pings = target.received.slice(first, last + 1).filter((d) => d.t === 'ping');
  t.true(pings.length >= 2 * limit + 2);
  t.true(pings.every(carriesSuspicion), `pings without the suspicion: ${pings.filter((d) => !carriesSuspicion(d)).length} of ${pings.length}`);
  // The gossip's own copies are spent: what the pings carry now is the buddy's, not the queue's.
  t.false(target.received.slice(later).some((d) => d.t === 'gossip'));
});
