/**
 * Full-state exchange over TCP: the join through seeds, the periodic
 * push-pull with a random member, the answer to others' push-pulls, and the
 * reconnect attempts to dead members so the two sides of a healed partition
 * merge again. What the state says is the member table's business (mergeState).
 */
import {firstPushPullDelayMs, pushPullIntervalMs} from '../config.js';
import type {PushPullRequest, PushPullResponse} from './messages.js';
import {decodePushPull, decodePushPullReply} from './messages.js';
import type {ProtocolContext} from './run-state.js';
import {EncodedReply} from './transport.js';
import {shuffle} from './shuffle.js';
import type {Address} from './types.js';
import {formatAddress, parseAddress} from './types.js';

/** From this many live members on, an encoded answer is reused (#answer); below it, each answer is built afresh. */
const REUSE_ANSWERS_FROM = 100;

export class PushPull {
  #timer: NodeJS.Timeout | undefined;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #dueAt = Infinity;
  #pullSoon: () => void = () => {};
  #viewChangedAt = 0;
  #lastPushPullAt = 0;
  #gapPulledAt = 0;
  /** How long after the last pull on a gap the next may come (heardCount). */
  #gapPullWaitMs = 0;
  #gapPulling = false;
  /**
   * This peer's full state as its answer to a push-pull, kept for a short
   * while (#answerTtlMs). The first members to register are every newcomer's
   * bootstrap contacts: a thousand joining at once sent each of them a few
   * hundred requests within seconds, and building and encoding a
   * thousand-member state for each (2-3 ms) held their answers up past the
   * 10 s deadline. Anti-entropy loses nothing by an answer a second old: what
   * changed since comes by gossip, as it does to everyone.
   */
  #answer: {json: string; at: number} | undefined;

  constructor(private readonly context: ProtocolContext) {}

