/**
 * The kubernetes runner: each peer a Pod (restartPolicy Never) of the run,
 * beside one headless Service and the Secret that carries the token. It sends
 * manifests (manifests.ts, checked by validate.ts) to the API server and
 * learns of exits by watching the run's pods (label peerlab.run=<run id>),
 * re-listing them whenever the watch ends. Ready is still the hub's word: a
 * Running pod is only "starting" until its agent registers.
 *
 * Kill is a delete with gracePeriodSeconds 0, terminate one with the grace
 * period, restart a delete and a new pod of the next generation (a new name,
 * so it never waits for the old one's to be free). Kubernetes cannot freeze a
 * container, so pause is declared impossible, and refused when a scenario
 * loads. Logs are read from the pod log endpoint into <logDir>/<name>.log
 * before a pod is deleted and at teardown.
 */
import {EventEmitter} from 'node:events';
import {appendFile, mkdir} from 'node:fs/promises';
import path from 'node:path';
import {PEER_NAME_RULE, isValidPeerName} from '@peerlab/events/names';
import type {V1Pod, V1Secret, V1Service} from '@kubernetes/client-node';
import type {PeerExit, Runner, RunnerEvents, RunnerOptions} from '../runner.js';
import {RunnerError} from '../runner.js';
import type {RunnerLimits} from '../limits.js';
import type {KubeApi} from './api.js';
import {PEER_LABEL, RUN_LABEL, nameProblem, podName, runNames} from './manifests.js';
import {DEFAULT_GRACE_SECONDS, peerPod, podDataDir, runObjects} from './plan.js';
import type {ReadySettings} from './plan.js';
import {PodHandle, podEnded} from './pod-handle.js';

export const KUBERNETES_LIMITS: RunnerLimits = {
  pause: 'Kubernetes has no way to freeze a container and let it go on (no pause in its API)',
  peersPerProcess: 'it runs one peer per pod',
  kernelFaults: "its peers run in pods on the cluster's machines, out of reach of this machine's nftables",
};

/** How long after the watch ends the runner re-lists and watches again. */
const REWATCH_MS = 500;
/** How long an asked-for exit may go unseen by the watch before the runner looks for itself. */
const CHECK_EXIT_MS = 2000;

/** Every kubernetes runner in this process, for the last resort on the way out. */
const runners = new Set<KubernetesRunner>();

export function killAllKubernetesPeersNow(): void {
  for (const runner of runners) runner.killAllNow();
}

export class KubernetesRunner extends EventEmitter<RunnerEvents> implements Runner {
  readonly kind = 'kubernetes';
  readonly limits = KUBERNETES_LIMITS;
  readonly #options: RunnerOptions;
  readonly #settings: ReadySettings;
  readonly #api: KubeApi;
  /** The latest pod of each peer. */
  readonly #latest = new Map<string, PodHandle>();
  /** Every pod of the run, by pod name, until it is gone and its log read. */
  readonly #pods = new Map<string, PodHandle>();
  readonly #generation = new Map<string, number>();
  readonly #extra = new Map<string, readonly string[]>();
  #prepared: Promise<void> | undefined;
  #stopWatch: (() => void) | undefined;
  #closed = false;

  constructor(options: RunnerOptions, settings: ReadySettings, api: KubeApi) {
    super();
    this.#options = options;
    this.#settings = settings;
    this.#api = api;
    runners.add(this);
  }

  get api(): KubeApi {
    return this.#api;
  }

