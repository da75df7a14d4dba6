/**
 * `npm run bench`: peerlab measured against the floor Node and socket.io set
 * on this machine, each figure beside a baseline taken in the same run, so
 * the ratio means something on a noisy shared box. Prints one JSON line per
 * figure and writes bench/results.json. `--quick` runs everything small, for
 * the CI smoke test.
 */
import {createServer} from 'node:http';
import type {AddressInfo} from 'node:net';
import {mkdtemp, readdir, rm, writeFile, mkdir} from 'node:fs/promises';
import {createReadStream, existsSync, readFileSync} from 'node:fs';
import {createInterface} from 'node:readline';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import {execa} from 'execa';
import type {ResultPromise} from 'execa';
import {Server} from 'socket.io';
import {Coordinator, HistoryWriter, defaultPeerBin, generateNames, killAllPeersNow} from '@peerlab/test-server';
import {readHistory} from '@peerlab/checkers/history/read';
import type {HistoryEvent} from '@peerlab/checkers/history/types';
import {checkCondition, invariants} from '@peerlab/checkers/check';
import {causal} from '@peerlab/checkers/causal';
import {median, percentile, round} from '@peerlab/checkers/stats';
import {epidemicRounds, expectedDetectionMs, failureDetectionBoundMs, joinSpreadModelMs, leaveSpreadModelMs, parseSwimTiming} from '@peerlab/checkers/swim-model';
import type {SwimTiming} from '@peerlab/checkers/swim-model';
import {buildReportFiles} from '@peerlab/report';
import {chromiumPath, withBrowser} from '@peerlab/report/probe/browser';
import {painted} from '@peerlab/report/probe/screenshots';
import {writeCausalHistory} from './causal-history.js';
import type {ChangeKind, Spread} from './spread.js';
import {SpreadClock} from './spread.js';
import {timeToConverged} from './converged.js';
import {restRate, untilAtRest} from './rest.js';
import {table} from './table.js';
import type {TableFigure} from './table.js';
import type {ScenarioResult} from './converged.js';

/** One figure of the bench: what its table row shows, and a note on how it was measured. */
interface Figure extends TableFigure {
  note?: string;
}

const quick = process.argv.includes('--quick');
/** `--only spawn,commands` runs some phases (spawn, convergence, commands, ingestion, detection, checkers, causal, report, scale); results then go to results-partial.json. */
const only = process.argv.find((a, i) => process.argv[i - 1] === '--only')?.split(',');
const phase = (name: string) => !only || only.includes(name);
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
const benchAgent = path.resolve(here, '../bench-agent.mjs');
/** A profile's timing, asked of the peer binary (the bench imports no peer code: it measures the binary as a user runs it). */
async function peerProfile(name: 'local' | 'lan'): Promise<SwimTiming> {
  const {stdout} = await execa(process.execPath, [defaultPeerBin(), '--print-profile', name], {timeout: 10_000});
  return parseSwimTiming(JSON.parse(stdout), `peerlab-peer --print-profile ${name}`);
}
const profiles = {local: await peerProfile('local'), lan: await peerProfile('lan')};
const local = profiles.local;
const figures: Figure[] = [];
const tmpRoot = await mkdtemp(path.join(os.tmpdir(), 'peerlab-bench-'));
process.on('exit', killAllPeersNow);

function report(figure: Omit<Figure, 'ratio' | 'met'> & {ratio?: number}, met: (ratio: number, value: number) => boolean): void {
  const ratio = figure.ratio ?? (figure.baseline === 0 ? (figure.value === 0 ? 1 : Infinity) : figure.value / figure.baseline);
  const ok = met(ratio, figure.value);
  // A ratio a hair over its target (1.301x against 1.3x) would read "1.3x, missed" at two decimals: then it gets three.
  const shown = met(round(ratio), figure.value) === ok ? round(ratio) : round(ratio, 3);
  const full: Figure = {...figure, value: round(figure.value), baseline: round(figure.baseline), ratio: shown, met: ok};
  figures.push(full);
  process.stdout.write(JSON.stringify(full) + '\n');
}

function log(message: string): void {
  process.stderr.write(`# ${message}\n`);
}

/** A raw socket.io server and N bare clients: what any socket.io harness pays at the least. */
class Baseline {
  readonly io: Server;
  readonly sockets = new Map<string, import('socket.io').Socket>();
  readonly children: ResultPromise[] = [];
  #hello: (() => void) | undefined;
  url = '';

  private constructor() {
    const server = createServer();
    this.io = new Server(server, {transports: ['websocket'], maxHttpBufferSize: 64 * 1024 * 1024});
    this.io.on('connection', (socket) => {
      socket.on('hello', (hello: {peer: string}) => {
        this.sockets.set(hello.peer, socket);
        this.#hello?.();
      });
    });
  }

  static async start(): Promise<Baseline> {
    const baseline = new Baseline();
    const server = (baseline.io as unknown as {httpServer: import('node:http').Server}).httpServer;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseline.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return baseline;
  }

  /** Spawns n bare clients at once and resolves when all said hello; returns the elapsed ms. */
  async spawn(n: number, prefix = 'b'): Promise<number> {
    const started = performance.now();
    const target = this.sockets.size + n;
    const done = new Promise<void>((resolve) => {
      this.#hello = () => {
        if (this.sockets.size >= target) resolve();
      };
    });
    for (let i = 0; i < n; i++) {
      this.children.push(execa(process.execPath, [benchAgent], {env: {MODE: 'baseline', URL: this.url, NAME: `${prefix}${i}`}, reject: false, stdio: 'ignore'}));
    }
    await done;
    return performance.now() - started;
  }

  async close(): Promise<void> {
    for (const child of this.children) child.kill('SIGKILL');
    await Promise.all(this.children);
    await new Promise<void>((resolve) => void this.io.close(() => resolve()));
  }
}

/** `peers`: how many the group will have, as a scenario run tells its coordinator (the agents' flush interval follows). */
async function coordinator(name: string, profile: 'local' | 'lan' = 'local', registerTimeoutMs = 120_000, peers?: number): Promise<Coordinator> {
  return Coordinator.start({logDir: path.join(tmpRoot, name), registerTimeoutMs, profile, ...(peers !== undefined ? {expectedPeers: peers} : {})});
}

