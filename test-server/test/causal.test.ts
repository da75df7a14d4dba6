/**
 * The `causal` invariant on real runs of the bundled causal scenarios: a
 * causal chain crosses a slow link, a one-way cut and a healed partition.
 * The reference peer holds each message that overtook its cause and passes;
 * a peer that delivers on arrival (--bug deliver-on-arrival) fails with the
 * chain that made the message a consequence; `peerlab check` agrees. A causal
 * scenario in which nothing was ever held back is unknown, never a pass.
 */
import test from 'ava';
import {execa} from 'execa';
import {mkdtemp, readFile, readdir, rm, writeFile} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseDocument} from 'yaml';
import type {ScenarioResult} from '../src/engine/results.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = path.join(root, 'test-server', 'bin', 'peerlab.mjs');

function peerlab(args: string[]) {
  return execa(process.execPath, [bin, ...args], {cwd: root, reject: false, all: true, timeout: 120_000});
}

async function workDir(t: {teardown(fn: () => Promise<void>): void}): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'peerlab-causal-'));
  t.teardown(() => rm(dir, {recursive: true, force: true}));
  return dir;
}

async function onlyResult(out: string): Promise<ScenarioResult> {
  const [runId] = (await readdir(out)).filter((f) => !f.endsWith('.json') && !f.endsWith('.xml'));
  return JSON.parse(await readFile(path.join(out, runId!, 'result.json'), 'utf8')) as ScenarioResult;
}

/** A bundled scenario, with every peer started with `--bug deliver-on-arrival` when asked. */
async function bundled(dir: string, file: string, bug: boolean): Promise<string> {
  const doc = parseDocument(await readFile(path.join(root, 'scenarios', file), 'utf8'));
  if (bug) doc.set('peer_args', {all: ['--bug', 'deliver-on-arrival']});
  const out = path.join(dir, `${bug ? 'bug' : 'ok'}-${file}`);
  await writeFile(out, doc.toString());
  return out;
}

const scenarios = [
  {file: '17-causal-delay.yaml', across: 'a slow link'},
  {file: '18-causal-one-way-cut.yaml', across: 'a one-way cut'},
  {file: '19-causal-partition.yaml', across: 'a healed partition'},
];

for (const {file, across} of scenarios) {
  test.serial(`causal chains across ${across} (${file}): a peer that delivers on arrival fails with the chain, the correct peer holds and passes; peerlab check agrees`, async (t) => {
    t.timeout(180_000);
    const dir = await workDir(t);

    const badOut = path.join(dir, 'bad');
    const bad = await peerlab(['run', await bundled(dir, file, true), '--out', badOut]);
    t.is(bad.exitCode, 1, bad.all);
    const broken = await onlyResult(badOut);
    const verdict = broken.invariants.find((i) => i.name === 'causal');
    t.is(verdict?.status, 'fail', bad.all);
    // "charly delivered bob:…:1 before its cause alice:…:1; alice:…:1 → bob:…:1 (bob delivered alice:…:1, then sent bob:…:1)"
    t.regex(verdict?.message ?? '', /^(\w+) delivered (\w+:\w+:\d+) before its cause (\w+:\w+:\d+); \3 → .*\2/);
    t.true((verdict?.figures?.['violations'] ?? 0) >= 1);
    t.is(verdict?.figures?.['held'], 0, 'a peer that delivers on arrival never holds anything back');
    // The invariant's own evidence (the scenario's is its first failure's: a step, when a delivered await fails first).
    t.regex((verdict?.evidence ?? []).join('\n'), /chat\.sent/);
    const check = await peerlab(['check', broken.historyPath]);
    t.is(check.exitCode, 1, check.all);
    t.regex(check.all, /same verdict as recorded in result\.json: fail/);
    t.regex(check.all, /invariant causal — \w+ delivered \S+ before its cause/);

    const okOut = path.join(dir, 'ok');
    const ok = await peerlab(['run', await bundled(dir, file, false), '--out', okOut]);
    t.is(ok.exitCode, 0, ok.all);
    const correct = await onlyResult(okOut);
    const passed = correct.invariants.find((i) => i.name === 'causal');
    t.is(passed?.status, 'pass', passed?.message);
    t.true((passed?.figures?.['held'] ?? 0) >= 1, 'the correct peer held something back: the run put causality to the test');
    t.regex(passed?.message ?? '', /nothing lost$/, 'the quiet end lets lost messages be judged');
  });
}

test.serial('a causal scenario in which no message is ever held back is unknown, exit 3, not a pass', async (t) => {
  const dir = await workDir(t);
  const file = path.join(dir, 'vacuous.yaml');
  await writeFile(
    file,
    [
      'name: nothing to hold back',
      'peers: [alice, bob, charly]',
      'invariants: [causal]',
      'steps:',
      '  - start: all',
      '  - await: converged',
      '    within: 5s',
      '  - on: alice',
      '    run: send only one sender',
      '  - await: delivered',
      '    within: 5s',
      '',
    ].join('\n'),
  );
  const out = path.join(dir, 'runs');
  const run = await peerlab(['run', file, '--out', out]);
  t.is(run.exitCode, 3, run.all);
  const result = await onlyResult(out);
  t.is(result.status, 'unknown');
  const verdict = result.invariants.find((i) => i.name === 'causal');
  t.is(verdict?.status, 'unknown');
  t.regex(verdict?.message ?? '', /no message was ever held back/);
});
