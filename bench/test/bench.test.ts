/**
 * The bench's smoke test: it runs end to end in its quick mode and every line
 * it prints parses as a figure. No timing is asserted here: performance is
 * judged by `npm run bench` as ratios, never by timed unit tests.
 */
import test from 'ava';
import {execa} from 'execa';
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
  for (const expected of ['spawn-to-registered', 'converge after all joined', 'command round trip p50', 'command round trip p99', 'command fan-out', 'event ingestion', 'peer RSS', 'coordinator RSS', 'failure detection after SIGKILL', 'false dead declarations', 'checkers over', 'report files of', 'report first view painted', 'report longest task while scrubbing']) {
    t.true(names.some((n) => n.startsWith(expected)), expected);
  }
  for (const f of figures) {
    t.is(typeof f.value, 'number', String(f.name));
    t.is(typeof f.baseline, 'number', String(f.name));
    t.is(typeof f.ratio, 'number', String(f.name));
    t.is(typeof f.unit, 'string', String(f.name));
    t.is(typeof f.met, 'boolean', String(f.name));
  }
});
