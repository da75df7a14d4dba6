/**
 * The swarm runner: each peer is a Docker Swarm service of one replica
 * (restart policy none, an init process, host networking), labelled with the
 * run id and the peer's name. Process faults map to the engine's operations:
 * kill is a SIGKILL of the task's container, stop scales the service to 0,
 * pause freezes the container, restart is a forced update (a new task).
 * Exits come from the engine's container events. Ready is still the hub's
 * word: a running container is only "starting" until its agent registers.
 */
import {EventEmitter} from 'node:events';
import {mkdirSync} from 'node:fs';
import {appendFile, writeFile} from 'node:fs/promises';
import {hostname} from 'node:os';
import {spawn} from 'node:child_process';
import {createHash} from 'node:crypto';
import {fileURLToPath} from 'node:url';
import path from 'node:path';
import type {Readable} from 'node:stream';
import type Docker from 'dockerode';
import {PEER_NAME_RULE, isValidPeerName} from '@peerlab/events/names';
import type {PeerExit, Runner, RunnerEvents, RunnerOptions} from '../runner.js';
import {RunnerError} from '../runner.js';
import type {RunnerLimits} from '../limits.js';
import {REFERENCE_PEER} from '../../peer-program/program.js';
import {IMAGE_NODE, IMAGE_PEER_BIN, ensurePeerImage} from './image.js';
import {LABEL_COORDINATOR_HOST, LABEL_COORDINATOR_PID, LABEL_GENERATION, LABEL_PEER, LABEL_RUN, connect, runFilter, statusOf} from './docker.js';
import {SwarmPeer} from './swarm-peer.js';
import type {SwarmSettings} from './settings.js';

export const SWARM_LIMITS: RunnerLimits = {
  peersPerProcess: 'each peer is a service of its own, one container each',
  kernelFaults: 'its peers run in containers, not each at its own loopback address of this machine; net-* faults in the peer work on every runner',
};

/** Where a peer keeps its files inside its container. */
const CONTAINER_DATA_DIR = '/tmp/peerlab';
/** How long a container may take to be scheduled and started before kill or pause give up. */
const CONTAINER_START_MS = 60_000;
/** How long teardown waits for the engine to remove the run's containers once their services are gone. */
const REMOVAL_MS = 20_000;

const runners = new Set<SwarmRunner>();

/** Last resort on the way out for every swarm runner in this process: see SwarmRunner.killAllNow. */
export function killAllSwarmPeersNow(): void {
  for (const runner of runners) runner.killAllNow();
}

/** A service name the engine accepts (letters, digits, dashes; at most 63), unique per run and peer. */
export function serviceName(runId: string, peer: string): string {
  const plain = `peerlab-${runId}-${peer}`.replace(/[^A-Za-z0-9-]/g, '-');
  if (plain.length <= 63) return plain;
  const hash = createHash('sha256').update(`${runId}\0${peer}`).digest('hex').slice(0, 12);
  return `peerlab-${hash}-${peer.replace(/[^A-Za-z0-9-]/g, '-')}`.slice(0, 63).replace(/-+$/, '');
}

/** A URL with its host swapped for the address remote peers reach the coordinator at. */
function reachableAt(url: string, address: string | undefined): string {
  if (!address) return url;
  const u = new URL(url);
  u.hostname = address;
  return u.toString().replace(/\/$/, '');
}

