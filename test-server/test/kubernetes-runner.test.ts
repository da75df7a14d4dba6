/**
 * The kubernetes runner against a recording fake API server (fake-kube-api.ts):
 * no cluster, no peer runs, but every request the runner makes goes over real
 * HTTP through @kubernetes/client-node, and the exact sequence is checked for
 * starting peers, a kill, a restart, teardown and `peerlab down <run-id>`.
 * Every manifest it sends passes Kubernetes' schema (kubernetes-models); a
 * broken one is refused with the field at fault. A scenario that pauses is
 * refused by the real loader under --runner kubernetes, located, exit 2.
 */
import test from 'ava';
import type {ExecutionContext} from 'ava';
import {readFile, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {networkInterfaces} from 'node:os';
import {parseAllDocuments} from 'yaml';
import type {V1Pod} from '@kubernetes/client-node';
import {connect, loadKubeConfig} from '../src/runners/kubernetes/api.js';
import {loadConfigFile} from '../src/peer-program/config-file.js';
import {KubernetesRunner} from '../src/runners/kubernetes/kubernetes-runner.js';
import {podManifest, secretManifest, serviceManifest} from '../src/runners/kubernetes/manifests.js';
import {reapKubernetes} from '../src/runners/kubernetes/reap.js';
import type {KubernetesSettings} from '../src/runners/kubernetes/settings.js';
import {coordinatorListen, podCoordinatorUrl, settingsProblem} from '../src/runners/kubernetes/settings.js';
import {ManifestError, validateManifest} from '../src/runners/kubernetes/validate.js';
import type {PeerExit, PeerHandle} from '../src/runners/runner.js';
import {RunnerError} from '../src/runners/runner.js';
import {FakeKubeApi} from './fake-kube-api.js';
import {bin, peerlab, root} from './foreign-peer.js';
import {execa} from 'execa';
import {dryRunManifests} from '../src/runners/kubernetes/dry-run.js';
import type {Scenario} from '../src/scenario/plan.js';
import {tempDir} from './support.js';

const RUN = '20261202T060000-abc123';
const TOKEN = 'the-run-token-0123456789abcdef';
const NS = 'peerlab-test';
const pods = `/api/v1/namespaces/${NS}/pods`;
const pod = (peer: string, generation: number): string => `peerlab-20261202t060000-abc123-${peer}-${generation}`;

async function setUp(t: ExecutionContext, runId = RUN) {
  const dir = await tempDir(t, 'peerlab-k8s-');
  const fake = await new FakeKubeApi(NS).start();
  t.teardown(() => fake.close());
  const settings: KubernetesSettings = {kubeconfig: await fake.kubeconfig(dir), image: 'registry.example/peerlab-peer:1', coordinatorAddress: 'http://10.0.0.5:7400'};
  const runner = new KubernetesRunner(
    {runId, coordinatorUrl: 'http://127.0.0.1:1', token: TOKEN, bootstrapUrl: 'http://127.0.0.1:1/bootstrap', logDir: path.join(dir, 'logs'), dataDir: path.join(dir, 'peers'), agentGraceMs: 4000},
    {...settings, image: settings.image!, coordinatorAddress: settings.coordinatorAddress!},
    connect(settings),
  );
  const events: string[] = [];
  runner.on('spawned', (h) => events.push(`spawned ${h.name}`));
  runner.on('exit', (h, exit) => events.push(`exit ${h.name} ${exit.code ?? exit.signal}${exit.unexpectedly ? ' unexpectedly' : ''}`));
  t.teardown(() => runner.killAllNow());
  return {dir, fake, settings, runner, events};
}

/** Resolves once the watch has moved this handle on from its first state (or fails the test past the deadline). */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

test.serial('start three peers, kill one, restart one, tear down: the exact requests, in order', async (t) => {
  const {fake, runner, events, dir} = await setUp(t);
  for (const name of ['alice', 'bob', 'carol']) await runner.start([name]);
  const prepared = [
    `POST /api/v1/namespaces/${NS}/secrets`,
    `POST /api/v1/namespaces/${NS}/services`,
    `GET ${pods}?labelSelector=peerlab.run=${RUN}`,
    `GET ${pods}?allowWatchBookmarks=true&labelSelector=peerlab.run=${RUN}&watch=true`,
    `POST ${pods}`,
    `POST ${pods}`,
    `POST ${pods}`,
  ];
  t.deepEqual(fake.requests, prepared);
  t.deepEqual(fake.names('pods'), [pod('alice', 0), pod('bob', 0), pod('carol', 0)]);

  const killed: PeerExit = await within(runner.kill('bob'), 5000, 'kill');
  t.deepEqual({code: killed.code, signal: killed.signal, unexpectedly: killed.unexpectedly}, {code: null, signal: 'SIGKILL', unexpectedly: false});
  t.false(runner.get('bob')!.alive);

  const fresh: PeerHandle = await within(runner.restart('carol'), 5000, 'restart');
  t.is(fresh.name, 'carol');
  t.true(fresh.alive);
  t.not(runner.get('carol'), undefined);
  t.deepEqual(fake.names('pods'), [pod('alice', 0), pod('carol', 1)]);

  await within(runner.stopAll(3000), 10_000, 'stopAll');
  t.deepEqual(fake.requests.slice(prepared.length), [
    // kill bob: its log first (the API forgets it with the pod), then the delete without grace
    `GET ${pods}/${pod('bob', 0)}/log?container=peer`,
    `DELETE ${pods}/${pod('bob', 0)}?gracePeriodSeconds=0`,
    // restart carol: the same, then a pod of the next generation
    `GET ${pods}/${pod('carol', 0)}/log?container=peer`,
    `DELETE ${pods}/${pod('carol', 0)}?gracePeriodSeconds=0`,
    `POST ${pods}`,
    // teardown: the live pods' logs, their graceful deletes, then the Service and the Secret
    `GET ${pods}/${pod('alice', 0)}/log?container=peer`,
    `GET ${pods}/${pod('carol', 1)}/log?container=peer`,
    `DELETE ${pods}/${pod('alice', 0)}?gracePeriodSeconds=3`,
    `DELETE ${pods}/${pod('carol', 1)}?gracePeriodSeconds=3`,
    `DELETE /api/v1/namespaces/${NS}/services/peerlab-20261202t060000-abc123`,
    `DELETE /api/v1/namespaces/${NS}/secrets/peerlab-20261202t060000-abc123-token`,
  ]);
  t.deepEqual([fake.names('pods'), fake.names('services'), fake.names('secrets')], [[], [], []]);
  // The restarted peer's old pod ended before its new one was reported: the coordinator drops the old connection first.
  t.deepEqual(events, ['spawned alice', 'spawned bob', 'spawned carol', 'exit bob SIGKILL', 'exit carol SIGKILL', 'spawned carol', 'exit alice 0', 'exit carol 0']);
  // Both of carol's pods' logs, one after the other.
  t.is(await readFile(path.join(dir, 'logs', 'carol.log'), 'utf8'), `--- pod ${pod('carol', 0)} ---\nlog of ${pod('carol', 0)}\n--- pod ${pod('carol', 1)} ---\nlog of ${pod('carol', 1)}\n`);
});

test.serial('what is sent: the token only through the Secret, the run and peer labels, no restarts, its own process namespace, a grace period, a headless Service', async (t) => {
  const {fake, runner} = await setUp(t);
  await runner.start(['alice']);
  const sent = fake.bodies.get(`Pod/${pod('alice', 0)}`) as unknown as V1Pod;
  for (const manifest of fake.bodies.values()) t.notThrows(() => validateManifest(manifest as never));
  t.deepEqual(sent.metadata!.labels, {'peerlab.run': RUN, 'peerlab.peer': 'alice'});
  t.is(sent.spec!.restartPolicy, 'Never');
  t.false(sent.spec!.shareProcessNamespace);
  t.is(sent.spec!.terminationGracePeriodSeconds, 5);
  const container = sent.spec!.containers[0]!;
  t.is(container.image, 'registry.example/peerlab-peer:1');
  // The reference peer is the image's entrypoint: only its flags are given.
  t.is(container.command, undefined);
  t.false(JSON.stringify(sent).includes(TOKEN), 'the token is nowhere in the pod');
  t.deepEqual(container.env!.find((e) => e.name === 'PEERLAB_TOKEN')!.valueFrom, {secretKeyRef: {name: 'peerlab-20261202t060000-abc123-token', key: 'token'}});
  const flag = (name: string) => container.args![container.args!.indexOf(name) + 1];
  t.is(flag('--coordinator'), 'http://10.0.0.5:7400');
  t.is(flag('--bootstrap'), 'http://10.0.0.5:7400/bootstrap');
  t.is(flag('--host'), '$(PEERLAB_POD_IP)');
  t.is(flag('--name'), 'alice');
  const secret = fake.bodies.get('Secret/peerlab-20261202t060000-abc123-token') as unknown as {stringData: Record<string, string>; metadata: {labels: Record<string, string>}};
  t.deepEqual(secret.stringData, {token: TOKEN});
  t.deepEqual(secret.metadata.labels, {'peerlab.run': RUN});
  const service = fake.bodies.get('Service/peerlab-20261202t060000-abc123') as unknown as {spec: {clusterIP: string; selector: Record<string, string>}};
  t.is(service.spec.clusterIP, 'None');
  t.deepEqual(service.spec.selector, {'peerlab.run': RUN});
  t.is(sent.spec!.subdomain, 'peerlab-20261202t060000-abc123');
  await runner.stopAll(1000);
});

test.serial('a peer that exits by itself is an unexpected exit with its code, seen even across a watch that ended, and its log stays readable', async (t) => {
  const {fake, runner, events, dir} = await setUp(t);
  const alice = await runner.start(['alice']);
  // The API server ends watches at its timeout: the runner lists and watches again.
  fake.dropWatches();
  const watches = () => fake.requests.filter((r) => r.includes('watch=true')).length;
  await within(
    (async () => {
      while (watches() < 2) await new Promise((resolve) => setTimeout(resolve, 20));
    })(),
    5000,
    'the second watch',
  );
  fake.exitPod(pod('alice', 0), 3);
  const exit = await within(alice.exited, 5000, 'the exit');
  t.deepEqual({code: exit.code, signal: exit.signal, unexpectedly: exit.unexpectedly}, {code: 3, signal: null, unexpectedly: true});
  t.deepEqual(events, ['spawned alice', 'exit alice 3 unexpectedly']);
  await runner.collectLogs(['alice']);
  t.regex(await readFile(path.join(dir, 'logs', 'alice.log'), 'utf8'), /log of peerlab-.*-alice-0/);
  await runner.stopAll(1000);
  // The ended pod is still there for its status: teardown deletes it too.
  t.deepEqual(fake.names('pods'), []);
});

test.serial('pause is not a thing Kubernetes does; names that cannot be pods are refused before any request', async (t) => {
  const {fake, runner} = await setUp(t);
  await runner.start(['alice']);
  const paused = await t.throwsAsync(runner.pause('alice'), {instanceOf: RunnerError});
  t.is(paused?.code, 'unsupported');
  t.regex(paused?.message ?? '', /Kubernetes has no way to freeze a container/);
  const before = fake.requests.length;
  t.is((await t.throwsAsync(runner.start(['.hidden']), {instanceOf: RunnerError}))?.code, 'bad-name');
  t.regex((await t.throwsAsync(runner.start(['Alice']), {instanceOf: RunnerError}))?.message ?? '', /Alice and alice would have the same pod name/);
  t.is((await t.throwsAsync(runner.start(['x', 'y']), {instanceOf: RunnerError}))?.code, 'unsupported');
  t.is(fake.requests.length, before);
  // Two starts of one name at once: one pod, and the other start refused.
  const both = await Promise.allSettled([runner.start(['dave']), runner.start(['dave'])]);
  t.deepEqual(both.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
  t.is(((both.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason as RunnerError).code, 'already-running');
  t.is(fake.names('pods').filter((n) => n.includes('-dave-')).length, 1);
  await runner.stopAll(1000);
});

test.serial('a refusal by the API server is an error in its own words, and leaves nothing behind to wait for', async (t) => {
  const {fake, runner} = await setUp(t);
  await runner.start(['alice']);
  fake.refuseNext = {plural: 'pods', code: 403, reason: 'Forbidden', message: 'pods is forbidden: User "tester" cannot create resource "pods" in API group "" in the namespace "peerlab-test"'};
  const error = await t.throwsAsync(runner.start(['bob']));
  t.is(error?.message, `create pod ${pod('bob', 0)}: the API server answered 403: pods is forbidden: User "tester" cannot create resource "pods" in API group "" in the namespace "peerlab-test"`);
  t.is(runner.get('bob'), undefined);
  const from = fake.requests.length;
  await within(runner.stopAll(1000), 5000, 'stopAll');
  t.false(fake.requests.slice(from).some((r) => r.includes('bob')), 'no request for the pod that was never made');
});

test.serial('peerlab down <run-id>: every pod, service and secret of that run, by its label, and nothing of another run', async (t) => {
  const {fake, runner, settings} = await setUp(t);
  await runner.start(['alice']);
  await runner.start(['bob']);
  // Another run in the same namespace, which must stay.
  const other = '20261202T060500-def456';
  await connect(settings).createPod(podManifest({runId: other, peer: 'zed', generation: 0, image: 'i', args: [], bootstrap: false, graceSeconds: 1, coordinator: 'elsewhere/1'}));
  // The coordinator is gone (no teardown): what it left is reaped by run id.
  const from = fake.requests.length;
  const reaped = await reapKubernetes(settings, RUN);
  t.deepEqual(
    reaped.map((r) => `${r.kind} ${r.id} ${r.runId}`),
    [`pod ${pod('alice', 0)} ${RUN}`, `pod ${pod('bob', 0)} ${RUN}`, `service peerlab-20261202t060000-abc123 ${RUN}`, `secret peerlab-20261202t060000-abc123-token ${RUN}`],
  );
  t.deepEqual(fake.requests.slice(from), [
    `GET ${pods}?labelSelector=peerlab.run=${RUN}`,
    `DELETE ${pods}/${pod('alice', 0)}?gracePeriodSeconds=0`,
    `DELETE ${pods}/${pod('bob', 0)}?gracePeriodSeconds=0`,
    `GET /api/v1/namespaces/${NS}/services?labelSelector=peerlab.run=${RUN}`,
    `DELETE /api/v1/namespaces/${NS}/services/peerlab-20261202t060000-abc123`,
    `GET /api/v1/namespaces/${NS}/secrets?labelSelector=peerlab.run=${RUN}`,
    `DELETE /api/v1/namespaces/${NS}/secrets/peerlab-20261202t060000-abc123-token`,
  ]);
  await within(Promise.all([runner.get('alice')!.exited, runner.get('bob')!.exited]), 5000, 'the reaped pods seen gone');
  t.deepEqual(fake.names('pods'), ['peerlab-20261202t060500-def456-zed-0']);
  t.deepEqual([fake.names('services'), fake.names('secrets')], [[], []]);
  // Without a run id: only runs whose coordinator on this machine is gone; "elsewhere/1" is another machine's.
  t.deepEqual(await reapKubernetes(settings), []);
  t.deepEqual(fake.names('pods'), ['peerlab-20261202t060500-def456-zed-0']);
});

test('the manifests pass Kubernetes\' schema; a broken one is refused, naming its fields', (t) => {
  const good = podManifest({runId: RUN, peer: 'alice', generation: 0, image: 'i:1', args: ['--name', 'alice'], bootstrap: true, graceSeconds: 5, coordinator: 'h/1'});
  t.notThrows(() => validateManifest(good));
  t.notThrows(() => validateManifest(serviceManifest(RUN, 'h/1')));
  t.notThrows(() => validateManifest(secretManifest(RUN, TOKEN, 'h/1')));
  const broken = structuredClone(good) as any;
  broken.spec.restartPolicy = 'Sometimes';
  broken.spec.terminationGracePeriodSeconds = 'five';
  delete broken.spec.containers[0].name;
  const error = t.throws(() => validateManifest(broken), {instanceOf: ManifestError});
  t.is(
    error?.message,
    `invalid Pod ${pod('alice', 0)}: spec.containers.0: must have required property name; spec.restartPolicy: must be equal to one of the allowed values; spec.terminationGracePeriodSeconds: must be integer`,
  );
});

/** A kubeconfig naming a server nobody listens on: a request would fail the command. */
const KUBECONFIG_NOBODY = 'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "http://127.0.0.1:9", insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n';

const PAUSING = `name: pauses
peers: [alice, bob]
steps:
  - start: all
  - pause: bob
  - resume: bob
`;

test.serial('under --runner kubernetes a scenario that pauses is refused by the loader, located, exit 2; without a coordinator address nothing starts', async (t) => {
  const dir = await tempDir(t, 'peerlab-k8s-cli-');
  await writeFile(path.join(dir, 'pauses.yaml'), PAUSING);
  // Read, never asked: nothing gets as far as a request.
  await writeFile(path.join(dir, 'kubeconfig.yaml'), KUBECONFIG_NOBODY);
  const flags = ['--image', 'peerlab-peer:1', '--coordinator-address', 'http://10.0.0.5:7400', '--kubeconfig', 'kubeconfig.yaml'];
  const paused = await peerlab(['run', 'pauses.yaml', '--runner', 'kubernetes', ...flags], dir);
  t.is(paused.exitCode, 2, paused.all);
  t.regex(paused.all ?? '', /pauses\.yaml:5:12: steps\[1\]\.pause: the kubernetes runner cannot pause: Kubernetes has no way to freeze a container/);
  const noAddress = await peerlab(['run', 'pauses.yaml', '--runner', 'kubernetes', '--image', 'peerlab-peer:1'], dir);
  t.is(noAddress.exitCode, 2, noAddress.all);
  t.regex(noAddress.all ?? '', /--coordinator-address.*127\.0\.0\.1 inside a pod is the pod itself/);
  const noConfig = await peerlab(['run', 'pauses.yaml', '--runner', 'kubernetes', '--image', 'peerlab-peer:1', '--coordinator-address', 'http://10.0.0.5', '--kubeconfig', 'missing.yaml'], dir);
  t.is(noConfig.exitCode, 2, noConfig.all);
  t.regex(noConfig.all ?? '', /peerlab run: --runner kubernetes: the kubernetes runner cannot read the kubeconfig missing\.yaml: ENOENT/);
});

test('settings a pod could not use are refused with the reason', async (t) => {
  const dir = await tempDir(t, 'peerlab-k8s-settings-');
  t.regex(settingsProblem({image: 'i:1', coordinatorAddress: 'http://127.0.0.1:7400'}) ?? '', /a loopback address reaches the pod itself/);
  t.regex(settingsProblem({image: 'i:1', coordinatorAddress: 'http://localhost'}) ?? '', /a loopback address reaches the pod itself/);
  t.regex(settingsProblem({image: 'i:1', coordinatorAddress: 'ftp://10.0.0.5'}) ?? '', /expected an http or https URL/);
  t.regex(settingsProblem({coordinatorAddress: 'http://10.0.0.5'}) ?? '', /needs --image/);
  t.regex(settingsProblem({image: 'i:1', coordinatorAddress: 'http://10.0.0.5', namespace: 'Not_A_Namespace'}) ?? '', /--namespace Not_A_Namespace: expected a Kubernetes namespace name/);
  t.is(settingsProblem({image: 'i:1', coordinatorAddress: 'http://10.0.0.5', namespace: 'peerlab'}), undefined);
  await writeFile(path.join(dir, 'empty.yaml'), 'apiVersion: v1\nkind: Config\n');
  t.throws(() => loadKubeConfig({kubeconfig: path.join(dir, 'empty.yaml')}), {message: /names no cluster/});
  // The config file's kubernetes: keys are checked like every key.
  await writeFile(path.join(dir, 'peerlab.config.yaml'), 'kubernetes:\n  imag: typo:1\n');
  const error = await t.throwsAsync(loadConfigFile(path.join(dir, 'peerlab.config.yaml')));
  t.regex(error?.message ?? '', /peerlab\.config\.yaml:2:3: kubernetes\.imag: unknown field "imag"; expected one of: kubeconfig, namespace, image, coordinator_address/);
});

test.serial('peerlab run --runner kubernetes --dry-run prints every manifest of each run as YAML, each valid, and sends nothing', async (t) => {
  const dir = await tempDir(t, 'peerlab-k8s-dry-');
  await writeFile(path.join(dir, 'three.yaml'), 'name: three\npeers: [alice, bob, carol]\nsteps:\n  - start: all\n  - kill: bob\n  - restart: carol\n');
  // A kubeconfig naming a server nobody listens on: a request would fail the command.
  await writeFile(path.join(dir, 'kubeconfig.yaml'), KUBECONFIG_NOBODY);
  const result = await peerlab(['run', 'three.yaml', '--runner', 'kubernetes', '--image', 'peerlab-peer:1', '--coordinator-address', 'http://10.0.0.5', '--kubeconfig', 'kubeconfig.yaml', '--dry-run'], dir);
  t.is(result.exitCode, 0, result.all);
  const docs = parseAllDocuments(result.stdout).map((d) => d.toJS() as {kind: string; metadata: {name: string}}).filter(Boolean);
  t.deepEqual(
    docs.map((d) => `${d.kind} ${d.metadata.name}`),
    ['Secret peerlab-dry-run-1-token', 'Service peerlab-dry-run-1', 'Pod peerlab-dry-run-1-alice-0', 'Pod peerlab-dry-run-1-bob-0', 'Pod peerlab-dry-run-1-carol-0'],
  );
  for (const doc of docs) t.notThrows(() => validateManifest(doc as never));
  t.false(result.stdout.includes('*'), 'no YAML aliases: each manifest reads on its own');
  // The config file's kubernetes: keys, under the flags.
  await writeFile(path.join(dir, 'peerlab.config.yaml'), 'runner: kubernetes\nkubernetes:\n  image: from-config:2\n  coordinator_address: http://10.0.0.6:7400\n  kubeconfig: kubeconfig.yaml\n');
  const configured = await peerlab(['run', 'three.yaml', '--image', 'from-flag:3', '--dry-run'], dir);
  t.is(configured.exitCode, 0, configured.all);
  t.regex(configured.stdout, /image: from-flag:3\n/);
  t.regex(configured.stdout, /- --coordinator\n\s+- http:\/\/10\.0\.0\.6:7400\n/);
  await writeFile(path.join(dir, 'peerlab.config.yaml'), 'runner: local\n');
  const local = await peerlab(['run', 'three.yaml', '--dry-run'], dir);
  t.is(local.exitCode, 2, local.all);
  t.regex(local.all ?? '', /--dry-run: only the kubernetes runner has manifests to print/);
});

test('the coordinator listens where its address says: an address of this machine alone, a name or a forwarded address on every interface; pods get its port when the address has none', (t) => {
  const own = Object.values(networkInterfaces()).flatMap((a) => a ?? []).find((a) => a.family === 'IPv4' && !a.internal)?.address;
  if (own) t.deepEqual(coordinatorListen(`http://${own}`), {host: own, allowedHosts: []});
  t.deepEqual(coordinatorListen('http://peerlab.example:7400'), {host: '0.0.0.0', port: 7400, allowedHosts: ['peerlab.example']});
  t.is(podCoordinatorUrl('http://10.0.0.5', 'http://10.0.0.5:43210'), 'http://10.0.0.5:43210');
  t.is(podCoordinatorUrl('http://peerlab.example:7400/', 'http://0.0.0.0:7400'), 'http://peerlab.example:7400');
});

test('docs/kubernetes-sample.yaml is what --dry-run prints today', async (t) => {
  const sample = parseAllDocuments(await readFile(path.join(root, 'docs', 'kubernetes-sample.yaml'), 'utf8')).map((d) => d.toJS());
  const scenario = {name: 'three peers join and converge', file: 'scenarios/01-join-and-converge.yaml', peers: ['alice', 'bob', 'charly'], profile: 'local'} as unknown as Scenario;
  const printed = parseAllDocuments(dryRunManifests([scenario], {image: 'peerlab-peer:0.1.0', coordinatorAddress: 'http://10.0.0.5'})).map((d) => d.toJS());
  t.deepEqual(sample, printed.slice(0, 3));
});

test.serial('peerlab down <run-id> --kubeconfig reaches the cluster through the factory and says what it removed', async (t) => {
  const {fake, runner, dir} = await setUp(t);
  await runner.start(['alice']);
  const result = await execa(process.execPath, [bin, 'down', RUN, '--kubeconfig', path.join(dir, 'kubeconfig.yaml')], {cwd: dir, reject: false, all: true, timeout: 60_000});
  t.is(result.exitCode, 0, result.all);
  t.regex(result.stdout, new RegExp(`removed pod ${pod('alice', 0)} of run ${RUN} \\(peer alice; namespace ${NS}\\)`));
  t.regex(result.stdout, /removed service peerlab-20261202t060000-abc123 .*\nremoved secret peerlab-20261202t060000-abc123-token .*\n3 removed of run/);
  t.deepEqual([fake.names('pods'), fake.names('services'), fake.names('secrets')], [[], [], []]);
});
