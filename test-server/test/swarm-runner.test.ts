/**
 * The swarm runner on a real engine: bundled scenarios through `peerlab run
 * --runner swarm`, and a coordinator SIGKILLed mid-run whose containers end
 * within the agents' grace period and whose services `peerlab down` removes.
 * The engine is the private dockerd scripts/test.mjs starts
 * (PEERLAB_TEST_DOCKER_HOST), else DOCKER_HOST's; without one that answers as
 * a swarm manager, every test here is skipped, its title saying why.
 */
import test from 'ava';
import type {ExecutionContext} from 'ava';
import {spawn} from 'node:child_process';
import {readFile, readdir, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {createInterface} from 'node:readline';
import {fileURLToPath} from 'node:url';
import Docker from 'dockerode';
import {execa} from 'execa';
import {tempDir, until} from './support.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const bin = path.join(root, 'test-server', 'bin', 'peerlab.mjs');
const dockerHost = process.env.PEERLAB_TEST_DOCKER_HOST ?? process.env.DOCKER_HOST;
const env = {...process.env, ...(dockerHost ? {DOCKER_HOST: dockerHost} : {})};

/** Why the engine cannot be used here, or undefined when it can. */
async function engineProblem(): Promise<string | undefined> {
  if (!dockerHost) return process.env.PEERLAB_TEST_DOCKER_UNAVAILABLE ?? 'no Docker engine (PEERLAB_TEST_DOCKER_HOST and DOCKER_HOST unset)';
  try {
    const info = (await new Docker().info()) as {Swarm?: {LocalNodeState?: string; ControlAvailable?: boolean}};
    if (info.Swarm?.LocalNodeState !== 'active' || !info.Swarm.ControlAvailable) return `the engine at ${dockerHost} is not a swarm manager`;
  } catch (error) {
    return `the engine at ${dockerHost} does not answer: ${(error as Error).message}`;
  }
  return undefined;
}

// dockerode reads DOCKER_HOST, for the checks below as for the runner in the CLI.
if (dockerHost) process.env.DOCKER_HOST = dockerHost;
const problem = await engineProblem();
function serial(title: string, fn: (t: ExecutionContext) => Promise<void>): void {
  if (problem) test.skip(`${title} (skipped: ${problem})`, () => {});
  else test.serial(title, fn);
}

function peerlab(args: string[], timeout = 300_000) {
  return execa(process.execPath, [bin, ...args], {cwd: root, env, reject: false, all: true, timeout});
}

interface HistoryLine {
  src: string;
  type: string;
  data: Record<string, unknown>;
}

async function histories(out: string): Promise<HistoryLine[][]> {
  const runs = await readdir(out, {withFileTypes: true});
  return Promise.all(
    runs
      .filter((d) => d.isDirectory())
      .map(async (d) => (await readFile(path.join(out, d.name, 'history.jsonl'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as HistoryLine)),
  );
}

async function runScenarios(t: ExecutionContext, file: string, extra: string[] = []): Promise<HistoryLine[][]> {
  const out = await tempDir(t, 'peerlab-swarm-');
  const result = await peerlab(['run', path.join('scenarios', file), '--runner', 'swarm', '--out', out, '--reporter', 'list', ...extra]);
  t.log(result.all?.split('\n').slice(-6).join('\n'));
  t.is(result.exitCode, 0, result.all);
  t.regex(result.all ?? '', / passed, 0 failed, 0 unknown/);
  return histories(out);
}

function types(history: HistoryLine[]): Set<string> {
  return new Set(history.filter((l) => l.src === 'coordinator').map((l) => l.type));
}

async function leftovers(docker: Docker, runId: string): Promise<{services: number; containers: number; running: number; networks: number}> {
  const filters = {label: [`peerlab.run=${runId}`]};
  const [services, containers, networks] = await Promise.all([docker.listServices({filters}), docker.listContainers({all: true, filters}), docker.listNetworks({filters})]);
  return {services: services.length, containers: containers.length, running: containers.filter((c) => c.State === 'running').length, networks: networks.length};
}

// Load-time refusals need no engine: they run everywhere.
test('the swarm runner refuses several peers per process and kernel faults at load time, before anything starts', async (t) => {
  const dir = await tempDir(t, 'peerlab-swarm-limits-');
  const perProcess = await peerlab(['run', '--runner', 'swarm', '--peers-per-process', '2', path.join(root, 'scenarios', '02-three-peer-chat.yaml'), '--out', dir]);
  t.is(perProcess.exitCode, 2, perProcess.all);
  t.regex(perProcess.all ?? '', /--peers-per-process 2: the swarm runner cannot run 2 peers in one process: each peer is a service of its own/);
  const file = path.join(dir, 'kernel.yaml');
  await writeFile(file, '- name: kernel faults\n  peers: 2\n  faults: kernel\n  steps:\n    - start: all\n');
  const kernel = await peerlab(['run', '--runner', 'swarm', file, '--out', dir]);
  t.is(kernel.exitCode, 2, kernel.all);
  t.true((kernel.all ?? '').includes(`${file}:3:11: [0].faults: the swarm runner cannot make kernel faults`), kernel.all);
});

serial('swarm: three peers join and converge', async (t) => {
  const [history] = await runScenarios(t, '01-join-and-converge.yaml', ['--filter', 'three peers']);
  t.truthy(history);
  const spawns = history!.filter((l) => l.type === 'peer.spawn');
  t.deepEqual(spawns.map((l) => l.data.peer).sort(), ['alice', 'bob', 'charly']);
  // A container's pid is its own: the history says none rather than a wrong one.
  t.true(spawns.every((l) => l.data.pid === null));
  // Teardown is graceful: each peer leaves on SIGTERM and exits by itself.
  const exits = history!.filter((l) => l.type === 'peer.exit');
  t.deepEqual(exits.map((l) => [l.data.code, l.data.unexpectedly]), [[0, false], [0, false], [0, false]]);
});

serial('swarm: chat among three peers, in the image --image names', async (t) => {
  // The image the first test made, named as a copy from a registry would be.
  const [made] = await new Docker().listImages({filters: {reference: ['peerlab-peer']}});
  t.truthy(made, 'the reference peer\'s image exists');
  const copy = 'peerlab-test-copy:1';
  await new Docker().getImage(made!.Id).tag({repo: 'peerlab-test-copy', tag: '1'});
  t.teardown(() => new Docker().getImage(copy).remove().catch(() => {}));
  const since = Math.floor(Date.now() / 1000);
  const [history] = await runScenarios(t, '02-three-peer-chat.yaml', ['--image', copy]);
  t.true(history!.some((l) => l.type === 'peer.registered'));
  // The engine's own record of what it created for the run: three containers, of that image.
  const runId = history!.find((l) => l.type === 'run.begin')?.data.runId;
  t.truthy(runId);
  const stream = await new Docker().getEvents({since, until: Math.ceil(Date.now() / 1000), filters: {type: ['container'], event: ['create'], label: [`peerlab.run=${String(runId)}`]}} as Docker.GetEventsOptions);
  let text = '';
  for await (const chunk of stream as AsyncIterable<Buffer>) text += chunk.toString('utf8');
  const images = text.trim().split('\n').filter(Boolean).map((line) => (JSON.parse(line) as {Actor: {Attributes: {image: string}}}).Actor.Attributes.image);
  t.deepEqual(images, [copy, copy, copy]);
});

serial('swarm: an image the engine does not have is a peer that never registers, said at once, and teardown still removes its service', async (t) => {
  const out = await tempDir(t, 'peerlab-swarm-');
  const started = Date.now();
  const result = await peerlab(['run', path.join('scenarios', '02-three-peer-chat.yaml'), '--runner', 'swarm', '--out', out, '--image', 'peerlab-no-such-image:0']);
  t.not(result.exitCode, 0, result.all);
  t.true(Date.now() - started < 60_000, `took ${Date.now() - started} ms`);
  const [runId] = await readdir(out);
  t.deepEqual(await leftovers(new Docker(), runId!), {services: 0, containers: 0, running: 0, networks: 0});
});

serial('swarm: a killed peer is detected, with the same history events as a local run', async (t) => {
  const [history] = await runScenarios(t, '06-kill-detection.yaml');
  const kinds = types(history!);
  for (const kind of ['peer.spawn', 'peer.registered', 'peer.kill', 'peer.exit', 'fault', 'run.end']) t.true(kinds.has(kind), `no ${kind} in the history`);
  const killed = history!.find((l) => l.type === 'peer.exit' && l.data.signal === 'SIGKILL');
  t.truthy(killed, 'the killed peer exits by SIGKILL, as a local process would');
  t.is(killed?.data.unexpectedly, false);
});

serial('swarm: a restarted peer comes back through a forced update', async (t) => {
  const runs = await runScenarios(t, '07-crash-detection.yaml');
  const restarted = runs.find((h) => h.some((l) => l.type === 'run.begin' && /restarted/.test(JSON.stringify(l.data))));
  t.truthy(restarted);
  // The restarted peer is spawned twice and registers twice.
  const spawned = restarted!.filter((l) => l.type === 'peer.spawn').map((l) => l.data.peer);
  t.true(spawned.length === new Set(spawned).size + 1, `one peer spawned twice: ${spawned.join(', ')}`);
});

serial('swarm: a short pause (docker pause) is not a death', async (t) => {
  await runScenarios(t, '08-short-pause.yaml');
});

serial('swarm: partition and heal (net-* faults in the peers)', async (t) => {
  await runScenarios(t, '10-partition-heal.yaml', ['--filter', 'a partition splits']);
});

serial('swarm: a SIGKILLed coordinator leaves no running container past the grace period, and peerlab down removes the rest', async (t) => {
  const GRACE_MS = 2000;
  const logs = await tempDir(t, 'peerlab-swarm-up-');
  const docker = new Docker();
  const child = spawn(process.execPath, [bin, 'up', '--runner', 'swarm', '--peers', '3', '--serve', '--grace', String(GRACE_MS), '--logs', logs], {cwd: root, env, stdio: ['ignore', 'pipe', 'pipe']});
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let runId: string | undefined;
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    if (runId) await peerlab(['down', runId]);
  });
  const first = await new Promise<string>((resolve, reject) => {
    createInterface({input: child.stdout!}).once('line', resolve);
    child.once('exit', (code, signal) => reject(new Error(`peerlab up exited (${signal ?? code}); stderr: ${stderr}`)));
  });
  const match = /^peerlab coordinator on (\S+) \(run (\S+)\)/.exec(first);
  t.truthy(match, first);
  const [, url, id] = match!;
  runId = id!;
  await until(
    async () => {
      const reply = (await (await fetch(`${url}/api/peers`)).json()) as {peers: Array<{registered: boolean}>};
      return reply.peers.length === 3 && reply.peers.every((p) => p.registered);
    },
    120_000,
    'three peers registered',
  );
  t.is((await leftovers(docker, runId)).running, 3);

  const killedAt = Date.now();
  child.kill('SIGKILL');
  await until(async () => (await leftovers(docker, runId!)).running === 0, GRACE_MS + 10_000, `no running container of run ${runId} within the grace period + 10 s`);
  t.log(`containers stopped ${Date.now() - killedAt} ms after the coordinator's SIGKILL`);
  // The services are still there: a coordinator killed outright removes nothing itself.
  t.true((await leftovers(docker, runId)).services > 0);

  const down = await peerlab(['down', runId]);
  t.is(down.exitCode, 0, down.all);
  t.regex(down.all ?? '', new RegExp(`removed service \\S+ of run ${runId}`));
  t.deepEqual(await leftovers(docker, runId), {services: 0, containers: 0, running: 0, networks: 0});
});
