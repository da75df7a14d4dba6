/**
 * One coordinator run: an HTTP server on 127.0.0.1 (by default) carrying the
 * socket.io hub, the REST API and the bootstrap data service, plus the runner
 * that runs the peers (runners/runner.ts). `close()` stops every peer; the
 * runner's nets cover the ways of ending that skip it.
 */
import {createServer} from 'node:http';
import {listen} from '@peerlab/node-kit/listen';
import {allowedAuthorities, guardServer} from '@peerlab/node-kit/host-guard';
import {isLoopback} from '@peerlab/node-kit/loopback';
import {randomBytes} from 'node:crypto';
import path from 'node:path';
import express from 'express';
import {Server} from 'socket.io';
import {BootstrapStore, MAX_MAXPEERS} from '@peerlab/bootstrap/store';
import {createBootstrapRouter} from '@peerlab/bootstrap/router';
import {Hub, HubError} from './hub/hub.js';
import {PRE_AUTH_MAX_BYTES} from './hub/frame-limit.js';
import {PeerViews} from './hub/peer-views.js';
import type {PeerProgram} from './peer-program/program.js';
import type {PeerHandle, Runner, RunnerKind} from './runners/runner.js';
import {createRunner} from './runners/factory.js';
import {createApiRouter, requireToken} from './api/rest.js';
import {LiveView} from './live/live-view.js';
import {KernelTable} from './faults/kernel/table.js';
import type {PeerProfile} from './peer-program/profile.js';

export interface CoordinatorOptions {
  host?: string;
  port?: number;
  /** Run token for agents and, beyond loopback, for every HTTP request (generated when absent). */
  token?: string;
  runId?: string;
  /** Where per-peer logs go (default runs/<run-id>/logs). */
  logDir?: string;
  /**
   * Where each peer's own folder goes, `<dataDir>/<name>` (default runs/<run-id>/peers,
   * beside the logs; with only a logDir given, <logDir>/peers, so the folders stay
   * inside what the caller chose and cleans up).
   */
  dataDir?: string;
  profile?: PeerProfile;
  agentGraceMs?: number;
  commandTimeoutMs?: number;
  /**
   * How many peers the run expects: the agents' flush interval is sized for
   * it (flushIntervalFor). Default: a handful.
   */
  expectedPeers?: number;
  /** How long one turn of the event loop may spend taking in agents' event batches before the rest wait; default 20 ms. */
  ingestSliceMs?: number;
  registerTimeoutMs?: number;
  /** The program every peer runs (default: the reference peer, `node <peerBin>`). */
  peer?: PeerProgram;
  peerBin?: string;
  extraPeerArgs?: string[];
  /** Names besides the listen address(es) that requests may carry in Host/Origin (a DNS name, a proxy's). */
  allowedHosts?: readonly string[];
  /** Where protocol errors (malformed agent messages) are logged; default stderr. */
  log?: (line: string) => void;
  /**
   * Kernel faults: network faults as nftables rules (root), each peer on its own
   * loopback address (`--host`). `nft` is the binary; `peers`, the names to give
   * addresses first, in order (a scenario's peers). Absent: the peers' net-* commands.
   */
  kernelFaults?: {nft: string; peers?: readonly string[]};
  /** What runs the peers (default: local processes). */
  runner?: RunnerKind;
}

export {isLoopback};

/**
 * The agents' flush interval for a run of this many peers: 50 ms up to 50
 * peers, then 1 ms a peer, at most a second. Every batch costs the
 * coordinator a websocket frame in, an ack out, and a wake-up of the peer,
 * whatever it holds; a thousand agents flushing every 50 ms are 20,000 round
 * trips a second, and on a small machine each ack hands the CPU to a peer, so
 * the coordinator starved and stopped registering the rest. Scaled, the whole
 * run sends about a thousand batches a second. Events carry the peers' own
 * times, so the checkers lose nothing; only what the coordinator sees lags,
 * by at most the interval.
 */
