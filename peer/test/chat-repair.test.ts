/**
 * Anti-entropy repairs what a broadcast lost, and leaves alone what a
 * broadcast is still carrying: a message delivered here less than
 * chatRepairGraceMs ago is not sent again, or it would race its own
 * broadcast and arrive twice (a duplicate the bundled chat scenario saw).
 */
import test from 'ava';
import net from 'node:net';
import {Peer} from '../src/peer.js';
import {Logger} from '../src/log.js';
import {eventually} from './helpers/peer-process.js';
import {UdpMember} from './helpers/udp-member.js';
import type {Datagram} from './helpers/udp-member.js';

/** Tells the peer, by push-pull, that zed is an alive member at its socket's address. */
function introduce(peer: string, member: string): Promise<void> {
  const [host, port] = peer.split(':') as [string, string];
  return new Promise((resolve, reject) => {
    const socket = net.connect({host, port: Number(port)}, () => {
      socket.end(JSON.stringify({t: 'push-pull', f: 'zed', a: member, join: true, members: [{n: 'zed', a: member, s: 'alive', i: 0}]}));
    });
    socket.on('error', reject);
    socket.on('close', () => resolve());
    socket.resume();
  });
}

test('a digest does not bring back a message younger than the repair grace; an older one it does', async (t) => {
  const log = new Logger('rep1', () => {});
  // A long grace makes "younger" certain however slow the machine is; the rule is the same at 100 ms.
  const peer = await Peer.start({name: 'rep1', host: '127.0.0.1', port: 0, profile: 'local', join: [], overrides: {chatRepairGraceMs: 1500}}, log);
  t.teardown(() => peer.close());
  // A member "zed" played by a bare UDP socket: it records every datagram the peer sends it, in order.
  const member = await UdpMember.bind(t);
  await introduce(peer.address, member.address);
  await eventually('zed known', 5000, async () => (peer.membership.isAt('zed', {host: '127.0.0.1', port: member.port}) ? true : undefined));

  const sent = peer.chat.send('fresh');
  const isChat = (d: Datagram) => d.t === 'chat' && (d.m ?? []).some((m) => m.id === sent.id);
  // The broadcast itself reaches zed at once.
  const broadcast = await member.until(isChat, 5000);

  // A digest that lacks the message, then a ping: the peer answers datagrams in order, so the
  // ack arrives after whatever the digest made it send.
  await member.send(peer.address, {t: 'chat-digest', f: 'zed', a: member.address, d: {}, reply: true});
  const ack = await member.pingBarrier(peer.address, 'rep1', 5000, 'zed');
  t.false(member.received.slice(broadcast + 1, ack).some(isChat), 'not repaired while the broadcast may still be on its way');

  // Once the grace has passed, the same digest repairs it.
  await eventually('repaired after the grace', 10_000, async () => {
    await member.send(peer.address, {t: 'chat-digest', f: 'zed', a: member.address, d: {}, reply: true});
    return member.received.slice(ack + 1).some(isChat) ? true : undefined;
  }, 250);
  t.true(Date.now() - sent.sentAt >= 1500);
});
