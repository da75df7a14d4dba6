/**
 * `peerlab run --save-figures`, `--baseline` and `peerlab compare` on real
 * runs: a peer that gossips each update once (--bug gossip-once) rejoins a
 * restarted member seconds later than the correct peer, and the comparison
 * flags it; the correct peer compared with itself flags nothing.
 *
 * Measured on a 2-core box (4 peers, three restarts, the scenario's
 * rejoin_ms is the slowest of the three): correct 270-690 ms, gossip-once
 * 1300-3800 ms, as the news of the restart reaches the last peer only by a
 * push-pull (every 2 s) instead of by gossip. 7 repeats a side, alpha 0.01,
 * only rejoin_ms compared (the scenario's and its three steps'): each needs
 * p < 0.0025, which 7 against 7 reach with at most one sample out of order
 * (p 0.0012), while two runs of the same peer do so, and past the 25%
 * threshold, by chance well under 1% of the time. Comparing every figure
 * (traffic adds fifteen) would put the level below what 7 repeats can reach.
 * The correct peer's own samples are alternate runs of one --repeat 14, so
 * both halves share the machine's load as it drifts.
 */
import test from 'ava';
import {execa} from 'execa';
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import type {Comparison} from '../src/compare/compare.js';
import {parseFigures} from '../src/compare/figures-file.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = path.join(root, 'test-server', 'bin', 'peerlab.mjs');
const REPEATS = '7';
const ALPHA = '0.01';
/** The figure that tells: rejoin_ms on the scenario and on each of its three rejoin steps, so the level is 0.01 / 4. */
const FIGURES = ['--figures', 'rejoin_ms'];

function peerlab(args: string[]) {
  return execa(process.execPath, [bin, ...args], {cwd: root, reject: false, all: true, timeout: 200_000});
}

/** One scenario name for both peers, so the two runs' figures line up. */
function scenario(bug: boolean): string {
  return [
    'name: restarted peers rejoin',
    'peers: [alice, bob, charly, dave]',
    bug ? 'peer_args: {all: [--bug, gossip-once]}' : '',
    'steps:',
    '  - start: all',
    '  - await: converged',
    '    within: 10s',
    ...['dave', 'charly', 'bob'].flatMap((name) => [`  - restart: ${name}`, `  - await: {rejoined: ${name}}`, '    within: 15s']),
    '',
  ].join('\n');
}

