/**
 * Incarnations are uint32 and move at most MAX_INCARNATION_STEP per piece of
 * news: one forged `dead` must not lock a member out of the group, whatever
 * incarnation it names, and a restarted member must still get back in.
 */
import test from 'ava';
import net from 'node:net';
import {MAX_INCARNATION_STEP, failureDetectionBoundMs, profiles} from '../src/config.js';
import {PeerProcess, converged, eventually, startGroup, stopAll} from './helpers/peer-process.js';
import {UdpMember} from './helpers/udp-member.js';

interface Status {
  incarnation: number;
  malformed: number;
  state: string;
  refused: {incarnationStep: number; unbeatable: number};
}

/** A forged `dead` for `name`, as any host that can reach the port could send it. */
const forgedDead = (name: string, incarnation: number | string) => `{"t":"gossip","f":"mallory","u":[{"k":"dead","n":"${name}","i":${incarnation},"f":"mallory"}]}`;

async function aliveEverywhere(peers: PeerProcess[], name: string, timeoutMs: number) {
  return eventually(`${name} alive everywhere`, timeoutMs, async () => {
    const views = await Promise.all(peers.map((p) => p.members(true)));
    const records = views.map((v) => v.members.find((m) => m.name === name));
    return records.every((r) => r?.state === 'alive') ? records.map((r) => r!.incarnation) : undefined;
  });
}

test.serial('forged dead at 2^53-1, 2^32-1 and just inside the step leave the member alive everywhere, also after a restart', async (t) => {
  const names = ['inc1', 'inc2', 'inc3'];
  const peers = await startGroup(names);
  t.teardown(() => stopAll(peers));
  await converged(peers, names, 5000);
  const bob = peers[1]!;
  const mallory = await UdpMember.bind(t);
  const start = (await bob.json<Status>('status --json')).incarnation;

  // 2^53-1 is outside the uint32 range: malformed, counted, dropped.
  const malformedBefore = await Promise.all(peers.map((p) => p.json<Status>('status --json')));
  for (const peer of peers) await mallory.send(peer.address, forgedDead('inc2', 2 ** 53 - 1));
  await eventually('2^53-1 counted as malformed everywhere', 3000, async () => {
    const now = await Promise.all(peers.map((p) => p.json<Status>('status --json')));
    return now.every((s, i) => s.malformed === malformedBefore[i]!.malformed + 1) ? true : undefined;
  });

  // 2^32-1 is in range but far beyond the step: refused everywhere, bob included.
  for (const peer of peers) await mallory.send(peer.address, forgedDead('inc2', 2 ** 32 - 1));
  await eventually('2^32-1 refused everywhere', 3000, async () => {
    const now = await Promise.all(peers.map((p) => p.json<Status>('status --json')));
    return now.every((s) => s.refused.incarnationStep >= 1) ? true : undefined;
  });
  const {value: afterRefused} = await aliveEverywhere(peers, 'inc2', 2000);
  t.deepEqual(afterRefused, [start, start, start], 'refused news changes nothing');

  // Just inside the step: taken, and bob refutes one above it.
  const inside = start + MAX_INCARNATION_STEP - 1;
  for (const peer of [peers[0]!, peers[2]!]) await mallory.send(peer.address, forgedDead('inc2', inside));
  const {value: refuted} = await eventually('bob refutes above the forged incarnation everywhere', 5000, async () => {
    const views = await Promise.all(peers.map((p) => p.members(true)));
    const records = views.map((v) => v.members.find((m) => m.name === 'inc2')!);
    return records.every((r) => r.state === 'alive' && r.incarnation === inside + 1) ? records : undefined;
  });
  t.is(refuted.length, 3);

  // Restart: the new process starts at 0, the group holds it dead far above the step.
  bob.kill('SIGKILL');
  const others = [peers[0]!, peers[2]!];
  await eventually('inc2 dead', failureDetectionBoundMs(profiles.local, 3) + 2000, async () => {
    const views = await Promise.all(others.map((p) => p.members(true)));
    return views.every((v) => v.members.find((m) => m.name === 'inc2')?.state === 'dead') ? true : undefined;
  });
  const reborn = await PeerProcess.start({name: 'inc2', join: [peers[0]!.address]});
  peers.push(reborn);
  const {value: incarnations} = await aliveEverywhere([...others, reborn], 'inc2', 5000);
  for (const incarnation of incarnations) t.true(incarnation > inside + 1, `incarnation ${incarnation} above the dead record at ${inside + 1}`);
});

