/**
 * membership-legality: every change a peer reports in its view of the group
 * obeys SWIM's precedence rules (with Lifeguard, as memberlist implements
 * them). A pure function of the history; it reads only the peers' own
 * `member.*` and `peer.started` events, so it holds any peer that emits the
 * contract, whatever its language.
 *
 * One view per observer and boot: a `peer.started` starts it from nothing but
 * the peer itself, and `member.reaped` forgets the subject (news afterwards
 * starts fresh, at any incarnation). In that view each subject holds a state
 * and an incarnation; an event about a subject the view does not hold only
 * records it. An event about a held subject, state@j, to state@i is legal when:
 *  - alive (`member.joined`, `member.alive`, `member.updated`): i > j, from any
 *    state (a stale alive never refutes, resurrects or overrides). One
 *    exception, memberlist's: a dead or left member may come back alive at a
 *    new address at any incarnation (memberlist's aliveNode lets a left node,
 *    or a dead one after DeadNodeReclaimTime, be replaced by a newcomer of the
 *    same name). At the same address it needs i > j.
 *  - suspect: from alive when i ≥ j; from suspect when i > j (a higher
 *    suspicion overrides a lower one; the same one again is no change); never
 *    from dead or left.
 *  - dead: from alive or suspect when i ≥ j; never from dead or left.
 *  - left: from alive or suspect when i ≥ j; from dead when i ≥ j (a graceful
 *    leave is the more accurate story; memberlist ignores it, the reference
 *    peer takes it, both are fine); never from left.
 * So dead and left are final for their incarnation: they change only to
 * alive at a higher one (or dead to left).
 * A peer's events about itself (`peer.started`, then its refutations, leave
 * and rejoin) only say its own incarnation, which never decreases within one
 * boot: refuting is the only way it moves, and only up.
 */
import type {HistoryEvent, MemberState, Verdict} from './history/types.js';
import {isContractEvent} from './history/types.js';
import {evidence, formatTime, peerOf} from './model.js';

export interface Held {
  state: MemberState;
  incarnation: number;
  /** The last address the view knew for it (dead, left and suspect events carry none). */
  address: string | undefined;
  /** The event that put it in this state. */
  event: HistoryEvent;
}

interface Boot {
  /** The peer's `peer.started`, when the history has it. */
  started: HistoryEvent | undefined;
  /** Its own incarnation, and the event that last said it. */
  self: {incarnation: number; event: HistoryEvent} | undefined;
  view: Map<string, Held>;
}

export interface Violation {
  observer: string;
  subject: string;
  before: Held;
  after: {state: MemberState; incarnation: number; event: HistoryEvent};
  why: string;
  boot: HistoryEvent | undefined;
}

/** Why a change from `before` to `after` in one observer's view is illegal; undefined when it is legal. */
export function illegality(before: Pick<Held, 'state' | 'incarnation' | 'address'>, after: {state: MemberState; incarnation: number; address: string | undefined}): string | undefined {
  const i = after.incarnation;
  const j = before.incarnation;
  const from = before.state;
  switch (after.state) {
    case 'alive':
      if (i > j) return undefined;
      if ((from === 'dead' || from === 'left') && before.address !== undefined && after.address !== undefined && after.address !== before.address) return undefined;
      return from === 'dead' || from === 'left'
        ? `a ${from} member comes back only alive at a higher incarnation (or at a new address)`
        : `alive replaces ${from} only at a higher incarnation`;
    case 'suspect':
      if (from === 'alive') return i >= j ? undefined : 'suspect replaces alive only at the same or a higher incarnation';
      if (from === 'suspect') return i > j ? undefined : 'suspect replaces suspect only at a higher incarnation';
      return `${from} is final for its incarnation: only alive at a higher incarnation replaces it`;
    case 'dead':
      if (from === 'alive' || from === 'suspect') return i >= j ? undefined : `dead replaces ${from} only at the same or a higher incarnation`;
      return `${from} is final for its incarnation: only alive at a higher incarnation replaces it`;
    case 'left':
      if (from === 'alive' || from === 'suspect' || from === 'dead') return i >= j ? undefined : `left replaces ${from} only at the same or a higher incarnation`;
      return 'left is final for its incarnation: only alive at a higher incarnation replaces it';
  }
}