test.serial('a slowed peer (--bug gossip-once) is a significant rejoin_ms regression; the correct peer against itself flags nothing', async (t) => {
  t.timeout(600_000);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'peerlab-compare-'));
  t.teardown(() => rm(dir, {recursive: true, force: true}));
  const correct = path.join(dir, 'correct.yaml');
  const slowed = path.join(dir, 'slowed.yaml');
  await writeFile(correct, scenario(false));
  await writeFile(slowed, scenario(true));

  // The correct peer's 14 runs, split into alternate halves: both halves saw the same load as it drifted, so
  // comparing them asks only whether the same code differs from itself. Two runs one after the other would
  // also compare the machine's load then and now (on a busy box: +85% with every sample apart).
  const all = path.join(dir, 'all.json');
  const base = await peerlab(['run', correct, '--repeat', String(2 * Number(REPEATS)), '--out', path.join(dir, 'base'), '--save-figures', all]);
  t.is(base.exitCode, 0, base.all);
  t.regex(base.all, /figures of 14 runs saved to /);
  const saved = parseFigures(await readFile(all, 'utf8'), all);
  const samples = saved.scenarios['restarted peers rejoin']!;
  t.is(samples.runs, 14);
  t.is(samples.figures.rejoin_ms!.length, 14);
  t.deepEqual(Object.keys(samples.steps), ['2 await converged within 10s', '4 await dave rejoined within 15s', '6 await charly rejoined within 15s', '8 await bob rejoined within 15s']);
  t.regex(saved.commit ?? '', /^[0-9a-f]{40}/, 'the commit the baseline was made at');
  const half = (parity: number) => {
    const pick = (figures: Record<string, number[]>) => Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, v.filter((_, i) => i % 2 === parity)]));
    return {...saved, scenarios: {'restarted peers rejoin': {runs: 7, figures: pick(samples.figures), steps: Object.fromEntries(Object.entries(samples.steps).map(([k, v]) => [k, pick(v)]))}}};
  };
  const baseline = path.join(dir, 'baseline.json');
  const other = path.join(dir, 'other-half.json');
  await writeFile(baseline, JSON.stringify(half(0)));
  await writeFile(other, JSON.stringify(half(1)));

  const slowOut = path.join(dir, 'slow');
  const slow = await peerlab(['run', slowed, '--repeat', REPEATS, '--out', slowOut, '--reporter', 'list,json', '--baseline', baseline, '--alpha', ALPHA, ...FIGURES]);
  t.is(slow.exitCode, 1, slow.all);
  t.regex(slow.all, /7 passed, 0 failed/, 'the slowed peer passes every await: only the comparison can tell');
  t.regex(slow.all, /^restarted peers rejoin\s+rejoin_ms\s+\d+ \(n=7\)\s+\d+ \(n=7\)\s+\+\d+%\s+[\d.e-]+\s+REGRESSION$/m);

  // The same verdict from the saved baseline and the slowed run's results.json, as JSON.
  const again = await peerlab(['compare', baseline, slowOut, '--alpha', ALPHA, '--json', ...FIGURES]);
  t.is(again.exitCode, 1, again.all);
  const comparison = JSON.parse(again.stdout) as Comparison;
  const rejoin = comparison.rows.find((r) => r.figure === 'rejoin_ms' && r.step === undefined)!;
  t.is(rejoin.verdict, 'regression');
  t.true(rejoin.new!.median > rejoin.baseline!.median * 1.25);
  t.log(`rejoin_ms median ${rejoin.baseline!.median} -> ${rejoin.new!.median} ms, p ${rejoin.p}; level ${comparison.level}`);
  t.deepEqual([...new Set(comparison.rows.map((r) => r.figure))], ['rejoin_ms'], 'only the figures asked for');
  t.is(comparison.gated, 4);

  const same = await peerlab(['compare', baseline, other, '--alpha', ALPHA, ...FIGURES]);
  t.is(same.exitCode, 0, same.all);
  t.notRegex(same.all, /REGRESSION|not enough samples/);
  t.regex(same.all, /0 regressions, \d+ improvements? among 4 gated figures/);
});

test('bad input exits 2 naming the file, before any peer starts', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'peerlab-compare-'));
  t.teardown(() => rm(dir, {recursive: true, force: true}));
  const bad = path.join(dir, 'bad.json');
  await writeFile(bad, JSON.stringify({format: 'peerlab-figures', version: 1, createdAt: 'x', scenarios: {s: {runs: 1, figures: {converge_ms: ['slow']}, steps: {}}}}));
  const compared = await peerlab(['compare', bad, path.join(dir, 'nowhere.json')]);
  t.is(compared.exitCode, 2);
  t.is(compared.stderr, `peerlab compare: ${bad}: scenarios.s.figures.converge_ms[0]: expected a finite number, got "slow"`);
  const missing = await peerlab(['compare', path.join(dir, 'nowhere.json'), bad]);
  t.is(missing.exitCode, 2);
  t.regex(missing.stderr, /nowhere\.json: no such file/);
  const run = await peerlab(['run', path.join(root, 'scenarios', '01-join-and-converge.yaml'), '--out', path.join(dir, 'runs'), '--baseline', bad]);
  t.is(run.exitCode, 2);
  t.regex(run.stderr, /^peerlab run: --baseline: .*bad\.json: scenarios\.s\.figures\.converge_ms\[0\]/);
  t.notRegex(run.all, /peers started|✔|✘/);
  for (const flag of [['--alpha', '2'], ['--threshold', 'lots'], ['--figures', 'rejoin ms']]) {
    const wrong = await peerlab(['compare', bad, bad, ...flag]);
    t.is(wrong.exitCode, 2, flag.join(' '));
    t.regex(wrong.stderr, new RegExp(`option '${flag[0]} <`));
  }
});
