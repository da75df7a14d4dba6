/**
 * `converged`: every live peer's live view (its alive and suspect members)
 * is exactly its side: the live peers it can reach, transitively, through
 * links open both ways. Without network faults its side is the live set;
 * during a partition each side converges to itself (SWIM lets each side
 * declare the other dead). One pass that replays the history and keeps, per
 * peer, how many members its view gets wrong, so each event costs O(1) except
 * the rare ones that change the live set or the network.
 */
import type {HistoryEvent, Verdict} from './history/types.js';
import type {Window} from './model.js';
import {Model, concerns, coordinatorPeer, evidence, heldSince, isLiveState, list, liveMembers, some, sidesText, whyNotLive} from './model.js';

/** Whether the group is converged, kept up to date one event at a time (also the traffic phases' clock). */
export class ConvergenceTracker {
  readonly model = new Model();
  /** Per peer with a view: members on which its live view and the live set disagree. */
  readonly #diff = new Map<string, number>();
  /** Live peers that have not started, or whose view differs. */
  readonly #bad = new Set<string>();

  /** Whether `member` belongs in `peer`'s live view: on its side (for a peer that is not live, in the live set; it is not judged). */
  #expects(peer: string, member: string): boolean {
    return this.model.isLive(peer) ? this.model.sameComponent(peer, member) : this.model.isLive(member);
  }

  #recount(peer: string): void {
    const view = this.model.view(peer);
    const side = expectedView(this.model, peer);
    if (!view) return void this.#diff.set(peer, side.length);
    let diff = 0;
    for (const [member, state] of view.members) if (isLiveState(state) !== this.#expects(peer, member)) diff++;
    for (const member of side) if (!view.members.has(member)) diff++;
    this.#diff.set(peer, diff);
  }

  #judge(peer: string): void {
    const view = this.model.view(peer);
    const bad = this.model.isLive(peer) && (!view || !view.current || (this.#diff.get(peer) ?? 1) !== 0);
    if (bad) this.#bad.add(peer);
    else this.#bad.delete(peer);
  }

  /**
   * One peer entered or left the live set, and no link is blocked: every
   * other view's verdict changes for that one member only, so each is
   * adjusted by it (the full recount of every view for every start made a
   * 1,000-peer history cost a minute to check). Its own view is counted
   * again: the same event may have reset it (peer.started).
   */
  #liveFlipped(who: string): void {
    const expected = this.model.isLive(who);
    for (const peer of this.model.peers()) {
      if (peer === who) continue;
      const diff = this.#diff.get(peer);
      if (diff === undefined) {
        this.#recount(peer);
      } else {
        // Without blocked links a view should hold `who` exactly when it is live, whoever the viewer; absent counts as not live.
        const seesLive = isLiveState(this.model.view(peer)?.members.get(who));
        this.#diff.set(peer, diff + (seesLive !== expected ? 1 : 0) - (seesLive !== !expected ? 1 : 0));
      }
      this.#judge(peer);
    }
    this.#recount(who);
    this.#judge(who);
  }

  apply(e: HistoryEvent): void {
    const effect = this.model.apply(e);
    if (!effect) return;
    if (effect.liveChanged && !effect.reachChanged && effect.liveOf !== undefined && !this.model.hasBlockedLinks()) {
      this.#liveFlipped(effect.liveOf);
      return;
    }
    if (effect.liveChanged || effect.reachChanged) {
      for (const peer of this.model.peers()) {
        this.#recount(peer);
        this.#judge(peer);
      }
      return;
    }
    // A respawn of a peer that never left the live set leaves its view stale until its peer.started.
    if (effect.liveOf !== undefined && effect.liveOf !== effect.viewOf) this.#judge(effect.liveOf);
    const peer = effect.viewOf;
    if (peer === undefined) return;
    if (effect.member === undefined) {
      this.#recount(peer);
    } else {
      const inSet = this.#expects(peer, effect.member);
      const was = isLiveState(effect.before) !== inSet ? 1 : 0;
      const is = isLiveState(effect.after) !== inSet ? 1 : 0;
      const diff = this.#diff.get(peer);
      if (diff === undefined) this.#recount(peer);
      else this.#diff.set(peer, diff + is - was);
    }
    this.#judge(peer);
  }

  get holds(): boolean {
    return this.#bad.size === 0;
  }
}

/** What a peer's live view should be: its side if it is live, else the live set. */
export function expectedView(model: Model, peer: string): readonly string[] {
  return model.component(peer) ?? model.live();
}

function describeMember(model: Model, viewer: string, member: string, extra: boolean): string {
  const state = model.view(viewer)?.members.get(member);
  if (extra) {
    const why = model.isLive(member) ? `is live but not on ${viewer}'s side` : whyNotLive(model, member);
    return `${member} (${viewer} has it ${state ?? '?'}; ${member} ${why})`;
  }
  return state === undefined ? `${member} (${viewer} has not seen it)` : `${member} (${viewer} has it ${state})`;
}

/**
 * Whether a peer's live view differs from what it should be, without
 * building the words: at 2,000 peers, describing every view to find the
 * wrong ones took seconds. A view holds each member once, so the same count
 * with every member belonging means the same set.
 */
