/**
 * Model-relative bounds: what `within: 3x model` comes to in milliseconds for
 * one awaited condition, from the history alone. The timing is what the
 * peers said in their peer.started (the harness never imports a peer's
 * settings), N is the group the condition is about at the await's start. The
 * engine resolves a bound once, when the await begins, and records it in the
 * await.begin, so `peerlab check` judges with the very same number.
 */
import type {Condition, HistoryEvent} from './history/types.js';
import {isEvent} from './history/types.js';
import type {Model} from './model.js';
import {isLiveState, modelAt} from './model.js';
import type {SwimTiming} from './swim-model.js';
import {convergeModelMs, deliveryModelMs, failureDetectionBoundMs, parseSwimTiming, rejoinModelMs} from './swim-model.js';

/** The conditions a model speaks about; `state` has no model (a member may be awaited in any state, for any reason). */
export const modelConditions = ['converged', 'detected', 'rejoined', 'delivered'] as const;
export type ModelCondition = (typeof modelConditions)[number];

export function hasModel(kind: Condition['kind']): kind is ModelCondition {
  return (modelConditions as readonly string[]).includes(kind);
}

/** The model's figure for a condition at N members, in ms. */
export function conditionModelMs(kind: ModelCondition, timing: SwimTiming, n: number): number {
  switch (kind) {
    case 'converged':
      return convergeModelMs(timing, n);
    case 'detected':
      return failureDetectionBoundMs(timing, n);
    case 'rejoined':
      return rejoinModelMs(timing, n);
    case 'delivered':
      return deliveryModelMs(timing, n);
  }
}

/** The condition's own figure that the model predicts: what `model_ratio` divides. */
export const modelFigure: Readonly<Record<ModelCondition, string>> = {
  converged: 'converge_ms',
  detected: 'detect_max_ms',
  rejoined: 'rejoin_ms',
  delivered: 'latency_max_ms',
};

/** The timing of the latest peer.started that reported a usable one, at or before `at`; else why none is usable. */
export function timingAt(history: readonly HistoryEvent[], at = Infinity): {timing: SwimTiming} | {problem: string} {
  let problem = 'no peer reported its timing in its peer.started';
  for (let i = history.length - 1; i >= 0; i--) {
    const e = history[i]!;
    if (e.t > at || e.src === 'coordinator' || !isEvent(e, 'peer.started') || e.data.timing === undefined) continue;
    try {
      return {timing: parseSwimTiming(e.data.timing, `${e.src.slice('peer:'.length)}'s peer.started timing`)};
    } catch (error) {
      // An older report from another peer may still be usable; say the newest problem if none is.
      if (problem.startsWith('no peer')) problem = (error as Error).message;
    }
  }
  return {problem};
}

/**
 * N for a condition: the live peers; for `detected` also the peers that are
 * down but have not left (killed, paused), since the bound is about the group
 * the failure happened in, and a larger N only loosens it.
 */
export function groupSize(kind: ModelCondition, model: Model): number {
  const live = model.live().length;
  return kind === 'detected' ? live + downPeers(model).length : live;
}

/** The peers that are down but have not left: killed, stopped or paused. */
function downPeers(model: Model): string[] {
  return model.peers().filter((p) => {
    const l = model.liveness(p);
    return l === 'exited' || l === 'paused';
  });
}

export interface ModelBound {
  /** The model's figure (1x). */
  ms: number;
  n: number;
}

/**
 * The model's figure for `condition` on the history up to `at`; a problem when no peer has reported a usable timing.
 * `folded`: the model of that very prefix, when the caller keeps one up to date (a coordinator with millions of
 * events cannot replay them all in one go while peers wait for it).
 */
export function modelBoundAt(condition: Condition, history: readonly HistoryEvent[], at: number, folded?: Model): ModelBound | {problem: string} | undefined {
  if (!hasModel(condition.kind)) return undefined;
  const found = timingAt(history, at);
  if ('problem' in found) return found;
  const model = folded ?? modelAt(history, at);
  const n = groupSize(condition.kind, model);
  let ms = conditionModelMs(condition.kind, found.timing, Math.max(1, n));
  // Convergence after a crash waits for the crash to be detected first: while a live peer still holds a
  // down one live, the group converges only once failure detection has run, so its bound comes on top.
  if (condition.kind === 'converged' && undetectedDown(model)) ms += failureDetectionBoundMs(found.timing, groupSize('detected', model));
  return {ms: Math.round(ms), n};
}

/** Whether some peer is down (killed, stopped or paused, not left) and a live peer's view still holds it live. */
function undetectedDown(model: Model): boolean {
  const down = downPeers(model);
  if (down.length === 0) return false;
  return model.live().some((observer) => {
    const members = model.view(observer)?.members;
    return down.some((p) => isLiveState(members?.get(p)));
  });
}

/** `model_ms` and `model_ratio` for a verdict's figures: the model's figure and the condition's figure over it. */
export function modelFigures(kind: Condition['kind'], figures: Readonly<Record<string, number>> | undefined, modelMs: number): Record<string, number> {
  const out: Record<string, number> = {model_ms: modelMs};
  const figure = hasModel(kind) ? figures?.[modelFigure[kind]] : undefined;
  if (figure !== undefined && modelMs > 0) out.model_ratio = Math.round((figure / modelMs) * 100) / 100;
  return out;
}
