/**
 * The checkers: pure functions of the history that turn it into verdicts.
 * `checkCondition` judges an awaited condition on a prefix of the history at
 * a time `at`; `invariants` are checked over the whole history at the end.
 */
import type {Condition, HistoryEvent, Verdict} from './history/types.js';
import type {Window} from './model.js';
import {converged} from './converged.js';
import {delivered} from './delivered.js';
import {detected} from './detected.js';
import {rejoined} from './rejoined.js';
import {stateSeen} from './state.js';

export function checkCondition(condition: Condition, history: readonly HistoryEvent[], window: Window): Verdict {
  switch (condition.kind) {
    case 'converged':
      return converged(history, window);
    case 'delivered':
      return delivered(history, window);
    case 'state':
      return stateSeen(history, window, {of: condition.of, is: condition.is, seenBy: condition.seenBy});
    case 'detected':
      return detected(history, window);
    case 'rejoined':
      return rejoined(history, window, condition.of);
    default: {
      const kind = (condition as {kind?: unknown}).kind;
      return {status: 'unknown', message: `unknown condition ${String(kind)}`};
    }
  }
}

export {converged, expectedView, viewProblem} from './converged.js';
export {delivered, latencyFigures} from './delivered.js';
export {percentile} from './stats.js';
export {DownTracker, detected} from './detected.js';
export {rejoined} from './rejoined.js';
export {stateSeen} from './state.js';
export type {StateParams} from './state.js';
export {invariants, noDead, noDuplicateDelivery, noFalseDead, noUnsentDelivery, perSenderOrder} from './invariants.js';
export {illegality, membershipLegality} from './legality.js';
export {causal} from './causal.js';
export {
  ChatFold,
  Model,
  SplitTracker,
  chatAt,
  concerns,
  describeEvent,
  evidence,
  eventsUpTo,
  faultLinks,
  formatTime,
  isLiveState,
  liveMembers,
  liveSet,
  modelAt,
  parseChatId,
  peerOf,
  sidesText,
  views,
  whyNotLive,
} from './model.js';
export type {ChatMessage, ChatProcess, DeliveryRecord, Duplicate, Effect, Liveness, MemberState, OutOfOrder, PeerView, SentMessage, Window} from './model.js';