function at(state: MemberState, incarnation: number): string {
  return `${state}@${incarnation}`;
}

/** Every observer's view, per boot, changes only as SWIM with Lifeguard allows (see the module comment). */
/**
 * Every illegal transition in the peers' views, in history order, and how
 * many transitions were judged: what membershipLegality reports, for callers
 * that show where each one happened.
 */
export function legalityViolations(history: readonly HistoryEvent[]): {violations: Violation[]; changes: number} {
  const boots = new Map<string, Boot>();
  const violations: Violation[] = [];
  let changes = 0;
  const bootOf = (observer: string): Boot => {
    let boot = boots.get(observer);
    if (!boot) {
      boot = {started: undefined, self: undefined, view: new Map()};
      boots.set(observer, boot);
    }
    return boot;
  };

  for (const e of history) {
    const observer = peerOf(e.src);
    if (observer === undefined || !isContractEvent(e)) continue;
    if (e.type === 'peer.started') {
      boots.set(observer, {started: e, self: {incarnation: e.data.incarnation, event: e}, view: new Map()});
      continue;
    }
    let state: MemberState;
    let address: string | undefined;
    switch (e.type) {
      case 'member.joined':
      case 'member.alive':
      case 'member.updated':
        state = 'alive';
        address = e.data.address;
        break;
      case 'member.suspect':
        state = 'suspect';
        break;
      case 'member.dead':
        state = 'dead';
        break;
      case 'member.left':
        state = 'left';
        break;
      case 'member.reaped':
        if (e.data.name !== observer) bootOf(observer).view.delete(e.data.name);
        continue;
      default:
        continue;
    }
    const boot = bootOf(observer);
    const subject = e.data.name;
    const incarnation = e.data.incarnation;
    if (subject === observer) {
      const self = boot.self;
      if (self && incarnation < self.incarnation) {
        violations.push({
          observer,
          subject,
          before: {state: 'alive', incarnation: self.incarnation, address: undefined, event: self.event},
          after: {state, incarnation, event: e},
          why: 'its own incarnation went down within one boot',
          boot: boot.started,
        });
      }
      // After a decrease the higher incarnation stands, and so does the event that said it.
      if (!self || incarnation >= self.incarnation) boot.self = {incarnation, event: e};
      continue;
    }
    const before = boot.view.get(subject);
    const after: Held = {state, incarnation, address: address ?? before?.address, event: e};
    if (before) {
      changes++;
      const why = illegality(before, {state, incarnation, address});
      if (why) violations.push({observer, subject, before, after, why, boot: boot.started});
    }
    boot.view.set(subject, after);
  }

  return {violations, changes};
}

export function membershipLegality(history: readonly HistoryEvent[]): Verdict {
  const {violations, changes} = legalityViolations(history);
  const figures = {illegal_transitions: violations.length, transitions: changes};
  const v = violations[0];
  if (!v) return {status: 'pass', message: `${changes} membership ${changes === 1 ? 'change' : 'changes'} in the peers' views, all legal`, figures};
  const all = violations.length > 1 ? ` (${violations.length} illegal transitions in all)` : '';
  const by = (e: HistoryEvent) => `${e.type} at ${formatTime(e.t)}`;
  const message =
    v.observer === v.subject
      ? `${v.observer}'s own incarnation went from ${v.before.incarnation} (${by(v.before.event)}) to ${v.after.incarnation} (${by(v.after.event)}): ${v.why}${all}`
      : `${v.observer}'s view of ${v.subject} went from ${at(v.before.state, v.before.incarnation)} (${by(v.before.event)}) to ${at(v.after.state, v.after.incarnation)} (${by(v.after.event)}): ${v.why}${all}`;
  return {
    status: 'fail',
    message,
    figures,
    evidence: evidence(history, v.after.event.t, (e) => e === v.boot || e === v.before.event || e === v.after.event, 3),
  };
}
