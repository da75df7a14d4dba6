/**
 * `peerlab run` and `peerlab check` end to end, as CI uses them: real peers,
 * real verdicts, exit codes, report files. Each checker is shown failing on a
 * real run whose property is broken (peers started with a deliberate --bug),
 * because a harness that cannot fail is worthless.
 */
import test from 'ava';
import {execa} from 'execa';
import {mkdtemp, readFile, readdir, rm, writeFile} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {XMLParser, XMLValidator} from 'fast-xml-parser';
import type {RunResult, ScenarioResult} from '../src/engine/results.js';
import {loadScenarios} from '../src/scenario/load.js';
import {peerCommandSpecs} from '../src/peer-program/peer-commands.js';
import {readHistory} from '@peerlab/checkers/history/read';
import {converged} from '@peerlab/checkers/converged';
import {swimTimingFields} from '@peerlab/checkers/swim-model';
import {profiles} from '@peerlab/peer';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = path.join(root, 'test-server', 'bin', 'peerlab.mjs');

async function workDir(t: {teardown(fn: () => Promise<void>): void}): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'peerlab-run-'));
  t.teardown(() => rm(dir, {recursive: true, force: true}));
  return dir;
}

function peerlab(args: string[], cwd = root, timeout = 120_000) {
  return execa(process.execPath, [bin, ...args], {cwd, reject: false, all: true, timeout});
}

async function scenarioFile(dir: string, name: string, yaml: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, yaml);
  return file;
}

async function onlyResult(out: string): Promise<ScenarioResult> {
  const [runId] = (await readdir(out)).filter((f) => !f.endsWith('.json') && !f.endsWith('.xml'));
  return JSON.parse(await readFile(path.join(out, runId!, 'result.json'), 'utf8')) as ScenarioResult;
}

test.serial('the bundled suite passes; JUnit and JSON reports are written and agree', async (t) => {
  // The suite includes a 60 s churn scenario.
  t.timeout(300_000);
  const dir = await workDir(t);
  const out = path.join(dir, 'runs');
  const run = await peerlab(['run', 'scenarios', '--reporter', 'list', '--reporter', 'json,junit', '--out', out], root, 280_000);
  t.is(run.exitCode, 0, run.all);
  const total = (await loadScenarios([path.join(root, 'scenarios')], await peerCommandSpecs())).length;
  t.true(total >= 16);
  t.regex(run.all, new RegExp(`${total} passed, 0 failed, 0 unknown`));
  const results = JSON.parse(await readFile(path.join(out, 'results.json'), 'utf8')) as RunResult;
  t.is(results.scenarios.length, total);
  t.deepEqual(results.counts, {passed: total, failed: 0, unknown: 0});
  const xml = await readFile(path.join(out, 'junit.xml'), 'utf8');
  t.true(XMLValidator.validate(xml) === true, 'junit.xml is well-formed');
  const parsed = new XMLParser({ignoreAttributes: false, attributeNamePrefix: ''}).parse(xml) as {testsuites: {testsuite: {tests: string; failures: string; errors: string; testcase: unknown[]}}};
  const suite = parsed.testsuites.testsuite;
  t.is(Number(suite.tests), total);
  t.is(Number(suite.failures), 0);
  t.is(Number(suite.errors), 0);
  t.is(suite.testcase.length, total);
  for (const scenario of results.scenarios) {
    for (const file of ['history.jsonl', 'scenario.yaml', 'seed', 'result.json']) {
      t.truthy(await readFile(path.join(scenario.runDir, file), 'utf8'), `${scenario.name}: ${file}`);
    }
    t.true((await readdir(path.join(scenario.runDir, 'logs'))).length > 0);
  }
});

