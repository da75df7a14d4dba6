/**
 * The figures comparison without a run: the Mann–Whitney test against values
 * scipy 1.17 gives for the same samples, the direction and threshold rules,
 * and the checks on a figures file.
 */
import test from 'ava';
import fc from 'fast-check';
import {mannWhitneyU, median, midRanks, samplesNeeded, smallestP} from '../src/compare/mann-whitney.js';
import {figureDirection} from '../src/compare/direction.js';
import {compareFigures, comparisonExitCode, relativeChange} from '../src/compare/compare.js';
import type {FiguresFile} from '../src/compare/figures-file.js';
import {collectFigures, FiguresFileError, parseFigures, readFigures, writeFigures} from '../src/compare/figures-file.js';
import {mkdtemp, readFile, rm} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {alphaArgument, thresholdArgument} from '../src/cli/compare.js';
import {renderComparison} from '../src/compare/render.js';

const close = (actual: number, expected: number, tolerance = 1e-6) => Math.abs(actual - expected) <= tolerance * Math.max(1, Math.abs(expected));

test('Mann–Whitney U: the scipy documentation example (Conover), exact and by the normal approximation', (t) => {
  // scipy.stats.mannwhitneyu(males, females, method='exact') -> U=17, p=0.1111111111111111;
  // method='asymptotic' -> p=0.11134688653314041.
  const males = [19, 22, 16, 29, 24];
  const females = [20, 11, 17, 12];
  const exact = mannWhitneyU(males, females);
  t.is(exact.method, 'exact');
  t.is(exact.u, 17);
  t.true(close(exact.p, 0.1111111111111111), String(exact.p));
  const normal = mannWhitneyU(males, females, 'normal');
  t.true(close(normal.p, 0.11134688653314041), String(normal.p));
  t.is(mannWhitneyU(females, males).p, exact.p, 'two-sided: the order of the samples does not matter');
});

test('Mann–Whitney U: complete separation gives the smallest p, 2 / C(n+m, n)', (t) => {
  // scipy: mannwhitneyu([1,2,3,4,5],[6,7,8,9,10], method='exact') -> U=0, p=0.007936507936507936; ([1,2,3],[4,5,6]) -> p=0.1.
  const five = mannWhitneyU([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]);
  t.is(five.u, 0);
  t.true(close(five.p, 0.007936507936507936));
  t.true(close(mannWhitneyU([1, 2, 3], [4, 5, 6]).p, 0.1));
  t.true(close(smallestP(5, 5), 2 / 252));
  t.true(close(smallestP(3, 3), 0.1));
  t.true(close(smallestP(7, 7), 2 / 3432));
  t.is(smallestP(0, 4), 1);
  t.is(samplesNeeded(0.05), 4, 'four a side can reach 0.05 (2/70); three cannot (0.1)');
  t.is(samplesNeeded(0.05 / 6), 5);
});

test('Mann–Whitney U: exact with ties is the permutation distribution; large samples use the normal approximation', (t) => {
  // scipy permutation_test of the U statistic, two-sided, all 126 splits of a=[1,2,2,3], b=[2,3,3,4,5] -> U=3, p=0.15873015873015872.
  const tied = mannWhitneyU([1, 2, 2, 3], [2, 3, 3, 4, 5]);
  t.is(tied.u, 3);
  t.true(close(tied.p, 0.15873015873015872), String(tied.p));
  // scipy mannwhitneyu(range(1,26), [x+0.5 for x in range(8,33)], method='asymptotic') -> U=153, p=0.002035157807278379.
  const a = Array.from({length: 25}, (_, i) => i + 1);
  const b = Array.from({length: 25}, (_, i) => i + 8.5);
  const large = mannWhitneyU(a, b);
  t.is(large.method, 'normal');
  t.is(large.u, 153);
  t.true(close(large.p, 0.002035157807278379, 1e-5), String(large.p));
  // With ties: a=[1,2,2,3,3,3,4,4,5]*3, b=[2,3,3,4,4,5,5,6,6]*3 -> U=189, p=0.001970963840077254.
  const rep = <T>(xs: T[]) => [...xs, ...xs, ...xs];
  const tiedLarge = mannWhitneyU(rep([1, 2, 2, 3, 3, 3, 4, 4, 5]), rep([2, 3, 3, 4, 4, 5, 5, 6, 6]));
  t.is(tiedLarge.u, 189);
  t.true(close(tiedLarge.p, 0.001970963840077254, 1e-5), String(tiedLarge.p));
  t.is(mannWhitneyU([3, 3, 3], [3, 3, 3, 3]).p, 1, 'all tied: no evidence of any difference');
  t.throws(() => mannWhitneyU([], [1]), {instanceOf: RangeError});
});

