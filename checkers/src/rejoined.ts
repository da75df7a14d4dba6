/**
 * `rejoined`: the peer `of` was restarted (a `peer.spawn` after an earlier one
 * of the same name) and every other live peer on its side has it `alive` at an
 * incarnation strictly above the highest that any other peer's view still held
 * for it at the (latest) restart. Incarnations come from other peers'
 * `member.*` events about `of` (joined, alive, updated, suspect, dead, left).
 * A view that forgot `of` (`member.reaped`) or started afresh holds nothing:
 * when every view has forgotten it, the group has no record to beat, and a
 * restarted process may honestly come back at any incarnation. `of`'s own old
 * incarnation does not count: the others never had to hear of its last refutation.
 *
 * `unknown` while `of` was never restarted, is not live, or has not started
 * again, or when an observer's view is not known.
 *
 * A failure quotes the observer's own word on it, when it gave one: its latest
 * event since the restart of a type the contract does not list (an extension,
 * such as memberlist's refusal of a name at a new address) that names `of`
 * and carries a `message`. The harness cannot know every system's reasons, but
 * it can pass them on.
 */
import type {HistoryEvent, Verdict} from './history/types.js';
import {isContractEvent, isEvent} from './history/types.js';
import type {Window} from './model.js';
import {Model, coordinatorPeer, evidence, formatTime, isMemberEvent, list, peerOf, whyNotLive} from './model.js';

export function rejoined(history: readonly HistoryEvent[], window: Window, of: string): Verdict {
  const model = new Model();
  let spawns = 0;
  let restartAt: number | undefined;
  /** Per other peer: the highest incarnation its current view has recorded for `of`. */
  const remembered = new Map<string, number>();
  /** The highest of those, frozen at the latest restart. */
  let before: number | undefined;
  /** Per observer: since when its view has had `of` alive above `before`. */
  const qualified = new Map<string, number>();
  const qualifies = (observer: string): boolean => {
    const view = model.view(observer);
    if (!view?.current || view.members.get(of) !== 'alive') return false;
    const incarnation = view.incarnations.get(of);
    return incarnation !== undefined && (before === undefined || incarnation > before);
  };

  for (const e of history) {
    if (e.t > window.at) continue;
    model.apply(e);
    if (e.src === 'coordinator') {
      if (isEvent(e, 'peer.spawn') && e.data.peer === of && ++spawns >= 2) {
        restartAt = e.t;
        before = remembered.size > 0 ? Math.max(...remembered.values()) : undefined;
        qualified.clear();
      }
      continue;
    }
    const self = peerOf(e.src);
    if (self === undefined) continue;
    const member = isMemberEvent(e) ? e.data : undefined;
    const about = member ? member.name === of : e.type === 'peer.started' && self === of;
    if (self !== of) {
      if (e.type === 'peer.started' || (about && e.type === 'member.reaped')) {
        remembered.delete(self);
      } else if (about && member) {
        const held = remembered.get(self);
        if (held === undefined || member.incarnation > held) remembered.set(self, member.incarnation);
      }
    }
    if (restartAt === undefined || self === of || !(about || e.type === 'peer.started')) continue;
    if (qualifies(self)) {
      if (!qualified.has(self)) qualified.set(self, e.t);
    } else {
      qualified.delete(self);
    }
  }

  const explains = (observer: string) => (e: HistoryEvent) =>
    e.src === `peer:${observer}` && restartAt !== undefined && e.t >= restartAt && !isContractEvent(e) && e.data.name === of && typeof e.data.message === 'string';
  const about = (observer: string) => (e: HistoryEvent) => {
    if (e.src === `peer:${observer}`) return e.type === 'peer.started' || (isMemberEvent(e) && e.data.name === of) || explains(observer)(e);
    if (e.src === `peer:${of}`) return e.type === 'peer.started';
    const peer = coordinatorPeer(e);
    return e.src === 'coordinator' && (peer === of || peer === observer || e.type === 'fault') && (e.type.startsWith('peer.') || e.type === 'fault');
  };
  const ofEvents = about(of);
  if (spawns === 0) return {status: 'unknown', message: `${of} was never spawned`};
  if (restartAt === undefined) return {status: 'unknown', message: `${of} was never restarted (spawned once)`, evidence: evidence(history, window.at, ofEvents)};
  if (!model.isLive(of)) {
    return {status: 'unknown', message: `${of} is not live (${whyNotLive(model, of)}) since its restart at ${formatTime(restartAt)}`, evidence: evidence(history, window.at, ofEvents)};
  }
  if (!model.view(of)?.current) {
    return {status: 'unknown', message: `${of} has not started again since it was respawned at ${formatTime(restartAt)}`, evidence: evidence(history, window.at, ofEvents)};
  }
  const observers = model.live().filter((p) => p !== of && model.sameComponent(p, of));
  if (observers.length === 0) {
    const others = model.live().length > 1;
    return {status: 'unknown', message: others ? `no live peer is on ${of}'s side to observe it` : `no live peer other than ${of} to observe it`};
  }
  const notStarted = observers.filter((o) => !model.view(o)?.current);
  if (notStarted.length > 0) {
    const o = notStarted[0]!;
    const why = model.view(o)?.started ? 'has not started again since it was respawned' : 'never started (no peer.started from it)';
    return {status: 'unknown', message: `observer ${o} is live but ${why}, so its view is not known`, evidence: evidence(history, window.at, about(o))};
  }

  const above = before === undefined ? 'at any incarnation (no other view held one at the restart)' : `above incarnation ${before}`;
  const wrong = observers.filter((o) => !qualifies(o));
  const first = wrong[0];
  if (first !== undefined) {
    const view = model.view(first)!;
    const state = view.members.get(of);
    const incarnation = view.incarnations.get(of);
    const at = incarnation === undefined ? 'at an unknown incarnation' : `at incarnation ${incarnation}`;
    const has = state === undefined ? `has not seen ${of} at all` : `has ${of} ${state} ${at}`;
    const more = wrong.length > 1 ? ` (and ${wrong.slice(1).join(', ')})` : '';
    const said = history.findLast((e) => e.t <= window.at && explains(first)(e));
    const reason = said ? `; ${first} said (${said.type}): ${clip(String(said.data.message), 300)}` : '';
    return {
      status: 'fail',
      message: `${first} ${has}, not alive ${above} (${of} restarted at ${formatTime(restartAt)})${more}${reason}`,
      evidence: evidence(history, window.at, about(first)),
    };
  }
  let last = restartAt;
  let lowest = Infinity;
  for (const o of observers) {
    last = Math.max(last, qualified.get(o) ?? restartAt);
    lowest = Math.min(lowest, model.view(o)!.incarnations.get(of) ?? Infinity);
  }
  const figures: Record<string, number> = {rejoin_ms: last - restartAt, incarnation: lowest};
  if (before !== undefined) figures.incarnation_before = before;
  return {status: 'pass', message: `${of} rejoined: alive ${above} to ${list(observers)}`, figures};
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
