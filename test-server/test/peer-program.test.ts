/**
 * A peer is a command: the program named by --peer, a scenario's peer: key or
 * the config file (that order), run directly by the fleet. Shown with real
 * processes: a shell script that execs the reference peer (not Node itself,
 * and exec keeps the pid, so the fleet's signals reach the real peer), a
 * script whose --describe-commands answers as told, and every mistake
 * stopping the command, located, with exit 2, before any peer starts.
 */
import test from 'ava';
import {execa} from 'execa';
import {readFileSync} from 'node:fs';
import {access, readFile, readdir, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseConfigText, ConfigError, findConfigFile} from '../src/peer-program/config-file.js';
import {peerFlag} from '../src/cli/peer-choice.js';
import {defaultPeerBin} from '../src/peer-program/reference.js';
import {checkPeerProgram} from '../src/peer-program/peer-commands.js';
import {loadScenarios, ScenarioLoadError} from '../src/scenario/load.js';
import type {PeerProgram} from '../src/peer-program/program.js';
import {call, isAlive, scenarioProblems, startCoordinator, tempDir, until} from './support.js';
import {bin, describes, execPeer, fixtures, node, peerlab} from './foreign-peer.js';

const peerFile = defaultPeerBin();

/** The exec-peer fixture under a label, as a command (for YAML flow lists and --peer alike). */
function labelled(label: string): string[] {
  return [execPeer, label, node, peerFile];
}

const yamlList = (words: readonly string[]) => `[${words.map((w) => JSON.stringify(w)).join(', ')}]`;

/** The state letter of /proc/<pid>/stat: T when stopped. */
function procState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}

async function absent(file: string): Promise<boolean> {
  return access(file).then(() => false, () => true);
}

/** The log of the one peer of the one run under `out`. */
async function runLog(out: string, name: string): Promise<string> {
  const [runId] = (await readdir(out)).filter((f) => !f.includes('.'));
  return readFile(path.join(out, runId!, 'logs', `${name}.log`), 'utf8');
}

const converge = (extra = '') => `name: one peer of a given program
peers: [alice]
${extra}steps:
  - start: all
  - await: converged
    within: 10s
`;

// --- the three places, read and checked -------------------------------------------------