/**
 * The names each process carries when it carries `perProcess` of them: dealt
 * out in turn (the first name to the first process, the second to the second,
 * ...), not in runs. The first names register first and become everyone's
 * bootstrap contacts, so every joiner's full-state exchange goes to them: in
 * runs, all eight contacts shared one process, which a thousand joiners then
 * held up (its exchanges timed out and its members were suspected). Dealt out,
 * they sit in eight processes.
 */
export function hostGroups(names: readonly string[], perProcess: number): string[][] {
  const per = Math.max(1, Math.floor(perProcess));
  const count = Math.ceil(names.length / per);
  const groups: string[][] = Array.from({length: count}, () => []);
  names.forEach((name, i) => groups[i % count]!.push(name));
  return groups;
}

/**
 * How many contacts the run's bootstrap service hands out: 8 (the service's
 * own default) up to 200 peers, then one per 25. Every newcomer's full-state
 * exchange goes to one of them: 2,000 newcomers on 8 contacts are 250 each
 * within seconds, more than the 50-peer processes they sit in could answer
 * before the 10 s deadline, and thousands of joins timed out.
 */
export function bootstrapContactsFor(peers: number): number {
  return Math.min(MAX_MAXPEERS, Math.max(8, Math.ceil(peers / 25)));
}

/**
 * How long an agent may go without reaching the coordinator before its peer
 * exits: 3 s, and 10 ms a peer in larger runs (20 s at 2,000). Two thousand
 * connections at once can be refused or reset by a coordinator that is alive
 * but behind, and at 3 s a whole peer host gave up and ended the start step.
 * A coordinator that is really gone is still noticed at once by local peers,
 * which watch their parent process.
 */
export function agentGraceFor(peers: number): number {
  return Math.max(3000, peers * 10);
}

/**
 * Connections the coordinator's port holds before they are accepted: two a peer (its agent's and its
 * bootstrap request), 511 at least. With Node's 511, two thousand peers starting at once overflowed it:
 * handshakes were dropped or reset, and agents that could not connect for their grace period gave up.
 */
export function listenBacklogFor(peers: number): number {
  return Math.max(511, 2 * peers);
}

/**
 * The most events an agent's batch may carry: a million events between all
 * agents, 5,000 (the reference agent's own bound) up to 200 peers, 500 at
 * 2,000. The hub holds each agent's batch in flight until its turn to be
 * taken in, and a coordinator that falls behind holds every one of them: at
 * 5,000 events, two thousand agents' batches were ten million events
 * waiting, about three gigabytes.
 */
export function maxBatchEventsFor(peers: number): number {
  return Math.min(5000, Math.max(100, Math.floor(1_000_000 / Math.max(1, peers))));
}

export function flushIntervalFor(peers: number): number {
  return Math.min(1000, Math.max(50, Math.round(peers)));
}

export class Coordinator {
  readonly views = new PeerViews();
  #closing: Promise<void> | undefined;
  #serving: Promise<void> | undefined;

  private constructor(
    readonly runId: string,
    readonly token: string,
    readonly url: string,
    readonly hub: Hub,
    readonly runner: Runner,
    readonly bootstrap: BootstrapStore,
    readonly registerTimeoutMs: number,
    /**
     * The socket.io server the hub runs on: for tools that watch or meddle with
     * the wire itself (peerlab conform drops a batch unanswered to test resends).
     */
    readonly io: Server,
    private readonly server: ReturnType<typeof createServer>,
    log: (line: string) => void,
    /** The live view at /view/: shows the history given to `liveView.setSource` (the engine's, or `peerlab up`'s). */
    readonly liveView: LiveView,
    /** The run's nftables table, in kernel fault mode. */
    readonly kernelTable: KernelTable | undefined,
  ) {
    hub.on('events', (name, events) => this.views.apply(name, events));
    // Ready means registered here, whatever the runner's backend says.
    hub.on('registered', (info) => runner.markRegistered(info.name));
    hub.on('protocol-error', (d) => log(`peerlab: rejected a message on "${d.channel}" from ${d.peer ?? `connection ${d.socket}`}: ${d.message}`));
    // A dead process's connection can linger until its heartbeat times out; cut it now, so a
    // restart under the same name is not refused as a duplicate.
    // Without a local pid to match, the connection is the dead process's while no other process has taken its name.
    runner.on('exit', (handle) => {
      for (const name of handle.names) {
        const agent = hub.get(name);
        if (agent && (handle.pid !== undefined ? agent.pid === handle.pid : runner.get(name) === handle)) hub.disconnect(name);
      }
    });
  }