const broken: Array<{bug: string; title: string; steps: string; invariants?: string; fails: RegExp}> = [
  {
    bug: 'drop-delivery',
    title: 'delivered fails when a peer drops messages',
    steps: '  - on: alice\n    run: send one\n  - await: delivered\n    within: 2s\n',
    fails: /step 4 .*await delivered within 2s: not within 2000 ms: charly: alice:\w+:1 missing/,
  },
  {
    bug: 'duplicate-delivery',
    title: 'no-duplicate-delivery fails when a peer delivers twice',
    steps: '  - on: alice\n    run: send one\n  - sleep: 300ms\n',
    invariants: 'invariants: [no-duplicate-delivery]\n',
    fails: /invariant no-duplicate-delivery: charly delivered alice:\w+:1 twice/,
  },
  {
    bug: 'reorder',
    title: 'per-sender-order fails when a peer reorders',
    steps: '  - on: alice\n    run: send one\n  - on: alice\n    run: send two\n  - await: delivered\n    within: 2s\n',
    fails: /charly: alice:\w+:1 out of order: got seq 1 after 2/,
  },
  {
    bug: 'phantom-delivery',
    title: 'no-unsent-delivery fails when a peer delivers what nobody sent',
    steps: '  - on: alice\n    run: send one\n  - sleep: 300ms\n',
    invariants: 'invariants: [no-unsent-delivery]\n',
    fails: /invariant no-unsent-delivery: charly delivered alice:\w+:1-phantom at [\d:.]+, which was never sent/,
  },
  {
    bug: 'deaf',
    title: 'converged fails when a peer hears nobody',
    steps: '',
    fails: /await converged within 2s: not within 2000 ms: .*charly/,
  },
  {
    bug: 'silent-leave',
    title: 'a state await fails when a leave is not announced',
    steps: '  - on: charly\n    run: leave\n  - await: {state: {of: charly, is: left}}\n    within: 3s\n',
    fails: /await charly left seen by all within 3s: not within 3000 ms: .*(alice|bob) has charly (suspect|dead), not left/,
  },
];

for (const c of broken) {
  test.serial(`${c.title} (a real run with --bug ${c.bug}); peerlab check gives the same verdict`, async (t) => {
    const dir = await workDir(t);
    const out = path.join(dir, 'runs');
    const deafStart = c.bug === 'deaf';
    const file = await scenarioFile(dir, 'broken.yaml', [
      `name: broken by ${c.bug}`,
      'peers: [alice, bob, charly]',
      `peer_args: {charly: [--bug, ${c.bug}]}`,
      c.invariants ?? '',
      'steps:',
      '  - start: all',
      '  - await: converged',
      `    within: ${deafStart ? '2s' : '5s'}`,
      c.steps,
    ].join('\n'));
    const run = await peerlab(['run', file, '--out', out]);
    t.is(run.exitCode, 1, run.all);
    const result = await onlyResult(out);
    t.is(result.status, 'fail');
    t.regex(result.message ?? '', c.fails);
    t.true((result.evidence ?? []).length > 0, 'the failure shows the last relevant events');
    t.regex(run.all, /history: .*history\.jsonl/);
    const check = await peerlab(['check', result.historyPath]);
    t.is(check.exitCode, 1, check.all);
    t.regex(check.all, /same verdict as recorded in result\.json: fail/);
  });
}

/** Runs a scenario and re-checks its history: `peerlab check` must give the verdict `peerlab run` recorded. */
async function runAndCheck(t: {is(a: unknown, b: unknown, m?: string): void; regex(s: string, r: RegExp, m?: string): void}, dir: string, name: string, yaml: string): Promise<ScenarioResult> {
  const out = path.join(dir, name);
  const run = await peerlab(['run', await scenarioFile(dir, `${name}.yaml`, yaml), '--out', out]);
  const result = await onlyResult(out);
  t.is(run.exitCode, result.status === 'pass' ? 0 : 1, run.all);
  const check = await peerlab(['check', result.historyPath]);
  t.is(check.exitCode, run.exitCode, check.all);
  t.regex(check.all, new RegExp(`same verdict as recorded in result\\.json: ${result.status}`));
  return result;
}

