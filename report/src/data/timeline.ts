/**
 * The overview strip: steps with their verdicts (evaluate's, word for word)
 * and times, fault bands, each peer's lifecycle, the failed and undecided
 * checks as markers, and the event rate. Folded alongside the model, one
 * event at a time.
 */
import type {HistoryEvent, Status} from '@peerlab/checkers/history/types';
import {isEvent} from '@peerlab/checkers/history/types';
import type {Effect, Model} from '@peerlab/checkers/model';
import {describeEvent, faultLinks, formatTime, peerOf} from '@peerlab/checkers/model';
import type {Evaluation} from '@peerlab/checkers/verdict';
import type {CheckMarker, FaultBand, FaultBandKind, LifecycleSegment, LifecycleState, ReportMeta, Timeline, TimelineStep} from './types.js';
import type {Context} from './context.js';
import {peerIndex, relative} from './context.js';

const isBlock = (kind: string) => kind === 'parallel' || kind === 'repeat';

/** A band still open, with what closes it. */
interface OpenBand {
  band: FaultBand;
  /** Process bands: the peer. */
  peer?: string;
  /** Network bands: who made it (a nemesis round, or the steps: -1), as a heal names who it heals for. */
  owner?: number;
  /** Blocked-link bands: their links, `from\0to`. */
  links?: string[];
}

/** `partition [alice, bob] | [charly]`: the fault as the checkers word it, without the time and source. */
function faultLabel(e: HistoryEvent): string {
  const prefix = `${formatTime(e.t)} ${e.src} ${e.type} `;
  const text = describeEvent(e);
  return text.startsWith(prefix) ? text.slice(prefix.length) : text;
}

export class TimelineFold {
  readonly #stepBegin = new Map<string, {t: number; index: number}>();
  readonly #stepEnd = new Map<string, {t: number; index: number}>();
  readonly #bands: FaultBand[] = [];
  /** Open process bands, by peer. */
  readonly #process = new Map<string, OpenBand>();
  /** Restart bands waiting for their peer's next `peer.started` after its spawn. */
  readonly #restarting = new Map<string, OpenBand & {spawned: boolean}>();
  readonly #network: OpenBand[] = [];
  readonly #lifecycles: LifecycleSegment[][];
  readonly #state: Array<LifecycleState | undefined>;

  constructor(readonly ctx: Context) {
    this.#lifecycles = ctx.peers.map(() => []);
    this.#state = ctx.peers.map(() => undefined);
  }