  static async start(options: CoordinatorOptions = {}): Promise<Coordinator> {
    const host = options.host ?? '127.0.0.1';
    const runId = options.runId ?? `${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-${randomBytes(3).toString('hex')}`;
    // An empty token would switch the HTTP check off beyond loopback (and match an empty one from agents).
    if (options.token !== undefined && options.token.trim() === '') throw new RangeError('token: expected a non-empty string');
    const token = options.token ?? randomBytes(16).toString('hex');
    const tokenForHttp = isLoopback(host) ? undefined : token;

    const app = express();
    app.disable('x-powered-by');
    const server = createServer(app);
    let allowedHosts: ReadonlySet<string> = new Set();
    guardServer(server, () => allowedHosts);
    const io = new Server(server, {serveClient: false, transports: ['websocket'], maxHttpBufferSize: PRE_AUTH_MAX_BYTES});
    const hub = new Hub(io, {runId, token, settings: {commandTimeoutMs: options.commandTimeoutMs ?? 10_000, flushIntervalMs: flushIntervalFor(options.expectedPeers ?? 0), maxBatchEvents: maxBatchEventsFor(options.expectedPeers ?? 0)}, ...(options.ingestSliceMs !== undefined ? {ingestSliceMs: options.ingestSliceMs} : {})});
    const bootstrap = new BootstrapStore({maxpeers: bootstrapContactsFor(options.expectedPeers ?? 0)});
    await bootstrap.load();

    // Made before any peer exists, so every peer starts at its own address; deleted by close() (or its janitor).
    const kernelTable = options.kernelFaults ? await KernelTable.open(options.kernelFaults.nft, options.kernelFaults.peers) : undefined;
    let listening;
    try {
      listening = await listen(server, host, options.port ?? 0, {backlog: listenBacklogFor(options.expectedPeers ?? 0)});
    } catch (error) {
      await kernelTable?.close();
      throw error;
    }
    const {url, port} = listening;
    allowedHosts = allowedAuthorities(host, port, options.allowedHosts);
    // Peers reach the coordinator over loopback when it listens on every interface.
    const localUrl = host === '0.0.0.0' || host === '::' ? `http://127.0.0.1:${port}` : url;
    const logDir = options.logDir ?? path.join('runs', runId, 'logs');
    const runner = createRunner(options.runner ?? 'local', {
      runId,
      coordinatorUrl: localUrl,
      token,
      bootstrapUrl: `${localUrl}/bootstrap`,
      logDir,
      dataDir: options.dataDir ?? (options.logDir ? path.join(options.logDir, 'peers') : path.join('runs', runId, 'peers')),
      profile: options.profile ?? 'local',
      agentGraceMs: options.agentGraceMs ?? agentGraceFor(options.expectedPeers ?? 0),
      ...(options.peer ? {peer: options.peer} : {}),
      ...(options.peerBin ? {peerBin: options.peerBin} : {}),
      ...(options.extraPeerArgs ? {extraArgs: options.extraPeerArgs} : {}),
      ...(kernelTable ? {hostFor: (name: string) => kernelTable.addresses.addressOf(name)} : {}),
    });
    const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
    const view = new LiveView(io, {token, requireToken: tokenForHttp !== undefined});
    const coordinator = new Coordinator(runId, token, url, hub, runner, bootstrap, options.registerTimeoutMs ?? 15_000, io, server, log, view, kernelTable);
    // Before the token check: a browser cannot send a header when it opens a page, so the view takes the token
    // from its URL (?token=) and applies the same rule itself.
    app.use('/view', view.router());
    if (tokenForHttp) app.use(requireToken(tokenForHttp));
    app.use('/bootstrap', createBootstrapRouter(bootstrap));
    app.use(createApiRouter(coordinator));
    return coordinator;
  }

