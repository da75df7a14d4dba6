/**
 * `peerlab conform`, run as a CLI against real peer programs: the reference
 * peer and a conforming toy peer pass every check; a peer with no commands
 * has the checks that need one skipped, with the reason; each deliberate
 * defect of the toy peer (fixtures/peers/toy-peer.mjs) fails its check with
 * a reason that names the rule, and exit 1; bad input is exit 2; and no peer
 * outlives its check, nor conform itself when it is stopped mid-check.
 */
import test from 'ava';
import type {ExecutionContext} from 'ava';
import {execa} from 'execa';
import {readFile, readdir, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {CHECK_NAMES} from '../src/conform/checks.js';
import type {Summary} from '../src/conform/render.js';
import {bin, describes, fixtures, node, peerlab, root} from './foreign-peer.js';
import {isAlive, pidsAlive, tempDir, until} from './support.js';

const toy = path.join(fixtures, 'toy-peer.mjs');
const toyPeer = (mode: string) => `${node} ${toy} ${mode}`;

/** The pids (and their parents) every toy peer under `dir` logged at its start. */
async function toyPids(dir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir(dir, {recursive: true})) {
    if (!entry.endsWith('.log')) continue;
    const text = await readFile(path.join(dir, entry), 'utf8');
    for (const m of text.matchAll(/toy peer \([\w-]+\) pid (\d+) parent (\d+)/g)) pids.push(Number(m[1]), Number(m[2]));
  }
  return pids.filter((pid) => pid !== process.pid);
}

async function conformJson(t: ExecutionContext, args: string[]) {
  const logs = await tempDir(t, 'peerlab-conform-test-');
  const result = await peerlab(['conform', '--json', '--logs', logs, ...args], root);
  let summary: Summary | undefined;
  try {
    summary = JSON.parse(result.stdout) as Summary;
  } catch {
    t.fail(`not JSON: ${result.all}`);
  }
  return {result, summary: summary!, logs};
}

test.serial('the reference peer passes every check: exit 0, a table of them, in well under a minute', async (t) => {
  const started = Date.now();
  const result = await peerlab(['conform'], root);
  const ms = Date.now() - started;
  t.is(result.exitCode, 0, result.all);
  for (const name of CHECK_NAMES) t.regex(result.stdout, new RegExp(`^${name} +pass +\\d+\\.\\d s +§`, 'm'), name);
  t.regex(result.stdout, new RegExp(`^${CHECK_NAMES.length} passed, 0 failed, 0 skipped in `, 'm'));
  t.regex(result.stdout, /peerlab-peer\.mjs/, 'the program is named');
  t.true(ms < 40_000, `took ${ms} ms`);
  t.log(`reference peer: ${ms} ms`);
});

test.serial('a conforming peer in another shape passes every check; the JSON lists each with its section and time', async (t) => {
  const {result, summary, logs} = await conformJson(t, ['--peer', toyPeer('good')]);
  t.is(result.exitCode, 0, result.all);
  t.true(summary.ok);
  t.deepEqual(summary.checks.map((c) => c.name), CHECK_NAMES);
  for (const c of summary.checks) {
    t.is(c.status, 'pass', `${c.name}: ${c.reasons.join('; ')}`);
    t.regex(c.section, /^§\d/);
    t.true(c.ms >= 0 && c.ms < 30_000);
  }
  t.deepEqual(await pidsAlive(await toyPids(logs), 2000), [], 'no peer left running');
});

test.serial('a check that cannot apply skips with its reason, and a skip is not a failure', async (t) => {
  const {result, summary} = await conformJson(t, ['--peer', toyPeer('bare'), '--only', 'arguments,commands,events']);
  t.is(result.exitCode, 0, result.all);
  const byName = new Map(summary.checks.map((c) => [c.name, c]));
  t.is(byName.get('arguments')?.status, 'skip');
  t.regex(byName.get('arguments')!.reasons[0]!, /no command with arguments/);
  t.is(byName.get('commands')?.status, 'pass', 'an unknown command is still answered');
  t.true(byName.get('commands')!.notes.some((n) => /a command that succeeds not checked/.test(n)));
  t.is(byName.get('events')?.status, 'pass');
});

const defects: Array<[mode: string, check: string, reason: RegExp]> = [
  ['wrong-pid', 'hello', /hello\.pid is \d+, not the pid of the process the fleet started \(\d+\): a wrapper must exec/],
  ['prints-token', 'hello', /the run token appears in its output/],
  ['stays-unauthorized', 'token-refused', /still running 5 s after its token was refused/],
  ['unknown-ok', 'commands', /answered failed .*expected unknown-command/],
  ['no-validation', 'arguments', /with an unknown argument "conform-bogus": answered ok, expected bad-arguments/],
  ['gapped-seq', 'events', /a gap in its events: expected seq 2, got 3/],
  ['no-resend', 'reconnect', /the unacknowledged events \(seq 1-1\) were not sent again/],
  ['slow-resend', 'reconnect', /the unacknowledged events \(seq 1-1\) were not sent again within 2500 ms of its new hello/],
  ['no-grace', 'grace', /still running \d+ ms after the coordinator went away, with --agent-grace 1000/],
  ['no-parent-watch', 'parent-watch', /still running \d+ ms after its parent died/],
  ['ignores-sigterm', 'sigterm', /still running 3000 ms after SIGTERM/],
];

