/**
 * `state`: every observer has peer `of` in state `is` in its view. The
 * observers are the ones named, or with 'all' every live peer except `of`.
 * Named observers must be live and started to count as observing.
 *
 * Partitions: with 'all', while links keep some live peers from a live `of`,
 * `alive` is asked of its side only and suspect, dead or left of the other
 * sides only; after the heal, of everyone again (defaultObservers).
 */
import type {HistoryEvent, Verdict} from './history/types.js';
import {isEvent} from './history/types.js';
import type {MemberState, Window} from './model.js';
import {Model, coordinatorPeer, evidence, heldSince, isMemberEvent, isSideFault, list, sidesText, whyNotLive} from './model.js';

export interface StateParams {
  of: string;
  is: MemberState;
  seenBy: readonly string[] | 'all';
}

/**
 * The observers `seenBy: all` means: every live peer but `of`, except while a
 * partition keeps some of them from `of` (which is live): then `alive` is
 * asked of the peers on its side, and suspect, dead or left of the peers on
 * the other sides (its own side rightly still has it alive). If no live peer
 * is on another side, every live peer but `of` is asked, as without faults.
 */
function defaultObservers(model: Model, of: string, is: MemberState): readonly string[] {
  const others = model.live().filter((p) => p !== of);
  if (!model.hasBlockedLinks() || !model.isLive(of)) return others;
  if (is === 'alive') return others.filter((p) => model.sameComponent(p, of));
  const apart = others.filter((p) => !model.sameComponent(p, of));
  return apart.length > 0 ? apart : others;
}

class StateTracker {
  readonly model = new Model();
  readonly #bad = new Set<string>();
  /** The observers now, recomputed when the live set or the sides change. */
  #observers: readonly string[] = [];
  #observing = new Set<string>();

  constructor(readonly params: StateParams) {
    this.#judgeAll();
  }

  observers(): readonly string[] {
    return this.#observers;
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
    const {of, is, seenBy} = this.params;
    this.#observers = seenBy === 'all' ? defaultObservers(this.model, of, is) : seenBy;
    this.#observing = new Set(this.#observers);
    this.#bad.clear();
    for (const o of this.#observers) this.#judge(o);
  }

  apply(e: HistoryEvent): void {
    const effect = this.model.apply(e);
    if (!effect) return;
    if (effect.liveChanged || (effect.reachChanged && this.params.seenBy === 'all')) return this.#judgeAll();
    const peer = effect.viewOf;
    if (peer === undefined || !this.#observing.has(peer)) return;
    if (effect.member === undefined || effect.member === this.params.of) this.#judge(peer);
  }

  get holds(): boolean {
    return this.#bad.size === 0 && this.#observers.length > 0;
  }
}

export function stateSeen(history: readonly HistoryEvent[], window: Window, params: StateParams): Verdict {
  const {of, is} = params;
  const tracker = new StateTracker(params);
  const since = heldSince(history, window.at, tracker);
  const model = tracker.model;
  const observers = tracker.observers();
  const split = model.hasBlockedLinks() && model.isLive(of) && model.components().length > 1;
  const sides = split ? ` (sides ${sidesText(model)})` : '';
  const about = (observer: string) => (e: HistoryEvent) => {
    if (isEvent(e, 'fault')) return isSideFault(e);
    if (e.src === `peer:${observer}`) return e.type === 'peer.started' || (isMemberEvent(e) && e.data.name === of);
    const peer = coordinatorPeer(e);
    return e.src === 'coordinator' && (peer === observer || peer === of) && e.type.startsWith('peer.');
  };
  if (observers.length === 0 && split) {
    return {
      status: 'unknown',
      message: `no live peer other than ${of} on its side of the partition to observe it${sides}`,
      evidence: evidence(history, window.at, isSideFault),
    };
  }
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
    const where = params.seenBy === 'all' && split ? `, ${is === 'alive' ? 'its side' : 'the other sides'} of the partition${sides}` : '';
    return {status: 'pass', message: `${of} is ${is} to ${list(observers)}${where}`, figures: {seen_ms: Math.max(0, since - window.from)}};
  }
  const wrong = observers.filter((o) => !tracker.sees(o));
  const o = wrong[0];
  if (o === undefined) return {status: 'unknown', message: `the views of ${list(observers)} look right, but the replay disagrees (a checker bug)`};
  const state = model.view(o)?.members.get(of);
  const instead = state === undefined ? `has not seen ${of} at all` : `has ${of} ${state}`;
  const more = wrong.length > 1 ? ` (and ${wrong.slice(1).join(', ')})` : '';
  const side = split ? `; ${o} is ${model.sameComponent(o, of) ? 'on' : 'not on'} ${of}'s side of the partition${sides}` : '';
  return {status: 'fail', message: `${o} ${instead}, not ${is}${more}${side}`, evidence: evidence(history, window.at, about(o))};
}
