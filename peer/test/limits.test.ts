/**
 * What one peer holds on behalf of others is bounded, and every refusal is
 * counted in `status`: TCP bytes per connection, connections at once and how
 * long a request may take to arrive, members one packet or push-pull may
 * introduce, members in the table, dead members kept, chat messages held back.
 */
import test from 'ava';
import net from 'node:net';
import {readFile} from 'node:fs/promises';
import {maxPushPullBytes, profiles} from '../src/config.js';
import {Peer} from '../src/peer.js';
import {Logger} from '../src/log.js';
import {PeerProcess, eventually, stopAll} from './helpers/peer-process.js';
import {UdpMember} from './helpers/udp-member.js';

const local = profiles.local;

interface Status {
  malformed: number;
  messages: number;
  refused: Record<'tcpRefused' | 'tcpTooLarge' | 'tcpTimedOut' | 'newMembers' | 'tableFull' | 'reaped' | 'heldDropped' | 'heldEvicted', number>;
  traffic: {tcpIn: number};
}

const status = (peer: PeerProcess) => peer.json<Status>('status --json');

async function rssMb(pid: number): Promise<number> {
  const line = (await readFile(`/proc/${pid}/status`, 'utf8')).split('\n').find((l) => l.startsWith('VmRSS:'))!;
  return Math.round(Number(/(\d+)/.exec(line)![1]) / 1024);
}

function connect(address: string): Promise<net.Socket> {
  const [host, port] = address.split(':') as [string, string];
  return new Promise((resolve, reject) => {
    const socket = net.connect({host, port: Number(port)}, () => resolve(socket));
    socket.on('error', reject);
  });
}

function closed(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));
}

const ghosts = (n: number, prefix: string) => Array.from({length: n}, (_, i) => ({n: `${prefix}${i}`, a: `127.0.0.1:${10_000 + i}`, s: 'alive', i: 0}));

function pushPull(address: string, members: unknown[]): Promise<string> {
  return new Promise((resolve, reject) => {
    void connect(address).then((socket) => {
      let data = '';
      socket.on('data', (d) => (data += d));
      socket.on('close', () => resolve(data));
      socket.on('error', reject);
      socket.end(JSON.stringify({t: 'push-pull', f: 'mallory', a: '127.0.0.1:1', join: false, members}));
    }, reject);
  });
}

test.serial('a push-pull larger than the byte cap is cut off, counted, and the peer keeps little memory', async (t) => {
  const peer = await PeerProcess.start({name: 'lim1'});
  t.teardown(() => stopAll([peer]));
  const cap = maxPushPullBytes(local);
  const rssBefore = await rssMb(peer.pid);
  const sockets = await Promise.all([0, 1, 2].map(() => connect(peer.address)));
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  // Three connections each trying to send 8x the cap, as fast as the peer reads.
  await Promise.all(
    sockets.map(async (socket) => {
      const done = closed(socket);
      for (let sent = 0; sent < 8 * cap && !socket.destroyed; sent += chunk.length) {
        if (!socket.write(chunk)) await Promise.race([new Promise((r) => socket.once('drain', r)), done]);
      }
      await done;
    }),
  );
  const s = await status(peer);
  t.is(s.refused.tcpTooLarge, 3);
  const grown = (await rssMb(peer.pid)) - rssBefore;
  t.true(grown < 40, `RSS grew ${grown} MB`);
  t.true(peer.alive);
});

test.serial('connections beyond the limit are closed on arrival, slow ones at the read deadline', async (t) => {
  const peer = await PeerProcess.start({name: 'lim2'});
  t.teardown(() => stopAll([peer]));
  const held = await Promise.all(Array.from({length: local.maxInboundConnections}, () => connect(peer.address)));
  // Wait until the peer has taken all of them in (a connection the client sees open may not be
  // accepted yet) before the extra ones arrive; none was refused, so all of them hold a slot.
  const {value: accepted} = await eventually('held connections accepted', 5000, async () => {
    const now = await status(peer);
    return now.traffic.tcpIn === local.maxInboundConnections ? now : undefined;
  });
  t.is(accepted.refused.tcpRefused, 0);
  const extra = await Promise.all(Array.from({length: 5}, () => connect(peer.address)));
  await Promise.all(extra.map(closed));
  t.is((await status(peer)).refused.tcpRefused, 5);
  // Held connections that never send a whole request are closed at the read deadline.
  await Promise.all(held.map(closed));
  t.is((await status(peer)).refused.tcpTimedOut, local.maxInboundConnections);
  // Control: the slots are free again and a real push-pull is served.
  t.regex(await pushPull(peer.address, []), /push-pull-reply/);
});