  handles(): PodHandle[] {
    return [...this.#latest.values()];
  }

  peers(): Array<{name: string; handle: PodHandle}> {
    return [...this.#latest].map(([name, handle]) => ({name, handle}));
  }

  get(name: string): PodHandle | undefined {
    return this.#latest.get(name);
  }

  logFile(name: string): string {
    return path.join(this.#options.logDir, `${name}.log`);
  }

  dataDir(name: string): string {
    return podDataDir(name);
  }

  markRegistered(name: string): void {
    this.#latest.get(name)?.markRunning();
  }

  /** The run's Secret and Service as `start` sends them first. */
  runManifests(): [V1Secret, V1Service] {
    return runObjects(this.#options);
  }

  /** A peer's pod as `start` would send it. */
  podManifest(name: string, generation: number, extraArgs: readonly string[] = []): V1Pod {
    return peerPod(this.#options, this.#settings, name, generation, extraArgs);
  }

  /** The Secret and the Service, then the watch: once, before the first pod. */
  #prepare(): Promise<void> {
    this.#prepared ??= (async () => {
      const [secret, service] = this.runManifests();
      await this.#api.createSecret(secret);
      await this.#api.createService(service);
      await this.#watch();
    })();
    return this.#prepared;
  }

  /** Lists the run's pods (ending those gone meanwhile), then watches from there. */
  async #watch(): Promise<void> {
    if (this.#closed) return;
    const selector = `${RUN_LABEL}=${this.#options.runId}`;
    const {items, resourceVersion} = await this.#api.listPods(selector);
    const seen = new Set<string>();
    for (const pod of items) {
      seen.add(pod.metadata?.name ?? '');
      this.#observe('MODIFIED', pod);
    }
    for (const handle of this.#pods.values()) if (handle.alive && handle.created && !seen.has(handle.podName)) this.#gone(handle, undefined);
    // Once per watch, however many ways its end is told.
    let ended = false;
    const done = (): void => {
      if (ended) return;
      ended = true;
      this.#rewatch();
    };
    // An ERROR event (410 Gone: the resource version is too old) is followed by the end of the stream, and the re-list covers it.
    this.#stopWatch = await this.#api.watchPods(selector, resourceVersion, (event) => event.type !== 'BOOKMARK' && event.type !== 'ERROR' && this.#observe(event.type, event.object), done);
  }

  #rewatch(): void {
    this.#stopWatch = undefined;
    if (this.#closed) return;
    setTimeout(() => void this.#watch().catch(() => this.#rewatch()), REWATCH_MS).unref();
  }

  #observe(type: 'ADDED' | 'MODIFIED' | 'DELETED', pod: V1Pod): void {
    const handle = this.#pods.get(pod.metadata?.name ?? '');
    if (!handle || !handle.alive) return;
    if (type === 'DELETED' || podEnded(pod)) this.#gone(handle, pod);
  }

  #gone(handle: PodHandle, pod: V1Pod | undefined): void {
    // The API forgets a deleted pod's log with it: what was read before the delete is all there is.
    if (handle.deleted) handle.logDone = true;
    const exit = handle.end(pod);
    if (exit) this.emit('exit', handle, exit);
  }

  async start(names: readonly string[], extraArgs: readonly string[] = []): Promise<PodHandle> {
    if (names.length !== 1) throw new RunnerError(`the kubernetes runner cannot run ${names.length} peers in one process: ${KUBERNETES_LIMITS.peersPerProcess}`, 'unsupported');
    const name = names[0]!;
    if (!isValidPeerName(name)) throw new RunnerError(`"${name}" is not a valid peer name (${PEER_NAME_RULE})`, 'bad-name');
    const problem = nameProblem(this.#options.runId, name);
    if (problem) throw new RunnerError(`the kubernetes runner cannot name a pod: ${problem}`, 'bad-name');
    const clash = [...this.#latest.keys()].find((other) => other !== name && podName(this.#options.runId, other, 0) === podName(this.#options.runId, name, 0));
    if (clash) throw new RunnerError(`${name} and ${clash} would have the same pod name (pod names are lower case)`, 'bad-name');
    if (this.#latest.get(name)?.alive) throw new RunnerError(`${name} is already running`, 'already-running');
    await this.#prepare();
    // Checked again after the wait, and taken at once: two starts of one name never make two pods.
    const previous = this.#latest.get(name);
    if (previous?.alive) throw new RunnerError(`${name} is already running`, 'already-running');
    const generation = this.#generation.get(name) ?? 0;
    const manifest = this.podManifest(name, generation, extraArgs);
    this.#generation.set(name, generation + 1);
    this.#extra.set(name, extraArgs);
    const handle = new PodHandle(name, manifest.metadata!.name!, generation);
    // Known before it is created, so that no event of it is missed.
    this.#pods.set(handle.podName, handle);
    this.#latest.set(name, handle);
    try {
      await this.#api.createPod(manifest);
    } catch (error) {
      this.#pods.delete(handle.podName);
      if (previous) this.#latest.set(name, previous);
      else this.#latest.delete(name);
      throw error;
    }
    handle.created = true;
    this.emit('spawned', handle);
    return handle;
  }

  #require(name: string): PodHandle {
    const handle = this.#latest.get(name);
    if (!handle) throw new RunnerError(`no peer named ${name}`, 'unknown-peer');
    if (!handle.alive) throw new RunnerError(`${name} is not running`, 'not-running');
    return handle;
  }

  /** Deletes the pod (its log read first: the API forgets it with the pod) and waits until the watch, or a look, sees it end. */
  async #delete(handle: PodHandle, asked: 'kill' | 'terminate', graceSeconds: number): Promise<PeerExit> {
    handle.asked ??= asked;
    await this.#collect(handle);
    handle.deleted = true;
    if (!(await this.#api.deletePod(handle.podName, graceSeconds))) this.#gone(handle, undefined);
    return this.#awaitExit(handle, graceSeconds * 1000);
  }

  /** The watch's word, or, when it is slow to come (a watch reconnecting), the pod's own status. */
  async #awaitExit(handle: PodHandle, graceMs: number): Promise<PeerExit> {
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<undefined>((resolve) => (timer = setTimeout(resolve, graceMs + CHECK_EXIT_MS, undefined)));
      const exit = await Promise.race([handle.exited, late]);
      clearTimeout(timer);
      if (exit) return exit;
      const {items} = await this.#api.listPods(`${RUN_LABEL}=${this.#options.runId},${PEER_LABEL}=${handle.name}`);
      const pod = items.find((p) => p.metadata?.name === handle.podName);
      if (!pod || podEnded(pod)) this.#gone(handle, pod);
    }
  }

  async kill(name: string): Promise<PeerExit> {
    return this.#delete(this.#require(name), 'kill', 0);
  }

  async terminate(name: string, deadlineMs?: number): Promise<PeerExit> {
    const grace = deadlineMs !== undefined ? Math.max(1, Math.ceil(deadlineMs / 1000)) : (this.#settings.graceSeconds ?? DEFAULT_GRACE_SECONDS);
    return this.#delete(this.#require(name), 'terminate', grace);
  }

  async restart(name: string, {graceful = false}: {graceful?: boolean} = {}): Promise<PodHandle> {
    const handle = this.#latest.get(name);
    if (!handle) throw new RunnerError(`no peer named ${name}`, 'unknown-peer');
    if (handle.alive) {
      if (graceful) await this.terminate(name);
      else await this.kill(name);
    }
    return this.start([name], this.#extra.get(name) ?? []);
  }

  async pause(name: string): Promise<void> {
    throw new RunnerError(`cannot pause ${name}: ${KUBERNETES_LIMITS.pause}`, 'unsupported');
  }

  async resume(name: string): Promise<void> {
    throw new RunnerError(`cannot resume ${name}: ${KUBERNETES_LIMITS.pause}`, 'unsupported');
  }

  /** Appends what is new in the pod's log since the last read; marks the log complete once the pod has ended or is gone. */
  async #collect(handle: PodHandle): Promise<void> {
    if (handle.logDone) return;
    const ended = !handle.alive;
    const text = await this.#api.podLog(handle.podName).catch(() => undefined);
    if (text === undefined || ended) handle.logDone = true;
    if (text === undefined || text.length <= handle.logged) return;
    const file = this.logFile(handle.name);
    await mkdir(path.dirname(file), {recursive: true});
    const head = handle.logged === 0 ? `--- pod ${handle.podName} ---\n` : '';
    await appendFile(file, head + text.slice(handle.logged));
    handle.logged = text.length;
  }

  async collectLogs(names?: readonly string[]): Promise<void> {
    const wanted = names ? new Set(names) : undefined;
    for (const handle of this.#pods.values()) if (!wanted || wanted.has(handle.name)) await this.#collect(handle);
  }

  /** Logs, then every pod deleted with the grace period (one request at a time: they return at once), the waits together, then the Service and the Secret. */
  async stopAll(deadlineMs = 3000): Promise<void> {
    const grace = Math.max(1, Math.ceil(deadlineMs / 1000));
    await this.collectLogs();
    const waits: Array<Promise<PeerExit>> = [];
    for (const handle of this.#pods.values()) {
      if (handle.alive) {
        handle.asked ??= 'terminate';
        handle.deleted = true;
        if (!(await this.#api.deletePod(handle.podName, grace))) this.#gone(handle, undefined);
        waits.push(this.#awaitExit(handle, grace * 1000));
      } else if (!handle.deleted) {
        // Ended by itself (Succeeded or Failed), still there for its status and log.
        handle.deleted = true;
        await this.#api.deletePod(handle.podName, 0);
      }
    }
    await Promise.all(waits);
    this.#closed = true;
    this.#stopWatch?.();
    if (this.#prepared) {
      const names = runNames(this.#options.runId);
      await this.#api.deleteService(names.service);
      await this.#api.deleteSecret(names.secret);
    }
    runners.delete(this);
  }

  /** Best effort: the deletes are sent, nothing waits for them (the process is on its way out). */
  killAllNow(): void {
    for (const handle of this.#pods.values()) {
      if (!handle.alive) continue;
      handle.asked ??= 'kill';
      handle.deleted = true;
      void this.#api.deletePod(handle.podName, 0).catch(() => undefined);
    }
  }
}
