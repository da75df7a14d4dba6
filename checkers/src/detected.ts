/**
 * `detected`: every failed peer is `dead` in the view of every observer.
 *
 * Failed: a peer that has started at least once and is now down without having
 * left the group (exited, or paused by SIGSTOP not yet followed by SIGCONT),
 * or a live peer cut off from the observer (on another side of the network).
 * Observers: the live peers on a largest side (every largest side when sizes
 * tie), i.e. the peers that can still reach the others; a peer alone on its
 * side, with others elsewhere, is isolated and so failed, not an observer.
 *
 * An observer whose process started after the failure and never heard of the
 * failed peer is excused (it cannot know it); any other state than `dead` is a
 * failure. Detection time of a pair = the observer's transition to `dead` −
 * the failure: the `fault` event (kill, terminate, pause, restart) or else the
 * signal (`peer.kill`) or else the `peer.exit` for a peer that is down; the
 * event that split the pair for a peer on another side. Never below 0.
 *
 * One pass over the prefix; the verdict is read from the state at its end.
 */
import type {FaultKind, HistoryEvent, Verdict} from './history/types.js';
import {isEvent} from './history/types.js';
import type {Window} from './model.js';
import {Model, SplitTracker, coordinatorPeer, evidence, formatTime, isMemberEvent, list} from './model.js';
import {percentileOfSorted} from './stats.js';

/** Signals and fault kinds that are meant to bring a peer down. */
const downSignals = new Set(['SIGKILL', 'SIGTERM', 'SIGSTOP']);
const downFaults = new Set<FaultKind>(['kill', 'terminate', 'pause', 'restart']);

/** Follows, per peer, when its present failure (down: exited or paused) began. */
export class DownTracker {
  /** The fault or signal meant to bring the peer down, not yet followed by it going down. */
  readonly #pending = new Map<string, number>();
  readonly #since = new Map<string, number>();

