/**
 * Property: whatever text the loader is given, it returns scenarios the
 * engine can run as they are, or throws a ScenarioLoadError whose every
 * problem names the file, a line and a column; never another exception, and
 * never slowly. Inputs: random text, YAML-shaped token soup, random
 * structured documents, and random edits of the bundled scenarios.
 */
import test from 'ava';
import fc from 'fast-check';
import {execa} from 'execa';
import {readdirSync, readFileSync} from 'node:fs';
import {writeFile} from 'node:fs/promises';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {parse, stringify} from 'yaml';
import type {CommandSpec} from '@peerlab/client-agent';
import {durationLimits} from '../src/scenario/duration.js';
import {parseScenarioText, ScenarioLoadError} from '../src/scenario/load.js';
import {peerCommandSpecs} from '../src/peer-program/peer-commands.js';
import type {PlanStep, Scenario} from '../src/scenario/plan.js';
import {applyEdits, cliRuns, cliTimeout, edgeValue, edit, fuzzOptions} from './fuzz-support.js';
import {tempDir} from './support.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const scenarioDir = path.join(root, 'scenarios');
const bundled = [scenarioDir, path.join(scenarioDir, 'scale')].flatMap((dir) =>
  readdirSync(dir).filter((f) => f.endsWith('.yaml')).map((f) => readFileSync(path.join(dir, f), 'utf8')),
);
const bundledDocs = bundled.map((text) => parse(text) as unknown);

/**
 * A case that takes longer has hung: far more than any load takes, even on a loaded 2-core machine
 * (a 3 s bound tripped once on the history fuzzer under the whole suite), far less than a hang.
 */
const SLOW_MS = 20_000;

/** What the engine relies on in a loaded scenario. */
function checkPlan(s: Scenario): void {
  const fail = (what: string) => {
    throw new Error(`loaded, but ${what}: ${JSON.stringify(s).slice(0, 300)}`);
  };
  if (s.peers.length === 0 || s.steps.length === 0) fail('no peers or no steps');
  const inRange = (ms: number, field: keyof typeof durationLimits) => Number.isFinite(ms) && ms >= durationLimits[field].min && ms <= durationLimits[field].max;
  if (!inRange(s.timeoutMs, 'timeout')) fail(`timeout ${s.timeoutMs}`);
  if (s.seed !== undefined && !(Number.isSafeInteger(s.seed) && s.seed >= 0 && s.seed < 2 ** 31)) fail(`seed ${s.seed}`);
  if (s.nemesis && !(inRange(s.nemesis.everyMs, 'every') && s.nemesis.forMs >= s.nemesis.everyMs && s.nemesis.faults.length > 0)) fail('a nemesis out of range');
  for (const name of Object.keys(s.peerArgs)) if (!Array.isArray(s.peerArgs[name])) fail(`peer args of ${name}`);
  const walk = (steps: readonly PlanStep[]): void => {
    for (const step of steps) {
      if (step.kind === 'await' && step.within.kind === 'ms' && !inRange(step.within.ms, 'within')) fail(`within ${step.within.ms}`);
      if (step.kind === 'sleep' && !inRange(step.ms, 'sleep')) fail(`sleep ${step.ms}`);
      if (step.kind === 'run' && !inRange(step.timeoutMs, 'command')) fail(`command timeout ${step.timeoutMs}`);
      if (step.kind === 'repeat' && !(Number.isInteger(step.times) && step.times >= 1)) fail(`repeat ${step.times}`);
      if (step.kind === 'parallel' || step.kind === 'repeat') walk(step.steps);
    }
  };
  walk(s.steps);
}

/** The property itself: true, or an exception that fails the test with the input shrunk. */
function loadsOrLocates(text: string, commands: readonly CommandSpec[]): boolean {
  const started = Date.now();
  try {
    for (const s of parseScenarioText(text, 'fuzz.yaml', commands)) checkPlan(s);
  } catch (error) {
    if (!(error instanceof ScenarioLoadError)) throw error;
    if (error.problems.length === 0) throw new Error('a ScenarioLoadError with no problem');
    for (const p of error.problems) {
      if (p.file !== 'fuzz.yaml' || !(Number.isInteger(p.line) && p.line >= 1 && Number.isInteger(p.column) && p.column >= 1) || p.message === '') {
        throw new Error(`a problem without a location: ${JSON.stringify(p)}`);
      }
    }
  }
  if (Date.now() - started > SLOW_MS) throw new Error(`took ${Date.now() - started} ms`);
  return true;
}

const yamlToken = fc.constantFrom(
  'name: ', 'peers: ', 'steps:', 'nemesis:', 'every: ', 'for: ', 'faults:', 'timeout: ', 'vars:', 'peer_args:', 'seed: ',
  '- ', '  ', '    ', '\n', '\n  - ', '[', ']', '{', '}', ', ', ': ', '&a ', '*a', '<<: *a', '"', "'", '# c', '---', '...', '!!str ', '!!binary ', '? ',
  'start: all', 'await: converged', 'within: 5s', 'within: 0s', 'on: alice', 'run: send hi', 'run: ${constructor}', 'kill: bob',
  'repeat: 3', 'parallel:', 'sleep: 1ms', 'alice', 'bob', '3', '-1', '1e9', '40000m', '|', '>', '%YAML 1.2', '\t', '\r\n', '\u00e9', '\ufeff',
);