function viewDiffers(model: Model, peer: string): boolean {
  const expected = expectedView(model, peer);
  const belongs = model.isLive(peer) ? (member: string) => model.sameComponent(peer, member) : (member: string) => model.isLive(member);
  let live = 0;
  for (const [member, state] of model.view(peer)?.members ?? []) {
    if (!isLiveState(state)) continue;
    if (!belongs(member)) return true;
    live++;
  }
  return live !== expected.length;
}

/** What is wrong with one peer's view, in words; undefined if nothing. */
export function viewProblem(model: Model, peer: string): string | undefined {
  const expected = expectedView(model, peer);
  const sees = liveMembers(model.view(peer));
  const expectedSet = new Set(expected);
  const seen = new Set(sees);
  const extra = sees.filter((m) => !expectedSet.has(m));
  const lacks = expected.filter((m) => !seen.has(m));
  if (extra.length === 0 && lacks.length === 0) return undefined;
  const parts: string[] = [];
  // Only the members the message shows are described: a view can lack thousands.
  if (lacks.length > 0) parts.push(`lacks ${some(lacks, (m) => describeMember(model, peer, m, false))}`);
  if (extra.length > 0) parts.push(`extra ${some(extra, (m) => describeMember(model, peer, m, true))}`);
  const should =
    model.components().length > 1 && model.isLive(peer)
      ? `its side of the partition is ${list(expected)} (sides ${sidesText(model)})`
      : `the live set is ${list(expected)}`;
  return `${peer} sees ${list(sees)} but ${should}: ${parts.join('; ')}`;
}

export function converged(history: readonly HistoryEvent[], window: Window): Verdict {
  // Before any event nothing is live, so the condition holds vacuously.
  const tracker = new ConvergenceTracker();
  const since = heldSince(history, window.at, tracker);
  return convergedVerdict(tracker, since, history, window);
}

/**
 * The verdict from a tracker that has folded the history's events up to
 * `window.at`; `since` is when the condition last began to hold (used only
 * when it holds). `converged` replays the history into a fresh tracker; the
 * engine, cut short by a run's timeout, passes the tracker it folded as the
 * events came, rather than replay millions of events on a loaded machine.
 */
export function convergedVerdict(tracker: ConvergenceTracker, since: number, history: readonly HistoryEvent[], window: Window): Verdict {
  const model = tracker.model;
  const live = model.live();
  const notStarted = live.filter((p) => !model.view(p)?.current);
  if (notStarted.length > 0) {
    const who = notStarted[0]!;
    const view = model.view(who);
    const why = view?.started ? 'has not started again since it was respawned (no new peer.started)' : 'never started (no peer.started from it)';
    const others = notStarted.length > 1 ? ` (and ${notStarted.slice(1).join(', ')})` : '';
    return {
      status: 'unknown',
      message: `${who} is live but ${why}${others}, so its view is not known`,
      evidence: evidence(history, window.at, (e) => concerns(e, who) && (e.src === 'coordinator' || e.src === `peer:${who}`)),
    };
  }
  if (live.length === 0) {
    // An empty group agrees with itself trivially: when every peer is gone (crashed, killed, or its agent gave up on
    // an unreachable coordinator) there is no view to judge, and passing would call a dead run converged.
    const gone = model.peers().filter((p) => !model.isLive(p));
    return {
      status: 'unknown',
      message: gone.length === 0 ? 'no peer has started, so there is no view to judge' : `no live peers: ${gone.length} ${gone.length === 1 ? 'is' : 'are'} gone (${gone.slice(0, 3).map((p) => `${p} ${whyNotLive(model, p)}`).join('; ')}${gone.length > 3 ? '; …' : ''}), so there is no view to judge`,
    };
  }
  if (tracker.holds) {
    const split = model.components().length > 1;
    return {
      status: 'pass',
      message:
        split
            ? `${live.length} live peers, each sees its side of the partition: ${sidesText(model)}`
            : `${live.length} live ${live.length === 1 ? 'peer sees' : 'peers see'} ${list(live)}`,
      figures: {converge_ms: Math.max(0, since - window.from)},
    };
  }
  const wrong = live.filter((p) => viewDiffers(model, p));
  const first = wrong[0];
  const problem = first === undefined ? undefined : viewProblem(model, first);
  if (first === undefined || problem === undefined) {
    // Cannot happen: the tracker and the direct comparison agree. Say so rather than guess.
    return {status: 'unknown', message: `the views of ${list(live)} look converged, but the replay disagrees (a checker bug)`};
  }
  const more = wrong.length > 1 ? ` (${wrong.length - 1} more ${wrong.length === 2 ? 'peer differs' : 'peers differ'}: ${some(wrong.slice(1))})` : '';
  const side = new Set(expectedView(model, first));
  const sees = new Set(liveMembers(model.view(first)));
  const disputed = new Set([...side, ...sees].filter((m) => side.has(m) !== sees.has(m)));
  return {
    status: 'fail',
    message: `${problem}${more}`,
    evidence: evidence(history, window.at, (e) => {
      if (e.src === `peer:${first}`) return e.type.startsWith('member.') || e.type === 'peer.started';
      if (e.src === 'coordinator') {
        if (e.type === 'fault') return true;
        const peer = coordinatorPeer(e);
        return peer !== undefined && (peer === first || disputed.has(peer));
      }
      return false;
    }),
  };
}
