/**
 * A transport bound to a loopback address of its own sends from it: datagrams
 * and outgoing push-pull connections alike. Kernel faults (nftables rules
 * keyed on source and destination addresses) rely on it: Linux would pick
 * 127.0.0.1 as the source of a connection to another loopback address.
 */
import test from 'ava';
import dgram from 'node:dgram';
import net from 'node:net';
import {once} from 'node:events';
import {Transport} from '../src/membership/transport.js';

const limits = {maxBytes: 1 << 20, maxInbound: 8, readDeadlineMs: 5000};

test('bound to 127.0.0.5: its UDP and its outgoing TCP both leave from 127.0.0.5', async (t) => {
  const transport = await Transport.open('127.0.0.5', 0, limits);
  t.teardown(() => transport.close());
  const seen: string[] = [];
  const server = net.createServer({allowHalfOpen: true}, (socket) => {
    seen.push(`tcp ${socket.remoteAddress}`);
    socket.resume();
    socket.on('end', () => socket.end(JSON.stringify({ok: true})));
  });
  server.listen(0, '127.0.0.6');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const port = (server.address() as net.AddressInfo).port;
  t.deepEqual(await transport.request({host: '127.0.0.6', port}, {hello: 1}, 5000), {ok: true});

  const udp = dgram.createSocket('udp4');
  udp.bind(0, '127.0.0.6');
  await once(udp, 'listening');
  t.teardown(() => udp.close());
  const received = once(udp, 'message');
  transport.sendUdp({host: '127.0.0.6', port: udp.address().port}, {t: 'ping'});
  const [, rinfo] = (await received) as [Buffer, dgram.RemoteInfo];
  seen.push(`udp ${rinfo.address}`);
  t.deepEqual(seen, ['tcp 127.0.0.5', 'udp 127.0.0.5']);
});