test('--peer is split into words without a shell: quotes and backslashes only', (t) => {
  t.deepEqual(peerFlag('python3 "my peer.py" --fast'), ['python3', 'my peer.py', '--fast']);
  t.deepEqual(peerFlag(String.raw`./peer 'a b' c\ d`), ['./peer', 'a b', 'c d']);
  // What a shell would expand or act on is passed on as written.
  t.deepEqual(peerFlag('./peer $HOME *.yaml ; rm -rf x | y'), ['./peer', '$HOME', '*.yaml', ';', 'rm', '-rf', 'x', '|', 'y']);
  t.throws(() => peerFlag('./peer "unterminated'), {message: /unterminated " quote/});
  t.throws(() => peerFlag('   '), {message: /expected a command line/});
});

test('a config file is read with its peer program; its cwd is from its own folder', (t) => {
  const config = parseConfigText('peer:\n  command: [./my-peer, --fast]\n  cwd: bin\n  env: {LEVEL: 3, DEBUG: true}\n', '/project/peerlab.config.yaml');
  t.deepEqual(config.peer, {command: ['./my-peer', '--fast'], cwd: '/project/bin', env: {LEVEL: '3', DEBUG: 'true'}, origin: '/project/peerlab.config.yaml'});
  t.deepEqual(config.position(['peer', 'command']), {line: 2, column: 12});
  t.is(parseConfigText('', '/p/peerlab.config.yaml').peer, undefined, 'an empty file configures nothing');
  t.is(parseConfigText('peer: {command: [x]}\n', '/p/peerlab.config.yaml').peer?.cwd, '/p', 'cwd defaults to the file\'s folder');
});

const badConfigs: Array<{title: string; yaml: string; line: number; column: number; field: string; message: RegExp}> = [
  {title: 'no command', yaml: 'peer:\n  cwd: x\n', line: 2, column: 3, field: 'peer.command', message: /expected a list/},
  {title: 'an empty command', yaml: 'peer:\n  command: []\n', line: 2, column: 12, field: 'peer.command', message: /at least the program/},
  {title: 'a command as a string', yaml: 'peer:\n  command: ./my-peer --fast\n', line: 2, column: 12, field: 'peer.command', message: /expected a list: the program, then its own arguments/},
  {title: 'an empty word', yaml: 'peer:\n  command: [./p, ""]\n', line: 2, column: 18, field: 'peer.command[1]', message: /non-empty word/},
  {title: 'a misspelt key', yaml: 'peer:\n  comand: [./p]\n', line: 2, column: 3, field: 'peer.comand', message: /unknown field "comand"; expected one of: command, cwd, env/},
  {title: 'an unknown top-level key', yaml: 'peer: {command: [./p]}\npeers: 3\n', line: 2, column: 1, field: 'peers', message: /unknown field "peers"; expected one of: peer/},
  {title: 'a PEERLAB_ variable', yaml: 'peer:\n  command: [./p]\n  env:\n    PEERLAB_TOKEN: x\n', line: 4, column: 20, field: 'peer.env.PEERLAB_TOKEN', message: /set by the fleet/},
  {title: 'a variable of a list', yaml: 'peer:\n  command: [./p]\n  env: {A: [1]}\n', line: 3, column: 12, field: 'peer.env.A', message: /expected a string, a number or true\/false/},
  {title: 'not a mapping', yaml: '- peer\n', line: 1, column: 1, field: '', message: /expected a mapping/},
  {title: 'bad YAML', yaml: 'peer: {command: [./p]\n', line: 2, column: 1, field: '', message: /^YAML: /},
];

for (const c of badConfigs) {
  test(`config file: ${c.title} is a located problem`, (t) => {
    const error = t.throws(() => parseConfigText(c.yaml, 'peerlab.config.yaml'), {instanceOf: ConfigError}) as ConfigError;
    // A misspelt key is two problems: the key unknown, and the one it meant missing.
    const problem = error.problems.find((p) => p.field === c.field);
    t.like(problem, {file: 'peerlab.config.yaml', line: c.line, column: c.column, field: c.field}, error.message);
    t.regex(problem?.message ?? '', c.message, error.message);
  });
}

test('the config file is the nearest one from the current folder up', async (t) => {
  const dir = await tempDir(t, 'peerlab-config-');
  await writeFile(path.join(dir, 'peerlab.config.yaml'), 'peer: {command: [x]}\n');
  await execa('mkdir', ['-p', path.join(dir, 'a', 'b')]);
  t.is(await findConfigFile(path.join(dir, 'a', 'b')), path.join(dir, 'peerlab.config.yaml'));
  await writeFile(path.join(dir, 'a', 'peerlab.config.yaml'), 'peer: {command: [y]}\n');
  t.is(await findConfigFile(path.join(dir, 'a', 'b')), path.join(dir, 'a', 'peerlab.config.yaml'));
});

test('a scenario\'s peer: key is validated like the rest of the scenario', async (t) => {
  const problems = await scenarioProblems('name: x\npeers: [alice]\npeer:\n  command: ./p\n  cwd: 3\nsteps:\n  - start: all\n');
  t.like(problems.find((p) => p.field === 'peer.command'), {line: 4, column: 12, message: 'expected a list: the program, then its own arguments, e.g. [python3, peer.py]'});
  t.like(problems.find((p) => p.field === 'peer.cwd'), {line: 5, column: 8, message: 'expected a folder'});
});

test('programs are checked before anything runs: missing, not executable, failing or wrong --describe-commands', async (t) => {
  const program = (command: string[], cwd = fixtures): PeerProgram => ({command, cwd, env: {}, origin: 'test'});
  t.like(await checkPeerProgram(program(['./nope'])), {ok: false, message: `program ./nope (${path.join(fixtures, 'nope')}): not found`});
  t.like(await checkPeerProgram(program(['no-such-peer-program'])), {ok: false, message: 'program no-such-peer-program: not found on PATH; name it by a path (./no-such-peer-program) if it is in cwd'});
  t.regex((await checkPeerProgram(program(['./not-executable.sh'])) as {message: string}).message, /not-executable\.sh\): not executable/);
  t.regex((await checkPeerProgram(program(['./'])) as {message: string}).message, /: not a file/);
  t.like(await checkPeerProgram(program(['x'], path.join(fixtures, 'nowhere'))), {ok: false, message: `cwd ${path.join(fixtures, 'nowhere')}: not a folder`});
  t.regex((await checkPeerProgram(program(['./describes.sh', 'fails'])) as {message: string}).message, /describes\.sh fails --describe-commands failed \(exit code 5\): describe: broken on purpose/);
  t.regex((await checkPeerProgram(program(['./describes.sh', 'not-json'])) as {message: string}).message, /did not print JSON/);
  t.regex((await checkPeerProgram(program(['./describes.sh', 'bad-specs'])) as {message: string}).message, /printed a description that is not valid: commands\[0\]\.args\[0\]\.type: expected string\|integer\|number\|boolean\|enum, got "colour"/);
  const ok = await checkPeerProgram(program(['./describes.sh', 'ping-only']));
  t.deepEqual(ok.ok ? ok.specs.map((s) => s.name) : ok, ['ping']);
});

test('run lines are checked against the commands of the program the scenario runs', async (t) => {
  const dir = await tempDir(t, 'peerlab-runlines-');
  const file = path.join(dir, 'ping.yaml');
  const relative = path.relative(dir, fixtures);
  const own = `peer:\n  command: [./describes.sh, ping-only]\n  cwd: ${relative}\n`;
  await writeFile(file, `name: ping only\npeers: [alice]\n${own}steps:\n  - start: all\n  - on: alice\n    run: ping\n  - on: alice\n    run: send hi\n`);
  const programs = {choose: (p: PeerProgram | undefined) => p ?? {command: [node, peerFile], cwd: dir, env: {}, origin: 'the reference peer'}, check: checkPeerProgram};
  const error = await t.throwsAsync(loadScenarios([file], programs), {instanceOf: ScenarioLoadError});
  t.is(error.problems.length, 1, error.message);
  t.like(error.problems[0], {file, line: 11, column: 10, field: 'steps[2].run'});
  t.regex(error.problems[0]!.message, /unknown command "send"; the peer program \(\.\/describes\.sh ping-only\) offers: ping$/);
  // Without the scenario's key, the reference peer's commands apply, and send is one of them.
  await writeFile(file, `name: reference\npeers: [alice]\nsteps:\n  - start: all\n  - on: alice\n    run: send hi\n`);
  const [scenario] = await loadScenarios([file], programs);
  t.deepEqual(scenario!.peer?.command, [node, peerFile]);
});

// --- the command line: located problems, exit 2, nothing started ----------------------

test('peerlab run: a bad program in any of the three places exits 2, located, before any peer starts', async (t) => {
  const dir = await tempDir(t, 'peerlab-badpeer-');
  const out = path.join(dir, 'runs');
  const scenario = path.join(dir, 's.yaml');
  await writeFile(scenario, converge());

  const flag = await peerlab(['run', scenario, '--out', out, '--peer', './nope --x'], dir);
  t.is(flag.exitCode, 2, flag.all);
  t.regex(flag.all, new RegExp(`peerlab run: --peer: program ./nope \\(${path.join(dir, 'nope')}\\): not found`));
  t.regex(flag.all, /nothing was run/);

  const config = path.join(dir, 'peerlab.config.yaml');
  await writeFile(config, `# the project's peer\npeer:\n  command: [${JSON.stringify(describes)}, fails]\n`);
  const fromConfig = await peerlab(['run', scenario, '--out', out], dir);
  t.is(fromConfig.exitCode, 2, fromConfig.all);
  t.regex(fromConfig.all, new RegExp(`^${config}:3:12: peer.command: .*describes\\.sh fails --describe-commands failed \\(exit code 5\\): describe: broken on purpose`, 'm'));

  await writeFile(config, 'peer:\n  command: [./p]\n  cwdd: x\n');
  const badConfig = await peerlab(['run', scenario, '--out', out], dir);
  t.is(badConfig.exitCode, 2, badConfig.all);
  t.regex(badConfig.all, new RegExp(`^${config}:3:3: peer.cwdd: unknown field "cwdd"`, 'm'));

  const other = path.join(dir, 'other.yaml');
  await writeFile(other, `peer: {command: [${JSON.stringify(describes)}, not-json]}\n`);
  const named = await peerlab(['run', scenario, '--out', out, '--config', other], dir);
  t.is(named.exitCode, 2, named.all);
  t.regex(named.all, new RegExp(`^${other}:1:17: peer.command: .*did not print JSON`, 'm'));
  const missingConfig = await peerlab(['run', scenario, '--out', out, '--config', path.join(dir, 'none.yaml')], dir);
  t.is(missingConfig.exitCode, 2, missingConfig.all);
  t.regex(missingConfig.all, /none\.yaml:1:1: cannot read/);

  await writeFile(config, '');
  await writeFile(scenario, converge(`peer:\n  command: [./not-executable.sh]\n  cwd: ${path.relative(dir, fixtures)}\n`));
  const own = await peerlab(['run', scenario, '--out', out], dir);
  t.is(own.exitCode, 2, own.all);
  t.regex(own.all, new RegExp(`^${scenario}:4:12: peer.command: program ./not-executable.sh .*: not executable`, 'm'));
  t.regex(own.all, /1 problem in the scenarios; nothing was run/);

  t.true(await absent(out), 'no run folder: no peer started');
});

test('peerlab up: a program that cannot run exits 2 before the coordinator starts', async (t) => {
  const dir = await tempDir(t, 'peerlab-badup-');
  const up = await peerlab(['up', '--peers', '1', '--serve', '--logs', path.join(dir, 'logs'), '--peer', `${describes} fails`], dir, 30_000);
  t.is(up.exitCode, 2, up.all);
  t.regex(up.all, /peerlab up: --peer: .*describes\.sh fails --describe-commands failed \(exit code 5\)/);
  t.notRegex(up.all, /peerlab coordinator on/);
  t.true(await absent(path.join(dir, 'logs')));
  const bad = await peerlab(['up', '--peer', 'x "y'], dir, 30_000);
  t.is(bad.exitCode, 2, bad.all);
  t.regex(bad.all, /--peer <command line>.*unterminated " quote/);
});

// --- real peers of another program ------------------------------------------------------

test.serial('precedence: --peer over the scenario\'s peer: over the config file over the reference peer', async (t) => {
  t.timeout(120_000);
  const dir = await tempDir(t, 'peerlab-precedence-');
  const scenario = path.join(dir, 's.yaml');
  const run = async (name: string, args: string[] = []) => {
    const out = path.join(dir, name);
    const result = await peerlab(['run', scenario, '--out', out, ...args], dir);
    t.is(result.exitCode, 0, result.all);
    return runLog(out, 'alice');
  };
  await writeFile(scenario, converge());
  t.notRegex(await run('reference'), /peer program:/, 'no program named: the reference peer itself');

  await writeFile(path.join(dir, 'peerlab.config.yaml'), `peer:\n  command: ${yamlList(labelled('config'))}\n`);
  t.regex(await run('config'), /peer program: config \(pid \d+\)/);

  await writeFile(scenario, converge(`peer:\n  command: ${yamlList(labelled('scenario'))}\n`));
  t.regex(await run('scenario'), /peer program: scenario \(pid \d+\)/);

  const flagged = await run('flag', ['--peer', labelled('flag').join(' ')]);
  t.regex(flagged, /peer program: flag \(pid \d+\)/);
  t.notRegex(flagged, /peer program: (scenario|config)/);
});

test.serial('the fleet runs the program itself: the hello\'s pid is the spawned one, and kill, pause, resume, restart and REST spawns reach it', async (t) => {
  t.timeout(60_000);
  const coordinator = await startCoordinator(t, {peer: {command: labelled('direct'), cwd: fixtures, env: {PEER_GREETING: 'hi'}, origin: 'test'}});
  const [host] = await coordinator.spawn(['alice']);
  const pid = host!.pid!;
  t.is(coordinator.hub.get('alice')?.pid, pid, 'registered by the spawned process itself, not a child of it');
  t.regex(await readFile(coordinator.runner.logFile('alice'), 'utf8'), new RegExp(`peer program: direct \\(pid ${pid}\\)`));

  await coordinator.runner.pause('alice');
  await until(() => procState(pid) === 'T', 5000, 'alice stopped (state T)');
  await coordinator.runner.resume('alice');
  await until(() => procState(pid) !== 'T', 5000, 'alice running again');
  const members = await coordinator.hub.command('alice', 'members', {});
  t.true(members.ok, JSON.stringify(members));

  const next = await coordinator.runner.restart('alice');
  await until(() => coordinator.hub.get('alice')?.pid === next.pid, 15_000, 'the restarted alice registered');
  t.not(next.pid, pid);
  await until(() => !isAlive(pid), 5000, 'the first alice is gone');
  t.is(host!.exit?.signal, 'SIGKILL');

  const spawned = await call(coordinator.url, 'POST', '/api/peers', {json: {names: ['bob']}});
  t.is(spawned.status, 201, JSON.stringify(spawned.body));
  const bob = coordinator.runner.get('bob')!;
  t.is(coordinator.hub.get('bob')?.pid, bob.pid);
  t.regex(await readFile(coordinator.runner.logFile('bob'), 'utf8'), new RegExp(`peer program: direct \\(pid ${bob.pid}\\)`));

  const exit = await coordinator.runner.kill('bob');
  t.is(exit.signal, 'SIGKILL');
  t.false(isAlive(bob.pid!));
});

test.serial('peerlab up: --peer over the config file, for the first peers and for those spawned over REST', async (t) => {
  t.timeout(60_000);
  const dir = await tempDir(t, 'peerlab-up-peer-');
  await writeFile(path.join(dir, 'peerlab.config.yaml'), `peer:\n  command: ${yamlList(labelled('config'))}\n`);
  const run = async (args: string[], label: string) => {
    const logs = path.join(dir, `logs-${label}`);
    const up = execa(node, [bin, 'up', '--peers', '1', '--serve', '--logs', logs, ...args], {cwd: dir, reject: false, all: true});
    let output = '';
    up.all!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      const url = await until(() => /peerlab coordinator on (\S+)/.exec(output)?.[1], 20_000, 'the coordinator\'s address');
      await until(() => /1 peers registered/.test(output) || /warning/.test(output), 20_000, 'the peer registered');
      const spawned = await call(url, 'POST', '/api/peers', {json: {names: ['zed']}});
      t.is(spawned.status, 201, JSON.stringify(spawned.body));
      const rows = (await call(url, 'GET', '/api/peers')).body as {peers: Array<{name: string; pid: number}>};
      for (const row of rows.peers) t.regex(await readFile(path.join(logs, `${row.name}.log`), 'utf8'), new RegExp(`peer program: ${label} \\(pid ${row.pid}\\)`), row.name);
    } finally {
      up.kill('SIGTERM');
    }
    const result = await up;
    t.is(result.exitCode, 143, output);
  };
  await run([], 'config');
  await run(['--peer', labelled('flag').join(' ')], 'flag');
});

test.serial('a program the fleet started exits when its coordinator is killed: it is the direct child PEERLAB_PARENT_PID names', async (t) => {
  t.timeout(60_000);
  const logs = await tempDir(t, 'peerlab-foreign-orphans-');
  const fixture = fileURLToPath(new URL('./fixtures/coordinator-process.js', import.meta.url));
  // A long grace period: only the parent watch can end the peers in time.
  const child = execa(node, [fixture, '--grace', '60000', '--peers', '2', '--logs', logs, '--peer', JSON.stringify(labelled('orphan'))], {reject: false, all: true, buffer: false});
  let output = '';
  child.all!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let pids: number[] = [];
  t.teardown(async () => {
    child.kill('SIGKILL');
    await child;
    for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  });
  pids = await until(() => (JSON.parse(/\{"pids":.*\}/.exec(output)?.[0] ?? 'null') as {pids: number[]} | null)?.pids, 20_000, 'the peers\' pids');
  t.is(pids.length, 2);
  for (const [i, pid] of pids.entries()) t.regex(await readFile(path.join(logs, `${['alice', 'bob'][i]}.log`), 'utf8'), new RegExp(`peer program: orphan \\(pid ${pid}\\)`));
  child.kill('SIGKILL');
  await child;
  await until(() => pids.every((pid) => !isAlive(pid)), 5000, 'every peer gone after its coordinator');
  t.regex(await readFile(path.join(logs, 'alice.log'), 'utf8'), /parent \d+ is gone; exiting/, 'the parent watch ended it, not the grace period');
});