  /** Spawns the named peers and waits until every one has registered. */
  async spawn(names: readonly string[], options: {signal?: AbortSignal; argsFor?: (name: string) => string[]; perProcess?: number} = {}): Promise<PeerHandle[]> {
    // Processes of one peer join once the last of them has registered: a joined peer gossips, probes and streams
    // an event per member, and the first ones' joins competed with the last ones' node start-ups for the CPU
    // (N=100 on two cores: 1.36-1.66x the bare client's time to register with joins at once, 1.15-1.32x held;
    // the group converged as soon after the start either way). Peer hosts start a peer for far less, and there
    // a thousand joins at once cost more than they free: each newcomer's join answer then holds few members, so
    // the rest comes by gossip (1,000 in 40 hosts: converged 52-80 s after the start, against 52-59 s).
    const release = names.length > 1 && (options.perProcess ?? 1) === 1 ? this.hub.hold(names) : undefined;
    try {
      return await this.#spawn(names, options);
    } finally {
      release?.();
    }
  }

  async #spawn(names: readonly string[], options: {signal?: AbortSignal; argsFor?: (name: string) => string[]; perProcess?: number}): Promise<PeerHandle[]> {
    // With perProcess > 1, each process carries that many peers (peer-host mode), sharing the first one's flags.
    const hosts: PeerHandle[] = [];
    const groups = hostGroups(names, options.perProcess ?? 1);
    // Hosts started first register first: without this, their peers would be nearly all the contacts.
    if ((options.perProcess ?? 1) > 1) this.bootstrap.spreadContacts(groups);
    for (const group of groups) {
      hosts.push(await this.runner.start(group, options.argsFor?.(group[0]!) ?? []));
    }
    // A peer that exits before it registers will never register: say so at once, not at the deadline.
    const stop = new AbortController();
    const exitedEarly = Promise.race(
      hosts.map((host) =>
        host.exited.then(async (exit) => {
          if (!host.names.every((n) => this.hub.isConnected(n)) && !stop.signal.aborted) {
            await this.runner.collectLogs(host.names);
            throw new HubError(`${host.name} exited (${exit.signal ?? `code ${exit.code}`}) before it registered; see ${this.runner.logFile(host.name)}`, 'exited');
          }
          return new Promise<never>(() => {});
        }),
      ),
    );
    const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
    try {
      await Promise.race([this.hub.waitForRegistered(names, this.registerTimeoutMs, signal), exitedEarly]);
    } finally {
      stop.abort();
    }
    return hosts;
  }

  /** Stops every peer (graceful, then forced), then the servers. Safe to call twice. */
  close(timeoutMs = 3000): Promise<void> {
    this.#closing ??= (async () => {
      await this.runner.stopAll(timeoutMs);
      await this.stopServing();
      await this.bootstrap.flush();
      // After the peers: nothing is left for a rule to act on.
      await this.kernelTable?.close();
    })();
    return this.#closing;
  }

  /**
   * Closes the servers and every connection but leaves the peers running:
   * to them the coordinator is gone, as if it had crashed (peerlab conform's
   * grace-period check). `close()` still stops the peers afterwards.
   */
  stopServing(): Promise<void> {
    this.#serving ??= (async () => {
      this.liveView.close();
      await new Promise<void>((resolve) => {
        void this.io.close(() => resolve());
      });
      try {
        this.hub.flushEvents();
      } finally {
        this.server.closeAllConnections();
        await new Promise<void>((resolve) => this.server.close(() => resolve()));
      }
    })();
    return this.#serving;
  }
}
