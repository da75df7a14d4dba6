/**
 * Runners from the outside: a scenario that needs what the chosen runner
 * cannot do is refused by the real loader, located, before anything starts;
 * `--runner` takes only the kinds peerlab knows, and a known kind this build
 * lacks says so with exit 2; `peerlab down <run-id>` reaps the peers a
 * SIGKILLed coordinator left, long before their grace period would end them.
 */
import test from 'ava';
import {spawn} from 'node:child_process';
import {writeFile} from 'node:fs/promises';
import path from 'node:path';
import {createInterface} from 'node:readline';
import {loadScenarios, ScenarioLoadError, formatProblem} from '../src/scenario/load.js';
import type {RunnerTraits} from '../src/runners/limits.js';
import type {FaultsChoice} from '../src/faults/choose.js';
import {bin, fixtures, node, peerlab} from './foreign-peer.js';
import {call, isAlive, pidsAlive, tempDir, until} from './support.js';

/** A runner declared here with the real shape of its limits: what a remote engine may lack. */
const paper: RunnerTraits = {
  kind: 'paper',
  limits: {
    pause: 'this engine has no way to freeze a process',
    signals: 'this engine stops peers only gracefully',
    peersPerProcess: 'this engine runs one peer per container',
    kernelFaults: 'its peers do not share this machine\'s loopback',
  },
};
const local: RunnerTraits = {kind: 'local', limits: {}};
/** This machine as the loader asks it: kernel faults could run here. */
const kernelHere: FaultsChoice = {kernel: () => ({ok: true, nft: '/usr/sbin/nft'})};

async function problems(t: import('ava').ExecutionContext, yaml: string, runner: RunnerTraits, faults?: FaultsChoice): Promise<string[]> {
  const dir = await tempDir(t, 'peerlab-runner-limits-');
  const file = path.join(dir, 'needs.yaml');
  await writeFile(file, yaml);
  try {
    await loadScenarios([file], [], faults, runner);
    return [];
  } catch (error) {
    if (!(error instanceof ScenarioLoadError)) throw error;
    return error.problems.map((p) => formatProblem({...p, file: path.basename(p.file)}));
  }
}

const PAUSING = `name: pauses
peers: [alice, bob]
steps:
  - start: all
  - pause: bob
  - resume: bob
`;

test('a pause step is refused at load time, located, for a runner that cannot pause; the local runner loads it', async (t) => {
  t.deepEqual(await problems(t, PAUSING, local), []);
  t.deepEqual(await problems(t, PAUSING, paper), [
    'needs.yaml:5:12: steps[1].pause: the paper runner cannot pause: this engine has no way to freeze a process',
    'needs.yaml:6:13: steps[2].resume: the paper runner cannot pause: this engine has no way to freeze a process',
  ]);
});

test('a nemesis pause, a kill, several peers per process and kernel faults are refused where the scenario asks for them', async (t) => {
  const yaml = `name: asks much
peers: [alice, bob, charly]
peers_per_process: 3
faults: kernel
timeout: 30s
nemesis:
  every: 1s
  for: 2s
  faults:
    - pause: random
      recover_after: 500ms
steps:
  - start: all
  - kill: alice
  - wait: nemesis
`;
  t.deepEqual(await problems(t, yaml, local, kernelHere), [
    'needs.yaml:3:20: peers_per_process: kernel faults tell peers apart by their addresses, and 3 peers in one process share one; use 1 (the default), or --faults peer',
  ]);
  const found = await problems(t, yaml, paper, kernelHere);
  t.true(found.includes('needs.yaml:10:14: nemesis.faults[0].pause: the paper runner cannot pause: this engine has no way to freeze a process'), found.join('\n'));
  t.true(found.includes('needs.yaml:14:11: steps[1].kill: the paper runner cannot kill a peer hard, without its goodbye: this engine stops peers only gracefully'), found.join('\n'));
  t.true(found.includes('needs.yaml:3:20: peers_per_process: the paper runner cannot run 3 peers in one process: this engine runs one peer per container'), found.join('\n'));
  t.true(found.includes("needs.yaml:4:9: faults: the paper runner cannot make kernel faults: its peers do not share this machine's loopback"), found.join('\n'));
});

