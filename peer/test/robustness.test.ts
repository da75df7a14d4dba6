/**
 * What a peer does with input it should not trust: garbage datagrams and TCP
 * requests are counted and ignored, and a stale `alive` never resurrects a
 * member known dead at a higher or equal incarnation. Each rule is paired
 * with a positive control, so the test would fail if the packets were simply
 * never read.
 */
import test from 'ava';
import dgram from 'node:dgram';
import net from 'node:net';
import {randomBytes} from 'node:crypto';
import {failureDetectionBoundMs, profiles} from '../src/config.js';
import {converged, eventually, startGroup, stopAll} from './helpers/peer-process.js';
import type {PeerProcess} from './helpers/peer-process.js';

function sendUdp(address: string, payloads: Array<string | Buffer>): Promise<void> {
  const [host, port] = address.split(':') as [string, string];
  const socket = dgram.createSocket('udp4');
  return Promise.all(payloads.map((p) => new Promise<void>((resolve, reject) => socket.send(p, Number(port), host, (e) => (e ? reject(e) : resolve())))))
    .then(() => {
      socket.close();
    });
}

function sendTcp(address: string, payload: string): Promise<string> {
  const [host, port] = address.split(':') as [string, string];
  return new Promise((resolve, reject) => {
    const socket = net.connect({host, port: Number(port)}, () => socket.end(payload));
    let data = '';
    socket.on('data', (d) => (data += d));
    socket.on('close', () => resolve(data));
    socket.on('error', reject);
  });
}

async function status(peer: PeerProcess): Promise<{malformed: number; checksum: string; incarnation: number}> {
  return peer.json('status --json');
}

test.serial('garbage datagrams and TCP requests change nothing and are counted', async (t) => {
  const names = ['g1', 'g2', 'g3'];
  const peers = await startGroup(names);
  t.teardown(() => stopAll(peers));
  const {value: before} = await converged(peers, names, 5000);
  const target = peers[0]!;
  const garbage: Array<string | Buffer> = [
    randomBytes(200),
    'not json at all',
    '[]',
    '{}',
    '{"t":"ping"}',
    '{"t":"ping","s":1,"f":"' + 'x'.repeat(100) + '","to":"g1","a":"127.0.0.1:1"}',
    '{"t":"gossip","f":"evil","u":[{"k":"dead","n":"g2","i":"lots"}]}',
    '{"t":"gossip","f":"evil","u":[{"k":"alive","n":"g2"}]}',
    '{"t":"gossip","f":"evil","u":"nope"}',
    '{"t":"chat","m":[{"id":"forged","sender":"g2","epoch":"x","seq":1,"text":"hi","sentAt":0}]}',
    '{"t":"chat-digest","f":"g2","a":"127.0.0.1:9","d":{"k":-1},"reply":false}',
    '{"t":"unknown-type"}',
    Buffer.from([0xff, 0xfe, 0x00]),
  ];
  await sendUdp(target.address, garbage);
  const tcpReply = await sendTcp(target.address, '{"t":"push-pull","members":"nope"}');
  t.regex(tcpReply, /"t":"error"/);
  await sendTcp(target.address, 'garbage \u0000 bytes');
  const {value: after} = await eventually('malformed counted', 3000, async () => {
    const s = await status(target);
    return s.malformed >= garbage.length + 2 ? s : undefined;
  });
  t.is(after.malformed, garbage.length + 2);
  t.true(target.alive);
  const {value: views} = await converged(peers, names, 3000);
  t.is(views[0]!.checksum, before[0]!.checksum);
  const messages = await target.json<{count: number}>('messages --json');
  t.is(messages.count, 0, 'a forged chat message with a mismatched id is not delivered');
  // Control: a well-formed gossip from the same socket is read and acted on.
  const g2 = views[0]!.members.find((m) => m.name === 'g2')!;
  await sendUdp(target.address, [JSON.stringify({t: 'gossip', f: 'g3', u: [{k: 'suspect', n: 'g2', i: g2.incarnation, f: 'g3'}]})]);
  await eventually('g2 refutes the forged suspicion', 3000, async () => {
    const view = await target.members();
    const now = view.members.find((m) => m.name === 'g2')!;
    return now.incarnation > g2.incarnation && now.state === 'alive' ? true : undefined;
  });
  t.pass();
});

test.serial('a stale alive never resurrects a member known dead at a higher or equal incarnation', async (t) => {
  const names = ['s1', 's2', 's3'];
  const peers = await startGroup(names);
  t.teardown(() => stopAll(peers));
  await converged(peers, names, 5000);
  const victim = peers[2]!;
  victim.kill('SIGKILL');
  const watcher = peers[0]!;
  const {value: dead} = await eventually('s3 dead', failureDetectionBoundMs(profiles.local, 3), async () => {
    const s3 = (await watcher.members(true)).members.find((m) => m.name === 's3');
    return s3?.state === 'dead' ? s3 : undefined;
  });
  const alive = (i: number) => JSON.stringify({t: 'gossip', f: 's2', u: [{k: 'alive', n: 's3', i, a: dead.address}]});
  const stale = [alive(dead.incarnation), ...(dead.incarnation > 0 ? [alive(dead.incarnation - 1)] : [])];
  await sendUdp(watcher.address, stale);
  // The watcher handles datagrams in order; a later command round trip proves the packets were processed.
  await watcher.command('status');
  await new Promise((r) => setTimeout(r, 2 * profiles.local.gossipIntervalMs));
  let s3 = (await watcher.members(true)).members.find((m) => m.name === 's3')!;
  t.is(s3.state, 'dead', 'equal or lower incarnation does not resurrect');
  // Control: a higher incarnation does bring it back, so the packets above were read.
  await sendUdp(watcher.address, [alive(dead.incarnation + 1)]);
  await eventually('higher incarnation accepted', 2000, async () => {
    s3 = (await watcher.members(true)).members.find((m) => m.name === 's3')!;
    return s3.state === 'alive' ? true : undefined;
  });
  t.is(s3.incarnation, dead.incarnation + 1);
});
