/**
 * Invariants over the whole history, checked once at the end of a run.
 * Deliveries are counted per process: a restarted peer (a new `peer.started`)
 * may deliver a message again, once.
 */
import type {HistoryEvent, HistoryEventOf, InvariantName, Verdict} from './history/types.js';
import {isEvent} from './history/types.js';
import {causal} from './causal.js';
import {membershipLegality} from './legality.js';
import type {Effect} from './model.js';
import {Model, SplitTracker, chatAt, coordinatorPeer, evidence, formatTime, isMemberEvent, parseChatId, peerOf} from './model.js';

/** The message id of a chat event (sent or delivered); undefined for any other. */
function chatId(e: HistoryEvent): string | undefined {
  return isEvent(e, 'chat.sent') || isEvent(e, 'chat.delivered') ? e.data.id : undefined;
}

function more(count: number, noun: string): string {
  return count > 1 ? ` (${count} ${noun} in all)` : '';
}

/** Events from `peer` on the stream of `id` and its process starts, plus the send of `id`. */
function streamEvidence(history: readonly HistoryEvent[], peer: string, id: string): string[] {
  const stream = `${parseChatId(id).stream}:`;
  return evidence(history, Infinity, (e) => {
    if (isEvent(e, 'chat.sent') && e.data.id === id) return true;
    if (e.src !== `peer:${peer}`) return false;
    if (e.type === 'peer.started') return true;
    return isEvent(e, 'chat.delivered') && e.data.id.startsWith(stream);
  });
}

/** No process of any peer delivered the same message id twice. */
export function noDuplicateDelivery(history: readonly HistoryEvent[]): Verdict {
  const chat = chatAt(history);
  const figures = {duplicates: chat.extraDeliveries, deliveries: chat.deliveries};
  const d = chat.duplicates[0];
  if (!d) return {status: 'pass', message: `${chat.deliveries} deliveries, none twice in one process`, figures};
  const count = chat.deliveryOf(d.process, d.id)?.count ?? 2;
  return {
    status: 'fail',
    message: `${d.peer} delivered ${d.id} ${count === 2 ? 'twice' : `${count} times`}${more(chat.duplicates.length, 'messages delivered more than once')}`,
    figures,
    evidence: evidence(history, Infinity, (e) => (e.src === `peer:${d.peer}` && (e.type === 'peer.started' || chatId(e) === d.id)) || (isEvent(e, 'chat.sent') && e.data.id === d.id)),
  };
}

/** Each peer delivered each sender's stream (`sender:epoch`) in increasing seq order. */
export function perSenderOrder(history: readonly HistoryEvent[]): Verdict {
  const chat = chatAt(history);
  const figures = {out_of_order: chat.outOfOrder.length, deliveries: chat.deliveries};
  const o = chat.outOfOrder[0];
  if (!o) return {status: 'pass', message: `${chat.deliveries} deliveries, every stream in order`, figures};
  return {
    status: 'fail',
    message: `${o.peer}: ${o.id} out of order: got seq ${o.seq} after ${o.after}${more(chat.outOfOrder.length, 'deliveries out of order')}`,
    figures,
    evidence: streamEvidence(history, o.peer, o.id),
  };
}

/** Nothing was delivered that no peer reported sending. */
export function noUnsentDelivery(history: readonly HistoryEvent[]): Verdict {
  const chat = chatAt(history);
  const unsent = chat.unsent();
  const figures = {unsent: unsent.length, messages: chat.sent.size};
  const u = unsent[0];
  if (!u) return {status: 'pass', message: `every delivered message among ${chat.sent.size} was sent`, figures};
  return {
    status: 'fail',
    message: `${u.peer} delivered ${u.id} at ${formatTime(u.t)}, which was never sent${more(unsent.length, 'unsent deliveries')}`,
    figures,
    evidence: evidence(history, Infinity, (e) => chatId(e) === u.id || (e.src === `peer:${u.peer}` && e.type === 'peer.started')),
  };
}

/**
 * No live, reachable peer was declared dead. A `member.dead` from observer O
 * about victim V (V ≠ O) is false when, as the history stands at that event:
 *  - V is healthy: live (running, not paused, not left), its current process
 *    started (`peer.started` or `peer.registered` since its last spawn), and
 *    reachable both ways from every other peer of its side (no one-way cut or
 *    bridge between it and a side-mate);
 *  - O is on V's side (a peer partitioned away from the observer is fair game),
 *    and so is the declarer D (the event's `from`, O itself when it timed out
 *    its own suspicion; a D that is down now is not held to this);
 *  - and D's view had fresh news of V during V's present healthy spell: D's
 *    last `member.joined`/`alive`/`suspect` about V came after V became healthy
 *    and after D and V were last reunited by a heal. This excuses the lag of a
 *    detection that began while V was down or cut off (killed and restarted,
 *    paused and resumed, a partition healed) and ends just after it recovered.
 *    When D's own events are not in the history, O's news stands in for them.
 * Every such declaration counts (one false death relayed by three observers is
 * three). Suspicions of a healthy peer under the same rule are counted, not
 * failed.
 */