/**
 * The profile for N peers on this machine: 200 processes probing every 150 ms
 * and gossiping every 50 ms (local) keep two cores saturated (load average
 * above 170), so at that size the bench uses lan, memberlist's timing.
 */
function profileFor(n: number): 'local' | 'lan' {
  return n >= 200 ? 'lan' : 'local';
}

/** Resolves when every spawned peer sees all N, from the events the peers stream. */
async function waitConverged(c: Coordinator, names: readonly string[], timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  // Each look walks every view: at 1,000 peers a million entries, so look less often as N grows.
  const every = Math.max(20, names.length / 2);
  while (performance.now() < deadline) {
    if (names.every((n) => c.views.liveCount(n) === names.length)) return true;
    await new Promise((r) => setTimeout(r, every));
  }
  return false;
}

/** A coordinator with N local peers that all see each other. */
async function convergedGroup(name: string, n: number, timeoutMs: number): Promise<{c: Coordinator; names: string[]}> {
  const c = await coordinator(name);
  const names = generateNames(n);
  await c.spawn(names);
  await waitConverged(c, names, timeoutMs);
  return {c, names};
}

/** Resident memory of a process, in MB, from /proc. */
function rssOf(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
  } catch {
    return NaN;
  }
}

// --- spawn-to-registered, and one change's spread through a formed group ---------------

/**
 * Groups of N peers, each formed once for both phases that need one: spawn
 * times its registration, convergence times single changes in it once it has
 * converged (spread below). Then, for convergence, 1,000 peers in peer hosts.
 */
/** The hosted 1,000-peer group's time from the start to converged in this run (NaN when it did not converge), set beside the 2,000-peer group's. */
let hostedConvergedS = NaN;
/** Whether this run formed the hosted 1,000-peer group at all (`--only scale` does not). */
let hostedFormed = false;

async function groups(sizes: number[], changes: number, hosted: {n: number; perProcess: number; registerTimeoutMs: number; convergeTimeoutMs: number} | undefined): Promise<void> {
  const spreads: SpreadFigures[] = [];
  // Where the phase's minutes go, group by group: the whole bench is to stay under ten.
  const lap = (() => {
    let from = performance.now();
    const parts: string[] = [];
    return Object.assign((what: string) => {
      const now = performance.now();
      parts.push(`${what} ${round((now - from) / 1000, 1)} s`);
      from = now;
    }, {done: (group: string) => void log(`${group}: ${parts.splice(0).join(', ')}`)});
  })();
  for (const n of sizes) {
    // The baseline is taken before the peers and again after their group is gone, and the faster of the
    // two counts: a neighbour that slowed one of them on this shared machine does not flatter the ratio.
    const floors: number[] = [];
    const bareClients = async () => {
      const baseline = await Baseline.start();
      floors.push(await baseline.spawn(n));
      await baseline.close();
    };
    if (phase('spawn')) {
      await bareClients();
      lap('bare clients');
    }
    const profile = profileFor(n);
    const c = await coordinator(`group-${n}`, profile, undefined, n + changes);
    let registered = NaN;
    try {
      const names = generateNames(n);
      const started = performance.now();
      await c.spawn(names);
      registered = performance.now() - started;
      lap('peers registered');
      const last = n === Math.max(...sizes);
      // `--only spawn` waits for the group only at the largest size, for the coordinator's RSS with a formed group.
      if (phase('convergence') || last) {
        const converged = await waitConverged(c, names, 60_000);
        lap(converged ? 'converged' : 'not converged');
        if (phase('spawn') && last) {
          const rss = process.memoryUsage().rss / 1024 / 1024;
          report({name: `coordinator RSS at ${n} peers`, value: rss, unit: 'MB', baseline: 300, target: '<= 300 MB'}, (_r, v) => v <= 300);
        }
        if (phase('convergence')) {
          spreads.push(...(await spread(c, names, {profile, changes, label: profile, converged})));
          lap(converged ? `${changes} joins and leaves` : 'no change timed');
        }
      }
    } finally {
      await c.close();
      lap('stopped');
    }
    if (phase('spawn')) {
      await bareClients();
      lap('bare clients again');
      const floor = Math.min(...floors);
      report({name: `spawn-to-registered, N=${n} (${profile})`, value: registered, unit: 'ms', baseline: floor, target: '<= 1.3x bare socket.io hello', note: `baseline: the faster of ${floors.map((f) => round(f)).join(' ms (before) and ')} ms (after)`}, (r) => r <= 1.3);
    }
    lap.done(`N=${n}`);
  }
  if (phase('convergence') && hosted) {
    // The expensive group: forming 1,000 peers takes minutes on two cores (scenarios/scale/1000-peers.yaml).
    const {n, perProcess} = hosted;
    const c = await coordinator(`hosted-${n}`, 'lan', hosted.registerTimeoutMs, n);
    try {
      const names = generateNames(n);
      const started = performance.now();
      let formed: string;
      let members = names;
      try {
        await c.spawn(names, {perProcess});
        formed = `${n} peers registered in ${round((performance.now() - started) / 1000, 1)} s`;
      } catch (error) {
        // Measured among those that did register, and said so: the figures are then not the 1,000-peer group's.
        members = names.filter((name) => c.hub.isConnected(name));
        formed = `only ${members.length} of ${n} peers registered within ${hosted.registerTimeoutMs / 1000} s (${error instanceof Error ? error.name : 'error'})`;
      }
      const converged = members.length === n && (await waitConverged(c, names, hosted.convergeTimeoutMs));
      const toConverged = performance.now() - started;
      formed += `, ${converged ? 'converged' : 'NOT converged'} ${round(toConverged / 1000, 1)} s after the start`;
      log(formed);
      // The same group as scenarios/scale/1000-peers.yaml (1,000 peers, 25 to a process, lan), formed once for both
      // figures: its time from the start to converged is the scale target's, and the spread figures follow.
      hostedConvergedS = converged ? toConverged / 1000 : NaN;
      hostedFormed = true;
      report(
        // Not converged: no time to converge (the note says how long it waited).
        {name: `time to converged from the start, ${n} peers (${perProcess} per process, lan)`, value: converged ? toConverged / 1000 : NaN, unit: 's', baseline: 30, target: '<= 30 s', note: `spawned, registered, joined and seen by all; ${formed}`},
        (_r, v) => converged && v <= 30,
      );
      // A group that did not even register leaves no room for a newcomer to register either (each would wait out
      // the registration deadline): its figures are reported missed, with why, and no change is tried.
      lap(`${converged ? 'converged' : 'not converged'} from the start`);
      spreads.push(...(await spread(c, members, {profile: 'lan', changes: members.length === n ? changes : 0, label: `lan, ${perProcess} per process`, converged, formed, n, planned: changes})));
      lap(converged ? `${changes} joins and leaves` : 'no change timed');
    } finally {
      await c.close();
      lap('stopped');
      lap.done(`${n} hosted peers`);
    }
  }
  if (phase('convergence')) spreadGrowth(spreads);
}