  start(): void {
    this.#schedule();
    this.#reconnectTimer = setInterval(() => {
      if (this.context.run.active()) void this.#reconnect();
    }, this.context.config.reconnectIntervalMs);
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#dueAt = Infinity;
    clearInterval(this.#reconnectTimer);
  }

  /** A member came, went or came back: the view is changing (see #schedule). */
  viewChanged(): void {
    this.#viewChangedAt = Date.now();
    this.#pullSoon();
  }

  /**
   * The member this peer probed holds a record of `count` members (its ack's
   * `c`). When that is more than this peer holds, it has missed news: a death
   * changes no one's count, so what differs is a member never heard of. In a
   * group that formed or churned all at once, the epidemic leaves a few
   * members a few updates short (news about a member dies out before it
   * reaches one who joined just after), and the periodic exchange closes such a gap only when it falls, anywhere
   * in its interval (30 s on lan, minutes at rest). Followed pair by pair
   * (200 lan peers, 2026-12-04), 39,796 of 39,800 views of a member were
   * complete 5.1 s after the start and the last 4 waited until 10, 18 and
   * 31 s. So this peer pulls the sender's state at once, but only once its
   * own view has been quiet for gapPullQuietMs (while news still arrives,
   * counts differ everywhere and gossip is closing the gap), and only from a
   * member it knows at that address whose ack answered its own probe (a
   * forged datagram must not aim connections anywhere). Pulls are
   * gapPullQuietMs apart, and twice as far after each one that taught
   * nothing, up to the push-pull interval, back to gapPullQuietMs once a
   * whole interval has passed without one: a member this peer reaped and the
   * sender not yet is no gap a pull closes. memberlist has no such trigger.
   */
  heardCount(sender: string, from: Address, count: number | undefined): void {
    const quietMs = this.context.config.gapPullQuietMs;
    if (quietMs <= 0 || count === undefined || this.#gapPulling || !this.context.run.active()) return;
    if (count <= this.context.table.knownCount() || sender === this.context.name || !this.context.table.isAt(sender, from)) return;
    const now = Date.now();
    if (now - this.#gapPulledAt > this.context.config.pushPullIntervalMs) this.#gapPullWaitMs = quietMs;
    if (now - this.#viewChangedAt < quietMs || now - this.#gapPulledAt < Math.max(quietMs, this.#gapPullWaitMs)) return;
    this.#gapPulling = true;
    this.#gapPulledAt = now;
    // Quiet, as a join's answer is: what fills the gap is the group's state, which the others hold already.
    // Passed on, a pull during a mass join re-sent hundreds of members λ·log N times each.
    this.exchange(from, false, sender, true)
      .catch((error: unknown) => this.context.log.debug('swim', `gap pull from ${sender} failed: ${error instanceof Error ? error.message : String(error)}`))
      .finally(() => {
        this.#gapPulling = false;
        const taught = this.#viewChangedAt >= now;
        this.#gapPullWaitMs = taught ? quietMs : Math.min(2 * Math.max(quietMs, this.#gapPullWaitMs), this.context.config.pushPullIntervalMs);
      });
  }

  /**
   * `partner`: the member this peer believes is at `to`, if any. `quiet`: what
   * the answer teaches is taken in, not passed on (MemberTable.#quiet); by
   * default a join's is, since it is the group's own state.
   */
  async exchange(to: Address, join: boolean, partner?: string, quiet = join): Promise<void> {
    const request: PushPullRequest = {t: 'push-pull', f: this.context.name, a: formatAddress(this.context.transport.address), join, members: this.context.table.localState()};
    const generation = this.context.run.generation();
    const reply = decodePushPullReply(await this.context.transport.request(to, request, this.context.config.tcpTimeoutMs));
    // Stopped, leaving or gone through a leave and a join while the answer was on its way: it was asked for a run
    // that has ended, and a stopped table takes nothing in. Merged, it would report members after the peer had
    // stopped and arm suspicion timers that nothing cancels any more.
    if (!this.context.run.active() || this.context.run.generation() !== generation) throw new StoppedError();
    const trusted = new Set<string>();
    if (partner !== undefined && reply.f === partner) trusted.add(partner);
    // Read when the answer arrives: once one seed's answer made this peer refute, the others are ordinary news.
    if (join && this.context.table.self.incarnation === 0) trusted.add(this.context.name);
    this.context.table.mergeState(reply.members, reply.f, true, trusted, quiet);
  }

  async onRequest(raw: unknown, verdict: (announced: Address) => {action: string; ms?: number}): Promise<EncodedReply | undefined> {
    const request = decodePushPull(raw);
    const announced = parseAddress(request.a);
    if (announced) {
      const v = verdict(announced);
      if (v.action === 'drop') return undefined;
      if (v.action === 'delay') await delay(v.ms ?? 0);
    }
    if (!this.context.run.active()) return undefined;
    const reply = this.#encodedAnswer();
    this.context.table.mergeState(request.members, request.f, false);
    return reply;
  }

  /** How long an encoded answer is reused: a second at most, and a quarter of the push-pull interval. */
  get #answerTtlMs(): number {
    return Math.min(1000, this.context.config.pushPullIntervalMs / 4);
  }

  #encodedAnswer(): EncodedReply {
    const now = performance.now();
    // A small state is cheap to build, and in a small group an answer a second old can lack most of it.
    const reuse = this.context.table.liveCount() >= REUSE_ANSWERS_FROM;
    if (!reuse || !this.#answer || now - this.#answer.at > this.#answerTtlMs) {
      const reply: PushPullResponse = {t: 'push-pull-reply', f: this.context.name, members: this.context.table.localState()};
      this.#answer = {json: JSON.stringify(reply), at: now};
    }
    return new EncodedReply(this.#answer.json);
  }

  async #periodic(): Promise<void> {
    const [target] = shuffle(this.context.table.others(['alive']));
    if (!target) return;
    try {
      await this.exchange(target.address, false, target.name);
    } catch (error) {
      this.context.log.debug('swim', `push-pull with ${target.name} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /**
   * A full-state exchange with a member held dead, so the sides of a healed partition merge. Tried with
   * Serf's probability, the dead over the live (handleReconnect): the group as a whole then tries each dead
   * member about once an interval, whatever its size. With every member trying every interval, 2,000 lan
   * peers in a storm of false deaths made 150-170 exchanges of a 2,000-member state a second between them;
   * with this rule, 45-90 (one run each). A side cut off alone holds most of the group dead and tries every time.
   */
  async #reconnect(): Promise<void> {
    if (!this.context.policy.reconnectsToDead) return;
    const candidates: Array<{name: string; address: Address}> = [...this.context.table.others(['dead']), ...this.context.table.reapedDead()];
    if (candidates.length === 0 || Math.random() >= candidates.length / Math.max(1, this.context.table.liveCount())) return;
    const [target] = shuffle(candidates);
    if (!target) return;
    try {
      await this.exchange(target.address, false, target.name);
      this.context.log.debug('swim', `reconnected to ${target.name}`);
    } catch {
      // Expected for members that really are gone.
    }
  }

  /**
   * Periodic push-pull. At rest it slows with the group's size (pushPullScale);
   * while the view is changing it runs at the base interval, and once more
   * after the last change: a group that formed or churned all at once leaves
   * a few members short of an update or two (an epidemic always misses a
   * few), and the scaled interval (3 min for 1,000 lan members) would leave
   * them so for minutes. memberlist has only the scaled interval.
   */
  #schedule(): void {
    const generation = this.context.run.generation();
    const current = () => this.context.run.active() && generation === this.context.run.generation();
    const tick = async () => {
      if (!current()) return;
      this.#dueAt = Infinity;
      const started = Date.now();
      await this.#periodic();
      if (!current()) return;
      const changed = this.#viewChangedAt >= this.#lastPushPullAt;
      this.#lastPushPullAt = started;
      arm(changed ? this.context.config.pushPullIntervalMs : pushPullIntervalMs(this.context.config, this.context.table.liveCount()));
    };
    const arm = (ms: number) => {
      clearTimeout(this.#timer);
      this.#dueAt = Date.now() + ms;
      this.#timer = setTimeout(tick, ms);
    };
    this.#pullSoon = () => {
      if (!current()) return;
      if (this.#dueAt !== Infinity && this.#dueAt - Date.now() > this.context.config.pushPullIntervalMs) arm(this.context.config.pushPullIntervalMs);
    };
    arm(firstPushPullDelayMs(this.context.config));
  }
}

/** An exchange's answer came after the run that asked for it had ended (stop, or a leave). */
class StoppedError extends Error {
  constructor() {
    super('the membership stopped or left before the answer came');
    this.name = 'StoppedError';
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
