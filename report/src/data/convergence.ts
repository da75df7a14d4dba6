/**
 * Convergence against the model: for each change of the live set (a join,
 * kill, leave, restart, pause, resume) and each heal, the fraction of the
 * observers live at the time whose view reflects it, over time, the number
 * of distinct live views meanwhile, when all did, and the epidemic model's
 * curve for the same N and the peers' timing.
 *
 * A view reflects a change as the convergence checker would have it agree
 * with the model (`expectedView`): the subject live in it after a join or a
 * resume, out of it (dead, left, or forgotten) after a kill, pause or leave;
 * after a restart, alive at an incarnation above any the views held at the
 * restart (as the rejoined checker asks); after a heal, every peer the heal
 * put on its side live in it. The curve is sampled only when it moves.
 */
import type {HistoryEvent} from '@peerlab/checkers/history/types';
import {isEvent} from '@peerlab/checkers/history/types';
import type {Effect, Model, PeerView} from '@peerlab/checkers/model';
import {coordinatorPeer, isLiveState, peerOf} from '@peerlab/checkers/model';
import type {SwimTiming} from '@peerlab/checkers/swim-model';
import {convergeModelMs, epidemicCurve, epidemicSpreadMs, expectedDetectionMs, rejoinModelMs} from '@peerlab/checkers/swim-model';
import type {ChangeKind, ConvergenceChange} from './types.js';
import type {Context} from './context.js';
import {relative} from './context.js';

/** Most points a curve keeps; a longer one is thinned evenly (its last point kept). */
export const maxCurvePoints = 250;

interface Open {
  change: ConvergenceChange;
  subjectName?: string;
  /** Per observer (peer index): subjects not yet as the change wants them; -1: not an observer. */
  pending: Int32Array;
  /** Unsatisfied (observer · N + subject) pairs. */
  unsatisfied: Set<number>;
  observers: number;
  reflected: number;
  /** The subjects an observer must hold as wanted: one for a peer's change, the newcomers to its side for a heal. */
  subjectsOf(observer: number): readonly number[];
  /** Whether `subject` is one of `subjectsOf(observer)`, in O(1). */
  tracks(observer: number, subject: number): boolean;
  wanted(view: PeerView | undefined, subject: string): boolean;
}

/**
 * The distinct live views among live peers, kept by a hash of each view's
 * live members (two 32-bit xors of a random number per member), so a change
 * of one member costs O(1).
 */
class DistinctViews {
  readonly #a: Int32Array;
  readonly #b: Int32Array;
  readonly #ra: Int32Array;
  readonly #rb: Int32Array;
  readonly #counts = new Map<number, number>();
  readonly #counted: Uint8Array;

  constructor(readonly ctx: Context) {
    const n = ctx.peers.length;
    this.#a = new Int32Array(n);
    this.#b = new Int32Array(n);
    this.#ra = new Int32Array(n);
    this.#rb = new Int32Array(n);
    this.#counted = new Uint8Array(n);
    // Fixed seeds: the same history gives the same report.
    let s = 0x9e3779b9;
    const next = () => {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      return s | 0;
    };
    for (let i = 0; i < n; i++) {
      this.#ra[i] = next();
      this.#rb[i] = next();
    }
  }

  #key(i: number): number {
    return this.#a[i]! * 4294967296 + (this.#b[i]! >>> 0);
  }

  #uncount(i: number): void {
    if (!this.#counted[i]) return;
    const key = this.#key(i);
    const c = this.#counts.get(key)! - 1;
    if (c === 0) this.#counts.delete(key);
    else this.#counts.set(key, c);
    this.#counted[i] = 0;
  }

  #count(i: number): void {
    const key = this.#key(i);
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
    this.#counted[i] = 1;
  }

  toggle(observer: number, member: number): void {
    const counted = this.#counted[observer] === 1;
    this.#uncount(observer);
    this.#a[observer]! ^= this.#ra[member]!;
    this.#b[observer]! ^= this.#rb[member]!;
    if (counted) this.#count(observer);
  }

  reset(observer: number, view: PeerView | undefined): void {
    const counted = this.#counted[observer] === 1;
    this.#uncount(observer);
    this.#a[observer] = 0;
    this.#b[observer] = 0;
    for (const [name, state] of view?.members ?? []) {
      if (!isLiveState(state)) continue;
      const m = this.ctx.index.get(name)!;
      this.#a[observer]! ^= this.#ra[m]!;
      this.#b[observer]! ^= this.#rb[m]!;
    }
    if (counted) this.#count(observer);
  }

  live(observer: number, live: boolean): void {
    if (live && !this.#counted[observer]) this.#count(observer);
    else if (!live) this.#uncount(observer);
  }

  get size(): number {
    return this.#counts.size;
  }
}