interface SpreadFigures {
  n: number;
  profile: 'local' | 'lan';
  kind: ChangeKind;
  median: number;
  model: number;
}

/** How long a formed group is given to come to rest before its first change is timed anyway (and said so). */
const restTimeoutMs = 30_000;

/**
 * One change at a time in a formed group, each timed until every other live
 * member's view has it (SpreadClock): a new peer joins, then leaves
 * gracefully (the `leave` command) and its process is killed, `changes`
 * times; the group is N again after each pair. Between changes the group is
 * left to fall quiet (every member has sent the news its retransmit limit of
 * times), so each change starts from rest, as the model does; before the
 * first, the group sends no more than probing takes (rest.ts).
 */
async function spread(c: Coordinator, names: string[], options: {profile: 'local' | 'lan'; changes: number; label: string; converged: boolean; formed?: string; n?: number; planned?: number}): Promise<SpreadFigures[]> {
  const planned = options.planned ?? options.changes;
  // The group's size as it was meant to be: a group not fully formed is still named by it, with a note.
  const n = options.n ?? names.length;
  const timing = profiles[options.profile];
  const clock = new SpreadClock(c);
  // A change missed by some view is caught up by push-pull at the latest; beyond two of those it is missed.
  const deadline = 5000 + 2 * timing.pushPullIntervalMs;
  const quiet = (Math.ceil((timing.retransmitMult * Math.ceil(Math.log10(n + 2))) / timing.gossipNodes) + 1) * timing.gossipIntervalMs;
  const settle = () => new Promise((r) => setTimeout(r, quiet));
  const results: Record<ChangeKind, Spread[]> = {join: [], leave: []};
  // A change's spread is timed in a formed group, as the model describes it. In a group that has not
  // converged, each change waited out the deadline (65 s on lan) for a figure that was missed anyway.
  const changes = options.converged ? options.changes : 0;
  // From rest, as the model times a change: a group just formed is still sending its last newcomers' news.
  let rest = '';
  if (changes > 0) {
    const limit = restRate(timing.probeIntervalMs);
    const r = await untilAtRest(c, names, limit, restTimeoutMs);
    const rate = Number.isFinite(r.rate) ? `${round(r.rate, 1)} datagrams a second a member` : 'too few members reporting their traffic';
    rest = r.atRest ? `; from rest (${rate}, at most ${round(limit, 1)}), reached in ${round(r.waitedMs / 1000, 1)} s` : `; NOT at rest after ${restTimeoutMs / 1000} s (${rate}, against ${round(limit, 1)})`;
    await settle();
  }
  const failures: string[] = [];
  for (const joiner of generateNames(changes, new Set(generateNames(n)))) {
    try {
      clock.begin('join', joiner, names);
      await c.spawn([joiner]);
      results.join.push(await clock.end(deadline));
      await settle();
      clock.begin('leave', joiner, names);
      const left = c.hub.command(joiner, 'leave', {}, 30_000);
      results.leave.push(await clock.end(deadline));
      const reply = await left;
      if (!reply.ok) throw new Error(`${joiner} leave: ${reply.error.message}`);
      await c.runner.kill(joiner);
      await settle();
    } catch (error) {
      // A change that could not be made is not a time: it is reported, and the rest are not tried.
      failures.push(`${joiner}: ${error instanceof Error ? error.message.slice(0, 200) : String(error)}`);
      break;
    }
  }
  const out: SpreadFigures[] = [];
  for (const kind of ['join', 'leave'] as const) {
    const model = kind === 'join' ? joinSpreadModelMs(timing, n) : leaveSpreadModelMs(timing, n);
    const serf = `Serf's model: ${epidemicRounds(n + 1, timing.gossipNodes)} rounds of ${timing.gossipIntervalMs} ms, fan-out ${timing.gossipNodes}, ${n + 1} nodes`;
    // memberlist gossips a leave like any broadcast, and so does Serf's model; this peer sends it straight to
    // every member, so the time is also given against one hop (one round), which only the machine stretches.
    const modelText = kind === 'join' ? serf : `${serf}, a leave gossiped like any broadcast; here the leaver sends its left straight to every member, one hop`;
    const spreads = results[kind];
    // A change not seen by all counts as never: it drags the median and p99 to missed, loudly, never to 0.
    const times = spreads.map((s) => (Number.isFinite(s.ms) ? s.ms : Infinity));
    const missed = spreads.filter((s) => !Number.isFinite(s.ms));
    const seen = times.every((t) => t === Infinity) ? NaN : undefined;
    const missedText = missed.length ? `; ${missed.length} of ${spreads.length} NOT seen by all within ${deadline / 1000} s (${missed.map((s) => `${s.subject}: ${s.seen} of ${s.observers} views${s.started ? '' : ', its start never seen'}`).join('; ')})` : '';
    const rounds = (v: number) => round(v / timing.gossipIntervalMs, 1);
    const failed = failures.length || spreads.length < planned ? `; ${spreads.length} of ${planned} ${kind}s made${failures.length ? ` (${failures.join('; ')})` : ''}` : '';
    const halves = spreads.map((s) => (Number.isFinite(s.half) ? round(s.half) : 'missed')).join(', ');
    const formed = `${rest}${options.formed ? `; ${options.formed}` : ''}`;
    // Nothing timed is said in words, not as "NaN rounds; 0 joins:  ms".
    const unmeasured = options.converged ? `none of ${planned} ${kind}s made${failures.length ? ` (${failures.join('; ')})` : ''}` : 'the group had NOT converged within its bound';
    const measured = spreads.length > 0;
    const common = measured
      ? `${spreads.length} ${kind}s: ${times.map((t) => (t === Infinity ? 'missed' : round(t))).join(', ')} ms (half the views by ${halves} ms)${missedText}; ${modelText}${failed}${formed}`
      : `not measured: ${unmeasured}; ${modelText}${formed}`;
    const what = kind === 'join' ? 'one join seen by all' : 'one leave seen by all';
    const median_ = seen ?? median(times);
    const p99 = seen ?? percentile(times, 99);
    const ok = (r: number) => r <= 1.5 && missed.length === 0 && spreads.length === planned;
    const inRounds = (v: number) => `${rounds(v)} rounds${kind === 'leave' ? ' (one hop would be one)' : ''}`;
    report({name: `${what}, N=${n} (${options.label}), median`, value: median_, unit: 'ms', baseline: model, target: "<= 1.5x Serf's model", note: measured ? `${inRounds(median_)}; ${common}` : common}, ok);
    report({name: `${what}, N=${n} (${options.label}), p99`, value: p99, unit: 'ms', baseline: model, target: "<= 1.5x Serf's model", note: measured ? `${inRounds(p99)}; the slowest of ${spreads.length}` : 'not measured'}, ok);
    out.push({n, profile: options.profile, kind, median: median_, model});
  }
  return out;
}

