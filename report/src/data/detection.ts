/**
 * Failure detection: for each failure (a kill, stop, pause, isolation or
 * partition), when each observer live at the time first suspected and first
 * declared its subject dead, and the refutations it heard; and every
 * suspicion and death of a peer that was live and reachable, judged by the
 * no-false-dead invariant's own judge.
 */
import type {HistoryEvent} from '@peerlab/checkers/history/types';
import {isEvent} from '@peerlab/checkers/history/types';
import type {Effect, Model} from '@peerlab/checkers/model';
import {coordinatorPeer, peerOf} from '@peerlab/checkers/model';
import {DownTracker} from '@peerlab/checkers/detected';
import {FalseDeadJudge} from '@peerlab/checkers/invariants';
import type {SwimTiming} from '@peerlab/checkers/swim-model';
import {failureDetectionBoundMs} from '@peerlab/checkers/swim-model';
import type {Detection, DetectionFault} from './types.js';
import type {Context} from './context.js';
import {relative} from './context.js';

type Observed = DetectionFault['observers'][number];

interface Open {
  fault: DetectionFault;
  /** Observer index → its bar. */
  bars: Map<number, Observed>;
  network: boolean;
  /** The subject is back (live again, or on its observers' side): suspicions after this are not of this failure. */
  recovered: boolean;
}

export class DetectionFold {
  readonly downs = new DownTracker();
  readonly judge: FalseDeadJudge;
  readonly #faults: DetectionFault[] = [];
  readonly #open = new Map<number, Open>();
  readonly #falseSuspicions: Detection['falseSuspicions'] = [];
  readonly #falseDeaths: Detection['falseDeaths'] = [];
  /** Peers whose process is being restarted (a `restart` fault): their going down is no failure to detect. */
  readonly #restarting = new Set<string>();
  /** Peers last sent SIGTERM: a graceful stop, not a kill. */
  readonly #terminated = new Set<string>();
  /** Time of the first `member.dead` of a peer about another (what no-dead fails on). */
  firstDead: number | undefined;

  constructor(
    readonly ctx: Context,
    readonly model: Model,
    readonly timing: () => SwimTiming | undefined,
  ) {
    this.judge = new FalseDeadJudge(model);
  }