  #open(kind: FaultBandKind, t: number, peers: number[], label: string, extra: Partial<OpenBand> = {}, sides?: number[][]): OpenBand {
    const band: FaultBand = {kind, from: relative(this.ctx, t), peers, label, ...(sides ? {sides} : {})};
    this.#bands.push(band);
    return {band, ...extra};
  }

  #close(open: OpenBand, t: number): void {
    open.band.to = relative(this.ctx, t);
  }

  #processBand(kind: FaultBandKind, peer: string, t: number, label: string): void {
    if (this.#process.has(peer)) return;
    this.#process.set(peer, this.#open(kind, t, [peerIndex(this.ctx, peer)], label, {peer}));
  }

  #endProcessBand(peer: string, t: number, kinds: readonly FaultBandKind[]): void {
    const open = this.#process.get(peer);
    if (!open || !kinds.includes(open.band.kind)) return;
    this.#close(open, t);
    this.#process.delete(peer);
  }

  #lifecycle(model: Model, peer: string, t: number): void {
    const i = this.ctx.index.get(peer);
    if (i === undefined) return;
    let state: LifecycleState | undefined;
    switch (model.liveness(peer)) {
      case 'live':
        state = 'running';
        break;
      case 'paused':
        state = 'paused';
        break;
      case 'left':
        state = 'left';
        break;
      case 'exited':
        state = 'down';
        break;
      default:
        return;
    }
    if (state === this.#state[i]) return;
    this.#state[i] = state;
    const segments = this.#lifecycles[i]!;
    const from = relative(this.ctx, t);
    const last = segments.at(-1);
    if (last) last.to = from;
    segments.push({from, state});
  }

  /** Call with every event, in order, after `model.apply(e)` returned `effect`. */
  apply(model: Model, e: HistoryEvent, index: number, effect: Effect | undefined): void {
    if (e.src !== 'coordinator') {
      const self = peerOf(e.src);
      if (self === undefined) return;
      if (e.type === 'peer.started') {
        const restart = this.#restarting.get(self);
        if (restart?.spawned) {
          this.#close(restart, e.t);
          this.#restarting.delete(self);
        }
        this.#endProcessBand(self, e.t, ['leave']);
        this.#lifecycle(model, self, e.t);
      } else if ((isEvent(e, 'member.left') || isEvent(e, 'member.alive') || isEvent(e, 'member.joined')) && e.data.name === self) {
        if (e.type === 'member.left') {
          if (index < this.ctx.teardown) this.#processBand('leave', self, e.t, `${self} left`);
        }
        else this.#endProcessBand(self, e.t, ['leave']);
        if (effect?.liveChanged) this.#lifecycle(model, self, e.t);
      }
      return;
    }
    if (isEvent(e, 'step.begin')) {
      if (!this.#stepBegin.has(e.data.path)) this.#stepBegin.set(e.data.path, {t: e.t, index});
    } else if (isEvent(e, 'step.end')) {
      if (!this.#stepEnd.has(e.data.path)) this.#stepEnd.set(e.data.path, {t: e.t, index});
    } else if (isEvent(e, 'peer.kill')) {
      const {peer, signal} = e.data;
      if (signal === 'SIGKILL') this.#processBand('kill', peer, e.t, `kill ${peer}`);
      else if (signal === 'SIGTERM') this.#processBand('stop', peer, e.t, `stop ${peer}`);
      else if (signal === 'SIGSTOP') this.#processBand('pause', peer, e.t, `pause ${peer}`);
      else if (signal === 'SIGCONT') this.#endProcessBand(peer, e.t, ['pause']);
      this.#lifecycle(model, peer, e.t);
    } else if (isEvent(e, 'peer.spawn')) {
      const peer = e.data.peer;
      this.#endProcessBand(peer, e.t, ['kill', 'stop', 'pause', 'leave']);
      const restart = this.#restarting.get(peer);
      if (restart) restart.spawned = true;
      this.#lifecycle(model, peer, e.t);
    } else if (isEvent(e, 'peer.exit')) {
      const peer = e.data.peer;
      this.#endProcessBand(peer, e.t, ['pause']);
      if (e.data.unexpectedly && !this.#process.has(peer) && !this.#restarting.has(peer)) {
        this.#processBand('kill', peer, e.t, `${peer} exited unexpectedly (${e.data.signal ?? `code ${String(e.data.code)}`})`);
      }
      this.#lifecycle(model, peer, e.t);
    } else if (isEvent(e, 'peer.registered')) {
      this.#lifecycle(model, e.data.peer, e.t);
    } else if (isEvent(e, 'fault')) {
      this.#fault(model, e);
    }
  }

  #fault(model: Model, e: HistoryEvent & {type: 'fault'}): void {
    if (!isEvent(e, 'fault') || e.data.skipped !== undefined) return;
    const d = e.data;
    const label = faultLabel(e);
    const owner = d.nemesis ?? -1;
    const names = (list: Iterable<string>) => [...new Set(list)].map((n) => peerIndex(this.ctx, n)).sort((a, b) => a - b);
    switch (d.kind) {
      case 'kill':
      case 'terminate':
      case 'pause': {
        if (d.peer === undefined) return;
        const kind = d.kind === 'kill' ? 'kill' : d.kind === 'terminate' ? 'stop' : 'pause';
        this.#processBand(kind, d.peer, e.t, label);
        const open = this.#process.get(d.peer);
        if (open && open.band.kind === kind) open.band.label = label;
        return;
      }
      case 'resume':
        if (d.peer !== undefined) this.#endProcessBand(d.peer, e.t, ['pause']);
        return;
      case 'restart': {
        if (d.peer === undefined) return;
        // Its SIGKILL came first and opened a kill band: this was a restart, so its band lasts until the new process starts.
        const open = this.#process.get(d.peer);
        if (open && open.band.kind === 'kill') {
          this.#bands.splice(this.#bands.indexOf(open.band), 1);
          this.#process.delete(d.peer);
        }
        const from = open && open.band.kind === 'kill' ? open.band.from + this.ctx.t0 : e.t;
        const band = this.#open('restart', from, [peerIndex(this.ctx, d.peer)], label, {peer: d.peer});
        this.#restarting.set(d.peer, {...band, spawned: false});
        return;
      }
      case 'partition':
      case 'isolate':
      case 'cut': {
        const links = faultLinks(d.blocked);
        let sides: number[][] | undefined;
        if (d.kind === 'partition' && d.groups && d.groups.length > 0) sides = d.groups.map((g) => names(g));
        else if (d.kind === 'isolate' && d.targets && d.targets.length > 0) {
          const targets = new Set(d.targets);
          sides = [names(d.targets), names(model.live().filter((p) => !targets.has(p)))];
        }
        const peers = sides ? [...new Set(sides.flat())].sort((a, b) => a - b) : names(links.flat());
        this.#network.push(this.#open(d.kind, e.t, peers, label, {owner, links: links.map(([a, b]) => `${a}\u0000${b}`)}, sides));
        return;
      }
      case 'loss':
      case 'delay': {
        const peers = d.links === 'all' || d.links === undefined ? names(model.live()) : names(faultLinks(d.links).flat());
        this.#network.push(this.#open(d.kind, e.t, peers, label, {owner}));
        return;
      }
      case 'heal': {
        const kept = new Set(faultLinks(d.kept).map(([a, b]) => `${a}\u0000${b}`));
        for (let i = this.#network.length - 1; i >= 0; i--) {
          const open = this.#network[i]!;
          const healed = open.links
            ? open.owner === owner || open.links.every((l) => !kept.has(l))
            : open.owner === owner || d.kept_rates !== true;
          if (!healed) continue;
          this.#close(open, e.t);
          this.#network.splice(i, 1);
        }
        return;
      }
      default:
        return;
    }
  }

  done(evaluation: Evaluation, rate: Timeline['rate'], invariantTime: (name: string) => number | undefined): {timeline: Timeline; firstFailure: ReportMeta['firstFailure']} {
    const ctx = this.ctx;
    const steps: TimelineStep[] = evaluation.steps.map((s) => {
      const begin = this.#stepBegin.get(s.path);
      const end = this.#stepEnd.get(s.path);
      const ended = end && begin && end.index > begin.index ? end : undefined;
      return {
        path: s.path,
        anchor: `step-${s.path}`,
        kind: s.kind,
        title: s.title,
        line: s.line,
        depth: s.path.split('.').length - 1,
        begin: begin ? relative(ctx, begin.t) : 0,
        ...(ended ? {end: relative(ctx, ended.t)} : {}),
        status: s.status,
        ...(s.message !== undefined ? {message: s.message} : {}),
        ...(s.figures ? {figures: s.figures} : {}),
      };
    });
    const checks: CheckMarker[] = [];
    for (const s of steps) {
      if (s.status === 'pass' || isBlock(s.kind)) continue;
      checks.push({t: s.end ?? s.begin, status: s.status, label: `step ${s.path} ${s.title}`, message: s.message ?? '', anchor: s.anchor});
    }
    for (const inv of evaluation.invariants) {
      if (inv.status === 'pass') continue;
      checks.push({t: invariantTime(inv.name) ?? ctx.end, status: inv.status, label: `invariant ${inv.name}`, message: inv.message, anchor: `invariant-${inv.name}`});
    }
    checks.sort((a, b) => a.t - b.t);
    const timeline: Timeline = {steps, faults: this.#bands, lifecycles: this.#lifecycles, checks, rate};
    return {timeline, firstFailure: firstFailure(evaluation, steps, this.#stepEnd, this.#stepBegin, invariantTime, ctx.end)};
  }
}

/**
 * Where the page opens: the step or invariant that explains the run's
 * status, chosen as evaluate chooses the one its message names: the first
 * leaf step to end with that status, in the order steps ended, else the
 * first invariant with it.
 */
function firstFailure(
  evaluation: Evaluation,
  steps: readonly TimelineStep[],
  ends: ReadonlyMap<string, {index: number}>,
  begins: ReadonlyMap<string, {index: number}>,
  invariantTime: (name: string) => number | undefined,
  end: number,
): ReportMeta['firstFailure'] {
  const status: Status = evaluation.status;
  if (status === 'pass') return undefined;
  const endIndex = (s: TimelineStep) => {
    const e = ends.get(s.path)?.index;
    const b = begins.get(s.path)?.index ?? -1;
    return e !== undefined && e > b ? e : Infinity;
  };
  const leaf = steps
    .filter((s) => s.status === status && !isBlock(s.kind))
    .sort((a, b) => endIndex(a) - endIndex(b) || (begins.get(a.path)?.index ?? 0) - (begins.get(b.path)?.index ?? 0))[0];
  if (leaf) return {anchor: leaf.anchor, t: leaf.end ?? leaf.begin, message: evaluation.message ?? leaf.message ?? ''};
  const invariant = evaluation.invariants.find((c) => c.status === status);
  if (invariant) return {anchor: `invariant-${invariant.name}`, t: invariantTime(invariant.name) ?? end, message: evaluation.message ?? invariant.message};
  return undefined;
}
