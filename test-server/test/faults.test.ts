/**
 * Faults on real peers: each fault checker shown failing on a real run that
 * breaks its property, and a seed that replays the same faults on the same
 * peers in the same order.
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

async function runScenario(t: {teardown(fn: () => Promise<void>): void}, yaml: string, extra: string[] = []): Promise<{exitCode: number | undefined; all: string; results: ScenarioResult[]}> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'peerlab-faults-'));
  t.teardown(() => rm(dir, {recursive: true, force: true}));
  const file = path.join(dir, 'scenario.yaml');
  await writeFile(file, yaml);
  const out = path.join(dir, 'runs');
  const run = await execa(process.execPath, [bin, 'run', file, '--out', out, ...extra], {reject: false, all: true, timeout: 120_000});
  const results: ScenarioResult[] = [];
  for (const entry of (await readdir(out)).sort()) {
    if (entry.endsWith('.json') || entry.endsWith('.xml')) continue;
    results.push(JSON.parse(await readFile(path.join(out, entry, 'result.json'), 'utf8')) as ScenarioResult);
  }
  return {exitCode: run.exitCode, all: run.all ?? '', results};
}

async function faultsOf(result: ScenarioResult): Promise<string[]> {
  const lines = (await readFile(result.historyPath, 'utf8')).trim().split('\n');
  return lines
    .map((l) => JSON.parse(l) as {src: string; type: string; data: Record<string, unknown>})
    .filter((e) => e.src === 'coordinator' && e.type === 'fault')
    .map((e) => JSON.stringify({kind: e.data.kind, peer: e.data.peer, groups: e.data.groups, blocked: e.data.blocked, nemesis: e.data.nemesis}));
}

/** Steps' faults and the nemesis's run side by side: each sequence is fixed by the seed, their interleaving by timing. */
function bySource(faults: string[]): {steps: string[]; nemesis: string[]} {
  return {steps: faults.filter((f) => !f.includes('"nemesis"')), nemesis: faults.filter((f) => f.includes('"nemesis"'))};
}

test.serial('the same --seed performs the same faults on the same peers in the same order', async (t) => {
  const yaml = `name: seeded faults
peers: 6
nemesis:
  every: 700ms
  for: 4s
  faults:
    - kill: random
      recover_after: 300ms
    - pause: random
      recover_after: 200ms
    - partition: random-node
      recover_after: 200ms
steps:
  - start: all
  - await: converged
    within: 8s
  - partition: halves
  - heal: all
  - kill: random
  - restart: all
  - wait: nemesis
`;
  const first = await runScenario(t, yaml, ['--seed', '1234']);
  const second = await runScenario(t, yaml, ['--seed', '1234']);
  t.is(first.results[0]?.status, 'pass', first.all);
  t.is(second.results[0]?.status, 'pass', second.all);
  const a = bySource(await faultsOf(first.results[0]!));
  const b = bySource(await faultsOf(second.results[0]!));
  t.true(a.steps.length >= 8 && a.nemesis.length >= 8, `enough faults to compare: ${a.steps.length} + ${a.nemesis.length}`);
  t.deepEqual(b.steps, a.steps);
  t.deepEqual(b.nemesis, a.nemesis);
  const other = bySource(await faultsOf((await runScenario(t, yaml, ['--seed', '99'])).results[0]!));
  t.notDeepEqual([...other.steps, ...other.nemesis], [...a.steps, ...a.nemesis], 'another seed chooses differently');
});

test.serial('no-false-dead trips when suspicion times out at once and links are slow', async (t) => {
  const {exitCode, results} = await runScenario(t, `name: hair trigger under delay
peers: 4
peer_args: {all: [--bug, hair-trigger]}
invariants: [no-false-dead]
steps:
  - start: all
  - await: converged
    within: 8s
  - delay: {ms: 80}
  - sleep: 2s
  - heal: all
`);
  t.is(exitCode, 1);
  t.is(results[0]!.status, 'fail');
  t.regex(results[0]!.message ?? '', /invariant no-false-dead: .*dead/);
  const verdict = results[0]!.invariants.find((i) => i.name === 'no-false-dead')!;
  t.true((verdict.figures?.false_dead ?? 0) > 0);
});

test.serial('partition-heal fails when no peer re-probes dead members', async (t) => {
  const {exitCode, results} = await runScenario(t, `name: no reconnect
peers: [alice, bob, charly, dave]
peer_args: {all: [--bug, no-reconnect]}
steps:
  - start: all
  - await: converged
    within: 8s
  - partition: [[alice, bob], [charly, dave]]
  - await: converged
    within: 15s
  - heal: all
  - await: converged
    within: 6s
`);
  t.is(exitCode, 1);
  t.regex(results[0]!.message ?? '', /step 6 .*await converged within 6s: not within 6000 ms: /);
});