test.serial('membership-legality fails when a peer takes a stale alive over a dead member (--bug resurrect) and passes on the correct peer', async (t) => {
  // After the heal, push-pull brings each side the other side's alive at the incarnation it holds dead.
  const scenario = (bug: boolean) =>
    [
      `name: ${bug ? 'resurrect' : 'correct'}`,
      'peers: [alice, bob, charly, dave]',
      bug ? 'peer_args: {all: [--bug, resurrect]}' : '',
      // No `invariants:`: membership-legality is on by default.
      'steps:',
      '  - start: all',
      '  - await: converged',
      '    within: 8s',
      '  - partition: [[alice, bob], [charly, dave]]',
      '  - await: converged',
      '    within: 15s',
      '  - heal: all',
      '  - await: converged',
      '    within: 20s',
      '',
    ].join('\n');
  const dir = await workDir(t);

  const broken = await runAndCheck(t, dir, 'resurrect', scenario(true));
  t.is(broken.status, 'fail');
  t.regex(broken.message ?? '', /invariant membership-legality: (\w+)'s view of (\w+) went from dead@(\d+) \(member\.dead at [\d:.]+\) to alive@\3 \(member\.alive at [\d:.]+\): a dead member comes back only alive at a higher incarnation/);
  const verdict = broken.invariants.find((i) => i.name === 'membership-legality')!;
  t.true((verdict.figures?.illegal_transitions ?? 0) > 0);
  t.regex((broken.evidence ?? []).join('\n'), /member\.dead[\s\S]*member\.alive .*\(was dead\)/);

  const correct = await runAndCheck(t, dir, 'correct', scenario(false));
  t.is(correct.status, 'pass', correct.message);
  const legal = correct.invariants.find((i) => i.name === 'membership-legality')!;
  t.is(legal.status, 'pass');
  t.is(legal.figures?.illegal_transitions, 0);
  t.true((legal.figures?.transitions ?? 0) > 0, 'the views did change: suspicions, deaths and returns were judged');
});

test.serial('a peer that gossips each update once (--bug gossip-once) fails a model-bounded await that the correct peer passes; peerlab check agrees', async (t) => {
  // Two runs of ten peers with five restarts each: well past the default timeout on a busy machine.
  t.timeout(240_000);
  // One transmission per update turns the epidemic into a chain that dies out at the first member who knew:
  // the rest hear of a rejoin mostly at a push-pull, seconds later. Not always: twelve restarts on an idle box
  // (2026-12-04) took 3.6-6.6x the model but one 1.82x, when the chain happened to reach everyone, and a CI run
  // saw three such in a row. Five restarts: all five lucky is far rarer. (The correct peer: 0.41-0.71x.) Ten peers,
  // because from N=10 the correct peer gossips each update 8 times, not 4: no member is left for push-pull to
  // reach, and 2x the model holds for it with room to spare.
  const scenario = (bug: boolean) =>
    [
      `name: ${bug ? 'gossip-once' : 'correct'}`,
      'peers: 10',
      bug ? 'peer_args: {all: [--bug, gossip-once]}' : '',
      'steps:',
      '  - start: all',
      '  - await: converged',
      '    within: 5x model',
      '  - repeat: 5',
      '    steps:',
      '      - restart: bob',
      '      - await: {rejoined: bob}',
      '        within: 2x model',
      '',
    ].join('\n');
  const dir = await workDir(t);

  const slow = await runAndCheck(t, dir, 'gossip-once', scenario(true));
  t.is(slow.status, 'fail');
  t.regex(slow.message ?? '', /within (5|2)x model: not within \d+ ms \((5|2)x the model's \d+ ms at N=10\): /);
  const failed = slow.steps.find((s) => s.status === 'fail' && s.kind === 'await')!;
  t.true((failed.figures?.model_ms ?? 0) > 0, JSON.stringify(failed));

  const correct = await runAndCheck(t, dir, 'correct', scenario(false));
  t.is(correct.status, 'pass', correct.message);
  const rejoins = correct.steps.filter((s) => s.title.includes('rejoined'));
  t.is(rejoins.length, 5);
  for (const r of rejoins) {
    t.true((r.figures?.model_ms ?? 0) > 0 && r.figures?.model_ratio !== undefined, JSON.stringify(r));
  }
  // The timing came from the peers themselves: each peer.started says the profile's knobs.
  const started = (await readHistory(correct.historyPath)).filter((e) => e.type === 'peer.started');
  t.true(started.length >= 15, 'ten starts and five restarts');
  const local = profiles.local;
  for (const e of started) t.deepEqual(e.data.timing, {...Object.fromEntries(swimTimingFields.map((f) => [f, local[f]])), awarenessMaxMultiplier: local.awarenessMaxMultiplier});
});

test.serial('a traffic bound fails a peer that never stops retransmitting (--bug chatty) and passes the correct peer; peerlab check agrees', async (t) => {
  // Measured on a loaded 2-core box: at rest a correct peer of four sends about 15 packets and 1.2 kB a second,
  // a chatty one about 70 packets and 8-10 kB: the bound sits well between.
  // Dave joins the formed group so charly surely has news to keep repeating: a peer takes in its own join's
  // answer without passing it on, so a charly that joined last would otherwise have nothing queued.
  const scenario = (bug: boolean) =>
    [
      `name: ${bug ? 'chatty' : 'quiet'}`,
      'peers: [alice, bob, charly, dave]',
      bug ? 'peer_args: {charly: [--bug, chatty]}' : '',
      'traffic:',
      '  rest: {max_packets_per_peer_s: 35, max_bytes_per_peer_s: 6000}',
      'steps:',
      '  - start: [alice, bob, charly]',
      '  - await: converged',
      '    within: 8s',
      '  - start: dave',
      '  - await: converged',
      '    within: 8s',
      '  - sleep: 4s',
      '',
    ].join('\n');
  const dir = await workDir(t);

  const badOut = path.join(dir, 'bad');
  const bad = await peerlab(['run', await scenarioFile(dir, 'chatty.yaml', scenario(true)), '--out', badOut]);
  t.is(bad.exitCode, 1, bad.all);
  const chatty = await onlyResult(badOut);
  t.is(chatty.status, 'fail');
  t.regex(chatty.message ?? '', /^invariant traffic: rest: charly sent [\d.]+ (packets|bytes)\/s, above the bound of (35|6000) \(mean [\d.]+ \1\/s per peer, over [\d.]+ s\)$/);
  t.regex((chatty.evidence ?? []).join('\n'), /peer:charly net\.counters sent \d+ datagrams \(\d+ B\)/, 'the evidence is how fast its counters climbed');
  t.true(chatty.figures['rest_max_packets_per_peer_s']! > 35 || chatty.figures['rest_max_bytes_per_peer_s']! > 6000, JSON.stringify(chatty.figures));
  // Forming has figures only when it lasted a good part of a peer's first one-second report (MIN_PHASE_SHARE);
  // a group that converges while the start step still waits for the last peer to register has none.
  t.regex(bad.all, /traffic per peer, mean\/max: ((forming|churn) [\d.]+\/[\d.]+ pkt\/s .* · )?rest [\d.]+\/[\d.]+ pkt\/s/);
  const check = await peerlab(['check', chatty.historyPath]);
  t.is(check.exitCode, 1, check.all);
  t.regex(check.all, /same verdict as recorded in result\.json: fail/);
  t.regex(check.all, /invariant traffic — rest: charly sent/);

  const okOut = path.join(dir, 'ok');
  const ok = await peerlab(['run', await scenarioFile(dir, 'quiet.yaml', scenario(false)), '--out', okOut]);
  t.is(ok.exitCode, 0, ok.all);
  const quiet = await onlyResult(okOut);
  t.is(quiet.status, 'pass', quiet.message);
  t.like(quiet.invariants.find((i) => i.name === 'traffic'), {status: 'pass'});
  for (const figure of ['rest_packets_per_peer_s', 'rest_max_packets_per_peer_s', 'rest_bytes_per_peer_s', 'rest_max_bytes_per_peer_s', 'rest_duration_s']) {
    t.true((quiet.figures[figure] ?? -1) > 0, `${figure} in ${JSON.stringify(quiet.figures)}`);
  }
  const recheck = await peerlab(['check', quiet.historyPath]);
  t.is(recheck.exitCode, 0, recheck.all);
  t.regex(recheck.all, /same verdict as recorded in result\.json: pass/);
});

test.serial('delivered across a partition: due on the sender\'s side during it, everywhere after the heal; a peer without anti-entropy fails (--bug no-anti-entropy), the correct peer passes', async (t) => {
  const scenario = (bug: boolean) =>
    [
      `name: ${bug ? 'no anti-entropy' : 'correct'}`,
      'peers: [alice, bob, charly, dave]',
      bug ? 'peer_args: {all: [--bug, no-anti-entropy]}' : '',
      'steps:',
      '  - start: all',
      '  - await: converged',
      '    within: 8s',
      '  - partition: [[alice, bob], [charly, dave]]',
      '  - on: alice',
      '    run: send left',
      '  - on: charly',
      '    run: send right',
      // Pushes reach the sender's side only: that is all that is due now.
      '  - await: delivered',
      '    within: 5s',
      '  - heal: all',
      '  - await: converged',
      '    within: 20s',
      // Only anti-entropy carries the messages across now.
      '  - await: delivered',
      '    within: 5s',
      '',
    ].join('\n');
  const dir = await workDir(t);
  const broken = await runAndCheck(t, dir, 'bad', scenario(true));
  t.is(broken.status, 'fail');
  t.regex(
    broken.message ?? '',
    /^step 9 \(line \d+\) await delivered within 5s: not within 5000 ms: (alice|bob|charly|dave): (alice|charly):\w+:1 missing \(sent by \2 at [\d:.]+ on its side of a partition \[(alice, bob|charly, dave)\]; \1 has shared a side with a holder of it since [\d:.]+/,
  );
  t.regex((broken.evidence ?? []).join('\n'), /coordinator fault partition \[alice, bob\] \| \[charly, dave\][\s\S]*coordinator fault heal/);
  const during = broken.steps.find((s) => s.path === '6')!;
  t.is(during.status, 'pass', 'during the partition the other side is not due the message');

  const correct = await runAndCheck(t, dir, 'ok', scenario(false));
  t.is(correct.status, 'pass', correct.message);
  t.is(correct.steps.find((s) => s.path === '6')?.figures?.not_yet_across_partition, 4);
});

test.serial('state across a partition: dead is asked of the other side, alive of its own; a peer that never suspects fails (--bug never-suspect), the correct peer passes', async (t) => {
  const scenario = (bug: boolean) =>
    [
      `name: ${bug ? 'never suspects' : 'correct'}`,
      'peers: [alice, bob, charly, dave]',
      bug ? 'peer_args: {all: [--bug, never-suspect]}' : '',
      'steps:',
      '  - start: all',
      '  - await: converged',
      '    within: 8s',
      '  - partition: [[alice, bob], [charly, dave]]',
      // bob, on alice's side, rightly still has her alive: only charly and dave are asked.
      '  - await: {state: {of: alice, is: dead}}',
      '    within: 10s',
      '  - await: {state: {of: alice, is: alive}}',
      '    within: 3s',
      '  - heal: all',
      '  - await: converged',
      '    within: 20s',
      '  - await: {state: {of: alice, is: alive}}',
      '    within: 5s',
      '',
    ].join('\n');
  const dir = await workDir(t);
  const broken = await runAndCheck(t, dir, 'bad', scenario(true));
  t.is(broken.status, 'fail');
  t.regex(
    broken.message ?? '',
    /^step 4 \(line \d+\) await alice dead seen by all within 10s: not within 10000 ms: (charly|dave) has alice alive, not dead( \(and (charly|dave)\))?; \1 is not on alice's side of the partition \(sides \[alice, bob\] \| \[charly, dave\]\)$/,
  );

  const correct = await runAndCheck(t, dir, 'ok', scenario(false));
  t.is(correct.status, 'pass', correct.message);
  t.regex(correct.steps.find((s) => s.path === '4')?.message ?? '', /alice is dead to \[charly, dave\], the other sides of the partition/);
  t.regex(correct.steps.find((s) => s.path === '5')?.message ?? '', /alice is alive to \[bob\], its side of the partition/);
  t.regex(correct.steps.find((s) => s.path === '8')?.message ?? '', /alice is alive to \[bob, charly, dave\]$/);
});

test.serial('a killed peer that is never declared dead fails the state await', async (t) => {
  const dir = await workDir(t);
  const out = path.join(dir, 'runs');
  const file = await scenarioFile(dir, 'never-suspect.yaml', `name: nobody suspects
peers: [alice, bob, charly]
peer_args: {all: [--bug, never-suspect]}
steps:
  - start: all
  - await: converged
    within: 5s
  - kill: charly
  - await: {state: {of: charly, is: dead}}
    within: 3s
`);
  const run = await peerlab(['run', file, '--out', out]);
  t.is(run.exitCode, 1, run.all);
  t.regex((await onlyResult(out)).message ?? '', /not within 3000 ms: (alice|bob) has charly alive, not dead/);
});

test.serial('a peer that cannot start makes the verdict unknown, with its own exit code', async (t) => {
  const dir = await workDir(t);
  const out = path.join(dir, 'runs');
  const file = await scenarioFile(dir, 'no-start.yaml', `name: bob cannot start
peers: [alice, bob]
peer_args: {bob: [--port, "99999"]}
steps:
  - start: all
  - await: converged
    within: 2s
`);
  const run = await peerlab(['run', file, '--out', out, '--reporter', 'list,junit']);
  t.is(run.exitCode, 3, run.all);
  const result = await onlyResult(out);
  t.is(result.status, 'unknown');
  t.regex(result.message ?? '', /bob exited \(code 2\) before it registered; see .*bob\.log/);
  const xml = await readFile(path.join(out, 'junit.xml'), 'utf8');
  t.regex(xml, /errors="1"/);
  t.regex(xml, /failures="0"/);
});

test.serial('the same --seed makes the same random choices; --repeat, --filter and --bail', async (t) => {
  const dir = await workDir(t);
  const file = await scenarioFile(dir, 'random.yaml', `- name: random senders
  peers: 4
  steps:
    - start: all
    - await: converged
      within: 5s
    - repeat: 6
      steps:
        - on: random
          run: send hi
- name: other
  peers: 1
  steps:
    - start: all
`);
  const chosen = async (out: string) => {
    const results = JSON.parse(await readFile(path.join(out, 'results.json'), 'utf8')) as RunResult;
    return Promise.all(results.scenarios.map(async (s) => {
      const history = (await readFile(s.historyPath, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as {type: string; data: {peer?: string}});
      return history.filter((e) => e.type === 'command.send').map((e) => e.data.peer).join(',');
    }));
  };
  const a = path.join(dir, 'a');
  const b = path.join(dir, 'b');
  t.is((await peerlab(['run', file, '--seed', '42', '--filter', 'random', '--reporter', 'json', '--out', a])).exitCode, 0);
  t.is((await peerlab(['run', file, '--seed', '42', '--filter', '/^random/', '--repeat', '2', '--reporter', 'json', '--out', b])).exitCode, 0);
  const [first] = await chosen(a);
  const repeated = await chosen(b);
  t.is(repeated.length, 2, '--repeat 2 ran the filtered scenario twice');
  t.is(repeated[0], first, 'same seed, same peers, same order');
  t.is(repeated[1], first);
  t.is(first!.split(',').length, 6);
  const none = await peerlab(['run', file, '--filter', 'nothing-matches', '--out', path.join(dir, 'c')]);
  t.is(none.exitCode, 2);
  t.regex(none.all, /--filter nothing-matches matches no scenario/);
});

test.serial('--timeout holds each scenario to at most that long and says so where it ran out; a shorter own timeout, and the file\'s own checks, stand', async (t) => {
  const dir = await workDir(t);
  const file = await scenarioFile(dir, 'long.yaml', `- name: a long wait
  peers: 2
  timeout: 2m
  steps:
    - start: all
    - sleep: 90s
- name: a short timeout of its own
  peers: 1
  timeout: 8s
  steps:
    - start: all
`);
  const out = path.join(dir, 'runs');
  const run = await peerlab(['run', file, '--timeout', '10s', '--reporter', 'list,json', '--out', out]);
  t.is(run.exitCode, 1, run.all);
  t.regex(run.all, /✘ 2 sleep 90s \([\d.]+ m?s\) — the run's --timeout of 10000 ms \(the scenario's own is 120000 ms\) ran out/);
  const results = JSON.parse(await readFile(path.join(out, 'results.json'), 'utf8')) as RunResult;
  t.deepEqual(results.scenarios.map((s) => s.status), ['fail', 'pass']);
  // Cut at the run's bound, not the 90 s of its sleep (generous: this is a bound on which timer fired, not a timing).
  t.true(results.scenarios[0]!.durationMs < 60_000, String(results.scenarios[0]!.durationMs));
  const begins = await Promise.all(results.scenarios.map(async (s) => (await readHistory(s.historyPath)).find((e) => e.type === 'run.begin')?.data));
  t.like(begins[0], {timeoutMs: 10_000, ownTimeoutMs: 120_000});
  t.like(begins[1], {timeoutMs: 8000});
  t.false('ownTimeoutMs' in (begins[1] ?? {}), 'a timeout already within --timeout is the file\'s own');

  // The cap loosens none of the file's checks: a sleep longer than the file's own timeout is still refused.
  const tooLong = await scenarioFile(dir, 'too-long.yaml', 'name: too long\npeers: 1\ntimeout: 5s\nsteps:\n  - start: all\n  - sleep: 10s\n');
  const refused = await peerlab(['run', tooLong, '--timeout', '1m', '--out', path.join(dir, 'refused')]);
  t.is(refused.exitCode, 2, refused.all);
  t.regex(refused.all, /too-long\.yaml:6:\d+: steps\[1\]\.sleep: 10s is longer than the scenario's timeout, 5s/);

  for (const [value, reason] of [['4', 'expected a duration such as 90s or 5m'], ['500ms', 'expected a duration from 1s to 1440m, got 500ms'], ['25h', 'expected a duration such as 90s or 5m'], ['1441m', 'expected a duration from 1s to 1440m, got 1441m']] as const) {
    const bad = await peerlab(['run', file, '--timeout', value, '--out', path.join(dir, 'bad')]);
    t.is(bad.exitCode, 2, value);
    t.true(bad.all.includes(`option '--timeout <duration>' argument '${value}' is invalid. ${reason}`), bad.all.slice(0, 300));
  }
  await t.throwsAsync(readdir(path.join(dir, 'bad')), undefined, 'no run began');
});

test.serial('an await cut by the timeout records the state it was in, in the words the full check gives', async (t) => {
  // charly hears nobody and nobody hears it, so the group never converges and the timeout cuts the await.
  const dir = await workDir(t);
  const out = path.join(dir, 'runs');
  const file = await scenarioFile(dir, 'cut.yaml', ['name: cut while waiting', 'peers: [alice, bob, charly]', 'peer_args: {charly: [--bug, deaf]}', 'timeout: 6m', 'steps:', '  - start: all', '  - await: converged', '    within: 5m', ''].join('\n'));
  const run = await peerlab(['run', file, '--timeout', '8s', '--out', out]);
  t.is(run.exitCode, 1, run.all);
  const result = await onlyResult(out);
  t.like(result.steps[1], {kind: 'await', status: 'fail', message: "the run's --timeout of 8000 ms (the scenario's own is 360000 ms) ran out"});
  const history = await readHistory(result.historyPath);
  const endAt = history.findIndex((e) => e.type === 'await.end');
  const begin = history.find((e) => e.type === 'await.begin')!;
  const end = history[endAt]!;
  // Recorded from the engine's own tracker, not a replay: the same verdict a replay of the same prefix gives.
  const replayed = converged(history.slice(0, endAt), {from: begin.t, at: end.t});
  t.like(end.data, {status: 'fail', message: replayed.message});
  t.regex(replayed.message, /^alice sees \[alice, bob\] but the live set is \[alice, bob, charly\]: lacks charly \(alice has not seen it\)/);
  const check = await peerlab(['check', result.historyPath]);
  t.regex(check.all, /same verdict as recorded in result\.json: fail/);
});

test('YAML mistakes stop the run before any peer starts, exit 2', async (t) => {
  const dir = await workDir(t);
  const file = await scenarioFile(dir, 'bad.yaml', 'name: bad\npeers: [alice]\nsteps:\n  - start: all\n  - kill: bob\n');
  const out = path.join(dir, 'runs');
  const run = await peerlab(['run', file, '--out', out]);
  t.is(run.exitCode, 2);
  t.regex(run.all, /bad\.yaml:5:11: steps\[1\]\.kill: unknown peer "bob"/);
  t.regex(run.all, /nothing was run/);
  await t.throwsAsync(readdir(out), undefined, 'no run folder was created');
});

test.serial('--bail stops at the first scenario that does not pass', async (t) => {
  const dir = await workDir(t);
  const file = await scenarioFile(dir, 'bail.yaml', `- name: fails fast
  peers: [solo]
  steps:
    - start: all
    - await: {state: {of: solo, is: dead, seen_by: [solo]}}
      within: 200ms
- name: would pass
  peers: 1
  steps:
    - start: all
`);
  const count = async (args: string[]) => {
    const out = path.join(dir, `out-${args.length}`);
    const run = await peerlab(['run', file, '--reporter', 'json', '--out', out, ...args]);
    t.is(run.exitCode, 1, run.all);
    return (JSON.parse(await readFile(path.join(out, 'results.json'), 'utf8')) as RunResult).scenarios.length;
  };
  t.is(await count(['--bail']), 1);
  t.is(await count([]), 2);
});

test.serial('peers_per_process runs several peers, each with its own sockets and agent, in one process', async (t) => {
  const dir = await workDir(t);
  const out = path.join(dir, 'runs');
  const file = await scenarioFile(dir, 'hosts.yaml', `name: six peers in two processes
peers: 6
peers_per_process: 3
invariants: [no-duplicate-delivery]
steps:
  - start: all
  - await: converged
    within: 8s
  - on: alice
    run: send hello from a shared process
  - await: delivered
    within: 3s
  - restart: bob
  - await: {rejoined: bob}
    within: 8s
  - await: converged
    within: 8s
`);
  const run = await peerlab(['run', file, '--out', out]);
  t.is(run.exitCode, 0, run.all);
  const result = await onlyResult(out);
  const history = (await readFile(result.historyPath, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as {type: string; data: {peer?: string; pid?: number}});
  const spawns = history.filter((e) => e.type === 'peer.spawn');
  const firstPids = new Set(spawns.slice(0, 6).map((e) => e.data.pid));
  t.is(firstPids.size, 2, 'six peers, two processes');
  const addresses = new Set(history.filter((e) => e.type === 'member.joined').map((e) => (e.data as {address?: string}).address));
  t.true(addresses.size >= 6, 'each peer has its own socket');
});