test.serial('one push-pull and one gossip packet introduce a bounded number of unknown members', async (t) => {
  const peer = await PeerProcess.start({name: 'lim3'});
  t.teardown(() => stopAll([peer]));
  await pushPull(peer.address, ghosts(2000, 'pp'));
  let members = (await peer.members(true)).members;
  t.is(members.filter((m) => m.name.startsWith('pp')).length, local.maxNewMembersPerPushPull);
  t.is((await status(peer)).refused.newMembers, 2000 - local.maxNewMembersPerPushPull);
  const gossip = JSON.stringify({t: 'gossip', f: 'mallory', u: ghosts(200, 'gg').map((g) => ({k: 'alive', n: g.n, i: 0, a: g.a}))});
  await (await UdpMember.bind(t)).send(peer.address, gossip);
  const {value: s} = await eventually('gossip refusals counted', 3000, async () => {
    const now = await status(peer);
    return now.refused.newMembers === 2000 - local.maxNewMembersPerPushPull + 200 - local.maxNewMembersPerPacket ? now : undefined;
  });
  t.truthy(s);
  members = (await peer.members(true)).members;
  t.is(members.filter((m) => m.name.startsWith('gg')).length, local.maxNewMembersPerPacket);
});

test.serial('the member table stops at maxMembers and dead members are reaped after deadReapMs', async (t) => {
  // In process, with small limits: the bounds are the same code at any size.
  const log = new Logger('lim4', () => {});
  const peer = await Peer.start({name: 'lim4', host: '127.0.0.1', port: 0, profile: 'local', join: [], overrides: {maxMembers: 10, deadReapMs: 500}}, log);
  t.teardown(() => peer.close());
  const reaped: string[] = [];
  peer.membership.on('reaped', ({name, state}) => reaped.push(`${name}:${state}`));
  await pushPull(peer.address, ghosts(20, 'tt'));
  t.is(peer.membership.all().length, 10);
  t.is(peer.membership.refusals.tableFull, 11);
  // The ghosts answer no probe: suspected, declared dead, and then forgotten.
  await eventually('ghosts reaped', 60_000, async () => (peer.membership.all().length === 1 ? true : undefined), 100);
  t.is(peer.membership.refusals.reaped, 9);
  t.deepEqual(reaped.sort(), Array.from({length: 9}, (_, i) => `tt${i}:dead`).sort(), 'each forgotten member is announced (the agent sends it as member.reaped)');
  // The names are free again: a newcomer under one of them is taken.
  await pushPull(peer.address, ghosts(1, 'tt'));
  t.is(peer.membership.all().find((m) => m.name === 'tt0')?.state, 'alive');
});

test.serial('the chat hold-back buffer holds a window per stream and a cap over all, evicting its oldest when full, and what it dropped or evicted is delivered later', async (t) => {
  const peer = await PeerProcess.start({name: 'lim5'});
  t.teardown(() => stopAll([peer]));
  const mallory = await UdpMember.bind(t);
  const max = local.maxHeldMessages;
  const message = (epoch: string, seq: number) => ({id: `mallory:${epoch}:${seq}`, sender: 'mallory', epoch, seq, text: 'x', sentAt: 0, deps: []});
  async function chat(epoch: string, seqs: number[]) {
    for (let i = 0; i < seqs.length; i += 300) await mallory.send(peer.address, {t: 'chat', m: seqs.slice(i, i + 300).map((seq) => message(epoch, seq))});
  }
  // The peer reads datagrams in order: once it acks a later ping, the chat before it is taken in.
  const settled = async () => {
    await mallory.pingBarrier(peer.address, 'lim5');
    return status(peer);
  };
  const range = (from: number, to: number) => Array.from({length: to - from + 1}, (_, i) => from + i);

  // Stream e1: 2..max wait for the missing 1. max+1 and a far-future seq are more than max ahead
  // of what the stream delivered (0): dropped although the buffer has room, or they would keep
  // their slots for ever.
  await chat('e1', [...range(2, max), max + 1, 2 ** 40]);
  let s = await settled();
  t.is(s.refused.heldDropped, 2, 'beyond the stream window');
  t.is(s.refused.heldEvicted, 0);
  // Stream e2: inside its own window; e1 holds max-1, so e2 2 fills the buffer over all streams
  // and e2 3 evicts the oldest held, e1 2.
  await chat('e2', [2, 3]);
  s = await settled();
  t.is(s.refused.heldDropped, 2);
  t.is(s.refused.heldEvicted, 1, 'the oldest evicted for the newcomer');
  t.is(s.messages, 0);
  // The gaps fill: e2 goes out whole, e1 stops at its evicted 2 until it comes again.
  await chat('e1', [1]);
  await chat('e2', [1]);
  t.is((await settled()).messages, 1 + 3);
  await chat('e1', [2]);
  t.is((await settled()).messages, max + 3);
  await chat('e1', range(max + 1, max + 100));
  s = await settled();
  t.is(s.messages, max + 3 + 100);
  t.is(s.refused.heldDropped, 2);
  t.is(s.refused.heldEvicted, 1);
});