/**
 * Whether the spread grows like log N, for joins and for leaves, per profile
 * (rounds differ between profiles): what the spread at the largest N adds to
 * the smallest's, against what the model adds over the same sizes. Growing
 * like log N is adding the same time each time N grows tenfold, so the
 * difference is what is compared, not the quotient: a quotient of two
 * spreads divides by the smallest group's, which is a few milliseconds when
 * the first send reaches nearly everyone at once, and grows without bound as
 * that gets faster, whatever the curve's shape.
 */
function spreadGrowth(all: SpreadFigures[]): void {
  for (const profile of ['local', 'lan'] as const) {
    for (const kind of ['join', 'leave'] as const) {
      const figures = all.filter((f) => f.profile === profile && f.kind === kind).sort((a, b) => a.n - b.n);
      if (figures.length < 2) continue;
      const [lo, hi] = [figures[0]!, figures.at(-1)!];
      const added = hi.median - lo.median;
      // The model counts whole rounds: between sizes it puts in the same round (5 and 10 in the quick bench), less than one is within its grain.
      const modelAdded = Math.max(hi.model - lo.model, profiles[profile].gossipIntervalMs);
      const series = figures.map((f) => `${Number.isFinite(f.median) ? `${round(f.median)} ms` : 'not measured'} at ${f.n}`).join(', ');
      const quotient = hi.median / lo.median;
      report(
        {
          name: `${kind} spread growth, N=${lo.n} to ${hi.n} (${profile}), median`,
          // A spread not measured at either end is no growth: NaN, missed, never 0.
          value: Number.isFinite(added) ? added : NaN,
          unit: 'ms',
          baseline: modelAdded,
          target: "<= 1.5x what the model adds (log N)",
          note: `${kind}s: ${series}; the model: ${figures.map((f) => `${f.model} ms`).join(', ')}${hi.model - lo.model < modelAdded ? ` (it adds less than a round between these sizes: one round, ${modelAdded} ms, is the baseline)` : ''}; the largest over the smallest ${Number.isFinite(quotient) ? `${round(quotient)}x` : 'not measured'} (the model ${round(hi.model / lo.model)}x)`,
        },
        (r) => Number.isFinite(r) && r <= 1.5,
      );
    }
  }
}

// --- commands -------------------------------------------------------------------

/**
 * Commands against a raw emit-with-ack between the same two processes, under
 * the same load: the agent answers a bare `ping` at once, so the baseline and
 * peerlab's command are measured on the same connection, interleaved.
 */
async function commands(n: number, rounds: number): Promise<void> {
  const {c, names} = await convergedGroup('commands', n, 30_000);
  const ours: number[] = [];
  const raw: number[] = [];
  for (let i = 0; i < rounds; i++) {
    let t = performance.now();
    if (!(await c.hub.ping(names[0]!))) throw new Error('ping failed');
    raw.push(performance.now() - t);
    t = performance.now();
    const reply = await c.hub.command(names[0]!, 'echo', {text: 'ping'}, 5000);
    if (!reply.ok) throw new Error(reply.error.message);
    ours.push(performance.now() - t);
  }
  const fan: number[] = [];
  const rawFan: number[] = [];
  for (let i = 0; i < Math.max(5, rounds / 10); i++) {
    let t = performance.now();
    await Promise.all(names.map((name) => c.hub.ping(name)));
    rawFan.push(performance.now() - t);
    t = performance.now();
    await Promise.all(names.map((name) => c.hub.command(name, 'echo', {text: 'ping'}, 5000)));
    fan.push(performance.now() - t);
  }
  const peerRss = median(c.runner.handles().slice(0, 5).map((h) => rssOf(h.pid!)));
  await c.close();

  report({name: `command round trip p50, ${n} peers up`, value: percentile(ours, 50), unit: 'ms', baseline: percentile(raw, 50), target: '<= 1.5x raw emit-with-ack'}, (r) => r <= 1.5);
  report({name: `command round trip p99, ${n} peers up`, value: percentile(ours, 99), unit: 'ms', baseline: percentile(raw, 99), target: '<= 1.5x raw emit-with-ack'}, (r) => r <= 1.5);
  report({name: `command fan-out to ${n} peers p50`, value: percentile(fan, 50), unit: 'ms', baseline: percentile(rawFan, 50), target: '<= 1.5x raw fan-out'}, (r) => r <= 1.5);

  const bare = await bareNodeRss();
  report({name: 'peer RSS', value: peerRss, unit: 'MB', baseline: bare, target: '<= 1.5x a bare node process'}, (r) => r <= 1.5);
}

