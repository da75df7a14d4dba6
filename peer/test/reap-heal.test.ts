/**
 * Reaping forgets dead members, but not where they were: a partition that
 * outlasts deadReapMs still holds while it is in force (the link filter still
 * knows whom a packet is from), and heals once it is lifted (the reconnect
 * loop still dials the forgotten side), as Serf keeps failed members.
 */
import test from 'ava';
import {Peer} from '../src/peer.js';
import {Logger} from '../src/log.js';
import {eventually} from './helpers/peer-process.js';

test('a partition longer than deadReapMs holds while in force and heals after', async (t) => {
  const overrides = {deadReapMs: 600, reconnectIntervalMs: 200};
  const start = async (name: string, join: Peer[]) => {
    const peer = await Peer.start({name, host: '127.0.0.1', port: 0, profile: 'local', join: join.map((p) => p.transport.address), overrides}, new Logger(name, () => {}));
    await peer.join();
    return peer;
  };
  const a = await start('rh1', []);
  const b = await start('rh2', [a]);
  const c = await start('rh3', [a]);
  const peers = [a, b, c];
  t.teardown(() => Promise.all(peers.map((p) => p.close())));
  const aliveNames = (p: Peer) => p.membership.all().filter((m) => m.state === 'alive').map((m) => m.name).sort();
  await eventually('the group formed', 5000, async () => (peers.every((p) => aliveNames(p).length === 3) ? true : undefined));

  // rh1 | rh2 rh3, both ways, as the coordinator's net-cut does it.
  a.faults.cut(['rh2', 'rh3'], 'both');
  b.faults.cut(['rh1'], 'both');
  c.faults.cut(['rh1'], 'both');
  await eventually('each side reaped the other', 15_000, async () =>
    a.membership.all().length === 1 && [b, c].every((p) => !p.membership.all().some((m) => m.name === 'rh1')) ? true : undefined,
  );
  // Reaped, yet still cut: well past another reap interval and many reconnect attempts, the sides stay apart.
  const reapedAt = Date.now();
  await eventually('several reconnect rounds pass', 5000, async () => (Date.now() - reapedAt > 4 * overrides.reconnectIntervalMs + overrides.deadReapMs ? true : undefined));
  t.deepEqual(aliveNames(a), ['rh1'], 'the partition held after the reap');

  for (const p of peers) p.faults.heal();
  await eventually('healed into one group', 10_000, async () => (peers.every((p) => aliveNames(p).length === 3) ? true : undefined));
  t.pass();
});
