/**
 * The bench's smoke test: it runs end to end in its quick mode and every line
 * it prints parses as a figure. No timing is asserted here: performance is
 * judged by `npm run bench` as ratios, never by timed unit tests.
 */
import test from 'ava';
import {execa} from 'execa';
import {readFileSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const main = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/main.js');

test.serial('npm run bench -- --quick runs and prints one parsable figure per line', async (t) => {
  // The quick bench starts peers, builds a report and opens it in Chromium: minutes under the suite's load.
  t.timeout(300_000);
  const run = await execa(process.execPath, [main, '--quick'], {reject: false, timeout: 290_000});
  t.is(run.exitCode, 0, run.stderr);
  const figures = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  t.true(figures.length >= 12);
  const names = figures.map((f) => f.name as string);
  for (const expected of ['spawn-to-registered', 'command round trip p50', 'command round trip p99', 'command fan-out', 'event ingestion', 'history heap per peer event', 'peer RSS', 'coordinator RSS', 'failure detection after SIGKILL', 'false dead declarations', 'checkers over', 'report files of', 'report first view painted', 'report longest task while scrubbing']) {
    t.true(names.some((n) => n.startsWith(expected)), expected);
  }
  // The convergence phase: one join and one leave timed through a formed group, at each quick N. A change
  // nobody saw spread would print null or 0, never a time: each must be a positive, finite number of ms.
  for (const kind of ['join', 'leave']) {
    for (const n of [5, 10]) {
      for (const stat of ['median', 'p99']) {
        const name = `one ${kind} seen by all, N=${n} (local), ${stat}`;
        const figure = figures.find((f) => f.name === name);
        t.truthy(figure, name);
        t.true(typeof figure?.value === 'number' && Number.isFinite(figure.value) && figure.value > 0, `${name}: ${JSON.stringify(figure)}`);
        t.true(typeof figure?.baseline === 'number' && figure.baseline > 0, `${name}: the model`);
      }
    }
  }
  for (const kind of ['join', 'leave']) t.true(names.some((n) => n.startsWith(`${kind} spread growth, N=5 to 10 (local)`)), `the ${kind}s' growth against the model's`);
  for (const f of figures) {
    t.is(typeof f.value, 'number', String(f.name));
    t.is(typeof f.baseline, 'number', String(f.name));
    t.is(typeof f.ratio, 'number', String(f.name));
    t.is(typeof f.unit, 'string', String(f.name));
    t.is(typeof f.met, 'boolean', String(f.name));
  }
  // Where the run's time went, phase by phase, in the file it wrote.
  const summary = JSON.parse(readFileSync(path.resolve(path.dirname(main), '../../results-quick.json'), 'utf8')) as {durationS: number; phasesS: Record<string, number>};
  t.deepEqual(Object.keys(summary.phasesS), ['spawn and convergence', 'commands', 'ingestion', 'detection', 'checkers', 'causal', 'report']);
  const phases = Object.values(summary.phasesS);
  // Each time is rounded to the second on its own, the total too: their sum may pass the total by half a second a phase.
  const sum = phases.reduce((a, b) => a + b, 0);
  t.true(phases.every((s) => Number.isInteger(s) && s >= 0) && sum <= summary.durationS + 0.5 * (phases.length + 1), `${JSON.stringify(summary.phasesS)} in ${summary.durationS} s`);
});
