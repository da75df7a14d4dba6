/**
 * `peerlab run --save-figures`, `--baseline` and `peerlab compare` on real
 * runs: a peer that gossips each update once (--bug gossip-once) detects a
 * killed member later than the correct peer, and the comparison flags it;
 * the correct peer compared with itself flags nothing.
 *
 * The figure is detect_max_ms (8 peers, one SIGKILL): it is made of the
 * peers' timers, not of a process starting, so another test file loading
 * both cores moves it little. The correct peer's first suspicion spreads at
 * once, gathers confirmations, and the first `dead` reaches everyone by
 * gossip. With gossip-once, suspicion and `dead` reach one member each, so
 * most observers wait for their own probe of the victim and for a suspicion
 * timeout that few confirmations shorten. Measured on a 2-core box that other
 * work kept at load 5-15, beside the report's browser tests or the fault and
 * coordinator tests (191 runs of the correct peer, 99 of gossip-once): the
 * last of 7 observers has the victim dead 0.76-1.6 s after the kill with the
 * correct peer (median 0.92 s), 0.97-2.9 s with gossip-once (median 1.9 s;
 * one run in seven below 1.5 s, when its one gossip happens to reach
 * everyone). rejoin_ms would not do: it counts from the spawn of the
 * restarted process, whose start takes 0.2 s on an idle box and over 1.5 s
 * under load, as much as gossip-once adds to a rejoin (among 4 peers a member
 * the one gossip missed hears at its next push-pull, mostly within 2 s), so
 * beside another test file the two peers overlapped.
 *
 * 18 repeats a side, alpha 0.01, only detect_max_ms compared (the
 * scenario's and its one detect step's): each needs p < 0.005. Drawn from
 * the runs measured then, 10 a side missed the regression 0.2% of the time;
 * but on 2026-12-03 gossip-once was faster (40 runs on an idle box: 0.88-2.9 s,
 * median 1.5 s; the correct peer 0.77-1.3 s), a CI run missed it at p 0.0052
 * (medians 893 and 1437 ms), and resampling those runs gives a miss 19% of
 * the time at 10 a side, 2% at 15, 0.5% at 18. Two draws of the correct peer
 * flag something about alpha's share of the time. Comparing every figure
 * (traffic adds fifteen) would put the level below what the repeats can
 * reach. The correct peer's own samples are alternate runs of one --repeat
 * 2 × 18, so both halves share the machine's load as it drifts.
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
const REPEATS = 18;
const ALPHA = '0.01';
/** The figure that tells: detect_max_ms on the scenario and on its one detect step, so the level is 0.01 / 2. */
const FIGURES = ['--figures', 'detect_max_ms'];
const NAME = 'a killed peer is detected';

function peerlab(args: string[]) {
  return execa(process.execPath, [bin, ...args], {cwd: root, reject: false, all: true, timeout: 600_000});
}

/** One scenario name for both peers, so the two runs' figures line up. */
function scenario(bug: boolean): string {
  return [
    `name: ${NAME}`,
    'peers: [alice, bob, charly, dave, eve, frank, grace, heidi]',
    bug ? 'peer_args: {all: [--bug, gossip-once]}' : '',
    'steps:',
    '  - start: all',
    '  - await: converged',
    '    within: 10s',
    '  - kill: heidi',
    '  - await: detected',
    '    within: 15s',
    '',
  ].join('\n');
}