/** The exact p by brute force: every way to pick the first sample's positions, U counted pair by pair. */
function bruteForceP(a: number[], b: number[]): number {
  const pooled = [...a, ...b];
  const uOf = (xs: number[], ys: number[]) => xs.reduce((sum, x) => sum + ys.reduce((s, y) => s + (x > y ? 1 : x === y ? 0.5 : 0), 0), 0);
  const observed = uOf(a, b);
  let all = 0;
  let low = 0;
  let high = 0;
  for (let mask = 0; mask < 1 << pooled.length; mask++) {
    let bits = 0;
    for (let i = 0; i < pooled.length; i++) if (mask & (1 << i)) bits++;
    if (bits !== a.length) continue;
    const xs = pooled.filter((_, i) => mask & (1 << i));
    const ys = pooled.filter((_, i) => !(mask & (1 << i)));
    const u = uOf(xs, ys);
    all++;
    if (u <= observed + 1e-9) low++;
    if (u >= observed - 1e-9) high++;
  }
  return Math.min(1, (2 * Math.min(low, high)) / all);
}

test('Mann–Whitney U: the exact p matches enumeration of every split, ties included', (t) => {
  const sample = fc.array(fc.integer({min: 0, max: 4}), {minLength: 1, maxLength: 6});
  fc.assert(
    fc.property(sample, sample, (a, b) => close(mannWhitneyU(a, b).p, bruteForceP(a, b), 1e-9)),
    {numRuns: 200},
  );
  t.pass();
});

test('midRanks and median', (t) => {
  t.deepEqual(midRanks([10, 20, 20, 5]), [2, 3.5, 3.5, 1]);
  t.is(median([3, 1, 2]), 2);
  t.is(median([4, 1, 2, 3]), 2.5);
  t.true(Number.isNaN(median([])));
});

test('direction: times, rates, traffic, ratios and fault counts gate; counts that describe the run, phase durations and the model itself do not', (t) => {
  for (const name of ['converge_ms', 'latency_p99_ms', 'detect_median_ms', 'rejoin_ms', 'model_ratio', 'rest_packets_per_peer_s', 'bytes_sent', 'packets', 'udp_bytes_per_s', 'missing', 'duplicates', 'illegal_transitions', 'unsent', 'out_of_order', 'false_dead', 'false_suspicions']) {
    t.is(figureDirection(name), 'worse-when-higher', name);
  }
  for (const name of ['messages', 'failed', 'incarnation', 'incarnation_before', 'transitions', 'deliveries', 'dead_declarations', 'suspicions', 'something_new', 'msgs', 'bytesy', 'model_ms', 'rest_duration_s', 'churn_duration_s']) {
    t.is(figureDirection(name), 'info', name);
  }
});

function figures(samples: Record<string, number[]>, steps: Record<string, Record<string, number[]>> = {}, name = 'scenario'): FiguresFile {
  const runs = Math.max(0, ...Object.values(samples).map((s) => s.length));
  return {format: 'peerlab-figures', version: 1, createdAt: '2026-01-01T00:00:00.000Z', scenarios: {[name]: {runs, figures: samples, steps}}};
}