/** What a `member.dead` or `member.suspect` is, judged as noFalseDead judges it. */
export interface Declaration {
  kind: 'dead' | 'suspect';
  observer: string;
  declarer: string;
  victim: string;
  t: number;
  /** The victim was live and reachable, and the declarer had fresh news of it: a false death or suspicion. */
  unfounded: boolean;
  /** For an unfounded one: since when the victim had been healthy. */
  since?: number;
}

/**
 * The judge of noFalseDead, one event at a time, over a model the caller
 * folds (so the report shows exactly the false deaths the invariant counts).
 */
export class FalseDeadJudge {
  readonly #splits = new SplitTracker();
  /** Per peer: the spawn (generation) it registered in. */
  readonly #registered = new Map<string, number>();
  /** Per healthy peer: since when. */
  readonly #healthySince = new Map<string, number>();
  /**
   * Per observer, per member: the times of its last few joined/alive/suspect
   * events (its view's fresh news of life), oldest first. Peers' events reach
   * the history out of time order, so a declaration is judged on the news
   * its declarer had at its time, not on news recorded since.
   */
  readonly #news = new Map<string, Map<string, number[]>>();
  /** Per declarer, per member: its own last few dead declarations, oldest first, as judged when made. */
  readonly #declared = new Map<string, Map<string, Array<{t: number; incarnation: number; unfounded: boolean}>>>();

  constructor(readonly model: Model) {}

  #healthy(peer: string): boolean {
    const model = this.model;
    return model.wellConnected(peer) && (model.view(peer)?.current === true || this.#registered.get(peer) === model.generation(peer));
  }

