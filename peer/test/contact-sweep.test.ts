/**
 * Two groups that never heard of each other merge when a member of one
 * sweeps a contact in the other; in a formed group a sweep sends nothing.
 * Real members on real sockets in this process; then real peer processes
 * and the bootstrap service, where a newcomer's hedged join lands in one of
 * two groups that share the service's contacts.
 */
import test from 'ava';
import {profiles} from '../src/config.js';
import {ContactSweep} from '../src/contact-sweep.js';
import type {Membership} from '../src/membership/membership.js';
import type {Address} from '../src/membership/types.js';
import {startBootstrap} from './helpers/bootstrap-process.js';
import {member as memberWith} from './helpers/membership.js';
import {PeerProcess, converged, eventually, stopAll} from './helpers/peer-process.js';

const config = profiles.local;
const member = (t: Parameters<typeof memberWith>[0], name: string, overrides: Partial<typeof config> = {}) => memberWith(t, name, {...config, ...overrides});

/** A sweep target on a real member, counting the exchanges it starts. */
function target(m: Membership) {
  const bridged: string[] = [];
  return {
    bridged,
    knows: (name: string) => m.knows(name),
    get active() {
      return m.active;
    },
    bridge: async (address: Address, name: string) => {
      bridged.push(name);
      await m.bridge(address, name);
    },
  };
}

const contact = (m: Membership) => ({name: m.self.name, address: m.transport.address});
const liveNames = (m: Membership) => m.live().map((x) => x.name).sort().join(',');

async function group(t: Parameters<typeof memberWith>[0], names: string[], overrides: Partial<typeof config> = {}): Promise<Membership[]> {
  const members = await Promise.all(names.map((name) => member(t, name, overrides)));
  members[0]!.start();
  for (const m of members.slice(1)) await m.join([members[0]!.transport.address]);
  const want = [...names].sort().join(',');
  await eventually(`${names.join(', ')} formed`, 10_000, async () => (members.every((m) => liveNames(m) === want) ? true : undefined));
  return members;
}

test('a sweep from one group to a contact in another merges the two', async (t) => {
  const left = await group(t, ['a1', 'a2', 'a3']);
  const right = await group(t, ['b1', 'b2']);
  const sweeper = target(left[1]!);
  // The contacts a newcomer is given: some in its own group, one in the other.
  const sweep = new ContactSweep(sweeper, [contact(left[0]!), contact(right[0]!)]);
  const reached = await sweep.sweep();
  t.is(reached?.name, 'b1');
  t.deepEqual(sweeper.bridged, ['b1'], 'only the contact never heard of is asked');
  const all = ['a1', 'a2', 'a3', 'b1', 'b2'].join(',');
  const {elapsedMs} = await eventually('all five in every view', 15_000, async () => ([...left, ...right].every((m) => liveNames(m) === all) ? true : undefined));
  t.log(`merged ${elapsedMs} ms after the sweep`);
});

test('in a formed group a sweep sends nothing, and a cancelled or leaving one does not start', async (t) => {
  const members = await group(t, ['c1', 'c2', 'c3']);
  const sweeper = target(members[2]!);
  const sweep = new ContactSweep(sweeper, members.slice(0, 2).map(contact));
  t.is(await sweep.sweep(), undefined);
  t.deepEqual(sweeper.bridged, []);
  const stranger = await member(t, 'stranger');
  stranger.start();
  const cancelled = new ContactSweep(sweeper, [contact(stranger)]);
  cancelled.cancel();
  t.is(await cancelled.sweep(), undefined);
  await members[2]!.leave();
  t.is(await new ContactSweep(sweeper, [contact(stranger)]).sweep(), undefined, 'a leaving member sweeps nothing');
  t.deepEqual(sweeper.bridged, []);
});

test('a contact that does not answer is followed by the next unknown one', async (t) => {
  const [a] = await group(t, ['d1']);
  const other = await member(t, 'e1');
  other.start();
  const sweeper = target(a!);
  // Nothing listens on port 1: refused at once.
  const sweep = new ContactSweep(sweeper, [{name: 'gone', address: {host: '127.0.0.1', port: 1}}, contact(other)]);
  let reached = await sweep.sweep();
  // Shuffled: when the gone one came second, the first answered and ended the sweep.
  if (sweeper.bridged[0] === 'e1') t.deepEqual(sweeper.bridged, ['e1']);
  else t.deepEqual(sweeper.bridged, ['gone', 'e1']);
  t.is(reached?.name, 'e1');
  await eventually('d1 knows e1', 5000, async () => (a!.knows('e1') ? true : undefined));
  reached = await sweep.sweep();
  t.is(reached, undefined, 'e1 is known now; the gone contact is tried again and fails');
});

test('a contact known once is not asked again after it left and was forgotten', async (t) => {
  const members = await group(t, ['f1', 'f2', 'f3'], {deadReapMs: 300});
  const sweeper = target(members[0]!);
  const sweep = new ContactSweep(sweeper, [contact(members[2]!)]);
  await members[2]!.leave();
  await eventually('f1 forgot f3', 10_000, async () => (members[0]!.knows('f3') ? undefined : true));
  t.is(await sweep.sweep(), undefined);
  t.deepEqual(sweeper.bridged, []);
});

test.serial('a newcomer through the bootstrap service merges two groups that share its contacts', async (t) => {
  // More contacts than a small group's (8), so the newcomer asks one at a time and stops at the first answer.
  const url = await startBootstrap(t, 16);
  const peers: PeerProcess[] = [];
  t.teardown(() => stopAll(peers));
  const main = ['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7'];
  for (const name of main) peers.push(await PeerProcess.start({name, bootstrap: url}));
  // Two peers outside that group, registered with the service as a starved peer's late registration leaves it.
  const l1 = await PeerProcess.start({name: 'l1'});
  peers.push(l1);
  peers.push(await PeerProcess.start({name: 'l2', join: [l1.address]}));
  for (const p of peers.slice(-2)) {
    const response = await fetch(`${url}/join`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({name: p.name, address: p.address})});
    t.is(response.status, 200);
  }
  await converged(peers.slice(0, 7), main, 10_000);
  await converged(peers.slice(-2), ['l1', 'l2'], 10_000);
  peers.push(await PeerProcess.start({name: 'newcomer', bootstrap: url}));
  const everyone = [...main, 'l1', 'l2', 'newcomer'];
  const {elapsedMs} = await converged(peers, everyone, 20_000);
  t.log(`ten peers in one group ${elapsedMs} ms after the newcomer started`);
  t.true(peers.at(-1)!.stderr.some((l) => /bridged to contact/.test(l)), 'the newcomer bridged');
});
