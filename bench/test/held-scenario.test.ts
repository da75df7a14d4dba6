/**
 * The bench holds the 2,000-peer scenario to a shorter timeout; the file it
 * writes must still be one `peerlab run` accepts, or the whole bench dies at
 * its last phase. Judged by the real loader: `peerlab run --dry-run` loads and
 * checks the scenarios, then stops (the local runner has no manifests to print).
 */
import test from 'ava';
import {execa} from 'execa';
import {mkdtemp, readFile, writeFile} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {holdScenario} from '../src/held-scenario.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const peerlab = path.join(root, 'test-server/bin/peerlab.mjs');
const twoThousand = path.join(root, 'scenarios/scale/2000-peers.yaml');

async function loads(text: string): Promise<{ok: boolean; stderr: string}> {
  const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'peerlab-held-')), '2000-peers.yaml');
  await writeFile(file, text);
  const run = await execa(process.execPath, [peerlab, 'run', file, '--dry-run'], {reject: false, timeout: 60_000});
  return {ok: /--dry-run: only the kubernetes runner/.test(run.stderr) && !/problem/.test(run.stderr), stderr: run.stderr};
}

test('the 2,000-peer scenario held to 60 s still loads, with its steps cut to the bound', async (t) => {
  const source = await readFile(twoThousand, 'utf8');
  const held = holdScenario(source, 60);
  t.is(held.ownTimeoutS, 12 * 60);
  t.truthy(held.text);
  t.regex(held.text!, /^timeout: 60s$/m);
  t.regex(held.text!, /^peers: 2000$/m);
  const result = await loads(held.text!);
  t.true(result.ok, result.stderr);
  // The edit it replaced, the timeout line alone, leaves a step longer than the scenario: the loader refuses it.
  const naive = await loads(source.replace(/^timeout: .*$/m, 'timeout: 60s'));
  t.false(naive.ok, naive.stderr);
  t.regex(naive.stderr, /within: 10m is longer than the scenario's timeout/);
});

test('a file whose own timeout is within the bound is run as it is', (t) => {
  t.deepEqual(holdScenario('name: x\npeers: 2\ntimeout: 90s\nsteps:\n  - start: all\n', 120), {ownTimeoutS: 90});
  t.deepEqual(holdScenario('name: x\npeers: 2\nsteps:\n  - start: all\n', 120), {ownTimeoutS: 60}, 'the default timeout');
});