  #recheck(peer: string, t: number): void {
    if (!this.#healthy(peer)) this.#healthySince.delete(peer);
    else if (!this.#healthySince.has(peer)) this.#healthySince.set(peer, t);
  }

  /**
   * Whether `observer`'s declaration about `victim` at `t`, originated by
   * `declarer` at `incarnation`, is unfounded at this point. A relay of the
   * declarer's own declaration is judged as that was: after a partition
   * heals, the verdict its far side reached comes over, and the victim's
   * refutation may be recorded before the relay is.
   */
  #unfounded(observer: string, declarer: string, victim: string, t: number, incarnation: number): boolean {
    const model = this.model;
    const since = this.#healthySince.get(victim);
    if (since === undefined || !model.sameComponent(observer, victim)) return false;
    if (declarer === victim) return false;
    if (model.isLive(declarer) && !model.sameComponent(declarer, victim)) return false;
    // The declarer's own news when it reports to us, else the observer's.
    const by = model.view(declarer)?.started ? declarer : observer;
    const news = this.#news.get(by)?.get(victim)?.findLast((n) => n <= t);
    if (observer !== declarer) {
      const own = this.#declared.get(declarer)?.get(victim)?.findLast((d) => d.t <= t);
      if (own && own.incarnation === incarnation && (news === undefined || news <= own.t)) return own.unfounded;
    }
    return news !== undefined && news >= Math.max(since, this.#splits.mergedAt(by, victim));
  }

  /** Call with every event, in order, right after `model.apply(e)` returned `effect`; returns the declaration `e` makes, judged. */
  apply(e: HistoryEvent, effect: Effect | undefined): Declaration | undefined {
    const model = this.model;
    if (effect && (effect.liveChanged || effect.reachChanged)) {
      this.#splits.update(model, e.t);
      for (const peer of [...this.#healthySince.keys()]) this.#recheck(peer, e.t);
      for (const peer of model.liveNames()) this.#recheck(peer, e.t);
    }
    if (e.src === 'coordinator') {
      const peer = coordinatorPeer(e);
      if (peer === undefined) return undefined;
      if (e.type === 'peer.registered') this.#registered.set(peer, model.generation(peer));
      this.#recheck(peer, e.t);
      return undefined;
    }
    const observer = peerOf(e.src);
    if (observer === undefined) return undefined;
    if (e.type === 'peer.started') {
      this.#news.delete(observer);
      this.#recheck(observer, e.t);
      return undefined;
    }
    if (!isEvent(e, 'member.dead') && !isEvent(e, 'member.suspect') && !isEvent(e, 'member.alive') && !isEvent(e, 'member.joined')) return undefined;
    const victim = e.data.name;
    if (victim === observer) return undefined;
    let declaration: Declaration | undefined;
    if (e.type === 'member.dead' || e.type === 'member.suspect') {
      const declarer = e.data.from;
      const unfounded = this.#unfounded(observer, declarer, victim, e.t, e.data.incarnation);
      declaration = {kind: e.type === 'member.dead' ? 'dead' : 'suspect', observer, declarer, victim, t: e.t, unfounded, ...(unfounded ? {since: this.#healthySince.get(victim)!} : {})};
      // A death is no news of life.
      if (e.type === 'member.dead') {
        if (declarer === observer) remember(this.#declared, observer, victim, {t: e.t, incarnation: e.data.incarnation, unfounded}, (d) => d.t);
        return declaration;
      }
    }
    remember(this.#news, observer, victim, e.t, (t) => t);
    return declaration;
  }
}

/** How many news times and declarations are kept per pair: enough for events recorded a little out of time order. */
const KEPT_PER_PAIR = 8;

/** Adds `value` to the pair's list, kept in time order and to KEPT_PER_PAIR. */
function remember<V>(lists: Map<string, Map<string, V[]>>, who: string, about: string, value: V, time: (v: V) => number): void {
  let byMember = lists.get(who);
  if (!byMember) lists.set(who, (byMember = new Map()));
  let list = byMember.get(about);
  if (!list) byMember.set(about, (list = []));
  let at = list.length;
  while (at > 0 && time(list[at - 1]!) > time(value)) at--;
  list.splice(at, 0, value);
  if (list.length > KEPT_PER_PAIR) list.shift();
}

export function noFalseDead(history: readonly HistoryEvent[]): Verdict {
  const model = new Model();
  const judge = new FalseDeadJudge(model);
  let falseDead = 0;
  let falseSuspicions = 0;
  let declarations = 0;
  let first: {observer: string; declarer: string; victim: string; t: number; since: number} | undefined;
  for (const e of history) {
    const d = judge.apply(e, model.apply(e));
    if (!d) continue;
    if (d.kind === 'suspect') {
      if (d.unfounded) falseSuspicions++;
      continue;
    }
    declarations++;
    if (!d.unfounded) continue;
    falseDead++;
    first ??= {observer: d.observer, declarer: d.declarer, victim: d.victim, t: d.t, since: d.since!};
  }

  const figures = {false_dead: falseDead, false_suspicions: falseSuspicions, dead_declarations: declarations};
  if (!first) {
    const suspicions = falseSuspicions === 0 ? 'no suspicion of a live reachable peer' : `${falseSuspicions} ${falseSuspicions === 1 ? 'suspicion' : 'suspicions'} of a live reachable peer (refuted or not, not a failure)`;
    return {status: 'pass', message: `${declarations} dead ${declarations === 1 ? 'declaration' : 'declarations'}, none of a live reachable peer; ${suspicions}`, figures};
  }
  const {observer, declarer, victim, t, since} = first;
  const by = declarer === observer ? '' : ` (declared by ${declarer})`;
  return {
    status: 'fail',
    message: `${observer} declared ${victim} dead at ${formatTime(t)}${by} while ${victim} was live and reachable (since ${formatTime(since)})${falseDead > 1 ? ` (${falseDead} false dead declarations in all)` : ''}`,
    figures,
    evidence: evidence(history, t, (e) => {
      if (e.src === 'coordinator') return e.type === 'fault' || (coordinatorPeer(e) === victim && e.type.startsWith('peer.'));
      if (isMemberEvent(e)) return e.data.name === victim;
      return e.src === `peer:${victim}` && e.type === 'peer.started';
    }),
  };
}

/**
 * Nobody was declared dead at all: no `member.dead` from any peer about
 * another (for faults meant to be survived, such as a pause shorter than the
 * suspicion timeout). Suspicions are counted, not failed.
 */
export function noDead(history: readonly HistoryEvent[]): Verdict {
  let dead = 0;
  let suspicions = 0;
  let first: HistoryEventOf<'member.dead'> | undefined;
  for (const e of history) {
    if (!isEvent(e, 'member.dead') && !isEvent(e, 'member.suspect')) continue;
    const observer = peerOf(e.src);
    const victim = e.data.name;
    if (observer === undefined || victim === observer) continue;
    if (e.type === 'member.suspect') {
      suspicions++;
      continue;
    }
    dead++;
    first ??= e;
  }
  const figures = {dead_declarations: dead, suspicions};
  if (!first) return {status: 'pass', message: `no peer was declared dead (${suspicions} ${suspicions === 1 ? 'suspicion' : 'suspicions'})`, figures};
  const victim = first.data.name;
  const from = first.data.from;
  const by = `peer:${from}` !== first.src ? ` (declared by ${from})` : '';
  return {
    status: 'fail',
    message: `${peerOf(first.src)!} declared ${victim} dead at ${formatTime(first.t)}${by}${dead > 1 ? ` (${dead} dead declarations in all)` : ''}`,
    figures,
    evidence: evidence(history, first.t, (e) => {
      if (e.src === 'coordinator') return e.type === 'fault' || (coordinatorPeer(e) === victim && e.type.startsWith('peer.'));
      return isMemberEvent(e) && e.data.name === victim;
    }),
  };
}

export const invariants: Record<InvariantName, (history: readonly HistoryEvent[]) => Verdict> = {
  'no-duplicate-delivery': noDuplicateDelivery,
  'per-sender-order': perSenderOrder,
  'no-unsent-delivery': noUnsentDelivery,
  'no-false-dead': noFalseDead,
  'no-dead': noDead,
  'membership-legality': membershipLegality,
  causal,
};