async function bareNodeRss(): Promise<number> {
  const children = [0, 1, 2].map(() => execa(process.execPath, ['-e', 'setInterval(() => {}, 1e9)'], {reject: false}));
  await new Promise((r) => setTimeout(r, 500));
  const rss = median(children.map((c) => rssOf(c.pid!)));
  for (const c of children) c.kill('SIGKILL');
  await Promise.all(children);
  return rss;
}

// --- event ingestion ----------------------------------------------------------------

async function ingestion(count: number): Promise<void> {
  const baseline = await Baseline.start();
  await baseline.spawn(1, 'flood');
  let received = 0;
  const socket = baseline.sockets.get('flood0')!;
  socket.on('events', (batch: {events: unknown[]}, ack: (a: unknown) => void) => {
    received += batch.events.length;
    ack({ok: true});
  });
  let t = performance.now();
  await socket.timeout(120_000).emitWithAck('flood', {count, batch: 5000});
  const rawRate = received / ((performance.now() - t) / 1000);
  await baseline.close();

  const c = await coordinator('ingestion');
  const history = new HistoryWriter(path.join(tmpRoot, 'ingestion-history.jsonl'));
  c.hub.on('events', (name, events) => {
    const src = `peer:${name}` as const;
    for (const e of events) history.appendPeer(src, e);
  });
  const child = execa(process.execPath, [benchAgent], {env: {MODE: 'agent', URL: c.url, TOKEN: c.token, NAME: 'flooder'}, reject: false, stdio: 'ignore'});
  await c.hub.waitForRegistered(['flooder'], 10_000);
  t = performance.now();
  const reply = await c.hub.command('flooder', 'flood', {count}, 120_000);
  if (!reply.ok) throw new Error(reply.error.message);
  while (history.events.length < count) await new Promise((r) => setTimeout(r, 5));
  await history.close();
  const rate = count / ((performance.now() - t) / 1000);
  child.kill('SIGKILL');
  await child;
  await c.close();
  report(
    {name: 'event ingestion into the history (on disk)', value: rate, unit: 'events/s', baseline: rawRate, target: '>= 0.5x raw socket.io events/s, and >= 100,000 events/s'},
    (r, v) => r >= 0.5 && v >= 100_000,
  );
  await historyHeap(path.join(tmpRoot, 'ingestion-history.jsonl'));
}

/**
 * The heap a run's history holds an event, as the coordinator keeps it for
 * the verdict: the same events parsed from batches of JSON text (as the hub
 * gets them) and held as parsed, against held by a HistoryWriter. What a
 * coordinator runs out of first in a long 2,000-peer run is heap.
 */