const fast = [100, 110, 105, 95, 102];
const slow = [200, 210, 190, 220, 205];

test('a significant rise past the threshold of a worse-when-higher figure is a regression; the fall an improvement', (t) => {
  const worse = compareFigures(figures({converge_ms: fast}), figures({converge_ms: slow}), {alpha: 0.05, threshold: 0.25});
  t.is(worse.rows[0]!.verdict, 'regression');
  t.true(close(worse.rows[0]!.change!, 205 / 102 - 1), 'medians 102 and 205');
  t.is(worse.regressions, 1);
  t.is(comparisonExitCode(worse), 1);
  const better = compareFigures(figures({converge_ms: slow}), figures({converge_ms: fast}), {alpha: 0.05, threshold: 0.25});
  t.is(better.rows[0]!.verdict, 'improvement');
  t.is(comparisonExitCode(better), 0);
});

test('below the threshold, or not significant, is the same', (t) => {
  const small = compareFigures(figures({converge_ms: fast}), figures({converge_ms: fast.map((x) => x * 1.2)}), {alpha: 0.05, threshold: 0.25});
  t.is(small.rows[0]!.verdict, 'same', 'a clear 20% rise is under a 25% threshold');
  const lower = compareFigures(figures({converge_ms: fast}), figures({converge_ms: fast.map((x) => x * 1.2)}), {alpha: 0.05, threshold: 0.1});
  t.is(lower.rows[0]!.verdict, 'regression', '…and over a 10% one');
  const noisy = compareFigures(figures({converge_ms: [100, 400, 120, 90, 300]}), figures({converge_ms: [150, 110, 380, 200, 95]}), {alpha: 0.05, threshold: 0.25});
  t.is(noisy.rows[0]!.verdict, 'same', 'the median rose 25%+ but the samples overlap');
  t.is(comparisonExitCode(noisy), 0);
});

test('informational figures are shown with p but never gate, and do not count towards the Bonferroni level', (t) => {
  const c = compareFigures(figures({messages: [1, 1, 1, 1, 1], converge_ms: fast}), figures({messages: [9, 9, 9, 9, 9], converge_ms: fast}), {alpha: 0.05, threshold: 0.25});
  t.is(c.rows.find((r) => r.figure === 'messages')!.verdict, 'info');
  t.true(c.rows.find((r) => r.figure === 'messages')!.p! < 0.01);
  t.is(c.gated, 1);
  t.is(c.level, 0.05);
  t.is(comparisonExitCode(c), 0);
});

test('the level is alpha over the gated figures, step figures included', (t) => {
  const steps = {'2 await converged within 5s': {converge_ms: fast}};
  const c = compareFigures(figures({converge_ms: fast, rejoin_ms: fast}, steps), figures({converge_ms: fast, rejoin_ms: slow}, steps), {alpha: 0.05, threshold: 0.25});
  t.is(c.gated, 3);
  t.true(close(c.level, 0.05 / 3));
  const row = c.rows.find((r) => r.figure === 'rejoin_ms')!;
  t.is(row.verdict, 'regression', 'p = 0.0079 < 0.0167');
  t.is(c.rows.find((r) => r.step === '2 await converged within 5s')!.verdict, 'same');
});

test('too few repeats to ever reach the level: said, per figure and overall, and the exit code is 3, not a silent pass', (t) => {
  const c = compareFigures(figures({converge_ms: [100, 101, 102]}), figures({converge_ms: [300, 301, 302]}), {alpha: 0.05, threshold: 0.25});
  t.is(c.rows[0]!.verdict, 'not enough samples');
  t.is(c.undecidable, 1);
  t.is(c.repeatsNeeded, 4);
  t.is(comparisonExitCode(c), 3);
  t.regex(renderComparison(c), /1 of 1 gated figures cannot show a change with these samples: with 3 and 3 the smallest possible p is 0\.100, not below 0\.050\. Repeat at least 4 times on each side/);
});