export class ConvergenceFold {
  readonly #changes: ConvergenceChange[] = [];
  readonly #open = new Set<Open>();
  /** Open changes by subject index. */
  readonly #bySubject = new Map<number, Set<Open>>();
  readonly #views: DistinctViews;
  /** When a change stopped being followed before it completed: a later change of its peer, or of the network, replaced it. */
  readonly #closedAt = new Map<ConvergenceChange, number>();
  /** The number of distinct live views over time, each time it changed: merged into the curves at the end. */
  readonly #viewsT: number[] = [];
  readonly #viewsN: number[] = [];
  /** Side index per peer before a heal (taken before the model applies it). */
  #sidesBefore: Map<string, number> | undefined;

  constructor(
    readonly ctx: Context,
    readonly model: Model,
    readonly timing: () => SwimTiming | undefined,
  ) {
    this.#views = new DistinctViews(ctx);
  }

  /** Call before `model.apply(e)`: a heal needs the sides as they were. */
  before(e: HistoryEvent): void {
    if (e.src !== 'coordinator' || e.type !== 'fault' || !isEvent(e, 'fault') || e.data.kind !== 'heal') return;
    const sides = new Map<string, number>();
    this.model.components().forEach((side, i) => {
      for (const p of side) sides.set(p, i);
    });
    this.#sidesBefore = sides;
  }

  /** Call with every event, in order, after `model.apply(e)` returned `effect`. */
  apply(e: HistoryEvent, index: number, effect: Effect | undefined): void {
    const model = this.model;
    const ctx = this.ctx;
    if (effect?.viewOf !== undefined) {
      const o = ctx.index.get(effect.viewOf)!;
      if (effect.member === undefined) this.#views.reset(o, model.view(effect.viewOf));
      else if (isLiveState(effect.before) !== isLiveState(effect.after)) this.#views.toggle(o, ctx.index.get(effect.member)!);
    }
    if (effect?.liveChanged) this.#liveChanged(e, index);
    if (effect?.reachChanged) this.#reachChanged(e);
    if (effect?.viewOf !== undefined || effect?.liveChanged) this.#recordViews(e.t);
    if (e.src === 'coordinator') return;
    const self = peerOf(e.src);
    if (self === undefined) return;
    if (e.type === 'peer.started') {
      const o = ctx.index.get(self)!;
      for (const open of this.#open) if (open.pending[o]! >= 0) this.#recheckObserver(open, o, e.t);
      return;
    }
    if (!e.type.startsWith('member.')) return;
    const name = (e.data as {name?: unknown}).name;
    if (typeof name !== 'string') return;
    const s = ctx.index.get(name);
    const opens = s === undefined ? undefined : this.#bySubject.get(s);
    if (!opens || opens.size === 0) return;
    const o = ctx.index.get(self)!;
    const view = model.view(self);
    // Closing a change deletes it from this set while it is iterated: a Set's iteration allows that.
    for (const open of opens) {
      if (open.pending[o]! < 0 || !open.tracks(o, s!)) continue;
      this.#judge(open, o, s!, open.wanted(view, name), e.t);
    }
  }

  /** Sets whether one pair is as the change wants it, and moves the curve when the observer's verdict changes. */
  #judge(open: Open, o: number, s: number, satisfied: boolean, t: number): void {
    const key = o * this.ctx.peers.length + s;
    const was = !open.unsatisfied.has(key);
    if (was === satisfied) return;
    const before = open.pending[o] === 0;
    if (satisfied) {
      open.unsatisfied.delete(key);
      open.pending[o]!--;
    } else {
      open.unsatisfied.add(key);
      open.pending[o]!++;
    }
    const after = open.pending[o] === 0;
    if (before !== after) {
      open.reflected += after ? 1 : -1;
      this.#point(open, t);
    }
  }

