/**
 * `state`: every observer has peer `of` in state `is` in its view. The
 * observers are the ones named, or with 'all' every live peer except `of`.
 * Named observers must be live and started to count as observing.
 */
import type {HistoryEvent, Verdict} from './history/types.js';
import type {MemberState, Window} from './model.js';
import {Model, coordinatorPeer, evidence, heldSince, isMemberEvent, list, whyNotLive} from './model.js';

export interface StateParams {
  of: string;
  is: MemberState;
  seenBy: readonly string[] | 'all';
}

class StateTracker {
  readonly model = new Model();
  readonly #bad = new Set<string>();

  constructor(readonly params: StateParams) {
    this.#judgeAll();
  }

  observers(): readonly string[] {
    const {of, seenBy} = this.params;
    return seenBy === 'all' ? this.model.live().filter((p) => p !== of) : seenBy;
  }

  /** True when the observer has `of` in the expected state, live and started. */
  sees(observer: string): boolean {
    const view = this.model.view(observer);
    return this.model.isLive(observer) && view !== undefined && view.current && view.members.get(this.params.of) === this.params.is;
  }

  #judge(observer: string): void {
    if (this.sees(observer)) this.#bad.delete(observer);
    else this.#bad.add(observer);
  }

  #judgeAll(): void {
    this.#bad.clear();
    for (const o of this.observers()) this.#judge(o);
  }

  #isObserver(peer: string): boolean {
    const {of, seenBy} = this.params;
    return seenBy === 'all' ? peer !== of && this.model.isLive(peer) : seenBy.includes(peer);
  }

  apply(e: HistoryEvent): void {
    const effect = this.model.apply(e);
    if (!effect) return;
    if (effect.liveChanged) return this.#judgeAll();
    const peer = effect.viewOf;
    if (peer === undefined || !this.#isObserver(peer)) return;
    if (effect.member === undefined || effect.member === this.params.of) this.#judge(peer);
  }

  #observerCount(): number {
    const {of, seenBy} = this.params;
    return seenBy === 'all' ? this.model.liveNames().size - (this.model.isLive(of) ? 1 : 0) : seenBy.length;
  }

  get holds(): boolean {
    return this.#bad.size === 0 && this.#observerCount() > 0;
  }
}

export function stateSeen(history: readonly HistoryEvent[], window: Window, params: StateParams): Verdict {
  const {of, is} = params;
  const tracker = new StateTracker(params);
  const since = heldSince(history, window.at, tracker);
  const model = tracker.model;
  const observers = tracker.observers();
  const about = (observer: string) => (e: HistoryEvent) => {
    if (e.src === `peer:${observer}`) return e.type === 'peer.started' || (isMemberEvent(e) && e.data.name === of);
    const peer = coordinatorPeer(e);
    return e.src === 'coordinator' && (peer === observer || peer === of) && e.type.startsWith('peer.');
  };
  if (observers.length === 0) {
    return {
      status: 'unknown',
      message: `no live peer other than ${of} to observe it${model.isLive(of) ? '' : ` (${of} ${whyNotLive(model, of)})`}`,
      evidence: evidence(history, window.at, (e) => e.src === 'coordinator' && e.type.startsWith('peer.')),
    };
  }
  const absent = observers.filter((o) => !model.isLive(o));
  if (absent.length > 0) {
    const o = absent[0]!;
    return {
      status: 'unknown',
      message: `observer ${o} is not live (${whyNotLive(model, o)}), so it cannot see ${of} as ${is}`,
      evidence: evidence(history, window.at, about(o)),
    };
  }
  const notStarted = observers.filter((o) => !model.view(o)?.current);
  if (notStarted.length > 0) {
    const o = notStarted[0]!;
    const why = model.view(o)?.started ? 'has not started again since it was respawned' : 'never started (no peer.started from it)';
    return {status: 'unknown', message: `observer ${o} is live but ${why}, so its view is not known`, evidence: evidence(history, window.at, about(o))};
  }
  if (tracker.holds) {
    return {status: 'pass', message: `${of} is ${is} to ${list(observers)}`, figures: {seen_ms: Math.max(0, since - window.from)}};
  }
  const wrong = observers.filter((o) => !tracker.sees(o));
  const o = wrong[0];
  if (o === undefined) return {status: 'unknown', message: `the views of ${list(observers)} look right, but the replay disagrees (a checker bug)`};
  const state = model.view(o)?.members.get(of);
  const instead = state === undefined ? `has not seen ${of} at all` : `has ${of} ${state}`;
  const more = wrong.length > 1 ? ` (and ${wrong.slice(1).join(', ')})` : '';
  return {status: 'fail', message: `${o} ${instead}, not ${is}${more}`, evidence: evidence(history, window.at, about(o))};
}
