/**
 * The peer's Done-when list, on real processes and real sockets: join and
 * converge, crash detection within the profile's bound, graceful leave,
 * exactly-once per-sender-ordered chat, and a restart under the same name.
 */
import test from 'ava';
import {failureDetectionBoundMs, profiles} from '../src/config.js';
import type {PeerProcess} from './helpers/peer-process.js';
import {PeerProcess as Peer, converged, eventually, startGroup, stopAll} from './helpers/peer-process.js';

// These tests spawn several peers each; running them one at a time keeps a 2-core CI box honest.
const serial = test.serial;
const local = profiles.local;

function cleanup(t: {teardown(fn: () => void): void}, peers: PeerProcess[]): void {
  t.teardown(() => stopAll(peers));
}

serial('3 peers join and converge', async (t) => {
  const names = ['alice', 'bob', 'charly'];
  const peers = await startGroup(names);
  cleanup(t, peers);
  const {value: views, elapsedMs} = await converged(peers, names, 5000);
  t.log(`3 peers converged in ${elapsedMs} ms after the last start`);
  t.is(new Set(views.map((v) => v.checksum)).size, 1, 'every peer prints the same checksum');
  for (const view of views) t.true(view.members.every((m) => m.state === 'alive' && m.incarnation >= 0));
});

serial('in a group of 5, SIGKILL of one is seen as dead by the other four within the bound', async (t) => {
  const names = ['p1', 'p2', 'p3', 'p4', 'p5'];
  const peers = await startGroup(names);
  cleanup(t, peers);
  await converged(peers, names, 5000);
  const victim = peers[2]!;
  const others = peers.filter((p) => p !== victim);
  const bound = failureDetectionBoundMs(local, names.length);
  victim.kill('SIGKILL');
  const {elapsedMs} = await eventually(`${victim.name} dead everywhere`, bound, async () => {
    const views = await Promise.all(others.map((p) => p.members(true)));
    return views.every((v) => v.members.find((m) => m.name === victim.name)?.state === 'dead') ? true : undefined;
  });
  t.log(`dead everywhere after ${elapsedMs} ms (bound ${bound} ms)`);
  t.true(elapsedMs <= bound);
  const {value: views} = await converged(others, names.filter((n) => n !== victim.name), 2000);
  t.true(views.every((v) => !v.members.some((m) => m.name === victim.name)), 'the dead member is gone from `members`');
});

serial('a graceful leave is recorded as left, not dead', async (t) => {
  const names = ['l1', 'l2', 'l3', 'l4'];
  const peers = await startGroup(names);
  cleanup(t, peers);
  await converged(peers, names, 5000);
  const leaver = peers[3]!;
  t.deepEqual(await leaver.command('leave'), ['left the group']);
  const rest = peers.slice(0, 3);
  await eventually('leave seen by all', 3000, async () => {
    const views = await Promise.all(rest.map((p) => p.members(true)));
    return views.every((v) => v.members.find((m) => m.name === 'l4')?.state === 'left') ? true : undefined;
  });
  // Stays left: nobody later turns it into dead or suspect.
  await new Promise((r) => setTimeout(r, 3 * local.probeIntervalMs));
  for (const view of await Promise.all(rest.map((p) => p.members(true)))) {
    t.is(view.members.find((m) => m.name === 'l4')?.state, 'left');
  }
});

serial('20 messages from 3 senders reach all 5 peers exactly once, in per-sender order', async (t) => {
  const names = ['m1', 'm2', 'm3', 'm4', 'm5'];
  const peers = await startGroup(names);
  cleanup(t, peers);
  await converged(peers, names, 5000);
  const senders = peers.slice(0, 3);
  const sent: string[] = [];
  await Promise.all(senders.map(async (peer, s) => {
    const count = s === 0 ? 8 : 6;
    for (let i = 1; i <= count; i++) {
      const [line] = await peer.command(`send msg ${i} from ${peer.name}`);
      sent.push(/sent (\S+)/.exec(line!)![1]!);
    }
  }));
  t.is(sent.length, 20);
  type Delivered = {id: string; sender: string; seq: number; text: string};
  const {value: logs} = await eventually('all delivered', 5000, async () => {
    const all = await Promise.all(peers.map((p) => p.json<{count: number; duplicates: number; messages: Delivered[]}>('messages --json')));
    return all.every((l) => l.count >= 20) ? all : undefined;
  });
  for (const [i, log] of logs.entries()) {
    const ids = log.messages.map((m) => m.id);
    t.is(ids.length, 20, `${peers[i]!.name} delivered exactly 20`);
    t.deepEqual([...new Set(ids)].sort(), [...sent].sort(), `${peers[i]!.name} delivered exactly what was sent`);
    for (const sender of ['m1', 'm2', 'm3']) {
      const seqs = log.messages.filter((m) => m.sender === sender).map((m) => m.seq);
      t.deepEqual(seqs, [...seqs].sort((a, b) => a - b), `${peers[i]!.name} kept ${sender}'s order`);
    }
  }
});