test('figures on one side only, and a zero baseline', (t) => {
  const c = compareFigures(figures({converge_ms: fast, missing: [0, 0, 0, 0, 0]}), figures({rejoin_ms: fast, missing: [2, 1, 3, 2, 2]}), {alpha: 0.05, threshold: 0.25});
  t.is(c.rows.find((r) => r.figure === 'converge_ms')!.verdict, 'only in baseline');
  t.is(c.rows.find((r) => r.figure === 'rejoin_ms')!.verdict, 'only in new');
  const missing = c.rows.find((r) => r.figure === 'missing')!;
  t.is(missing.change, Infinity);
  t.is(missing.verdict, 'regression', 'messages went missing where none did');
  t.is(relativeChange(0, 0), 0);
  t.is(relativeChange(10, 5), -0.5);
  t.regex(renderComparison(c), /missing\s+0 \(n=5\)\s+2 \(n=5\)\s+\+inf%\s+0\.0079\s+REGRESSION/);
  const none = compareFigures(figures({converge_ms: fast}, {}, 'a'), figures({converge_ms: fast}, {}, 'b'), {alpha: 0.05, threshold: 0.25});
  t.is(none.gated, 0);
  t.is(comparisonExitCode(none), 3, 'nothing in common: nothing was judged');
});

test('collectFigures: one sample per repeat, step figures keyed by path and title', (t) => {
  const step = (path: string, title: string, f?: Record<string, number>) => ({path, kind: 'await', title, line: 1, status: 'pass' as const, durationMs: 1, ...(f ? {figures: f} : {})});
  const run = (ms: number) => ({name: 'join', figures: {converge_ms: ms}, steps: [step('1', 'start all'), step('2', 'await converged within 5s', {converge_ms: ms})]});
  const file = collectFigures([run(10), run(20), {name: 'other', figures: {}, steps: []}], {createdAt: 'now', commit: 'abc'});
  t.deepEqual(file, {
    format: 'peerlab-figures',
    version: 1,
    createdAt: 'now',
    commit: 'abc',
    scenarios: {
      join: {runs: 2, figures: {converge_ms: [10, 20]}, steps: {'2 await converged within 5s': {converge_ms: [10, 20]}}},
      other: {runs: 1, figures: {}, steps: {}},
    },
  });
  t.deepEqual(parseFigures(JSON.stringify(file), 'f.json'), file);
  // Repeats of one file pool; the same name in two files is two scenarios.
  const twice = collectFigures(
    [
      {...run(10), file: '/s/a.yaml'},
      {...run(30), file: '/s/b.yaml'},
      {...run(20), file: '/s/a.yaml'},
    ],
    {createdAt: 'now'},
  );
  t.deepEqual(Object.keys(twice.scenarios), ['join (a.yaml)', 'join (b.yaml)']);
  t.deepEqual(twice.scenarios['join (a.yaml)']!.figures, {converge_ms: [10, 20]});
});

test('writeFigures: one line per figure, step titles untouched, and it reads back the same', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'peerlab-figures-'));
  t.teardown(() => rm(dir, {recursive: true, force: true}));
  const file = path.join(dir, 'sub', 'base.json');
  const figures: FiguresFile = {format: 'peerlab-figures', version: 1, createdAt: 'now', scenarios: {s: {runs: 2, figures: {converge_ms: [10, -2.5e-7]}, steps: {'3 sleep [1,\n2]': {x_ms: [1, 2]}}}}};
  await writeFigures(file, figures);
  const text = await readFile(file, 'utf8');
  t.regex(text, /^ {8}"converge_ms": \[10, -2\.5e-7\]$/m);
  t.deepEqual(await readFigures(file), figures);
  t.deepEqual(await readFigures(dir).catch((error: Error) => error.message), `${path.join(dir, 'results.json')}: no results.json in this folder (was the run made with --reporter json?)`);
});