  #start(kind: DetectionFault['kind'], t: number, subject: string, observers: readonly string[], network: boolean): void {
    const ctx = this.ctx;
    const s = ctx.index.get(subject);
    if (s === undefined) return;
    const timing = this.timing();
    const bars = new Map<number, Observed>();
    for (const o of observers) {
      const i = ctx.index.get(o);
      if (i !== undefined && i !== s) bars.set(i, {observer: i, refutations: []});
    }
    const fault: DetectionFault = {
      kind,
      t: relative(ctx, t),
      subject: s,
      ...(timing ? {boundMs: failureDetectionBoundMs(timing, bars.size + 1)} : {}),
      observers: [...bars.values()],
    };
    this.#faults.push(fault);
    this.#open.set(s, {fault, bars, network, recovered: false});
  }

  /** Call with every event, in order, after `model.apply(e)` returned `effect`. */
  apply(e: HistoryEvent, index: number, effect: Effect | undefined): void {
    const model = this.model;
    const declaration = this.judge.apply(e, effect);
    if (declaration?.unfounded) {
      const entry = {t: relative(this.ctx, declaration.t), observer: this.ctx.index.get(declaration.observer)!, subject: this.ctx.index.get(declaration.victim)!};
      (declaration.kind === 'dead' ? this.#falseDeaths : this.#falseSuspicions).push(entry);
    }
    if (effect?.reachChanged) {
      for (const open of this.#open.values()) {
        if (!open.network || open.recovered) continue;
        const subject = this.ctx.peers[open.fault.subject]!;
        const observer = open.fault.observers[0];
        if (observer === undefined || model.sameComponent(subject, this.ctx.peers[observer.observer]!)) open.recovered = true;
      }
    }
    if (e.src === 'coordinator') {
      this.#coordinator(e, index, effect);
      return;
    }
    const observer = peerOf(e.src);
    if (observer === undefined || !e.type.startsWith('member.')) return;
    if (isEvent(e, 'member.dead') && e.data.name !== observer) this.firstDead ??= e.t;
    const name = (e.data as {name?: unknown}).name;
    if (typeof name !== 'string' || name === observer) return;
    const open = this.#open.get(this.ctx.index.get(name) ?? -1);
    if (!open) return;
    const bar = open.bars.get(this.ctx.index.get(observer)!);
    if (!bar) return;
    const t = relative(this.ctx, e.t);
    if (t < open.fault.t) return;
    if (isEvent(e, 'member.suspect')) {
      if (!open.recovered) bar.suspectAt ??= t;
    } else if (isEvent(e, 'member.dead')) {
      if (!open.recovered) bar.deadAt ??= t;
    } else if ((isEvent(e, 'member.alive') && (e.data.previous === 'suspect' || e.data.previous === 'dead')) || (isEvent(e, 'member.updated') && e.data.reason === 'refute')) {
      bar.refutations.push(t);
    }
  }

  #coordinator(e: HistoryEvent, index: number, effect: Effect | undefined): void {
    const model = this.model;
    const peer = coordinatorPeer(e);
    const wasDown = peer !== undefined && this.downs.downSince(peer) !== undefined;
    this.downs.apply(model, e);
    if (peer === undefined) return;
    if (isEvent(e, 'fault')) {
      if (e.data.skipped !== undefined) return;
      if (e.data.kind === 'restart') this.#restarting.add(peer);
      return;
    }
    if (isEvent(e, 'peer.kill')) {
      if (e.data.signal === 'SIGTERM') this.#terminated.add(peer);
      else if (e.data.signal === 'SIGKILL') this.#terminated.delete(peer);
    }
    if (isEvent(e, 'peer.spawn')) {
      this.#restarting.delete(peer);
      this.#terminated.delete(peer);
    }
    if (effect?.liveChanged && model.isLive(peer)) {
      const open = this.#open.get(this.ctx.index.get(peer) ?? -1);
      if (open && !open.network) open.recovered = true;
    }
    const since = this.downs.downSince(peer);
    if (wasDown || since === undefined) return;
    // The peers' shutdown after the last step is no failure; nor is a restart, or the end of a peer that never joined or that left.
    const unexpected = isEvent(e, 'peer.exit') && e.data.unexpectedly;
    if (index >= this.ctx.teardown && !unexpected) return;
    if (this.#restarting.has(peer) || !model.view(peer)?.started || model.hasLeft(peer)) return;
    const kind = model.liveness(peer) === 'paused' ? 'pause' : this.#terminated.has(peer) ? 'stop' : 'kill';
    this.#start(kind, since, peer, model.live(), false);
  }

  /** A network fault: call for `fault` events of kind partition or isolate, after the model took it. */
  network(e: HistoryEvent): void {
    if (!isEvent(e, 'fault') || e.data.skipped !== undefined) return;
    const model = this.model;
    if (e.data.kind === 'isolate' && e.data.targets) {
      const targets = new Set(e.data.targets);
      const others = model.live().filter((p) => !targets.has(p));
      for (const target of e.data.targets) if (model.isLive(target)) this.#start('isolate', e.t, target, others, true);
    } else if (e.data.kind === 'partition' && e.data.groups && e.data.groups.length > 1) {
      const groups = e.data.groups;
      for (const [g, group] of groups.entries()) {
        const others = groups.flatMap((other, h) => (h === g ? [] : other)).filter((p) => model.isLive(p));
        for (const subject of group) if (model.isLive(subject)) this.#start('partition', e.t, subject, others, true);
      }
    }
  }

  done(): Detection {
    return {faults: this.#faults, falseSuspicions: this.#falseSuspicions, falseDeaths: this.#falseDeaths};
  }
}
