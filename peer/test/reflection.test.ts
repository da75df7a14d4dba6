/**
 * A peer answers the source of a datagram, never an address written inside
 * it: a forger on 127.0.0.1 must not be able to aim a peer's answers (its
 * chat history, acks with piggybacked state, indirect pings) at a victim.
 * And a source that is not its sender's known address gets nothing bigger
 * than what it sent: a bare ack to a ping, nothing at all to a digest.
 */
import test from 'ava';
import {PeerProcess, eventually, stopAll} from './helpers/peer-process.js';
import {UdpMember} from './helpers/udp-member.js';

test.serial('chat-digest, ping and ping-req answer the source, not the address inside, and unverified sources get a bare ack at most', async (t) => {
  const peer = await PeerProcess.start({name: 'refl1'});
  const other = await PeerProcess.start({name: 'refl2', join: [peer.address]});
  const peers = [peer, other];
  t.teardown(() => stopAll(peers));
  // A history worth stealing: 60 messages of 1,000 characters.
  for (let i = 0; i < 60; i++) await peer.command(`send ${String(i).padStart(1000, 'x')}`);
  const victim = await UdpMember.bind(t);
  const forger = await UdpMember.bind(t);
  const before = (await peer.json<{refused: Refused}>('status --json')).refused;

  // After each forgery, a ping from the same socket: the peer answers datagrams in order, so
  // whatever the forgery made it send the forger arrives before the ack.
  await forger.send(peer.address, {t: 'chat-digest', f: 'refl2', a: victim.address, d: {}, reply: false});
  const afterDigest = await forger.pingBarrier(peer.address, 'refl1');
  t.deepEqual(forger.received.slice(0, afterDigest), [], 'an unverified digest is not answered, not even with one datagram');

  await forger.send(peer.address, {t: 'ping', s: 7, f: 'refl2', to: 'refl1', a: victim.address, u: []});
  const ack = await forger.until((d) => d.t === 'ack' && d.s === 7, 3000, afterDigest + 1);
  t.is(ack, afterDigest + 1, 'nothing before the ack');
  t.like(forger.received[ack], {t: 'ack', s: 7, f: 'refl1'});
  t.is(forger.received[ack]!.u, undefined, 'an ack to an unverified source carries no piggybacked state');

  await forger.send(peer.address, {t: 'ping-req', s: 8, f: 'refl2', a: victim.address, to: 'nobody', ta: victim.address});
  const afterPingReq = await forger.pingBarrier(peer.address, 'refl1');
  t.deepEqual(forger.received.slice(ack + 1, afterPingReq), [], 'a ping-req for an unknown member gets nothing');

  // Everything the peer sent the victim before this reaches it before the ack to its own ping.
  const victimAck = await victim.pingBarrier(peer.address, 'refl1');
  t.deepEqual(victim.received.slice(0, victimAck), [], 'the address written inside the packets got nothing');

  // The forgeries were read (the barriers prove it), so their counts are in.
  const refused = (await peer.json<{refused: Refused}>('status --json')).refused;
  t.is(refused.unverifiedDigest, before.unverifiedDigest + 1);
  t.is(refused.pingReqUnknown, before.pingReqUnknown + 1);
  t.true(refused.unverifiedPing > before.unverifiedPing);

  // Control: a newcomer is known through membership and gets the history by anti-entropy.
  const late = await PeerProcess.start({name: 'refl3', join: [other.address]});
  peers.push(late);
  await eventually('the newcomer has the history', 10_000, async () => ((await late.json<{count: number}>('messages --json')).count === 60 ? true : undefined), 100);
  t.pass();
});

type Refused = {unverifiedDigest: number; unverifiedPing: number; pingReqUnknown: number};