for (const [mode, check, reason] of defects) {
  test.serial(`a peer that breaks the rule (${mode}) fails ${check} with the reason, exit 1, and leaves nothing running`, async (t) => {
    const {result, summary, logs} = await conformJson(t, ['--peer', toyPeer(mode), '--only', check]);
    t.is(result.exitCode, 1, result.all);
    t.false(summary.ok);
    const [only] = summary.checks;
    t.is(only?.name, check);
    t.is(only?.status, 'fail');
    t.regex(only!.reasons.join('\n'), reason);
    t.is(summary.logs, logs, 'the logs are kept and named');
    t.deepEqual(await pidsAlive(await toyPids(logs), 2000), [], 'no peer left running');
  });
}

test.serial('a program whose --describe-commands fails is a failed check, not bad input', async (t) => {
  const {result, summary} = await conformJson(t, ['--peer', `${describes} fails`, '--only', 'describe']);
  t.is(result.exitCode, 1, result.all);
  t.regex(summary.checks[0]!.reasons[0]!, /--describe-commands failed \(exit code 5\): describe: broken on purpose/);
});

test.serial('bad input is exit 2 with a message that says what to fix, before any check runs', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['--bogus'], /unknown option '--bogus'/],
    [['--peer', './no-such-peer'], /--peer: program \.\/no-such-peer \(.*\): not found/],
    [['--peer', `${fixtures}/not-executable.sh`], /not executable/],
    [['--only', 'hello,nope'], /unknown: nope/],
    [['--peer', toyPeer('good'), '--probe', 'launch-missiles'], /--probe launch-missiles: the peer offers no such command \(it offers status, sleep, say\)/],
    [['--config', '/no/such/peerlab.config.yaml'], /no\/such\/peerlab\.config\.yaml/],
  ];
  for (const [args, message] of cases) {
    const result = await peerlab(['conform', ...args], root);
    t.is(result.exitCode, 2, `${args.join(' ')}: ${result.all}`);
    t.regex(result.stderr, message, args.join(' '));
    t.notRegex(result.stdout, /passed, .* failed/, 'no check ran');
  }
});

test.serial('the config file names the peer, as for run and up; --config names the file', async (t) => {
  const dir = await tempDir(t, 'peerlab-conform-config-');
  await writeFile(path.join(dir, 'peerlab.config.yaml'), `peer:\n  command: [${JSON.stringify(node)}, ${JSON.stringify(toy)}, good]\n`);
  const found = await peerlab(['conform', '--only', 'hello', '--json'], dir);
  t.is(found.exitCode, 0, found.all);
  t.regex((JSON.parse(found.stdout) as Summary).peer, /toy-peer\.mjs good$/);
  const named = await peerlab(['conform', '--only', 'hello', '--json', '--config', path.join(dir, 'peerlab.config.yaml')], root);
  t.is(named.exitCode, 0, named.all);
  t.regex((JSON.parse(named.stdout) as Summary).peer, /toy-peer\.mjs good$/);
});

for (const [mode, check] of [['ignores-sigterm', 'sigterm'], ['no-parent-watch', 'parent-watch']] as const) {
  test.serial(`stopped with SIGTERM in the middle of ${check}, conform leaves no peer running`, async (t) => {
    const logs = await tempDir(t, 'peerlab-conform-stop-');
    const child = execa(node, [bin, 'conform', '--peer', toyPeer(mode), '--only', check, '--logs', logs], {cwd: root, reject: false, all: true});
    t.teardown(() => void child.kill('SIGKILL'));
    // The peer is registered and the check is waiting on it.
    const pids = await until(async () => {
      const text = await readFile(path.join(logs, check, 'logs', 'probe.log'), 'utf8').catch(() => '');
      return /registered/.test(text) ? toyPids(logs) : undefined;
    }, 20_000, 'the peer registered');
    t.true(pids.some(isAlive), 'a peer is running');
    child.kill('SIGTERM');
    const result = await child;
    t.is(result.exitCode, 143, result.all);
    t.regex(result.stderr, /SIGTERM, stopped; peer logs: /);
    t.deepEqual(await pidsAlive(pids, 2000), [], 'every peer and stand-in parent gone');
  });
}