test('random text: loads or locates, never crashes', async (t) => {
  const commands = await peerCommandSpecs();
  fc.assert(fc.property(fc.string({unit: 'binary', maxLength: 200}), (text) => loadsOrLocates(text, commands)), fuzzOptions(300));
  t.pass();
});

test('YAML-shaped token soup: loads or locates, never crashes', async (t) => {
  const commands = await peerCommandSpecs();
  fc.assert(fc.property(fc.array(yamlToken, {maxLength: 60}), (tokens) => loadsOrLocates(tokens.join(''), commands)), fuzzOptions(300));
  t.pass();
});

const step = fc
  .tuple(
    fc.constantFrom('start', 'await', 'on', 'kill', 'stop', 'sleep', 'terminate', 'restart', 'pause', 'resume', 'partition', 'isolate', 'cut', 'heal', 'loss', 'delay', 'wait', 'parallel', 'repeat', 'run', 'bogus'),
    edgeValue,
    fc.dictionary(fc.constantFrom('within', 'run', 'timeout', 'expect', 'steps', 'recover_after', 'seen_by'), edgeValue, {maxKeys: 2}),
  )
  .map(([action, value, extra]) => ({[action]: value, ...extra}));

const scenarioLike = fc.record(
  {
    name: fc.oneof(fc.string({maxLength: 10}), edgeValue),
    peers: fc.oneof(fc.integer({min: -2, max: 1002}), fc.array(fc.constantFrom('alice', 'bob', 'charly', 'constructor', '__proto__', 'bad name', ''), {maxLength: 4}), edgeValue),
    steps: fc.array(step, {maxLength: 5}),
    timeout: edgeValue,
    seed: edgeValue,
    vars: fc.oneof(fc.dictionary(fc.constantFrom('x', 'constructor', '__proto__', 'n'), edgeValue, {maxKeys: 3}), edgeValue),
    peer_args: edgeValue,
    invariants: edgeValue,
    nemesis: fc.oneof(fc.record({every: edgeValue, for: edgeValue, faults: fc.array(step, {maxLength: 2})}, {requiredKeys: []}), edgeValue),
    peers_per_process: edgeValue,
    profile: edgeValue,
  },
  {requiredKeys: ['name', 'peers', 'steps']},
);

test('random structured documents: load or locate, never crash', async (t) => {
  const commands = await peerCommandSpecs();
  fc.assert(
    fc.property(fc.oneof(scenarioLike, fc.array(scenarioLike, {maxLength: 3}), fc.jsonValue({maxDepth: 4})), (doc) => loadsOrLocates(stringify(doc) ?? '', commands)),
    fuzzOptions(300),
  );
  t.pass();
});

test('random edits of the bundled scenarios: load or locate, never crash', async (t) => {
  const commands = await peerCommandSpecs();
  fc.assert(
    fc.property(fc.nat(bundledDocs.length - 1), fc.array(edit, {minLength: 1, maxLength: 4}), (which, edits) => loadsOrLocates(stringify(applyEdits(bundledDocs[which], edits)) ?? '', commands)),
    fuzzOptions(300),
  );
  t.pass();
});

test('random byte edits of the bundled scenario files: load or locate, never crash', async (t) => {
  const commands = await peerCommandSpecs();
  fc.assert(
    fc.property(fc.nat(bundled.length - 1), fc.array(fc.tuple(fc.nat(), fc.nat(8), fc.string({maxLength: 4})), {minLength: 1, maxLength: 4}), (which, cuts) => {
      let text = bundled[which]!;
      for (const [at, length, insert] of cuts) {
        const i = at % (text.length + 1);
        text = text.slice(0, i) + insert + text.slice(i + length);
      }
      return loadsOrLocates(text, commands);
    }),
    fuzzOptions(200),
  );
  t.pass();
});

test('the bundled scenarios themselves load (the fuzzers start from valid input)', async (t) => {
  const commands = await peerCommandSpecs();
  for (const text of bundled) t.true(parseScenarioText(text, 'bundled.yaml', commands).length > 0);
});

test.serial('through the CLI: edited scenarios exit 2 with a location or load, and start nothing', async (t) => {
  const runs = cliRuns(3);
  t.timeout(cliTimeout(runs.numRuns));
  const dir = await tempDir(t, 'peerlab-fuzz-');
  const bin = path.join(root, 'test-server', 'bin', 'peerlab.mjs');
  const samples = fc.sample(fc.tuple(fc.nat(bundledDocs.length - 1), fc.array(edit, {minLength: 1, maxLength: 3})), runs);
  for (const [i, [which, edits]] of samples.entries()) {
    const file = path.join(dir, `edited-${i}.yaml`);
    await writeFile(file, stringify(applyEdits(bundledDocs[which], edits)) ?? '');
    // A filter that matches nothing: a scenario that loads is not run, and that too exits 2.
    const run = await execa(process.execPath, [bin, 'run', file, '--filter', 'matches-no-scenario-at-all', '--out', path.join(dir, 'runs')], {reject: false, all: true, timeout: 60_000});
    t.is(run.exitCode, 2, run.all);
    t.regex(run.all, /(edited-\d+\.yaml:\d+:\d+: |matches no scenario)/, run.all);
    t.notRegex(run.all, /Error:|at .*\.js:\d+/);
  }
});
