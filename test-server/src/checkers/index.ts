/**
 * The checkers: pure functions of the history that turn it into verdicts.
 * `checkCondition` judges an awaited condition on a prefix of the history at
 * a time `at`; `invariants` are checked over the whole history at the end.
 */
import type {Condition, HistoryEvent, Verdict} from '../history/types.js';
import type {Window} from './model.js';
import {converged} from './converged.js';
import {delivered} from './delivered.js';
import {stateSeen} from './state.js';

export function checkCondition(condition: Condition, history: readonly HistoryEvent[], window: Window): Verdict {
  switch (condition.kind) {
    case 'converged':
      return converged(history, window);
    case 'delivered':
      return delivered(history, window);
    case 'state':
      return stateSeen(history, window, {of: condition.of, is: condition.is, seenBy: condition.seenBy});
    default: {
      const kind = (condition as {kind?: unknown}).kind;
      return {status: 'unknown', message: `unknown condition ${String(kind)}`};
    }
  }
}

export {converged, viewProblem} from './converged.js';
export {delivered, latencyFigures, percentile} from './delivered.js';
export {stateSeen} from './state.js';
export type {StateParams} from './state.js';
export {invariants, noDuplicateDelivery, noUnsentDelivery, perSenderOrder} from './invariants.js';
export {
  ChatFold,
  Model,
  chatAt,
  concerns,
  describeEvent,
  evidence,
  eventsUpTo,
  formatTime,
  isLiveState,
  liveMembers,
  liveSet,
  modelAt,
  parseChatId,
  peerOf,
  views,
  whyNotLive,
} from './model.js';
export type {ChatProcess, DeliveryRecord, Duplicate, Effect, Liveness, MemberState, OutOfOrder, PeerView, SentMessage, Window} from './model.js';