/** The output of a non-TTY container's logs: 8-byte frame headers (stream, size) before each chunk. */
function demux(buffer: Buffer): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  while (at + 8 <= buffer.length) {
    const size = buffer.readUInt32BE(at + 4);
    out.push(buffer.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  return Buffer.concat(out);
}

interface Service {
  id: string;
  /** The peer it runs. */
  peer: string;
  name: string;
  /** The flags of its first start, kept for restarts. */
  extraArgs: readonly string[];
  generation: number;
}

interface ContainerEvent {
  Type?: string;
  Action?: string;
  time?: number;
  timeNano?: number;
  Actor?: {ID?: string; Attributes?: Record<string, string>};
}

export class SwarmRunner extends EventEmitter<RunnerEvents> implements Runner {
  readonly kind = 'swarm';
  readonly limits = SWARM_LIMITS;
  readonly #options: RunnerOptions;
  readonly #settings: SwarmSettings;
  readonly #docker: Docker;
  readonly #peers = new Map<string, SwarmPeer>();
  readonly #services = new Map<string, Service>();
  readonly #logWrites = new Map<string, Promise<void>>();
  #image: Promise<string> | undefined;
  #hostNetwork: Promise<string> | undefined;
  #events: Promise<Readable> | undefined;
  #tornDown = false;
  #taskTimer: NodeJS.Timeout | undefined;

  constructor(options: RunnerOptions, settings: SwarmSettings, docker: Docker = connect()) {
    super();
    const program = options.peer;
    if (program && program.origin !== REFERENCE_PEER && !settings.image) {
      throw new RunnerError(`the swarm runner runs peers in containers: the peer program of ${program.origin} needs --image, an image that holds it`, 'unsupported');
    }
    this.#options = options;
    this.#settings = settings;
    this.#docker = docker;
    mkdirSync(options.logDir, {recursive: true});
    runners.add(this);
  }

  handles(): SwarmPeer[] {
    return [...this.#peers.values()];
  }

  peers(): Array<{name: string; handle: SwarmPeer}> {
    return [...this.#peers].map(([name, handle]) => ({name, handle}));
  }

  get(name: string): SwarmPeer | undefined {
    return this.#peers.get(name);
  }

  logFile(name: string): string {
    return path.join(this.#options.logDir, `${name}.log`);
  }

  dataDir(name: string): string {
    return `${CONTAINER_DATA_DIR}/${name}`;
  }

  /** The image every peer runs: the user's, or the reference peer's, imported here once. */
  #imageRef(): Promise<string> {
    this.#image ??= this.#settings.image ? Promise.resolve(this.#settings.image) : ensurePeerImage(this.#docker, this.#options.peerBin);
    return this.#image;
  }

  #hostNetworkId(): Promise<string> {
    this.#hostNetwork ??= this.#docker.listNetworks({filters: {name: ['host']}}).then((networks) => {
      const host = networks.find((n) => n.Name === 'host' && n.Driver === 'host');
      if (!host) throw new Error('the engine has no host network');
      return host.Id;
    });
    return this.#hostNetwork;
  }

  /** The engine's container events of this run, from before the first service exists (so no start or die is missed). */
  #watchEvents(): Promise<Readable> {
    this.#events ??= (async () => {
      const stream = (await this.#docker.getEvents({
        filters: {type: ['container'], event: ['start', 'die'], label: [`${LABEL_RUN}=${this.#options.runId}`]},
      } as Docker.GetEventsOptions)) as Readable;
      let pending = '';
      stream.on('data', (chunk: Buffer) => {
        pending += chunk.toString('utf8');
        let newline;
        while ((newline = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, newline).trim();
          pending = pending.slice(newline + 1);
          if (line) this.#onEvent(JSON.parse(line) as ContainerEvent);
        }
      });
      stream.on('error', () => {});
      return stream;
    })();
    return this.#events;
  }

  #onEvent(event: ContainerEvent): void {
    const attributes = event.Actor?.Attributes ?? {};
    const handle = this.#peers.get(attributes[LABEL_PEER] ?? '');
    if (!handle || String(handle.generation) !== attributes[LABEL_GENERATION]) return;
    if (event.Action === 'start' && event.Actor?.ID) handle.started(event.Actor.ID);
    else if (event.Action === 'die') {
      const status = Number(attributes.exitCode);
      handle.ended(Number.isInteger(status) ? status : null, event.timeNano ? Math.round(event.timeNano / 1e6) : Date.now());
    }
  }

  #containerSpec(name: string, generation: number, image: string, extraArgs: readonly string[]): Docker.ContainerSpec {
    const o = this.#options;
    // The reference peer runs from the reference image's layout, also in an --image copied from it (a registry's).
    const program = this.#settings.image && o.peer && o.peer.origin !== REFERENCE_PEER ? o.peer : undefined;
    const command = program ? [...program.command] : [IMAGE_NODE, IMAGE_PEER_BIN];
    const coordinator = reachableAt(o.coordinatorUrl, this.#settings.coordinatorAddress);
    const bootstrap = o.bootstrapUrl ? reachableAt(o.bootstrapUrl, this.#settings.coordinatorAddress) : undefined;
    const args = [
      ...command.slice(1),
      '--name', name,
      '--port', '0',
      '--profile', o.profile ?? 'local',
      '--coordinator', coordinator,
      '--agent-grace', String(o.agentGraceMs ?? 3000),
      ...(bootstrap ? ['--bootstrap', bootstrap] : []),
      '--data-dir', this.dataDir(name),
      ...(o.extraArgs ?? []),
      ...extraArgs,
    ];
    // The token goes by environment, not argv (visible to anyone listing processes or inspecting the task).
    // No PEERLAB_PARENT_PID: the coordinator is not in the container's pid namespace; the agent's grace period ends an orphan.
    const env = {...program?.env, PEERLAB_TOKEN: o.token, ...(bootstrap ? {PEERLAB_BOOTSTRAP_TOKEN: o.token} : {}), PEERLAB_RUN_ID: o.runId};
    return {
      Image: image,
      Command: [command[0]!],
      Args: args,
      Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
      Labels: {[LABEL_RUN]: o.runId, [LABEL_PEER]: name, [LABEL_GENERATION]: String(generation)},
      // tini as pid 1: signals reach the peer, and a peer killed by a signal gives 128+n, as a shell would.
      Init: true,
      StopGracePeriod: 3_000_000_000,
    } as Docker.ContainerSpec;
  }

  async start(names: readonly string[], extraArgs: readonly string[] = []): Promise<SwarmPeer> {
    if (names.length !== 1) throw new RunnerError(`the swarm runner cannot carry several peers in one process: ${SWARM_LIMITS.peersPerProcess}`, 'unsupported');
    const name = names[0]!;
    if (!isValidPeerName(name)) throw new RunnerError(`"${name}" is not a valid peer name (${PEER_NAME_RULE})`, 'bad-name');
    if (this.#peers.get(name)?.alive) throw new RunnerError(`${name} is already running`, 'already-running');
    const [image, network] = await Promise.all([this.#imageRef(), this.#hostNetworkId(), this.#watchEvents()]);
    const existing = this.#services.get(name);
    if (existing) return this.#startAgain(existing);
    const handle = this.#track(name, 0);
    const o = this.#options;
    const service = serviceName(o.runId, name);
    try {
      const created = (await this.#docker.createService({
        Name: service,
        Labels: {[LABEL_RUN]: o.runId, [LABEL_PEER]: name, [LABEL_COORDINATOR_PID]: String(process.pid), [LABEL_COORDINATOR_HOST]: hostname()},
        TaskTemplate: {
          ContainerSpec: this.#containerSpec(name, 0, image, extraArgs),
          RestartPolicy: {Condition: 'none'},
          Networks: [{Target: network}],
          ForceUpdate: 0,
        },
        Mode: {Replicated: {Replicas: 1}},
      })) as {id?: string; ID?: string};
      this.#services.set(name, {id: created.id ?? created.ID!, peer: name, name: service, extraArgs, generation: 0});
    } catch (error) {
      this.#peers.delete(name);
      throw error;
    }
    this.emit('spawned', handle);
    return handle;
  }

  #track(name: string, generation: number): SwarmPeer {
    const handle = new SwarmPeer(name, generation);
    this.#peers.set(name, handle);
    this.#watchTasks();
    handle.on('exit', (exit) => {
      this.emit('exit', handle, exit);
      void this.collectLogs([name]);
    });
    return handle;
  }

  /** A forced update of the peer's service: a new task (the next generation), one replica again. */
  async #startAgain(service: Service): Promise<SwarmPeer> {
    const generation = service.generation + 1;
    service.generation = generation;
    const handle = this.#track(service.peer, generation);
    await this.#update(service, (spec) => {
      spec.TaskTemplate.ContainerSpec.Labels = {...spec.TaskTemplate.ContainerSpec.Labels, [LABEL_GENERATION]: String(generation)};
      spec.TaskTemplate.ForceUpdate = (spec.TaskTemplate.ForceUpdate ?? 0) + 1;
      spec.Mode = {Replicated: {Replicas: 1}};
    });
    this.emit('spawned', handle);
    return handle;
  }

  async #update(service: Service, change: (spec: {TaskTemplate: {ContainerSpec: {Labels?: Record<string, string>}; ForceUpdate?: number}; Mode: unknown}) => void): Promise<void> {
    // The engine refuses an update made from an outdated version: read, change, write, and again if someone came between.
    for (let attempt = 0; ; attempt++) {
      const s = this.#docker.getService(service.id);
      const info = (await s.inspect()) as {Version: {Index: number}; Spec: Parameters<typeof change>[0]};
      change(info.Spec);
      try {
        await s.update({_query: {version: info.Version.Index}, _body: info.Spec} as never);
        return;
      } catch (error) {
        if (statusOf(error) !== 500 || attempt >= 3 || !/out of sequence/.test(String((error as Error).message))) throw error;
      }
    }
  }

  /**
   * A task the engine refuses or fails before any container (an image the
   * node cannot get, no node to run it) sends no container event: the
   * tasks of peers still without a container are read once a second, and
   * such a task ends its peer at once, its error in the peer's log.
   */
  #watchTasks(): void {
    if (this.#taskTimer) return;
    this.#taskTimer = setInterval(() => {
      const waiting = this.handles().filter((h) => h.alive && !h.containerId && !h.expected);
      if (waiting.length === 0 || this.#tornDown) {
        clearInterval(this.#taskTimer);
        this.#taskTimer = undefined;
        return;
      }
      for (const handle of waiting) void this.#checkTasks(handle).catch(() => {});
    }, 1000);
    this.#taskTimer.unref();
  }

  async #checkTasks(handle: SwarmPeer): Promise<void> {
    const service = this.#services.get(handle.name);
    if (!service) return;
    const tasks = (await this.#docker.listTasks({filters: {service: [service.id]}})) as Array<{Spec?: {ContainerSpec?: {Labels?: Record<string, string>}}; Status?: {State?: string; Err?: string; ContainerStatus?: {ContainerID?: string}}}>;
    const mine = tasks.find((task) => task.Spec?.ContainerSpec?.Labels?.[LABEL_GENERATION] === String(handle.generation));
    const state = mine?.Status?.State;
    if (!mine || !state || !['rejected', 'failed', 'orphaned'].includes(state) || mine.Status?.ContainerStatus?.ContainerID) return;
    if (!handle.alive || handle.containerId) return;
    await appendFile(this.logFile(handle.name), `peerlab: the engine did not start ${handle.name}: task ${state}: ${mine.Status?.Err ?? 'no reason given'}\n`).catch(() => {});
    handle.ended(null);
  }

  markRegistered(name: string): void {
    const handle = this.#peers.get(name);
    if (handle?.state === 'starting') handle.state = 'running';
  }

  #require(name: string): SwarmPeer {
    const handle = this.#peers.get(name);
    if (!handle) throw new RunnerError(`no peer named ${name}`, 'unknown-peer');
    return handle;
  }

  #container(handle: SwarmPeer): Promise<Docker.Container> {
    return handle.container(CONTAINER_START_MS).then((id) => this.#docker.getContainer(id));
  }

  /** SIGKILL of the task's container; a container gone or stopped meanwhile has ended all the same. */
  #killContainer(handle: SwarmPeer): Promise<void> {
    return this.#signalContainer(handle, 'SIGKILL');
  }

  async #signalContainer(handle: SwarmPeer, signal: 'SIGKILL' | 'SIGTERM', startWithinMs = CONTAINER_START_MS): Promise<void> {
    let container: Docker.Container;
    try {
      container = await handle.container(startWithinMs).then((id) => this.#docker.getContainer(id));
    } catch (error) {
      if (handle.containerId || !handle.alive) throw error;
      // No container came: the peer ends without ever having run.
      handle.ended(null);
      return;
    }
    try {
      if (handle.state === 'paused') await container.unpause();
      await container.kill({signal});
    } catch (error) {
      const status = statusOf(error);
      if (status !== 404 && status !== 409) throw error;
    }
  }

  async kill(name: string): Promise<PeerExit> {
    const handle = this.#require(name);
    if (!handle.alive) throw new RunnerError(`${name} is not running`, 'not-running');
    handle.expected = true;
    await this.#killContainer(handle);
    return handle.exited;
  }

  /**
   * Scales the service to 0, and SIGTERMs its container at once (the peer
   * leaves) since the orchestrator takes seconds to act on a scale-down;
   * SIGKILL at the deadline.
   */
  async terminate(name: string, deadlineMs = 3000): Promise<PeerExit> {
    const handle = this.#require(name);
    if (!handle.alive) throw new RunnerError(`${name} is not running`, 'not-running');
    handle.expected = true;
    const service = this.#services.get(name)!;
    if (handle.state === 'paused') {
      await (await this.#container(handle)).unpause().catch(() => {});
      handle.state = 'running';
    }
    const timer = setTimeout(() => void this.#killContainer(handle).catch(() => {}), deadlineMs);
    try {
      const scaled = this.#update(service, (spec) => {
        spec.Mode = {Replicated: {Replicas: 0}};
      });
      if (handle.containerId) await Promise.all([scaled, this.#signalContainer(handle, 'SIGTERM')]);
      else {
        // Never started (not scheduled yet, or refused: an image the node lacks): scaled to 0, it never will.
        await scaled;
        await this.#signalContainer(handle, 'SIGTERM', deadlineMs);
      }
      return await handle.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  async restart(name: string, {graceful = false}: {graceful?: boolean} = {}): Promise<SwarmPeer> {
    const handle = this.#require(name);
    if (handle.alive) {
      if (graceful) await this.terminate(name);
      else await this.kill(name);
    }
    return this.#startAgain(this.#services.get(name)!);
  }

  async pause(name: string): Promise<void> {
    const handle = this.#require(name);
    if (handle.state !== 'running' && handle.state !== 'starting') throw new RunnerError(`${name} is not running`, 'not-running');
    await (await this.#container(handle)).pause();
    handle.state = 'paused';
  }

  async resume(name: string): Promise<void> {
    const handle = this.#require(name);
    if (handle.state !== 'paused') throw new RunnerError(`${name} is not paused`, 'not-paused');
    await (await this.#container(handle)).unpause();
    handle.state = 'running';
  }

  /** Fetches the logs of every container each peer had (every generation, oldest first) into its log file. */
  async collectLogs(names: readonly string[] = [...this.#services.keys()]): Promise<void> {
    await Promise.all(
      names.map((name) => {
        // One write at a time per file, the latest last.
        const next = (this.#logWrites.get(name) ?? Promise.resolve()).then(() => this.#fetchLog(name)).catch(() => {});
        this.#logWrites.set(name, next);
        return next;
      }),
    );
  }

  async #fetchLog(name: string): Promise<void> {
    const containers = await this.#docker.listContainers({all: true, filters: runFilter(this.#options.runId, `${LABEL_PEER}=${name}`)});
    containers.sort((a, b) => a.Created - b.Created || Number(a.Labels[LABEL_GENERATION]) - Number(b.Labels[LABEL_GENERATION]));
    const parts: Buffer[] = [];
    for (const c of containers) {
      try {
        const raw = (await this.#docker.getContainer(c.Id).logs({stdout: true, stderr: true, follow: false})) as unknown as Buffer;
        parts.push(demux(raw));
      } catch (error) {
        if (statusOf(error) !== 404) throw error;
      }
    }
    if (parts.length > 0) await writeFile(this.logFile(name), Buffer.concat(parts));
  }

  /** Every peer stopped gracefully, logs fetched, the run's services removed and their containers gone. */
  async stopAll(deadlineMs = 3000): Promise<void> {
    await Promise.all(this.handles().filter((h) => h.alive).map((h) => this.terminate(h.name, deadlineMs).catch(() => {})));
    await this.collectLogs();
    await this.#removeServices();
    this.#tornDown = true;
    runners.delete(this);
    void this.#events?.then((stream) => stream.destroy());
  }

  async #removeServices(): Promise<void> {
    await Promise.all(
      [...this.#services.values()].map((s) =>
        this.#docker
          .getService(s.id)
          .remove()
          .catch((error: unknown) => {
            if (statusOf(error) !== 404) throw error;
          }),
      ),
    );
    // The engine removes a removed service's containers by itself, a moment later.
    const deadline = Date.now() + REMOVAL_MS;
    while (Date.now() < deadline) {
      const left = await this.#docker.listContainers({all: true, filters: runFilter(this.#options.runId)});
      if (left.length === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /**
   * Last resort on the way out, synchronous: an HTTP call cannot finish
   * before this process does, so a detached janitor (`peerlab down <run-id>`
   * in a process of its own) removes the run's services. Should even that not
   * happen, every peer exits once the coordinator has been unreachable for
   * its grace period.
   */
  killAllNow(): void {
    if (this.#tornDown || this.#services.size === 0) return;
    this.#tornDown = true;
    runners.delete(this);
    const janitor = fileURLToPath(new URL('./janitor.js', import.meta.url));
    try {
      spawn(process.execPath, [janitor, this.#options.runId], {detached: true, stdio: 'ignore'}).unref();
    } catch {
      // Nothing more can be done on the way out.
    }
  }
}
