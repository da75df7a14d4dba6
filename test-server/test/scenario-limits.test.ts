/**
 * Every number a scenario holds has a range, and a file that cannot be a
 * scenario (a device, a huge or non-UTF-8 file, an alias bomb) is refused
 * with a located error before anything starts, never with a crash.
 */
import test from 'ava';
import {execFileSync} from 'node:child_process';
import {writeFile} from 'node:fs/promises';
import path from 'node:path';
import {durationLimits} from '../src/scenario/duration.js';
import {loadScenarios, parseScenarioText, ScenarioLoadError} from '../src/scenario/load.js';
import type {ScenarioProblem} from '../src/scenario/load.js';
import {peerCommandSpecs} from '../src/peer-program/peer-commands.js';
import {MAX_SCENARIO_BYTES} from '../src/scenario/read-file.js';
import {tempDir, scenarioProblems as problems} from './support.js';


async function loadProblems(paths: string[]): Promise<ScenarioProblem[]> {
  try {
    await loadScenarios(paths, await peerCommandSpecs());
  } catch (error) {
    if (error instanceof ScenarioLoadError) return error.problems;
    throw error;
  }
  return [];
}

const header = 'name: t\npeers: [alice, bob]\n';

const outOfRange: Array<{title: string; yaml: string; field: string; line: number; message: RegExp}> = [
  // Past 2^31-1 ms, setTimeout fires at once: the scenario timed out the moment it started.
  {title: 'a timeout setTimeout cannot hold', yaml: `${header}timeout: 40000m\nsteps:\n  - start: all\n`, field: 'timeout', line: 3, message: /expected a duration from 1s to 1440m, got 40000m/},
  {title: 'a zero timeout', yaml: `${header}timeout: 0ms\nsteps:\n  - start: all\n`, field: 'timeout', line: 3, message: /from 1s to 1440m/},
  {title: 'a zero within', yaml: `${header}steps:\n  - await: converged\n    within: 0s\n`, field: 'steps[0].within', line: 5, message: /from 100ms to 60m, got 0s/},
  {title: 'a within that rounds to zero', yaml: `${header}steps:\n  - await: converged\n    within: 0.0001ms\n`, field: 'steps[0].within', line: 5, message: /from 100ms/},
  {title: 'a sleep of nothing', yaml: `${header}steps:\n  - sleep: 0ms\n`, field: 'steps[0].sleep', line: 4, message: /from 1ms to 60m/},
  {title: 'a command timeout of nothing', yaml: `${header}steps:\n  - on: alice\n    run: members\n    timeout: 0s\n`, field: 'steps[0].timeout', line: 6, message: /from 100ms to 60m/},
  {title: 'a duration of a thousand digits', yaml: `${header}steps:\n  - sleep: ${'9'.repeat(1000)}m\n`, field: 'steps[0].sleep', line: 4, message: /from 1ms to 60m, got 9{20}…$/},
  // A nemesis every 0ms made 2,500 fault rounds and 66 spawns in 5 s.
  {title: 'a nemesis with no interval', yaml: `${header}nemesis:\n  every: 0ms\n  for: 1s\n  faults:\n    - kill: random\nsteps:\n  - start: all\n`, field: 'nemesis.every', line: 4, message: /from 100ms to 60m/},
  {title: 'a nemesis shorter than one round', yaml: `${header}nemesis:\n  every: 2s\n  for: 1s\n  faults:\n    - kill: random\nsteps:\n  - start: all\n`, field: 'nemesis.for', line: 5, message: /at least every \(2s\)/},
  {title: 'a nemesis with too many rounds', yaml: `${header}timeout: 1440m\nnemesis:\n  every: 100ms\n  for: 60m\n  faults:\n    - kill: random\nsteps:\n  - start: all\n`, field: 'nemesis.for', line: 6, message: /36000 rounds/},
  {title: 'a recovery at once', yaml: `${header}nemesis:\n  every: 1s\n  for: 2s\n  faults:\n    - kill: random\n      recover_after: 0ms\nsteps:\n  - start: all\n`, field: 'nemesis.faults[0].recover_after', line: 8, message: /from 10ms to 60m/},
  {title: 'a within longer than the scenario', yaml: `${header}steps:\n  - await: converged\n    within: 90s\n`, field: 'steps[0].within', line: 5, message: /90s is longer than the scenario's timeout, 60s \(the default\)/},
  {title: 'a nemesis longer than the scenario', yaml: `${header}timeout: 30s\nnemesis:\n  every: 1s\n  for: 1m\n  faults:\n    - kill: random\nsteps:\n  - start: all\n`, field: 'nemesis.for', line: 6, message: /1m is longer than the scenario's timeout, 30s/},
  {title: 'a seed the generator cannot hold', yaml: `${header}seed: 4294967296\nsteps:\n  - start: all\n`, field: 'seed', line: 3, message: /2147483647|too big/i},
  {title: 'a loss over 100%', yaml: `${header}steps:\n  - loss: {rate: 250%}\n`, field: 'steps[0].loss.rate', line: 4, message: /percentage/},
  {title: 'repeats that multiply past the step limit', yaml: `${header}steps:\n  - repeat: 1000\n    steps:\n      - repeat: 1000\n        steps:\n          - sleep: 1ms\n`, field: 'steps', line: 4, message: /1001001 steps in all .* at most 100000/},
];

for (const c of outOfRange) {
  test(`out of range: ${c.title}`, async (t) => {
    const found = await problems(c.yaml);
    const p = found.find((x) => x.field === c.field);
    t.truthy(p, JSON.stringify(found));
    t.is(p!.line, c.line, JSON.stringify(p));
    t.regex(p!.message, c.message);
  });
}

test('the limits are in the range of a timer, and the bundled durations are within them', async (t) => {
  for (const [field, {min, max}] of Object.entries(durationLimits)) {
    t.true(min >= 1 && min < max && max <= 2 ** 31 - 1, field);
  }
  t.deepEqual(await problems(`${header}timeout: 1440m\nnemesis:\n  every: 100ms\n  for: 100ms\n  faults:\n    - kill: random\n      recover_after: 10ms\nsteps:\n  - sleep: 1ms\n  - await: converged\n    within: 100ms\n`), []);
});

test('a YAML alias bomb is a located error, quickly', async (t) => {
  const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 9; i++) {
    const [prev, name] = [String.fromCharCode(96 + i), String.fromCharCode(97 + i)];
    levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
  }
  const started = Date.now();
  const found = await problems(`${levels.join('\n')}\nname: t\n`);
  // Milliseconds when expansion stops at 100 aliases; a busy machine gets a wide margin.
  t.true(Date.now() - started < 5000);
  t.is(found.length, 1);
  t.like(found[0], {file: 'test.yaml', line: 2});
  t.regex(found[0]!.message, /^YAML: .*alias.*at most 100 alias expansions/i);
});

test('YAML nested too deep is a located error, not a stack overflow', async (t) => {
  const deep = `${header}steps:\n  - on: alice\n    run: members\n    expect: ${'{a: '.repeat(80)}1${'}'.repeat(80)}\n`;
  const found = await problems(deep);
  t.is(found.length, 1, JSON.stringify(found));
  t.is(found[0]!.line, 6);
  t.regex(found[0]!.message, /nested more than 64 levels deep/);
  const deeper = await problems(`${'['.repeat(5000)}${']'.repeat(5000)}`);
  t.true(deeper.length > 0 && deeper.every((p) => p.line >= 1));
});

test('variables are the scenario\'s own: ${constructor} is an unknown variable, not Object\'s', async (t) => {
  for (const name of ['constructor', 'toString', 'hasOwnProperty', '__proto__']) {
    const found = await problems(`${header}steps:\n  - on: alice\n    run: send \${${name}}\n`);
    t.is(found.length, 1, name);
    t.like(found[0], {field: 'steps[0].run', line: 5});
    t.regex(found[0]!.message, new RegExp(`unknown variable \\$\\{${name.replace(/_/g, '_')}\\}`));
  }
  const [scenario] = parseScenarioText(`${header}vars: {constructor: hi}\nsteps:\n  - on: alice\n    run: send \${constructor}\n`, 'v.yaml', await peerCommandSpecs());
  t.like(scenario!.steps[0], {text: 'send hi'});
});

test('peer args are looked up by name without reaching Object.prototype', async (t) => {
  const [scenario] = parseScenarioText('name: t\npeers: [constructor, toString]\nsteps:\n  - start: all\n', 'p.yaml', await peerCommandSpecs());
  // The engine spreads peerArgs[name]: Object's constructor there was not iterable.
  for (const name of ['constructor', 'toString']) t.is(scenario!.peerArgs[name], undefined, name);
});

test('an empty list of scenarios is an error, not zero scenarios that all pass', async (t) => {
  const found = await problems('[]\n');
  t.is(found.length, 1);
  t.regex(found[0]!.message, /got an empty list/);
});

test('a file that is not UTF-8 is refused with the line and byte offset of the first bad byte', async (t) => {
  const dir = await tempDir(t, 'peerlab-utf8-');
  const file = path.join(dir, 'latin1.yaml');
  await writeFile(file, Buffer.concat([Buffer.from('name: t\npeers: [alice]\n# caf'), Buffer.from([0xe9]), Buffer.from('\nsteps:\n  - start: all\n')]));
  const found = await loadProblems([file]);
  t.is(found.length, 1);
  t.like(found[0], {file, line: 3, column: 6});
  t.regex(found[0]!.message, /not UTF-8 text: invalid byte 0xe9 at byte offset 28/);
});

test('a device, a fifo and an oversized file are refused without being read', async (t) => {
  // A loader that read them would hang on the fifo and stream /dev/zero: the deadline catches that,
  // and the messages say each was refused for what it is, not for what reading it found.
  t.timeout(30_000);
  const dir = await tempDir(t, 'peerlab-special-');
  // /dev/zero was read for 643 MB.
  const zero = await loadProblems(['/dev/zero']);
  t.like(zero[0], {file: '/dev/zero', line: 1});
  t.regex(zero[0]!.message, /not a regular file/);
  const fifo = path.join(dir, 'fifo.yaml');
  execFileSync('mkfifo', [fifo]);
  // Opening a fifo with no writer must not wait for one.
  const fromFifo = await loadProblems([fifo]);
  t.regex(fromFifo[0]!.message, /not a regular file/);
  const big = path.join(dir, 'big.yaml');
  await writeFile(big, `name: t\n${'#'.repeat(MAX_SCENARIO_BYTES)}\n`);
  const fromBig = await loadProblems([big]);
  t.regex(fromBig[0]!.message, /too big for a scenario: \d+ bytes, at most 4194304 \(4 MiB\)/);
});

test('a folder with no scenario file is an error, not an empty suite', async (t) => {
  const dir = await tempDir(t, 'peerlab-empty-');
  const found = await loadProblems([dir]);
  t.is(found.length, 1);
  t.like(found[0], {file: dir, line: 1});
  t.regex(found[0]!.message, /holds no \.yaml or \.yml file/);
});