async function historyHeap(file: string): Promise<void> {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const batches: string[] = [];
  let lines: string[] = [];
  for await (const line of createInterface({input: createReadStream(file)})) {
    if (!line.includes('"src":"peer:')) continue;
    lines.push(line);
    if (lines.length === 5000) batches.push(`[${lines.join(',')}]`), (lines = []);
  }
  if (lines.length > 0) batches.push(`[${lines.join(',')}]`);
  // A batch a turn, as the hub takes them in: the writer's lines go to the file in between, and the file is
  // closed before the heap is counted, so what is counted is what stays held.
  const held = async (keep: (events: HistoryEvent[]) => void, settle: () => Promise<void>): Promise<{bytes: number; count: number}> => {
    gc();
    const before = process.memoryUsage().heapUsed;
    let count = 0;
    for (const text of batches) {
      const events = JSON.parse(text) as HistoryEvent[];
      count += events.length;
      keep(events);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await settle();
    gc();
    return {bytes: (process.memoryUsage().heapUsed - before) / count, count};
  };
  const parsed: HistoryEvent[] = [];
  const plain = await held((events) => void parsed.push(...events), async () => {});
  parsed.length = 0;
  const writer = new HistoryWriter(path.join(tmpRoot, 'heap-history.jsonl'));
  const recorded = await held(
    (events) => {
      for (const e of events) writer.appendPeer(e.src as `peer:${string}`, {seq: e.seq ?? 1, time: e.t, type: e.type, data: e.data as Record<string, unknown>});
    },
    () => writer.close(),
  );
  report(
    {name: 'history heap per peer event', value: recorded.bytes, unit: 'bytes', baseline: plain.bytes, target: '<= 0.8x the events held as parsed', note: `${recorded.count} member.alive events of the ingestion phase, in batches of 5000 parsed from JSON text; held by the history writer against held as parsed`},
    (r) => r <= 0.8,
  );
}

// --- failure detection and false positives -----------------------------------------------

async function detection(n: number, chatSeconds: number): Promise<void> {
  const {c, names} = await convergedGroup('detection', n, 60_000);
  const dead: HistoryEvent[] = [];
  let suspicions = 0;
  c.hub.on('events', (name, events) => {
    for (const e of events) {
      if (e.type === 'member.dead') dead.push({t: e.time, src: `peer:${name}`, type: e.type, data: e.data});
      if (e.type === 'member.suspect') suspicions++;
    }
  });

  // False positives first: a long run with chat and no fault at all.
  const chatUntil = Date.now() + chatSeconds * 1000;
  let sent = 0;
  while (Date.now() < chatUntil) {
    await c.hub.command(names[sent % n]!, 'send', {text: `bench message ${sent}`}, 5000);
    sent++;
    await new Promise((r) => setTimeout(r, 200));
  }
  report({name: `false dead declarations, ${n} peers, ${chatSeconds} s with chat`, value: dead.length, unit: 'count', baseline: 0, ratio: dead.length === 0 ? 1 : Infinity, target: '0', note: `${sent} messages, ${suspicions} suspicions`}, (_r, v) => v === 0);

  const victim = names[Math.floor(n / 2)]!;
  const killedAt = Date.now();
  void c.runner.kill(victim);
  const bound = failureDetectionBoundMs(local, n);
  const seenBy = new Map<string, number>();
  const deadline = Date.now() + bound + 5000;
  while (seenBy.size < n - 1 && Date.now() < deadline) {
    for (const e of dead) if (e.data.name === victim && !seenBy.has(e.src)) seenBy.set(e.src, e.t - killedAt);
    await new Promise((r) => setTimeout(r, 20));
  }
  const times = [...seenBy.values()];
  const expected = expectedDetectionMs(local, n);
  report({name: `failure detection after SIGKILL, N=${n}, median`, value: median(times), unit: 'ms', baseline: expected, target: '<= 1.5x e/(e-1) probe periods + suspicion timeout', note: `${times.length} of ${n - 1} detected`}, (r) => r <= 1.5 && times.length === n - 1);
  report({name: `failure detection after SIGKILL, N=${n}, max`, value: Math.max(...times), unit: 'ms', baseline: bound, target: 'within the configured bound'}, (_r, v) => v <= bound);
  await c.close();
}

// --- checkers over a large history ---------------------------------------------------------

/**
 * A large synthetic history, the same for every phase that needs one: 50
 * peers that all see each other, then chat, each message delivered by all.
 */
async function writeBigHistory(file: string, events: number): Promise<void> {
  const peers = generateNames(50);
  const lines: string[] = [];
  let t = Date.now();
  lines.push(JSON.stringify({t, src: 'coordinator', type: 'run.begin', data: {peers, invariants: []}}));
  for (const p of peers) lines.push(JSON.stringify({t, src: 'coordinator', type: 'peer.spawn', data: {peer: p, pid: 1}}), JSON.stringify({t, src: `peer:${p}`, type: 'peer.started', data: {address: '127.0.0.1:1', incarnation: 0, profile: 'local'}}));
  for (const p of peers) for (const q of peers) if (p !== q) lines.push(JSON.stringify({t, src: `peer:${p}`, type: 'member.joined', data: {name: q, incarnation: 0, address: '127.0.0.1:1'}}));
  let seq = 0;
  while (lines.length < events) {
    const sender = peers[seq % peers.length]!;
    seq++;
    const id = `${sender}:e:${Math.floor(seq / peers.length) + 1}`;
    t++;
    lines.push(JSON.stringify({t, src: `peer:${sender}`, type: 'chat.sent', data: {id, sender, seq: Math.floor(seq / peers.length) + 1, text: 'x'}}));
    for (const p of peers) {
      if (lines.length >= events) break;
      lines.push(JSON.stringify({t: t + 1, src: `peer:${p}`, type: 'chat.delivered', data: {id, sender, seq: Math.floor(seq / peers.length) + 1, sentAt: t}}));
    }
  }
  await writeFile(file, lines.join('\n') + '\n');
}

/** The floor any reader of a history pays: readline and JSON.parse of every line. Returns ms and the number of events. */
async function readAndParse(file: string): Promise<{ms: number; cpuMs: number; parsed: number}> {
  const started = performance.now();
  const cpu = cpuMs();
  let parsed = 0;
  for await (const line of createInterface({input: createReadStream(file, 'utf8'), crlfDelay: Infinity})) {
    if (line) {
      JSON.parse(line);
      parsed++;
    }
  }
  return {ms: performance.now() - started, cpuMs: cpuMs() - cpu, parsed};
}

/** This process's CPU time so far (its worker threads and GC threads included), in ms. */
function cpuMs(): number {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1000;
}

/** The large history of `events` events, written once for the phases that share it. */
const bigHistories = new Map<number, Promise<string>>();
function bigHistory(events: number): Promise<string> {
  let file = bigHistories.get(events);
  if (!file) {
    const at = path.join(tmpRoot, `big-history-${events}.jsonl`);
    file = writeBigHistory(at, events).then(() => at);
    bigHistories.set(events, file);
  }
  return file;
}

async function checkers(events: number): Promise<void> {
  const file = await bigHistory(events);
  // The best of a few alternating rounds of each, as the causal and report phases take them: one round of
  // each swung between 2.2x and 3.1x from run to run, with whatever else the machine ran.
  const rounds = quick ? 1 : 3;
  let readOnly = Infinity;
  let withCheckers = Infinity;
  let parsed = 0;
  for (let round = 0; round < rounds; round++) {
    const raw = await readAndParse(file);
    readOnly = Math.min(readOnly, raw.ms);
    parsed = raw.parsed;
    const started = performance.now();
    const history = await readHistory(file);
    const at = history.at(-1)!.t + 1;
    const window = {from: history[0]!.t, at};
    checkCondition({kind: 'converged'}, history, window);
    checkCondition({kind: 'delivered'}, history, window);
    for (const check of Object.values(invariants)) check(history);
    withCheckers = Math.min(withCheckers, performance.now() - started);
  }
  report({name: `checkers over a ${Math.round(parsed / 1000)}k-event history`, value: withCheckers, unit: 'ms', baseline: readOnly, target: '<= 3x reading and parsing the file', note: `best of ${rounds}`}, (r) => r <= 3);
}

// --- the causal invariant over a large chat history ------------------------------------------

/**
 * The `causal` invariant over a generated history of causal chat (causal-history.ts), against
 * parsing it as every checker's input is parsed (`readHistory`: read, JSON.parse, each line held to
 * the contract). The best of a few alternating rounds of each, as the report phase takes them.
 */
async function causalPhase(events: number): Promise<void> {
  const peers = 20;
  const file = path.join(tmpRoot, `causal-history-${events}.jsonl`);
  const {messages, held} = await writeCausalHistory(file, {peers, events, timing: local});
  const rounds = quick ? 1 : 3;
  let parseMs = Infinity;
  let checkMs = Infinity;
  let verdict: ReturnType<typeof causal> | undefined;
  let count = 0;
  // Beside it, for scale: readline and JSON.parse alone, the floor the checkers phase compares with.
  let rawMs = Infinity;
  for (let round = 0; round < rounds; round++) {
    rawMs = Math.min(rawMs, (await readAndParse(file)).ms);
    let started = performance.now();
    const history = await readHistory(file);
    parseMs = Math.min(parseMs, performance.now() - started);
    count = history.length;
    started = performance.now();
    verdict = causal(history);
    checkMs = Math.min(checkMs, performance.now() - started);
  }
  const f = verdict?.figures ?? {};
  report(
    {
      name: `causal invariant over a ${Math.round(count / 1000)}k-event chat history`,
      value: checkMs,
      unit: 'ms',
      baseline: parseMs,
      target: '<= 2x parsing it (readHistory)',
      note: `best of ${rounds}; ${peers} peers, ${messages} messages, ${f.deliveries ?? 0} deliveries, ${held} held, largest frontier ${f.max_frontier ?? 0}; JSON.parse alone ${round(rawMs)} ms (${round(checkMs / rawMs)}x); ${verdict?.status ?? 'not run'}: ${(verdict?.message ?? '').slice(0, 200)}`,
    },
    (r) => r <= 2 && verdict?.status === 'pass',
  );
}

// --- the HTML report of a large history -----------------------------------------------------------

/**
 * The report of the same large history: building its files against reading
 * and parsing the history (what any reader pays), then opening it in
 * headless Chromium: first contentful paint against an empty page's in the
 * same browser, and the longest main-thread task while the cursor is dragged
 * across the run, against the 200 ms a person notices.
 */
async function reportPhase(events: number): Promise<void> {
  const file = await bigHistory(events);
  const dir = path.join(tmpRoot, `report-${events}`);
  // The best of a few alternating rounds of each, in wall time as a person waits for it: a shared 2-core machine's
  // neighbours slow one round or another, rarely all. CPU time goes in the note (the build spreads over a worker thread).
  const rounds = quick ? 1 : 3;
  let parsed = 0;
  let readOnly = Infinity;
  let readCpu = Infinity;
  let buildMs = Infinity;
  let buildCpu = Infinity;
  let built: Awaited<ReturnType<typeof buildReportFiles>> | undefined;
  for (let round = 0; round < rounds; round++) {
    const read = await readAndParse(file);
    parsed = read.parsed;
    readOnly = Math.min(readOnly, read.ms);
    readCpu = Math.min(readCpu, read.cpuMs);
    const started = performance.now();
    const cpu = cpuMs();
    built = await buildReportFiles(file, dir);
    buildCpu = Math.min(buildCpu, cpuMs() - cpu);
    buildMs = Math.min(buildMs, performance.now() - started);
  }
  const size = (await readdir(dir)).length;
  report(
    {name: `report files of a ${Math.round(parsed / 1000)}k-event history`, value: buildMs, unit: 'ms', baseline: readOnly, target: '<= 3x reading and parsing the file', note: `best of ${rounds}; ${size} files in ${path.basename(dir)}; CPU time ${round(buildCpu)} ms against ${round(readCpu)} ms (${round(buildCpu / readCpu)}x)`},
    (r) => r <= 3,
  );

  const empty = path.join(tmpRoot, 'empty.html');
  await writeFile(empty, '<!doctype html><meta charset="utf-8"><title>empty</title><p>peerlab</p>');
  await withBrowser(async (browser) => {
    const blank = await browser.open(empty);
    const floor = (await blank.waitForFirstContentfulPaint(60_000)).firstContentfulPaint;
    await blank.page.close();

    const page = await browser.open(built!.index, {timeoutMs: 120_000});
    const paint = (await page.waitForFirstContentfulPaint(120_000)).firstContentfulPaint;
    // The first view, not the first pixel: the header's text paints before any data is read.
    await page.page.waitForSelector('section#overview canvas', {timeout: 120_000});
    await page.page.evaluate(painted);
    const firstView = await page.now();
    report(
      {name: `report first view painted, ${Math.round(parsed / 1000)}k events (Chromium)`, value: firstView, unit: 'ms', baseline: floor, target: '<= 2,000 ms', note: `the overview drawn and on screen, ms after navigation began; first contentful paint ${round(paint)} ms; baseline: an empty page's first paint`},
      (_r, v) => v <= 2000,
    );

    // Scrubbing as a person does it: the matrix's cursor slider dragged across the whole run, every view following.
    const since = await page.now();
    const steps = quick ? 10 : 40;
    const dragMs = await page.dragAcross('#matrix input.scrubber', steps, 120_000);
    const longest = await page.longestLongTask(since);
    // A drag that did not move the cursor would time nothing: the matrix must have drawn the end of the run.
    const reached = Number(await page.page.getAttribute('#matrix canvas[data-cursor]', 'data-cursor'));
    const end = built!.data.meta.end;
    const problems = [...page.errors(), ...page.foreignRequests(dir), ...(reached >= end * 0.95 ? [] : [`the cursor reached ${reached} ms of ${end}`])];
    report(
      {name: `report longest task while scrubbing, ${Math.round(parsed / 1000)}k events`, value: longest, unit: 'ms', baseline: 200, target: '< 200 ms', note: `the cursor slider dragged across the run in ${steps} moves, ${round(dragMs)} ms${longest === 0 ? '; no task reached 50 ms, the long-task threshold' : ''}${problems.length ? `; page problems: ${problems.slice(0, 3).join('; ')}` : ''}`},
      (_r, v) => v < 200 && problems.length === 0,
    );
  });
}

// --- scale scenarios ---------------------------------------------------------------------------

/**
 * The 2,000-peer scenario's bound in the bench. On two cores the group
 * registers in about 50 s and converges 100-115 s later (three runs of the
 * scenario, 2026-12-05); 210 s leaves room for a slower hour and still keeps
 * the full bench under ten minutes when the group does not converge.
 */
const scaleBoundS = 210;

/**
 * The 2,000-peer scenario of scenarios/scale, run as a user runs it: through
 * `peerlab run`. Not part of CI; met when it passes within the bench's bound
 * (scaleBoundS), and its time set beside the 1,000-peer group's. The other
 * scale scenarios are a user's to run: the bench already starts 200
 * processes (the spawn phase) and watches 50 peers chat for false deaths (the
 * detection phase), and running them again here took the 95 s that kept the
 * whole run over ten minutes.
 */
async function scale(): Promise<void> {
  const out = path.join(tmpRoot, 'scale');
  const bin = path.join(root, 'test-server/bin/peerlab.mjs');
  // 1000-peers.yaml is the convergence phase's hosted group (the same 1,000 peers, 25 to a process, lan), formed there once.
  // 2000-peers.yaml runs memberlist's WAN timing: on two cores its members' acks come seconds late (docs/PERFORMANCE.md).
  // `peerlab run --timeout` holds the scenario to the bench's bound when the file allows it longer: a group that has not
  // converged by then misses the figure whatever it does next, and the file allows it minutes the ten-minute bench does not have.
  const file = path.join(root, 'scenarios/scale/2000-peers.yaml');
  const boundS = scaleBoundS;
  const run = await execa(process.execPath, [bin, 'run', file, '--timeout', `${boundS}s`, '--reporter', 'json', '--out', out], {reject: false, stdio: ['ignore', 'ignore', 'inherit']});
  let result: {scenarios: ScenarioResult[]};
  try {
    result = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as typeof result;
  } catch (error) {
    throw new Error(`peerlab run scenarios/scale exited ${run.exitCode} without results.json: ${String(error)}`);
  }
  // The hosted groups' time to converge, from the start step's beginning: registration, joins and gossip, as a
  // user waits for them. The 2,000-peer group (wan) is held to the bench's bound, its time set beside the
  // 1,000-peer group's (lan, bound 30 s) in this run.
  const twoThousand = timeToConverged(result.scenarios.find((x) => path.basename(x.file) === '2000-peers.yaml'));
  const beside = Number.isFinite(hostedConvergedS)
    ? Number.isFinite(twoThousand.ms) ? `${round(twoThousand.ms / 1000 / hostedConvergedS, 2)}x the 1,000-peer group's ${round(hostedConvergedS, 1)} s (lan)` : `the 1,000-peer group's: ${round(hostedConvergedS, 1)} s (lan)`
    : `the 1,000-peer group ${hostedFormed ? 'did not converge' : 'was not formed in this run'}`;
  report(
    {name: 'time to converged from the start, 2,000 peers (50 per process, wan)', value: twoThousand.ms / 1000, unit: 's', baseline: boundS, target: `converged within the bench's ${boundS} s bound`, note: `scenarios/scale/2000-peers.yaml (peerlab run --timeout ${boundS}s), start: all then await converged; ${twoThousand.passed ? 'converged' : `did not converge (${twoThousand.status})`}; ${beside}`},
    (r) => twoThousand.passed && r <= 1,
  );
  for (const s of result.scenarios) {
    const detail = Object.entries(s.figures ?? {}).map(([k, v]) => `${k}=${v}`).join(', ');
    report(
      {name: `scale scenario: ${s.name}`, value: s.durationMs / 1000, unit: 's', baseline: 0, ratio: s.status === 'pass' ? 1 : Infinity, target: 'passes', note: s.status === 'pass' ? detail : `${s.status}: ${(s.message ?? '').slice(0, 300)}`},
      (r) => r === 1,
    );
  }
}

// --- run ---------------------------------------------------------------------------------------

/** How long each phase took, in order: the full run must stay under ten minutes, and this says where they go. */
const phaseTimes: Array<[string, number]> = [];
async function timed(name: string, run: boolean, work: () => Promise<void>): Promise<void> {
  if (!run) return;
  const from = Date.now();
  await work();
  phaseTimes.push([name, Math.round((Date.now() - from) / 1000)]);
}

// The report phase opens the report in Chromium: without it, say so now, not after the seven minutes of phases before it.
if (phase('report') && !existsSync(chromiumPath)) {
  process.stderr.write(`peerlab bench: ${chromiumPath} is missing, and the report phase needs it: install Debian's chromium (\`apt-get install -y chromium\`; \`npm test\` does it when it can), or leave the phase out with --only\n`);
  process.exit(2);
}

const started = Date.now();
try {
  await mkdir(path.join(root, 'bench'), {recursive: true});
  log(`peerlab bench${quick ? ' (quick)' : ''} on ${os.cpus().length} cores, node ${process.version}`);
  // The hosted group gets two minutes to converge once registered: it took 55 s on a fast day, just over 60 s on a
  // slower one (2026-12-04, two runs), and a group cut at 60 s left the run without its 1,000-peer spread figures.
  await timed('spawn and convergence', phase('spawn') || phase('convergence'), () => groups(quick ? [5, 10] : [10, 50, 100, 200], quick ? 2 : 5, quick ? undefined : {n: 1000, perProcess: 25, registerTimeoutMs: 90_000, convergeTimeoutMs: 120_000}));
  await timed('commands', phase('commands'), () => commands(quick ? 5 : 100, quick ? 50 : 500));
  await timed('ingestion', phase('ingestion'), () => ingestion(quick ? 20_000 : 200_000));
  // 60 s of chat, not the 300 s it once had: the full run must stay under ten minutes on two cores. The scale
  // scenarios (200 processes, 100 peers chatting) hold no-false-dead over longer runs, and are a user's to run.
  await timed('detection', phase('detection'), () => detection(quick ? 5 : 50, quick ? 3 : 60));
  await timed('checkers', phase('checkers'), () => checkers(quick ? 20_000 : 1_000_000));
  await timed('causal', phase('causal'), () => causalPhase(quick ? 20_000 : 1_000_000));
  await timed('report', phase('report'), () => reportPhase(quick ? 20_000 : 1_000_000));
  // The scale scenarios take minutes: the full run and `--only scale` run them, --quick does not.
  await timed('scale', !quick && phase('scale'), scale);
  log(`phases: ${phaseTimes.map(([name, s]) => `${name} ${s} s`).join(', ')}`);
} finally {
  await rm(tmpRoot, {recursive: true, force: true});
}
const summary = {date: new Date().toISOString(), quick, node: process.version, cores: os.cpus().length, durationS: Math.round((Date.now() - started) / 1000), phasesS: Object.fromEntries(phaseTimes), command: `npm run bench${quick ? ' -- --quick' : ''}`, figures};
const out = path.join(root, 'bench', quick ? 'results-quick.json' : only ? 'results-partial.json' : 'results.json');
await writeFile(out, JSON.stringify(summary, null, 2) + '\n');
log(`wrote ${out} (${summary.durationS} s)`);
// The table docs/PERFORMANCE.md holds, ready to paste.
process.stderr.write(`\n${table(figures)}\n`);
process.exit(0);
