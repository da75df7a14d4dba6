/**
 * The same --seed hits the same peers, whatever the timing: a scenario whose
 * `kill: random` and `restart: random` steps run beside a killing nemesis is
 * run five times; the steps draw the same victims every time, and the
 * nemesis draws the same victims in every round the runs have in common.
 */
import test from 'ava';
import {execa} from 'execa';
import {mkdtemp, readFile, readdir, rm, writeFile} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import type {ScenarioResult} from '../src/engine/results.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = path.join(root, 'test-server', 'bin', 'peerlab.mjs');

const yaml = `name: random steps beside a killing nemesis
peers: 5
nemesis:
  every: 300ms
  for: 3600ms
  faults:
    # A killed peer is back (restarted and registered) 200-400 ms after its kill: around the
    # next round. Its choice must not depend on whether it is back yet.
    - kill: random
      recover_after: 50ms
    - kill: random
      recover_after: 50ms
    - pause: random
      recover_after: 100ms
steps:
  - start: all
  - sleep: 700ms
  - kill: random
  - sleep: 300ms
  - restart: random
  - kill: random
  - sleep: 400ms
  - kill: random
  - restart: random
  - wait: nemesis
`;

interface Victims {
  steps: string[];
  nemesis: string[];
  status: string;
}

async function runOnce(dir: string, i: number): Promise<Victims> {
  const out = path.join(dir, `run${i}`);
  const run = await execa(process.execPath, [bin, 'run', path.join(dir, 'scenario.yaml'), '--seed', '2024', '--out', out], {reject: false, all: true, timeout: 120_000});
  const [runId] = (await readdir(out)).filter((f) => !f.endsWith('.json') && !f.endsWith('.xml'));
  const result = JSON.parse(await readFile(path.join(out, runId!, 'result.json'), 'utf8')) as ScenarioResult;
  const events = (await readFile(result.historyPath, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as {type: string; data: Record<string, unknown>});
  const steps = events.filter((e) => e.type === 'step.begin' && ['kill', 'restart'].includes(e.data.kind as string)).map((e) => `${String(e.data.kind)} ${(e.data.peers as string[]).join(',')}`);
  const nemesis = events
    .filter((e) => e.type === 'nemesis' && typeof e.data.fault === 'string')
    .map((e) => `${String(e.data.round)} ${String(e.data.fault)} ${(e.data.peers as string[]).join(',')}`);
  return {steps, nemesis, status: `${result.status}${run.exitCode === 0 ? '' : `: ${run.all}`}`};
}

test.serial('five runs with the same --seed: the same step victims, and the same nemesis victims in the rounds they share', async (t) => {
  t.timeout(300_000);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'peerlab-seed-'));
  t.teardown(() => rm(dir, {recursive: true, force: true}));
  await writeFile(path.join(dir, 'scenario.yaml'), yaml);
  const runs: Victims[] = [];
  for (let i = 0; i < 5; i++) runs.push(await runOnce(dir, i));
  for (const [i, run] of runs.entries()) {
    t.log(`run ${i + 1}: steps [${run.steps.join(' | ')}]; nemesis (${run.nemesis.length} rounds) [${run.nemesis.join(' | ')}]`);
    t.is(run.status, 'pass');
  }
  const [first] = runs;
  t.is(first!.steps.length, 5);
  for (const run of runs) t.deepEqual(run.steps, first!.steps, 'the steps drew the same victims');
  const common = Math.min(...runs.map((r) => r.nemesis.length));
  t.true(common >= 3, `the nemesis ran at least 3 rounds in every run: ${common}`);
  t.is(common, 12, 'wait: nemesis lets every round run');
  for (const run of runs) t.deepEqual(run.nemesis.slice(0, common), first!.nemesis.slice(0, common), 'the nemesis drew the same victims');
});