  #recheckObserver(open: Open, o: number, t: number): void {
    const view = this.model.view(this.ctx.peers[o]!);
    for (const s of open.subjectsOf(o)) this.#judge(open, o, s, open.wanted(view, this.ctx.peers[s]!), t);
  }

  #point(open: Open, t: number): void {
    const curve = open.change.curve;
    // Peers' clocks differ a little: the history's order is kept, and the curve's time never goes back.
    const r = Math.max(relative(this.ctx, t), curve.t.at(-1) ?? -Infinity);
    const fraction = open.observers === 0 ? 1 : open.reflected / open.observers;
    if (curve.t.at(-1) === r) {
      curve.fraction[curve.fraction.length - 1] = fraction;
      curve.views[curve.views.length - 1] = this.#views.size;
    } else {
      curve.t.push(r);
      curve.fraction.push(fraction);
      curve.views.push(this.#views.size);
    }
    if (open.reflected === open.observers) {
      open.change.completeAt = r;
      this.#close(open);
    }
  }

  #close(open: Open, t?: number): void {
    if (t !== undefined) this.#closedAt.set(open.change, Math.max(open.change.t, relative(this.ctx, t)));
    this.#open.delete(open);
    for (const set of this.#bySubject.values()) set.delete(open);
  }

  #liveChanged(e: HistoryEvent, index: number): void {
    const model = this.model;
    const ctx = this.ctx;
    // One event moves one peer in or out of the live set: the one it is about.
    const name = e.src === 'coordinator' ? coordinatorPeer(e) : peerOf(e.src);
    const changed = name === undefined ? undefined : ctx.index.get(name);
    if (changed === undefined) return;
    const live = model.isLive(name!);
    this.#views.live(changed, live);
    // An observer that left the live set no longer counts.
    if (!live) {
      for (const open of [...this.#open]) {
        if (open.pending[changed]! < 0) continue;
        if (open.pending[changed] === 0) open.reflected--;
        for (const s of open.subjectsOf(changed)) open.unsatisfied.delete(changed * ctx.peers.length + s);
        open.pending[changed] = -1;
        open.observers--;
        this.#point(open, e.t);
      }
    }
    const kind = this.#kindOf(e, index);
    if (!kind) return;
    const subject = kind.subject;
    this.#start(kind.kind, e.t, subject, `${kind.kind} ${subject}`);
  }

  /** Which change a live-set change is, from the event that made it; undefined for the peers' shutdown after the last step. */
  #kindOf(e: HistoryEvent, index: number): {kind: ChangeKind; subject: string} | undefined {
    const model = this.model;
    if (e.src === 'coordinator') {
      const peer = coordinatorPeer(e);
      if (peer === undefined) return undefined;
      const live = model.isLive(peer);
      if (isEvent(e, 'peer.spawn')) return {kind: model.generation(peer) > 1 ? 'restart' : 'join', subject: peer};
      if (isEvent(e, 'peer.exit')) {
        if (index >= this.ctx.teardown && !e.data.unexpectedly) return undefined;
        return live ? undefined : {kind: 'kill', subject: peer};
      }
      if (isEvent(e, 'peer.kill')) return {kind: live ? 'resume' : 'pause', subject: peer};
      return undefined;
    }
    const self = peerOf(e.src);
    if (self === undefined || index >= this.ctx.teardown) return undefined;
    return {kind: model.isLive(self) ? 'join' : 'leave', subject: self};
  }

  #start(kind: ChangeKind, t: number, subjectName: string | undefined, label: string): void {
    const model = this.model;
    const ctx = this.ctx;
    const n = ctx.peers.length;
    const pending = new Int32Array(n).fill(-1);
    const subject = subjectName === undefined ? undefined : ctx.index.get(subjectName)!;
    // A new change of a peer ends the one before it, done or not.
    if (subject !== undefined) for (const open of [...(this.#bySubject.get(subject) ?? [])]) if (open.subjectName === subjectName) this.#close(open, t);
    let wanted: Open['wanted'];
    let subjectsOf: Open['subjectsOf'];
    let tracks: Open['tracks'];
    const registered: number[] = [];
    if (kind === 'heal') {
      // Newcomers to an observer's side (its expectedView: the model's side of a live peer): on another side before the heal, on its side after it.
      const before = this.#sidesBefore ?? new Map<string, number>();
      const was = new Int32Array(n).fill(-1);
      const now = new Int32Array(n).fill(-1);
      for (const [name, side] of before) was[ctx.index.get(name)!] = side;
      model.components().forEach((side, i) => {
        for (const name of side) now[ctx.index.get(name)!] = i;
      });
      tracks = (o, s) => o !== s && now[o]! >= 0 && now[o] === now[s] && was[o] !== was[s];
      subjectsOf = (o) => {
        const out: number[] = [];
        for (let s = 0; s < n; s++) if (tracks(o, s)) out.push(s);
        return out;
      };
      for (let s = 0; s < n; s++) if (now[s]! >= 0) registered.push(s);
      wanted = (view, s) => view?.current === true && isLiveState(view.members.get(s));
    } else {
      const single = [subject!];
      subjectsOf = () => single;
      tracks = (_, s) => s === subject;
      registered.push(subject!);
      const name = subjectName!;
      if (kind === 'join' || kind === 'resume') wanted = (view) => view?.current === true && isLiveState(view.members.get(name));
      else if (kind === 'restart') {
        // As the rejoined checker: above the highest incarnation any other view held at the restart.
        let above: number | undefined;
        for (const [viewer, view] of model.views()) {
          if (viewer === name) continue;
          const inc = view.incarnations.get(name);
          if (inc !== undefined && (above === undefined || inc > above)) above = inc;
        }
        wanted = (view) => {
          if (view?.current !== true || view.members.get(name) !== 'alive') return false;
          const inc = view.incarnations.get(name);
          return inc !== undefined && (above === undefined || inc > above);
        };
      } else wanted = (view) => view?.current === true && !isLiveState(view.members.get(name));
    }
    const change: ConvergenceChange = {kind, t: relative(ctx, t), ...(subject !== undefined ? {subject} : {}), label, n: 0, curve: {t: [], fraction: [], views: []}};
    const open: Open = {change, ...(subjectName !== undefined ? {subjectName} : {}), pending, unsatisfied: new Set(), observers: 0, reflected: 0, subjectsOf, tracks, wanted};
    for (const name of model.live()) {
      const o = ctx.index.get(name)!;
      if (o === subject) continue;
      const subjects = subjectsOf(o);
      if (kind === 'heal' && subjects.length === 0) continue;
      pending[o] = 0;
      open.observers++;
      const view = model.view(name);
      for (const s of subjects) {
        if (open.wanted(view, ctx.peers[s]!)) continue;
        open.unsatisfied.add(o * n + s);
        pending[o]!++;
      }
      if (pending[o] === 0) open.reflected++;
    }
    change.n = open.observers;
    this.#changes.push(change);
    this.#open.add(open);
    for (const s of new Set(registered)) {
      let set = this.#bySubject.get(s);
      if (!set) this.#bySubject.set(s, (set = new Set()));
      set.add(open);
    }
    this.#point(open, t);
  }

  #reachChanged(e: HistoryEvent): void {
    for (const open of [...this.#open]) if (open.change.kind === 'heal') this.#close(open, e.t);
    if (isEvent(e, 'fault') && e.data.kind === 'heal') this.#start('heal', e.t, undefined, 'heal');
    this.#sidesBefore = undefined;
  }

  #recordViews(t: number): void {
    const size = this.#views.size;
    if (this.#viewsN.at(-1) === size) return;
    const r = Math.max(relative(this.ctx, t), this.#viewsT.at(-1) ?? -Infinity);
    if (this.#viewsT.at(-1) === r) this.#viewsN[this.#viewsN.length - 1] = size;
    else {
      this.#viewsT.push(r);
      this.#viewsN.push(size);
    }
  }

  /**
   * The curve is sampled when its fraction moves; the number of distinct
   * views also moves in between (other peers' news): those points are added,
   * the fraction held, up to where the change completed or stopped being
   * followed, and at most a few times the points a curve keeps.
   */
  #withViews(change: ConvergenceChange): void {
    const times = this.#viewsT;
    const stop = change.completeAt ?? this.#closedAt.get(change) ?? this.ctx.end;
    let lo = 0;
    let hi = times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (times[mid]! <= change.t) lo = mid + 1;
      else hi = mid;
    }
    let last = lo;
    while (last < times.length && times[last]! <= stop) last++;
    if (last === lo) return;
    const stride = Math.max(1, Math.ceil((last - lo) / (4 * maxCurvePoints)));
    const curve = change.curve;
    const merged: ConvergenceChange['curve'] = {t: [], fraction: [], views: []};
    const push = (t: number, fraction: number, views: number) => {
      if (merged.t.at(-1) === t) {
        merged.fraction[merged.fraction.length - 1] = fraction;
        merged.views[merged.views.length - 1] = views;
      } else {
        merged.t.push(t);
        merged.fraction.push(fraction);
        merged.views.push(views);
      }
    };
    let c = 0;
    let fraction = curve.fraction[0] ?? 0;
    for (let g = lo; g < last; g += stride) {
      while (c < curve.t.length && curve.t[c]! <= times[g]!) {
        fraction = curve.fraction[c]!;
        push(curve.t[c]!, fraction, curve.views[c]!);
        c++;
      }
      push(times[g]!, fraction, this.#viewsN[g]!);
    }
    for (; c < curve.t.length; c++) push(curve.t[c]!, curve.fraction[c]!, curve.views[c]!);
    change.curve = merged;
  }

  done(): ConvergenceChange[] {
    // The timing is known once a peer has started: after the first joins, which are changes too.
    const timing = this.timing();
    for (const change of this.#changes) {
      this.#withViews(change);
      thin(change.curve);
      if (timing) change.model = modelCurve(change.kind, change.t, change.n + (change.subject !== undefined ? 1 : 0), timing);
    }
    return this.#changes;
  }
}

/** The epidemic model's curve for a change at `t` (relative) in a group of `n`: when the news starts to spread, then the epidemic. */
function modelCurve(kind: ChangeKind, t: number, n: number, timing: SwimTiming): ConvergenceChange['model'] {
  const group = Math.max(1, n);
  const spread = epidemicSpreadMs(group, timing.gossipNodes, timing.gossipIntervalMs);
  let ms: number;
  switch (kind) {
    case 'join':
    case 'heal':
      ms = convergeModelMs(timing, group);
      break;
    case 'restart':
    case 'resume':
      ms = rejoinModelMs(timing, group);
      break;
    case 'kill':
    case 'pause':
      ms = Math.round(expectedDetectionMs(timing, group)) + spread;
      break;
    case 'leave':
      ms = spread;
      break;
  }
  const delay = ms - spread;
  const epidemic = epidemicCurve(group, timing.gossipNodes, timing.gossipIntervalMs);
  const out = {t: [t], fraction: [0], ms};
  for (let i = 0; i < epidemic.t.length; i++) {
    out.t.push(t + delay + epidemic.t[i]!);
    out.fraction.push(epidemic.fraction[i]!);
  }
  return out;
}

function thin(curve: ConvergenceChange['curve']): void {
  const n = curve.t.length;
  if (n <= maxCurvePoints) return;
  const step = n / (maxCurvePoints - 1);
  const keep: number[] = [];
  for (let k = 0; k < maxCurvePoints - 1; k++) keep.push(Math.floor(k * step));
  keep.push(n - 1);
  curve.t = keep.map((i) => curve.t[i]!);
  curve.fraction = keep.map((i) => curve.fraction[i]!);
  curve.views = keep.map((i) => curve.views[i]!);
}
