/**
 * The membership matrix: every change of one observer's view of one subject
 * (columnar), and what each view should be, epoch by epoch, as the
 * convergence checker defines it (its `expectedView`: a live observer's side,
 * else the live set).
 */
import type {HistoryEvent} from '@peerlab/checkers/history/types';
import type {Effect, MemberState, Model} from '@peerlab/checkers/model';
import {peerOf} from '@peerlab/checkers/model';
import type {Membership} from './types.js';
import {memberStates} from './types.js';
import type {Context} from './context.js';
import {relative} from './context.js';

const stateCode: Record<MemberState | 'absent', number> = {alive: 0, suspect: 1, dead: 2, left: 3, absent: 4};
const absent = memberStates.indexOf('absent');

export class MembershipFold {
  readonly #t: number[] = [];
  readonly #observer: number[] = [];
  readonly #subject: number[] = [];
  readonly #state: number[] = [];
  readonly #incarnation: number[] = [];
  readonly #epochs: Membership['epochs'] = {t: [], live: [], sides: []};
  /** The incarnation last written per pair (observer · N + subject), +1 (0: none yet); a Map past a few thousand peers. */
  readonly #incarnations: {get(key: number): number | undefined; set(key: number, value: number): unknown};
  /** The view a `peer.started` is about to replace: taken before the model applies it (it replaces the map, so this one stays as it was). */
  #before: ReadonlyMap<string, MemberState> | undefined;
  #beforeIncarnations: ReadonlyMap<string, number> | undefined;

  constructor(readonly ctx: Context) {
    const n = ctx.peers.length;
    if (n <= 2048) {
      const table = new Float64Array(n * n);
      this.#incarnations = {
        get: (key) => (table[key] === 0 ? undefined : table[key]! - 1),
        set: (key, value) => (table[key] = value + 1),
      };
    } else {
      this.#incarnations = new Map<number, number>();
    }
  }

  #push(t: number, observer: number, subject: number, state: number, incarnation: number): void {
    this.#t.push(t);
    this.#observer.push(observer);
    this.#subject.push(subject);
    this.#state.push(state);
    this.#incarnation.push(incarnation);
    this.#incarnations.set(observer * this.ctx.peers.length + subject, incarnation);
  }

  /** Call before `model.apply(e)` for a `peer.started`. */
  before(model: Model, e: HistoryEvent): void {
    const self = peerOf(e.src);
    const view = self === undefined ? undefined : model.view(self);
    this.#before = view?.members;
    this.#beforeIncarnations = view?.incarnations;
  }

  /** Call with every event, in order, after `model.apply(e)` returned `effect`. */
  apply(model: Model, e: HistoryEvent, effect: Effect | undefined): void {
    if (effect?.liveChanged || effect?.reachChanged) this.#epoch(model, e.t);
    const self = peerOf(e.src);
    if (self === undefined) return;
    const ctx = this.ctx;
    const t = relative(ctx, e.t);
    const observer = ctx.index.get(self)!;
    const view = model.view(self);
    if (e.type === 'peer.started') {
      // A new process: its old view is gone, member by member, then it holds itself.
      for (const name of this.#before?.keys() ?? []) {
        if (name === self && view?.members.has(self)) continue;
        this.#push(t, observer, ctx.index.get(name)!, absent, this.#beforeIncarnations?.get(name) ?? 0);
      }
      this.#before = undefined;
      this.#beforeIncarnations = undefined;
      if (view) this.#push(t, observer, observer, stateCode.alive, view.incarnations.get(self) ?? 0);
      return;
    }
    if (!e.type.startsWith('member.') || !view) return;
    const name = (e.data as {name?: unknown}).name;
    if (typeof name !== 'string') return;
    const subject = ctx.index.get(name);
    if (subject === undefined) return;
    if (effect?.viewOf === self && effect.member === name) {
      const after = view.members.get(name);
      this.#push(t, observer, subject, after === undefined ? absent : stateCode[after], view.incarnations.get(name) ?? 0);
      return;
    }
    // Same state, news of its incarnation (member.updated, or a state event at a new incarnation): a change of the record all the same.
    if (e.type !== 'member.reaped') {
      const state = view.members.get(name);
      if (state === undefined) return;
      const incarnation = view.incarnations.get(name) ?? 0;
      if (this.#lastIncarnation(observer, subject) === incarnation) return;
      this.#push(t, observer, subject, stateCode[state], incarnation);
    }
  }

  #lastIncarnation(observer: number, subject: number): number | undefined {
    return this.#incarnations.get(observer * this.ctx.peers.length + subject);
  }

  #epoch(model: Model, at: number): void {
    const ctx = this.ctx;
    let t = relative(ctx, at);
    const live = model.live().map((p) => ctx.index.get(p)!);
    // Without blocked links every live peer is on one side: the model's sides would cost a pass over all pairs to say so.
    const components = model.hasBlockedLinks() ? model.components() : undefined;
    const sides = components && components.length > 1 ? components.map((side) => side.map((p) => ctx.index.get(p)!)) : [live];
    const epochs = this.#epochs;
    const last = epochs.t.at(-1);
    // Peers' clocks differ a little: epochs keep the history's order, and their time never goes back.
    if (last !== undefined && t < last) t = last;
    // Changes in the same millisecond make one epoch: the last state of it is what held.
    if (epochs.t.at(-1) === t) {
      epochs.live[epochs.live.length - 1] = live;
      epochs.sides[epochs.sides.length - 1] = sides;
    } else {
      epochs.t.push(t);
      epochs.live.push(live);
      epochs.sides.push(sides);
    }
  }

  done(): Membership {
    return {
      changes: {t: this.#t, observer: this.#observer, subject: this.#subject, state: this.#state, incarnation: this.#incarnation},
      epochs: this.#epochs,
    };
  }
}
