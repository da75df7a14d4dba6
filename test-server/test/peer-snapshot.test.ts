/**
 * The reference peer starts from its V8 startup snapshot when one was built
 * by this Node from the current bundle (peer/build-snapshot.mjs), and from
 * the bundle otherwise. Shown with real processes: the snapshot answers as
 * the bundle does, peers started from it register, converge and chat, and a
 * stale, foreign or switched-off snapshot is not used.
 */
import test from 'ava';
import {execa} from 'execa';
import {readFileSync} from 'node:fs';
import {mkdir, utimes, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {defaultPeerBin, peerSnapshot, referencePeer} from '../src/peer-program/reference.js';
import {generateNames} from '../src/index.js';
import {startCoordinator, tempDir, until} from './support.js';

const blobName = `peer-snapshot-${process.version}-${process.platform}-${process.arch}.blob`;

test('the build made a snapshot for this Node, and the reference peer is launched from it', (t) => {
  const blob = peerSnapshot();
  t.is(blob, path.join(path.dirname(defaultPeerBin()), '..', 'dist', blobName));
  t.deepEqual(referencePeer().command, [process.execPath, '--snapshot-blob', blob!, defaultPeerBin()]);
});

test('the snapshot answers --describe-commands and --print-profile exactly as the bundle does', async (t) => {
  const [command, ...args] = referencePeer().command;
  for (const ask of [['--describe-commands'], ['--print-profile', 'lan'], ['--describe-commands', '--capabilities', 'membership']]) {
    const fromSnapshot = await execa(command!, [...args, ...ask]);
    const fromBundle = await execa(process.execPath, [defaultPeerBin(), ...ask]);
    t.is(fromSnapshot.stdout, fromBundle.stdout, ask.join(' '));
    t.true(fromSnapshot.stdout.length > 100);
  }
  // A bad flag is refused the same way, with the same exit code.
  const bad = await execa(command!, [...args, '--port', 'x'], {reject: false});
  t.is(bad.exitCode, 2);
  t.regex(bad.stderr, /--port/);
});

test('peers started from the snapshot register, converge and send, each with its own randomness', async (t) => {
  const c = await startCoordinator(t);
  const names = generateNames(4);
  const handles = await c.spawn(names);
  for (const h of handles) t.true(readFileSync(`/proc/${h.pid}/cmdline`, 'utf8').split('\0').includes('--snapshot-blob'));
  await until(() => names.every((n) => c.views.liveCount(n) === names.length), 20_000, 'all four see each other');
  // Message ids carry a per-process epoch from the process's own random bytes: a snapshot must not freeze it.
  const epochs = new Set<string>();
  for (const name of names) {
    const reply = await c.hub.command(name, 'send', {text: `epoch of ${name}`}, 5000);
    t.true(reply.ok);
    if (reply.ok) epochs.add(String((reply.result as {id: string}).id).split(':')[1]!);
  }
  t.is(epochs.size, names.length);
});

test('a snapshot older than the bundle, switched off, or for another Node is not used', async (t) => {
  const dir = await tempDir(t, 'peer-snapshot-');
  await mkdir(path.join(dir, 'bin'));
  await mkdir(path.join(dir, 'dist'));
  const bin = path.join(dir, 'bin', 'peerlab-peer.mjs');
  await writeFile(bin, '');
  await writeFile(path.join(dir, 'dist', 'peer.mjs'), '');
  t.is(peerSnapshot(bin), undefined, 'no blob');
  await writeFile(path.join(dir, 'dist', 'peer-snapshot-v0.0.0-linux-x64.blob'), '');
  t.is(peerSnapshot(bin), undefined, 'another Node\'s blob');
  const blob = path.join(dir, 'dist', blobName);
  await writeFile(blob, '');
  t.is(peerSnapshot(bin), blob);
  const old = new Date(Date.now() - 60_000);
  await utimes(blob, old, old);
  t.is(peerSnapshot(bin), undefined, 'older than the bundle');
  await utimes(blob, new Date(), new Date());
  process.env.PEERLAB_PEER_SNAPSHOT = '0';
  try {
    t.is(peerSnapshot(bin), undefined, 'switched off');
    t.deepEqual(referencePeer(bin).command, [process.execPath, bin]);
  } finally {
    delete process.env.PEERLAB_PEER_SNAPSHOT;
  }
});