test('--runner takes only the kinds peerlab knows, and a runner without what it needs stops before anything starts, exit 2', async (t) => {
  const dir = await tempDir(t, 'peerlab-runner-flag-');
  const bogus = await peerlab(['run', '--runner', 'bogus'], dir);
  t.is(bogus.exitCode, 2, bogus.all);
  t.regex(bogus.all ?? '', /--runner <kind>.*expected one of local, swarm, kubernetes/);
  const bogusUp = await peerlab(['up', '--runner', 'bogus'], dir);
  t.is(bogusUp.exitCode, 2, bogusUp.all);
  // The config file's runner: is read the same way, and its refusal points into the file.
  await writeFile(path.join(dir, 'peerlab.config.yaml'), 'faults: peer\nrunner: kubernetes\n');
  const configured = await peerlab(['up', '--serve'], dir);
  t.is(configured.exitCode, 2, configured.all);
  t.regex(configured.all ?? '', /peerlab\.config\.yaml:2:9: runner: the kubernetes runner needs --image/);
  // The flag comes first: with --runner local the same folder gets as far as its scenarios (here: none to read).
  const overridden = await peerlab(['run', '--runner', 'local', 'missing.yaml'], dir);
  t.is(overridden.exitCode, 2, overridden.all);
  t.regex(overridden.all ?? '', /missing\.yaml:1:1: cannot read/);
  t.notRegex(overridden.all ?? '', /kubernetes/);
  await writeFile(path.join(dir, 'peerlab.config.yaml'), 'runner: bogus\n');
  const wrong = await peerlab(['up', '--serve'], dir);
  t.is(wrong.exitCode, 2, wrong.all);
  t.regex(wrong.all ?? '', /peerlab\.config\.yaml:1:9: runner: /);
});

test.serial('peerlab down <run-id> reaps at once the peers a SIGKILLed coordinator left, long before their grace period ends', async (t) => {
  const dir = await tempDir(t, 'peerlab-down-');
  // A peer without the parent watch: only its ten-minute grace period would end it.
  const peer = `${node} ${path.join(fixtures, 'toy-peer.mjs')} no-parent-watch`;
  const child = spawn(node, [bin, 'up', '--serve', '--peers', '2', '--grace', '600000', '--faults', 'peer', '--peer', peer, '--logs', path.join(dir, 'run')], {cwd: dir, stdio: ['ignore', 'pipe', 'pipe']});
  const lines: string[] = [];
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  createInterface({input: child.stdout}).on('line', (line) => lines.push(line));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let pids: number[] = [];
  t.teardown(async () => {
    child.kill('SIGKILL');
    await exited;
    // Whatever the test saw, nothing stays: these pids are the peers it started.
    for (const pid of pids.filter(isAlive)) process.kill(pid, 'SIGKILL');
  });
  const seen = (re: RegExp): RegExpExecArray | undefined => {
    if (child.exitCode !== null) throw new Error(`peerlab up exited: ${stderr}`);
    return lines.map((l) => re.exec(l)).find((m) => m !== null) ?? undefined;
  };
  const started = await until(() => seen(/^peerlab coordinator on (\S+) \(run (\S+)\)/), 30_000, 'the coordinator line');
  const [url, runId] = [started[1]!, started[2]!];
  await until(() => seen(/^2 peers registered/), 30_000, 'both peers registered');
  const listed = await call(url, 'GET', '/api/peers');
  pids = (listed.body as {peers: Array<{pid: number}>}).peers.map((p) => p.pid);
  t.is(pids.length, 2);

  child.kill('SIGKILL');
  await exited;
  // Past the parent watch's 250 ms, with margin: without down, these peers would live for ten minutes.
  t.deepEqual(await pidsAlive(pids, 1000), pids, 'the peers outlive their coordinator');

  const other = await peerlab(['down', `${runId}-not-this-one`], dir);
  t.is(other.exitCode, 0, other.all);
  t.regex(other.stdout, /^nothing left of run \S+-not-this-one$/m);
  t.deepEqual(pids.filter(isAlive), pids, 'another run id reaps none of them');

  const down = await peerlab(['down', runId], dir);
  t.is(down.exitCode, 0, down.all);
  t.deepEqual(pids.filter(isAlive), [], `peers alive right after peerlab down: ${down.all}`);
  for (const pid of pids) t.regex(down.stdout, new RegExp(`^removed process ${pid} of run ${runId} \\(peer \\S+\\)$`, 'm'));
  t.regex(down.stdout, new RegExp(`^2 removed of run ${runId}$`, 'm'));

  const again = await peerlab(['down', runId], dir);
  t.is(again.exitCode, 0, again.all);
  t.regex(again.stdout, new RegExp(`^nothing left of run ${runId}$`, 'm'));
});