test.serial('failure detection fails when nobody suspects a killed peer', async (t) => {
  const {exitCode, results} = await runScenario(t, `name: never suspect
peers: [alice, bob, charly]
peer_args: {all: [--bug, never-suspect]}
steps:
  - start: all
  - await: converged
    within: 8s
  - kill: charly
  - await: detected
    within: 3s
`);
  t.is(exitCode, 1);
  t.regex(results[0]!.message ?? '', /await detected within 3s: not within 3000 ms: .*charly/);
});

test.serial('rejoin fails when a restarted peer cannot refute its old death', async (t) => {
  const {exitCode, results} = await runScenario(t, `name: cannot refute
peers: [alice, bob, charly]
peer_args: {charly: [--bug, no-refute]}
steps:
  - start: all
  - await: converged
    within: 8s
  - kill: charly
  - await: detected
    within: 8s
  - restart: charly
  - await: {rejoined: charly}
    within: 4s
`);
  t.is(exitCode, 1);
  t.regex(results[0]!.message ?? '', /await charly rejoined within 4s: not within 4000 ms: .*charly/);
});

test.serial('peerlab up drives network faults from its prompt', async (t) => {
  const logs = await mkdtemp(path.join(os.tmpdir(), 'peerlab-up-faults-'));
  t.teardown(() => rm(logs, {recursive: true, force: true}));
  const run = await execa(process.execPath, [bin, 'up', '--peers', '3', '--logs', logs], {
    input: 'partition alice bob,charly\nalice net-status\nloss 10\nheal\nbob net-status\n',
    reject: false,
    all: true,
    timeout: 60_000,
  });
  t.is(run.exitCode, 0, run.all);
  t.regex(run.all, /partitioned \[alice\] \[bob, charly\]/);
  t.regex(run.all, /cut in: bob, charly; cut out: bob, charly/);
  t.regex(run.all, /10% loss on every link/);
  t.regex(run.all, /healed every network fault\ncut in: none; cut out: none; loss: none/);
});