test.serial('a slowed peer (--bug gossip-once) is a significant detect_max_ms regression; the correct peer against itself flags nothing', async (t) => {
  t.timeout(1_200_000);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'peerlab-compare-'));
  t.teardown(() => rm(dir, {recursive: true, force: true}));
  const correct = path.join(dir, 'correct.yaml');
  const slowed = path.join(dir, 'slowed.yaml');
  await writeFile(correct, scenario(false));
  await writeFile(slowed, scenario(true));

  // The correct peer's 2 × REPEATS runs, split into alternate halves: both halves saw the same load as it drifted, so
  // comparing them asks only whether the same code differs from itself. Two runs one after the other would
  // also compare the machine's load then and now (on a busy box: +85% with every sample apart).
  const all = path.join(dir, 'all.json');
  const base = await peerlab(['run', correct, '--repeat', String(2 * REPEATS), '--out', path.join(dir, 'base'), '--save-figures', all]);
  t.is(base.exitCode, 0, base.all);
  t.regex(base.all, new RegExp(`figures of ${2 * REPEATS} runs saved to `));
  const saved = parseFigures(await readFile(all, 'utf8'), all);
  const samples = saved.scenarios[NAME]!;
  t.is(samples.runs, 2 * REPEATS);
  t.is(samples.figures.detect_max_ms!.length, 2 * REPEATS);
  t.deepEqual(Object.keys(samples.steps), ['2 await converged within 10s', '4 await detected within 15s']);
  t.regex(saved.commit ?? '', /^[0-9a-f]{40}/, 'the commit the baseline was made at');
  const half = (parity: number) => {
    const pick = (figures: Record<string, number[]>) => Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, v.filter((_, i) => i % 2 === parity)]));
    return {...saved, scenarios: {[NAME]: {runs: REPEATS, figures: pick(samples.figures), steps: Object.fromEntries(Object.entries(samples.steps).map(([k, v]) => [k, pick(v)]))}}};
  };
  const baseline = path.join(dir, 'baseline.json');
  const other = path.join(dir, 'other-half.json');
  await writeFile(baseline, JSON.stringify(half(0)));
  await writeFile(other, JSON.stringify(half(1)));

  const slowOut = path.join(dir, 'slow');
  const slow = await peerlab(['run', slowed, '--repeat', String(REPEATS), '--out', slowOut, '--reporter', 'list,json', '--baseline', baseline, '--alpha', ALPHA, ...FIGURES]);
  t.is(slow.exitCode, 1, slow.all);
  t.regex(slow.all, new RegExp(`${REPEATS} passed, 0 failed`), 'the slowed peer passes every await: only the comparison can tell');
  t.regex(slow.all, new RegExp(`^${NAME}\\s+detect_max_ms\\s+\\d+ \\(n=${REPEATS}\\)\\s+\\d+ \\(n=${REPEATS}\\)\\s+\\+\\d+%\\s+[\\d.e-]+\\s+REGRESSION$`, 'm'));

  // The same verdict from the saved baseline and the slowed run's results.json, as JSON.
  const again = await peerlab(['compare', baseline, slowOut, '--alpha', ALPHA, '--json', ...FIGURES]);
  t.is(again.exitCode, 1, again.all);
  const comparison = JSON.parse(again.stdout) as Comparison;
  const detect = comparison.rows.find((r) => r.figure === 'detect_max_ms' && r.step === undefined)!;
  t.is(detect.verdict, 'regression');
  t.true(detect.new!.median > detect.baseline!.median * 1.25);
  t.log(`detect_max_ms median ${detect.baseline!.median} -> ${detect.new!.median} ms, p ${detect.p}; level ${comparison.level}`);
  // Every sample, sorted: what the header's ranges are kept true with.
  const results = path.join(slowOut, 'results.json');
  const slowSamples = parseFigures(await readFile(results, 'utf8'), results).scenarios[NAME]!.figures.detect_max_ms!;
  const sorted = (v: readonly number[]) => [...v].sort((a, b) => a - b).join(' ');
  t.log(`correct (${2 * REPEATS}): ${sorted(samples.figures.detect_max_ms!)}; gossip-once (${REPEATS}): ${sorted(slowSamples)}`);
  t.deepEqual([...new Set(comparison.rows.map((r) => r.figure))], ['detect_max_ms'], 'only the figures asked for');
  t.is(comparison.gated, 2);

  const same = await peerlab(['compare', baseline, other, '--alpha', ALPHA, ...FIGURES]);
  t.is(same.exitCode, 0, same.all);
  t.notRegex(same.all, /REGRESSION|not enough samples/);
  t.regex(same.all, /0 regressions, \d+ improvements? among 2 gated figures/);
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