test('parseFigures: a results.json and a result.json read as figures too', (t) => {
  const scenario = {name: 'join', status: 'pass', figures: {converge_ms: 12}, steps: [{path: '2', title: 'await converged within 5s', figures: {converge_ms: 12}}]};
  const fromRun = parseFigures(JSON.stringify({status: 'pass', scenarios: [scenario, {...scenario, figures: {converge_ms: 14}}]}), 'results.json');
  t.deepEqual(fromRun.scenarios.join!.figures, {converge_ms: [12, 14]});
  t.is(fromRun.scenarios.join!.runs, 2);
  const fromOne = parseFigures(JSON.stringify(scenario), 'result.json');
  t.deepEqual(fromOne.scenarios.join!.steps, {'2 await converged within 5s': {converge_ms: [12]}});
});

test('parseFigures: bad input names the file and the field', (t) => {
  const bad = (value: unknown, message: RegExp) => {
    const error = t.throws(() => parseFigures(typeof value === 'string' ? value : JSON.stringify(value), 'base.json'), {instanceOf: FiguresFileError});
    t.regex(error!.message, message);
  };
  const ok = {format: 'peerlab-figures', version: 1, createdAt: 'x', scenarios: {s: {runs: 1, figures: {converge_ms: [1]}, steps: {}}}};
  bad('{', /^base\.json: not JSON: /);
  bad([], /^base\.json: \(top level\): expected an object, got an array$/);
  bad({format: 'other'}, /^base\.json: format: expected "peerlab-figures", got "other"$/);
  bad({...ok, version: 2}, /^base\.json: version: expected 1 \(this peerlab reads version 1\), got 2$/);
  bad({...ok, createdAt: 5}, /^base\.json: createdAt: expected a string, got 5$/);
  bad({...ok, scenarios: {s: {runs: 1, figures: {converge_ms: [1, '2']}, steps: {}}}}, /^base\.json: scenarios\.s\.figures\.converge_ms\[1\]: expected a finite number, got "2"$/);
  bad({...ok, scenarios: {'two words': {runs: 1, figures: {converge_ms: 3}, steps: {}}}}, /^base\.json: scenarios\["two words"\]\.figures\.converge_ms: expected an array of numbers, got 3$/);
  bad({...ok, scenarios: {s: {runs: 0, figures: {}, steps: {}}}}, /^base\.json: scenarios\.s\.runs: expected a whole number of runs, at least 1, got 0$/);
  bad({...ok, scenarios: {s: {runs: 1, figures: {}}}}, /^base\.json: scenarios\.s\.steps: expected an object, got nothing \(the field is missing\)$/);
  bad({scenarios: [{name: 'x', figures: {a: null}, steps: []}]}, /^base\.json: scenarios\[0\]\.figures\.a: expected a finite number, got null$/);
  bad({scenarios: [{name: 'x', figures: {}, steps: [{path: 2, title: 't'}]}]}, /^base\.json: scenarios\[0\]\.steps\[0\]\.path: expected a string, got 2$/);
  bad({hello: 1}, /^base\.json: \(top level\): not a figures file/);
});

test('--alpha and --threshold', (t) => {
  t.is(alphaArgument('0.05'), 0.05);
  t.is(alphaArgument('1e-3'), 0.001);
  for (const bad of ['0', '1', '-0.1', 'x', '']) t.throws(() => alphaArgument(bad), undefined, bad);
  t.is(thresholdArgument('25%'), 0.25);
  t.is(thresholdArgument('25'), 0.25);
  t.is(thresholdArgument('0'), 0);
  t.is(thresholdArgument('12.5%'), 0.125);
  for (const bad of ['-5%', 'x', '25%%', '']) t.throws(() => thresholdArgument(bad), undefined, bad);
});