test.serial('the nemesis ends with its scenario: no round after the steps, and what it broke is recovered and recorded before run.end', async (t) => {
  // The nemesis is asked to go on for a minute and to leave its victims down for a minute;
  // the steps end after a few of its rounds.
  const yaml = `name: nemesis outlives its steps
peers: 5
nemesis:
  every: 300ms
  for: 60s
  faults:
    - kill: random
      recover_after: 60s
    - pause: random
      recover_after: 60s
steps:
  - start: all
  - sleep: 1500ms
`;
  const began = Date.now();
  const {exitCode, all, results} = await runScenario(t, yaml);
  const elapsed = Date.now() - began;
  t.is(exitCode, 0, all);
  t.true(elapsed < 30_000, `peerlab run ended ${elapsed} ms after it began, not after the nemesis's minute`);
  const events = (await readFile(results[0]!.historyPath, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as {src: string; type: string; data: Record<string, unknown>});
  const end = events.findIndex((e) => e.type === 'run.end');
  t.is(end, events.length - 1, 'nothing is recorded after run.end');
  const stepsEnd = events.findLastIndex((e) => e.type === 'step.end' && e.data.path === '2');
  const faults = events.map((e, i) => ({...e, i})).filter((e) => e.type === 'fault' && e.data.nemesis !== undefined);
  const broke = faults.filter((f) => f.data.kind === 'kill' || f.data.kind === 'pause');
  t.true(broke.length >= 2, `the nemesis hurt some peers: ${broke.length}`);
  // A round begun before the steps ended may record its fault after (a kill waits for the exit); none begins after.
  const rounds = events.map((e, i) => ({...e, i})).filter((e) => e.type === 'nemesis' && typeof e.data.fault === 'string');
  t.true(rounds.length >= 2, `the nemesis made some rounds: ${rounds.length}`);
  t.true(rounds.every((r) => r.i < stepsEnd), 'no new round after the steps ended');
  for (const f of broke) {
    const undo = f.data.kind === 'kill' ? 'restart' : 'resume';
    t.true(faults.some((r) => r.i > stepsEnd && r.data.kind === undo && r.data.peer === f.data.peer && r.data.nemesis === f.data.nemesis), `${f.data.kind} of ${String(f.data.peer)} is undone after the steps`);
  }
  const done = events.find((e) => e.type === 'nemesis' && e.data.done === true);
  t.truthy(done?.data.stopped, 'the stop is recorded');
  t.true(events.indexOf(done!) < end);
});

test.serial('a fault step draws from what the steps took down, not from what the nemesis is doing', async (t) => {
  // The nemesis kills two peers and keeps them down; `restart: all` is a step, and the steps took nobody down.
  const yaml = `name: steps' pool ignores the nemesis
peers: 4
nemesis:
  every: 100ms
  for: 200ms
  faults:
    - kill: random
      recover_after: 50s
steps:
  - start: all
  - sleep: 1s
  - restart: all
`;
  const {exitCode, all, results} = await runScenario(t, yaml, ['--seed', '7']);
  t.is(exitCode, 0, all);
  const events = (await readFile(results[0]!.historyPath, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as {type: string; data: Record<string, unknown>});
  t.is(events.filter((e) => e.type === 'fault' && e.data.nemesis !== undefined && e.data.kind === 'kill').length, 2, 'the nemesis killed two peers');
  const restart = events.find((e) => e.type === 'step.begin' && e.data.kind === 'restart');
  t.deepEqual(restart?.data.peers, ['alice', 'bob', 'charly', 'dave']);
});

test.serial('what the nemesis left broken is undone when the scenario ends, and a step that finds its victim down passes', async (t) => {
  const yaml = `- name: left broken until the end
  peers: [alice, bob]
  nemesis:
    every: 100ms
    for: 100ms
    faults:
      - kill: bob
  steps:
    - start: all
    - sleep: 1s
- name: a step finds the nemesis's victim down
  peers: [alice, bob]
  nemesis:
    every: 100ms
    for: 100ms
    faults:
      - kill: alice
  steps:
    - start: all
    - sleep: 1s
    - kill: alice
`;
  const {exitCode, all, results} = await runScenario(t, yaml);
  t.is(exitCode, 0, all);
  const historyOf = async (i: number) => (await readFile(results[i]!.historyPath, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as {type: string; data: Record<string, unknown>});
  const first = await historyOf(0);
  const lastStep = first.findLastIndex((e) => e.type === 'step.end');
  const restart = first.findIndex((e) => e.type === 'fault' && e.data.kind === 'restart' && e.data.peer === 'bob' && e.data.nemesis === 1);
  t.true(restart > lastStep, 'bob, killed for good by the nemesis, is restarted after the steps');
  t.true(first.some((e) => e.type === 'nemesis' && e.data.recover === 'kill' && e.data.early === true));
  const second = await historyOf(1);
  const kill = second.find((e) => e.type === 'step.end' && e.data.kind === 'kill');
  t.is(kill?.data.status, 'pass');
  t.regex(String(kill?.data.message), /already down by the nemesis/);
  // The step wants alice down: the nemesis's undo at the end leaves her so, and says so.
  t.true(second.some((e) => e.type === 'fault' && e.data.kind === 'restart' && e.data.peer === 'alice' && e.data.skipped === 'a step has taken it down'));
});

test.serial('a peer resumed after a heal it slept through holds no rule the heal cleared', async (t) => {
  const yaml = `name: a resumed peer is healed too
peers: [alice, bob, charly]
steps:
  - start: all
  - partition: [[alice, bob], [charly]]
  - pause: charly
  - heal: all
  - resume: charly
  - on: charly
    run: net-status
    expect: {cutIn: [], cutOut: []}
  - on: alice
    run: net-status
    expect: {cutIn: [], cutOut: []}
`;
  const {results, all} = await runScenario(t, yaml);
  t.is(results[0]?.status, 'pass', all);
});

test.serial('a peer that never registered is not in the steps\' pool: `kill: all` beside its start leaves it out', async (t) => {
  const yaml = `name: a failed start is no victim
peers: [alice, bob, charly]
peer_args: {charly: [--no-such-flag]}
steps:
  - start: [alice, bob]
  - parallel:
      - start: charly
      - kill: all
`;
  const {results, all} = await runScenario(t, yaml);
  const events = (await readFile(results[0]!.historyPath, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as {type: string; data: Record<string, unknown>});
  const kill = events.filter((e) => (e.type === 'step.begin' || e.type === 'step.end') && e.data.kind === 'kill');
  t.deepEqual(kill[0]?.data.peers, ['alice', 'bob'], all);
  t.is(kill[1]?.data.status, 'pass', all);
  t.true(events.some((e) => e.type === 'step.end' && e.data.kind === 'start' && e.data.status !== 'pass'), 'charly did not start');
});
