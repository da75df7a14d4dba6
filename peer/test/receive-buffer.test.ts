/**
 * A member's UDP receive buffer is memberlist's 2 MB, not the OS default: a
 * process that is not reading for a moment (fifty members in one process, a
 * stall) keeps what arrived meanwhile instead of the kernel dropping it, and a
 * dropped ack is a failed probe. Real sockets on loopback.
 */
import {readFileSync} from 'node:fs';
import dgram from 'node:dgram';
import test from 'ava';
import {Transport, UDP_RECEIVE_BUFFER_BYTES} from '../src/membership/transport.js';

const limits = {maxBytes: 1 << 20, maxInbound: 32, readDeadlineMs: 5000};

/** What the OS grants at most (Linux: net.core.rmem_max); elsewhere, the ask. */
function grantable(): number {
  try {
    return Math.min(UDP_RECEIVE_BUFFER_BYTES, Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8').trim()));
  } catch {
    return UDP_RECEIVE_BUFFER_BYTES;
  }
}

async function open(t: {teardown(fn: () => Promise<void>): void}): Promise<Transport> {
  const transport = await Transport.open('127.0.0.1', 0, limits);
  t.teardown(() => transport.close());
  return transport;
}

test('a member asks the OS for a 2 MB UDP receive buffer, and gets what the OS allows', async (t) => {
  const transport = await open(t);
  t.true(transport.udpReceiveBufferBytes >= grantable(), `granted ${transport.udpReceiveBufferBytes} bytes`);
});

// The default buffer (about 200 KB on Linux) holds some 90 such datagrams; the burst is 4 times that. Where
// the OS grants no more than its default (net.core.rmem_max at 208 KB), there is nothing to show.
const roomy = grantable() >= 1024 * 1024;
(roomy ? test : test.skip)('a burst of full datagrams that comes while the member is not reading is all read once it is', async (t) => {
  const burst = 400;
  const transport = await open(t);
  const sender = dgram.createSocket('udp4');
  t.teardown(() => new Promise<void>((resolve) => sender.close(() => resolve())));
  await new Promise<void>((resolve) => sender.bind(0, '127.0.0.1', resolve));
  sender.setSendBufferSize(4 * 1024 * 1024);
  const {host, port} = transport.address;
  const payload = Buffer.alloc(1400, 'x');
  // All handed to the kernel in this turn (sends to an IP go out before the event loop polls again): the
  // member reads nothing until then, like a process that is busy elsewhere.
  let sent = 0;
  const allSent = new Promise<void>((resolve) => {
    for (let i = 0; i < burst; i++) sender.send(payload, port, host, () => ++sent === burst && resolve());
  });
  await allSent;
  const deadline = Date.now() + 5000;
  while (transport.stats.udpIn < burst && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
  t.is(transport.stats.udpIn, burst);
});