  /** Call with every event, right after `model.apply(e)`. */
  apply(model: Model, e: HistoryEvent): void {
    const peer = coordinatorPeer(e);
    if (peer === undefined) return;
    if (isEvent(e, 'fault')) {
      // A fault that was not carried out (its peer already down, or up again) takes nobody down.
      if (e.data.skipped !== undefined) return;
      const kind: FaultKind = e.data.kind;
      if (downFaults.has(kind)) {
        if (!this.#pending.has(peer)) this.#pending.set(peer, e.t);
      } else if (kind === 'resume') {
        this.#pending.delete(peer);
      }
      return;
    }
    const signal = isEvent(e, 'peer.kill') ? e.data.signal : undefined;
    if (signal !== undefined && downSignals.has(signal) && !this.#pending.has(peer)) {
      this.#pending.set(peer, e.t);
    }
    const liveness = model.liveness(peer);
    if (liveness === 'exited' || liveness === 'paused') {
      if (!this.#since.has(peer)) this.#since.set(peer, this.#pending.get(peer) ?? e.t);
      this.#pending.delete(peer);
    } else {
      this.#since.delete(peer);
      if (e.type === 'peer.spawn' || signal === 'SIGCONT') this.#pending.delete(peer);
    }
  }

  /** Since when the peer has been down (undefined: it is not down). */
  downSince(peer: string): number | undefined {
    return this.#since.get(peer);
  }

  /** Every peer that is down, with the time it went down. */
  down(): ReadonlyMap<string, number> {
    return this.#since;
  }
}

interface Failure {
  peer: string;
  /** When it failed, as far as this observer is concerned. */
  t: number;
  /** `exited`, `paused`, `isolated` or `cut off from <observer>`, for messages. */
  how: string;
}

export function detected(history: readonly HistoryEvent[], window: Window): Verdict {
  const model = new Model();
  const splits = new SplitTracker();
  const downs = new DownTracker();
  for (const e of history) {
    if (e.t > window.at) continue;
    const effect = model.apply(e);
    if (effect && (effect.liveChanged || effect.reachChanged)) splits.update(model, e.t);
    downs.apply(model, e);
  }

  // Peers down for good reason of failure: started once (the group knew them), not departed.
  const crashed: Failure[] = [];
  for (const [peer, t] of downs.down()) {
    if (!model.view(peer)?.started || model.hasLeft(peer)) continue;
    crashed.push({peer, t, how: model.liveness(peer) === 'paused' ? 'paused' : 'exited'});
  }
  crashed.sort((a, b) => (a.peer < b.peer ? -1 : 1));

  const sides = model.components();
  const largest = sides[0]?.length ?? 0;
  const observers = sides.filter((s) => s.length === largest).flat().sort();
  const failuresOf = (observer: string): Failure[] => {
    const out = [...crashed];
    if (sides.length > 1) {
      for (const peer of model.live()) {
        if (model.sameComponent(observer, peer)) continue;
        const alone = model.component(peer)?.length === 1;
        out.push({peer, t: splits.splitSince(observer, peer) ?? window.at, how: alone ? 'isolated' : `cut off from ${observer}`});
      }
    }
    return out;
  };

  const failed = new Set<string>(crashed.map((f) => f.peer));
  for (const o of observers) for (const f of failuresOf(o)) failed.add(f.peer);
  const failedNames = [...failed].sort();
  const describe = (peer: string): string => {
    const c = crashed.find((f) => f.peer === peer);
    if (c) return `${peer} (${c.how})`;
    return `${peer} (${model.component(peer)?.length === 1 ? 'isolated' : 'on another side'})`;
  };
  if (failedNames.length === 0) return {status: 'pass', message: 'no failed peers', figures: {failed: 0}};

  const relevantTo = (peers: readonly string[]) => (e: HistoryEvent) => {
    if (e.src === 'coordinator') {
      const peer = coordinatorPeer(e);
      return e.type === 'fault' || (peer !== undefined && peers.includes(peer) && e.type.startsWith('peer.'));
    }
    return (isEvent(e, 'member.dead') || isEvent(e, 'member.suspect')) && peers.includes(e.data.name);
  };
  if (observers.length === 0) {
    return {
      status: 'unknown',
      message: `no live peer to observe the failure of ${list(failedNames)}`,
      evidence: evidence(history, window.at, relevantTo(failedNames)),
    };
  }
  const notStarted = observers.filter((o) => !model.view(o)?.current);
  if (notStarted.length > 0) {
    const o = notStarted[0]!;
    const why = model.view(o)?.started ? 'has not started again since it was respawned' : 'never started (no peer.started from it)';
    return {
      status: 'unknown',
      message: `observer ${o} is live but ${why}, so its view is not known`,
      evidence: evidence(history, window.at, (e) => (e.src === `peer:${o}` ? e.type === 'peer.started' : coordinatorPeer(e) === o)),
    };
  }

  const detections: number[] = [];
  const problems: Array<{observer: string; failure: Failure; text: string}> = [];
  for (const o of observers) {
    const view = model.view(o)!;
    for (const f of failuresOf(o)) {
      const state = view.members.get(f.peer);
      if (state === 'dead') {
        detections.push(Math.max(0, (view.since.get(f.peer) ?? window.at) - f.t));
        continue;
      }
      if (state === undefined && (view.startedAt ?? -Infinity) > f.t) continue;
      const has = state === undefined ? `has not seen ${f.peer} at all` : `has ${f.peer} ${state}`;
      problems.push({observer: o, failure: f, text: `${o} ${has}`});
    }
  }
  detections.sort((a, b) => a - b);
  const figures: Record<string, number> = {failed: failedNames.length};
  if (detections.length > 0) {
    figures.detect_min_ms = detections[0]!;
    figures.detect_median_ms = percentileOfSorted(detections, 50);
    figures.detect_max_ms = detections[detections.length - 1]!;
  }

  const first = problems[0];
  if (first) {
    const {observer, failure} = first;
    const rest = problems.slice(1);
    const named = rest.slice(0, 3).map((p) => p.text);
    const more = rest.length === 0 ? '' : ` (and ${rest.length} more: ${named.join('; ')}${rest.length > named.length ? '; …' : ''})`;
    return {
      status: 'fail',
      message: `${first.text}, not dead (${failure.peer} ${failure.how} at ${formatTime(failure.t)})${more}`,
      figures,
      evidence: evidence(history, window.at, (e) => {
        if (e.src === `peer:${observer}`) return e.type === 'peer.started' || (isMemberEvent(e) && e.data.name === failure.peer);
        const peer = coordinatorPeer(e);
        return e.src === 'coordinator' && (e.type === 'fault' || (e.type.startsWith('peer.') && (peer === failure.peer || peer === observer)));
      }),
    };
  }
  return {
    status: 'pass',
    message: `every failed peer is dead to ${list(observers)}: ${failedNames.map(describe).join(', ')}`,
    figures,
  };
}
