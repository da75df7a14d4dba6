/**
 * Every view at any instant, fast: the changes are folded once, keeping a
 * copy of all views every K changes, so the views at time t are the nearest
 * copy plus at most K changes — scrubbing through 100,000 changes costs the
 * same as through 100.
 */
import type {Membership} from '../../../src/data/types.js';
import {lastAtOrBefore} from './time.js';

/** memberStates index of 'absent', the state of a subject a view never held. */
export const absent = 4;

export interface Views {
  /** state[observer * n + subject], as memberStates indices. */
  state: Uint8Array;
  incarnation: Int32Array;
  /** How many changes are folded in. */
  folded: number;
}

export class MembershipIndex {
  private readonly snapshots: Array<{state: Uint8Array; incarnation: Int32Array}> = [];
  readonly every: number;
  /**
   * The changes in time order (stable: one peer's changes keep their order).
   * The history is in arrival order, and peers' events arrive in batches, so
   * a change can follow a later one: folded in history order, the views at t
   * would miss changes made before t and hold some made after it.
   */
  private readonly order: Uint32Array;
  private readonly times: Float64Array;

  constructor(
    private readonly m: Membership,
    readonly n: number,
  ) {
    const count = m.changes.t.length;
    const t = m.changes.t;
    this.order = Uint32Array.from({length: count}, (_, i) => i).sort((a, b) => t[a]! - t[b]! || a - b);
    this.times = Float64Array.from(this.order, (i) => t[i]!);
    // Keep the copies to about 32 MB whatever the size, and no more changes between copies than scrubbing can fold in a frame.
    this.every = Math.max(256, Math.ceil((count * n * n * 5) / 32e6));
    const state = new Uint8Array(n * n).fill(absent);
    const incarnation = new Int32Array(n * n);
    for (let i = 0; i < count; i++) {
      if (i % this.every === 0) this.snapshots.push({state: state.slice(), incarnation: incarnation.slice()});
      this.apply(i, state, incarnation);
    }
  }

  /** Folds the k-th change in time order. */
  private apply(k: number, state: Uint8Array, incarnation: Int32Array): void {
    const c = this.m.changes;
    const i = this.order[k]!;
    const cell = c.observer[i]! * this.n + c.subject[i]!;
    state[cell] = c.state[i]!;
    incarnation[cell] = c.incarnation[i]!;
  }

  /** The views after every change at or before t. */
  at(t: number): Views {
    const folded = lastAtOrBefore(this.times, t) + 1;
    const k = Math.floor(folded / this.every);
    const snap = this.snapshots[Math.min(k, this.snapshots.length - 1)];
    const state = snap ? snap.state.slice() : new Uint8Array(this.n * this.n).fill(absent);
    const incarnation = snap ? snap.incarnation.slice() : new Int32Array(this.n * this.n);
    for (let i = snap ? Math.min(k, this.snapshots.length - 1) * this.every : 0; i < folded; i++) this.apply(i, state, incarnation);
    return {state, incarnation, folded};
  }

  /** One subject in every observer's view over time: per observer, the instants its state changed. */
  wave(subject: number): Array<{t: number[]; state: number[]}> {
    const rows = Array.from({length: this.n}, () => ({t: [] as number[], state: [] as number[]}));
    const c = this.m.changes;
    for (const i of this.order) {
      if (c.subject[i] !== subject) continue;
      const row = rows[c.observer[i]!]!;
      if (row.state[row.state.length - 1] === c.state[i]) continue;
      row.t.push(c.t[i]!);
      row.state.push(c.state[i]!);
    }
    return rows;
  }
}

/**
 * What the model expects of each view at t (the convergence checker's
 * expectedView): a live observer holds live exactly the live members of its
 * side; an observer out of the live set should hold the live set.
 * expected[observer * n + subject] = 1 when the subject should be alive or suspect.
 */
export function expectedAt(m: Membership, n: number, t: number): {expected: Uint8Array; live: Uint8Array} {
  const e = lastAtOrBefore(m.epochs.t, t);
  const live = new Uint8Array(n);
  const expected = new Uint8Array(n * n);
  if (e < 0) return {expected, live};
  for (const p of m.epochs.live[e] ?? []) live[p] = 1;
  const side = new Int32Array(n).fill(-1);
  (m.epochs.sides[e] ?? []).forEach((members, s) => members.forEach((p) => (side[p] = s)));
  for (let o = 0; o < n; o++) {
    for (let s = 0; s < n; s++) {
      const sameSide = side[o] === side[s];
      expected[o * n + s] = live[s] && (!live[o] || sameSide) ? 1 : 0;
    }
  }
  return {expected, live};
}

/** alive or suspect: the states in which a view holds a member as live. */
export function holdsLive(state: number): boolean {
  return state === 0 || state === 1;
}
