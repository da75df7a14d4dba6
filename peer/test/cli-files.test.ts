/**
 * The file commands typed at the peer's own prompt (or piped to it) reach any
 * file the person could open: the confinement to `--data-dir` applies to the
 * agent only (tested with the real coordinator in
 * test-server/test/agent-commands.test.ts). The nesting limit holds here too.
 */
import test from 'ava';
import {mkdir, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {PeerProcess, stopAll} from './helpers/peer-process.js';

async function tempDir(t: {teardown(fn: () => Promise<void>): void}): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'peerlab-cli-files-'));
  t.teardown(() => rm(dir, {recursive: true, force: true}));
  return dir;
}

test.serial('the CLI keeps full file access, and its nesting limit too', async (t) => {
  const root = await tempDir(t);
  const elsewhere = path.join(root, 'elsewhere');
  await mkdir(elsewhere);
  await writeFile(path.join(elsewhere, 'hello.peer'), 'echo from anywhere\n');
  await writeFile(path.join(elsewhere, 'loop.peer'), `run ${path.join(elsewhere, 'loop.peer')}\n`);
  const peer = await PeerProcess.start({name: 'cli-files'});
  t.teardown(() => stopAll([peer]));
  t.deepEqual(await peer.command(`run ${path.join(elsewhere, 'hello.peer')}`), ['from anywhere', 'ran 1 commands']);
  t.regex((await peer.command(`save-config ${path.join(elsewhere, 'saved.json')}`))[0]!, /saved to/);
  t.like(JSON.parse(await readFile(path.join(elsewhere, 'saved.json'), 'utf8')), {name: 'cli-files'});
  const errorsBefore = peer.stderr.length;
  t.deepEqual(await peer.command(`run ${path.join(elsewhere, 'loop.peer')}`), []);
  t.regex(await peer.waitStderr((l) => l.startsWith('error: '), errorsBefore), /scripts nested more than 8 deep/);
  t.true(peer.alive);
});
