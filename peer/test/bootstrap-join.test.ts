/**
 * Peers that know only the bootstrap service's URL find each other through
 * it. The service runs as its own process, the way a user starts it.
 */
import test from 'ava';
import {startBootstrap} from './helpers/bootstrap-process.js';
import {PeerProcess, converged, eventually, stopAll} from './helpers/peer-process.js';

test.serial('peers given only --bootstrap find each other, and a leave is recorded there', async (t) => {
  const url = await startBootstrap(t, 2);
  const peers: PeerProcess[] = [];
  t.teardown(() => stopAll(peers));
  // One after another, so each later peer gets contacts from the service.
  for (const name of ['b1', 'b2', 'b3', 'b4']) peers.push(await PeerProcess.start({name, bootstrap: url}));
  await converged(peers, ['b1', 'b2', 'b3', 'b4'], 5000);
  const list = (await (await fetch(`${url}/list`)).json()) as {contacts: {name: string}[]; candidates: {name: string}[]};
  t.deepEqual(list.contacts.map((c) => c.name), ['b1', 'b2'], 'the oldest two are contacts (maxpeers 2)');
  t.deepEqual(list.candidates.map((c) => c.name), ['b3', 'b4']);
  await peers[0]!.command('leave');
  const {value: after} = await eventually('leave recorded by the service', 3000, async () => {
    const l = (await (await fetch(`${url}/list`)).json()) as {contacts: {name: string}[]};
    return l.contacts.some((c) => c.name === 'b1') ? undefined : l;
  });
  t.deepEqual(after.contacts.map((c) => c.name), ['b2', 'b3'], 'refilled with the oldest candidate');
});

test.serial('20 peers converge with the local profile', async (t) => {
  const url = await startBootstrap(t, 2);
  const names = Array.from({length: 20}, (_, i) => `n${String(i + 1).padStart(2, '0')}`);
  const peers: PeerProcess[] = [];
  t.teardown(() => stopAll(peers));
  peers.push(await PeerProcess.start({name: names[0]!, bootstrap: url}));
  peers.push(...(await Promise.all(names.slice(1).map((name) => PeerProcess.start({name, bootstrap: url})))));
  const {elapsedMs, value: views} = await converged(peers, names, 15_000);
  t.log(`20 peers converged ${elapsedMs} ms after the last one started`);
  t.is(new Set(views.map((v) => v.checksum)).size, 1);
});