test.serial('an accusation a peer cannot beat within uint32 is ignored and counted, and the peer stays alive', async (t) => {
  // A seed that answers a push-pull with this peer's own name dead at 2^32-1: the reply to the
  // peer's own join is trusted about itself (the restart path), so only the range stops it.
  const server = net.createServer({allowHalfOpen: true}, (socket) => {
    let request = '';
    socket.on('data', (d) => (request += d));
    socket.on('end', () => {
      const members = [{n: 'top1', a: '127.0.0.1:1', s: 'dead', i: 2 ** 32 - 1}];
      socket.end(JSON.stringify({t: 'push-pull-reply', f: 'seed', members}));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => void server.close());
  const peer = await PeerProcess.start({name: 'top1'});
  t.teardown(() => stopAll([peer]));
  const before = await peer.json<Status>('status --json');
  await peer.command(`join 127.0.0.1:${(server.address() as net.AddressInfo).port}`);
  const after = await peer.json<Status>('status --json');
  t.is(after.refused.unbeatable, before.refused.unbeatable + 1);
  t.is(after.incarnation, before.incarnation);
  t.is(after.state, 'alive');
});

test.serial('only the partner speaks for itself beyond the step: a reply about this peer outside its first join is held to it', async (t) => {
  // "mal" is a member a forger introduced; it answers every push-pull with this peer at 2^32-2
  // (which would leave it one refutation from the top) and with itself far above the step.
  const far = MAX_INCARNATION_STEP * 4;
  let pushPulls = 0;
  const server = net.createServer({allowHalfOpen: true}, (socket) => {
    socket.on('data', () => {});
    socket.on('end', () => {
      pushPulls++;
      const members = [
        {n: 'trust1', a: '127.0.0.1:1', s: 'alive', i: 2 ** 32 - 2},
        {n: 'mal', a: mal, s: 'alive', i: far},
      ];
      socket.end(JSON.stringify({t: 'push-pull-reply', f: 'mal', members}));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => void server.close());
  const mal = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  const peer = await PeerProcess.start({name: 'trust1'});
  t.teardown(() => stopAll([peer]));
  // Introduce mal with a push-pull request (not a reply to this peer: ordinary news).
  await new Promise<void>((resolve, reject) => {
    const [host, port] = peer.address.split(':') as [string, string];
    const socket = net.connect({host, port: Number(port)}, () => socket.end(JSON.stringify({t: 'push-pull', f: 'mal', a: mal, join: false, members: [{n: 'mal', a: mal, s: 'alive', i: 0}]})));
    socket.on('error', reject);
    socket.on('close', () => resolve());
    socket.resume();
  });
  // The peer push-pulls with mal on its own (periodically, or to reconnect once mal stops answering probes).
  await eventually('the peer push-pulled with mal', 15_000, async () => (pushPulls > 0 ? true : undefined));
  const {value: record} = await eventually('mal taken at its own word', 5000, async () => {
    const m = (await peer.members(true)).members.find((x) => x.name === 'mal');
    return m && m.incarnation === far ? m : undefined;
  });
  t.is(record.incarnation, far, 'the partner, at the address dialled, speaks for itself');
  const status = await peer.json<Status>('status --json');
  t.is(status.incarnation, 0, 'the claim about this peer was refused, not refuted');
  t.true(status.refused.incarnationStep >= 1);
});