serial('a killed peer restarted under the same name on a new port is accepted alive with a higher incarnation', async (t) => {
  const names = ['r1', 'r2', 'r3'];
  const peers = await startGroup(names);
  cleanup(t, peers);
  await converged(peers, names, 5000);
  const old = peers[2]!;
  old.kill('SIGKILL');
  const bound = failureDetectionBoundMs(local, 3);
  const {value: before} = await eventually('r3 dead', bound, async () => {
    const view = await peers[0]!.members(true);
    const r3 = view.members.find((m) => m.name === 'r3');
    return r3?.state === 'dead' ? r3 : undefined;
  });
  const reborn = await Peer.start({name: 'r3', join: [peers[0]!.address]});
  peers.push(reborn);
  t.not(reborn.address, old.address);
  const {value: views} = await converged([peers[0]!, peers[1]!, reborn], names, 5000);
  for (const view of views) {
    const r3 = view.members.find((m) => m.name === 'r3')!;
    t.is(r3.state, 'alive');
    t.is(r3.address, reborn.address);
    t.true(r3.incarnation > before.incarnation, `incarnation ${r3.incarnation} > ${before.incarnation}`);
  }
});

serial('a peer that left can join again in the same process', async (t) => {
  const names = ['j1', 'j2', 'j3'];
  const peers = await startGroup(names);
  cleanup(t, peers);
  await converged(peers, names, 5000);
  await peers[2]!.command('leave');
  await converged(peers.slice(0, 2), ['j1', 'j2'], 3000);
  const out = await peers[2]!.command(`join ${peers[0]!.address}`);
  t.regex(out.join('\n'), /contacted 1 of 1 seeds/);
  await converged(peers, names, 5000);
});

serial('a group at rest keeps probing but sends no gossip, and status shows the traffic by packet type and in bytes', async (t) => {
  const names = ['r1', 'r2', 'r3'];
  const peers = await startGroup(names);
  cleanup(t, peers);
  await converged(peers, names, 5000);
  type Traffic = {udpOut: number; udpOutBytes: number; tcpOut: number; tcpOutBytes: number; udpOutByType: Record<string, number>};
  const traffic = async () => ((await peers[0]!.json('status --json')) as {traffic: Traffic}).traffic;
  // Once the joins' news has been retransmitted its λ·log N times, gossip stops while probes go on.
  let last = await traffic();
  let quiet = 0;
  await eventually('gossip to stop while probes continue', 10_000, async () => {
    const now = await traffic();
    const gossipSent = (now.udpOutByType.gossip ?? 0) - (last.udpOutByType.gossip ?? 0);
    const pingsSent = (now.udpOutByType.ping ?? 0) - (last.udpOutByType.ping ?? 0);
    quiet = gossipSent === 0 && pingsSent > 0 ? quiet + 1 : 0;
    last = now;
    return quiet >= 3 ? now : undefined;
  }, 300);
  t.true(last.udpOut > 0);
  t.true((last.udpOutByType.ack ?? 0) > 0, 'acks are counted by type');
  // No datagram is under ten bytes of JSON; each push-pull writes a whole member list.
  t.true(last.udpOutBytes > 10 * last.udpOut, JSON.stringify(last));
  t.true(last.tcpOut === 0 || last.tcpOutBytes > 50 * last.tcpOut, JSON.stringify(last));
});
