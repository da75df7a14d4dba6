/**
 * Peers that know only the bootstrap service's URL find each other through
 * it. The service runs as its own process, the way a user starts it.
 */
import test from 'ava';
import {spawn} from 'node:child_process';
import {createInterface} from 'node:readline';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {PeerProcess, converged, eventually, stopAll} from './helpers/peer-process.js';

const bootstrapBin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bootstrap/bin/peerlab-bootstrap.mjs');

async function startBootstrap(t: {teardown(fn: () => void): void}): Promise<string> {
  const child = spawn(process.execPath, [bootstrapBin, '--port', '0', '--maxpeers', '2'], {stdio: ['ignore', 'pipe', 'inherit']});
  t.teardown(() => child.kill('SIGKILL'));
  const lines = createInterface({input: child.stdout});
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('bootstrap did not start within 10 s')), 10_000);
    lines.on('line', (line) => {
      const match = /listening on (\S+)/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.on('exit', (code) => reject(new Error(`bootstrap exited with ${code}`)));
  });
  return url;
}

test.serial('peers given only --bootstrap find each other, and a leave is recorded there', async (t) => {
  const url = await startBootstrap(t);
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
  const url = await startBootstrap(t);
  const names = Array.from({length: 20}, (_, i) => `n${String(i + 1).padStart(2, '0')}`);
  const peers: PeerProcess[] = [];
  t.teardown(() => stopAll(peers));
  peers.push(await PeerProcess.start({name: names[0]!, bootstrap: url}));
  peers.push(...(await Promise.all(names.slice(1).map((name) => PeerProcess.start({name, bootstrap: url})))));
  const {elapsedMs, value: views} = await converged(peers, names, 15_000);
  t.log(`20 peers converged ${elapsedMs} ms after the last one started`);
  t.is(new Set(views.map((v) => v.checksum)).size, 1);
});
