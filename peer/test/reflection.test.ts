/**
 * A peer answers the source of a datagram, never an address written inside
 * it: a forger on 127.0.0.1 must not be able to aim a peer's answers (its
 * chat history, acks with piggybacked state, indirect pings) at a victim.
 */
import test from 'ava';
import dgram from 'node:dgram';
import {PeerProcess, eventually, stopAll} from './helpers/peer-process.js';

interface Listener {
  socket: dgram.Socket;
  address: string;
  received: Buffer[];
  /** Resolves with the next datagram, or undefined after timeoutMs. */
  next(timeoutMs: number): Promise<Buffer | undefined>;
}

async function listener(t: {teardown(fn: () => void): void}): Promise<Listener> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  t.teardown(() => socket.close());
  const received: Buffer[] = [];
  const waiters: Array<(b: Buffer) => void> = [];
  socket.on('message', (b) => {
    received.push(b);
    for (const w of waiters.splice(0)) w(b);
  });
  return {
    socket,
    address: `127.0.0.1:${socket.address().port}`,
    received,
    next: (timeoutMs) =>
      new Promise((resolve) => {
        const timer = setTimeout(() => resolve(undefined), timeoutMs);
        waiters.push((b) => {
          clearTimeout(timer);
          resolve(b);
        });
      }),
  };
}

function send(from: Listener, to: string, message: unknown): void {
  const [host, port] = to.split(':') as [string, string];
  from.socket.send(JSON.stringify(message), Number(port), host);
}

test.serial('chat-digest, ping and ping-req answer the source, not the address inside, and unverified sources get little', async (t) => {
  const peer = await PeerProcess.start({name: 'refl1'});
  const other = await PeerProcess.start({name: 'refl2', join: [peer.address]});
  t.teardown(() => stopAll([peer, other]));
  // A history worth stealing: 60 messages of 1,000 characters.
  for (let i = 0; i < 60; i++) await peer.command(`send ${String(i).padStart(1000, 'x')}`);
  const victim = await listener(t);
  const forger = await listener(t);

  send(forger, peer.address, {t: 'chat-digest', f: 'refl2', a: victim.address, d: {}, reply: false});
  const reply = await forger.next(3000);
  t.truthy(reply, 'the forger (the source) gets the answer');
  t.true(reply!.length <= 16_000, `one datagram of ${reply!.length} bytes`);

  send(forger, peer.address, {t: 'ping', s: 7, f: 'refl2', to: 'refl1', a: victim.address, u: []});
  const ack = JSON.parse(String(await forger.next(3000)));
  t.like(ack, {t: 'ack', s: 7, f: 'refl1'});
  t.is(ack.u, undefined, 'an ack to an unverified source carries no piggybacked state');

  send(forger, peer.address, {t: 'ping-req', s: 8, f: 'refl2', a: victim.address, to: 'nobody', ta: victim.address});
  // stdin and UDP are separate sources: wait for the counters rather than trust one round trip.
  type Refused = {unverifiedDigest: number; unverifiedPing: number; pingReqUnknown: number};
  const {value: refused} = await eventually('refusals counted', 3000, async () => {
    const r = (await peer.json<{refused: Refused}>('status --json')).refused;
    return r.unverifiedDigest >= 1 && r.unverifiedPing >= 1 && r.pingReqUnknown >= 1 ? r : undefined;
  });
  t.truthy(refused);
  await new Promise((r) => setTimeout(r, 300));
  t.is(forger.received.length, 2, 'no more than the one batch and the bare ack');
  t.deepEqual(victim.received, [], 'the address written inside the packets got nothing');
});
