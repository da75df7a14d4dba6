/**
 * Failure detection: SWIM's probe loop (ping, then ping-req through k
 * members, then the member table's verdict on a missed ack), and the answers
 * to others' probes: ack to a ping, a ping on behalf of a ping-req.
 */
import type {Gossip} from './gossip.js';
import type {Member} from './types.js';
import type {OutgoingUdpMessage, UdpMessage, WireUpdate} from './messages.js';
import {toWire} from './messages.js';
import type {ProtocolContext} from './run-state.js';
import {fairDelay} from './fair-deadline.js';
import {shuffle} from './shuffle.js';
import type {Address} from './types.js';
import {formatAddress} from './types.js';

const ALIVE = ['alive'] as const;

type Ping = Extract<UdpMessage, {t: 'ping'}>;
type Ack = Extract<UdpMessage, {t: 'ack'}>;
type PingReq = Extract<UdpMessage, {t: 'ping-req'}>;
type Nack = Extract<UdpMessage, {t: 'nack'}>;

/**
 * A helper nacks when the target has not acked it within this share of the
 * probe timeout (Lifeguard's 80%): the prober asked for help a probe timeout
 * into its window, so a nack sent at the full timeout would reach it just as
 * its window ends, and count as missing when it is only late.
 */
const NACK_AT = 0.8;

export class Prober {
  readonly #ackHandlers = new Map<number, () => void>();
  /** The helpers asked in a probe still waiting, by its seq: a nack from one of them is counted once. */
  readonly #nackHandlers = new Map<number, (from: string) => void>();
  #seq = 0;
  #probeOrder: string[] = [];
  #probeIndex = 0;
  #timer: NodeJS.Timeout | undefined;
  #probing: Promise<void> | undefined;

  constructor(
    private readonly context: ProtocolContext,
    private readonly gossip: Gossip,
  ) {}

  /** Probes one member per probe interval, back to back, never overlapping itself. */
  start(): void {
    const ms = this.context.config.probeIntervalMs;
    const generation = this.context.run.generation();
    const tick = async () => {
      if (!this.context.run.active()) return;
      const started = performance.now();
      this.#probing = this.#probe().catch((error) => this.context.log.warn('swim', `probe failed: ${String(error)}`));
      await this.#probing;
      // A leave and a join while the probe ran started a new loop: this one ends.
      if (!this.context.run.active() || generation !== this.context.run.generation()) return;
      this.#timer = setTimeout(tick, Math.max(0, ms - (performance.now() - started)));
    };
    // A random phase keeps peers started together from probing in lock step.
    this.#timer = setTimeout(tick, Math.floor(Math.random() * ms));
  }

  stop(): void {
    clearTimeout(this.#timer);
  }

  /**
   * A member new to the table joins the round under way at a random place
   * among those not yet probed (memberlist's aliveNode: appended, then
   * swapped with a random member). Without it a round is the table as it
   * was when the round began: a member that started its round while a group
   * formed probed only the first few hundred members for the half hour the
   * round lasts at 2,000, and those first members, in the first processes,
   * answered ten times the pings of the rest (a process of fifty first
   * members sent 5,591 acks, one of fifty last ones 483, in one run) until
   * their acks came late and they were suspected.
   */
  memberJoined(name: string): void {
    const order = this.#probeOrder;
    if (this.#probeIndex >= order.length) return; // the next round takes the whole table anyway
    const at = this.#probeIndex + Math.floor(Math.random() * (order.length - this.#probeIndex + 1));
    order.push(name);
    [order[at], order[order.length - 1]] = [order[order.length - 1]!, order[at]!];
  }

  /** Settles once the probe under way, if any, has finished. */
  async settled(): Promise<void> {
    await this.#probing;
  }

  onPing(message: Ping, from: Address): void {
    // The address may now belong to a newer process under another name: only the named target answers.
    if (message.to !== this.context.name) return;
    // The ack goes where the ping came from, never to the address written inside it: that would
    // let one forged datagram aim our answers at any host. A source that is not its sender's
    // known address (a spoofed one, or a newcomer not yet heard of) gets a bare ack, no bigger than the ping.
    if (this.context.table.isAt(message.f, from)) this.#send(from, {t: 'ack', s: message.s, f: this.context.name, u: this.gossip.piggyback(), c: this.#count()});
    else {
      this.context.table.refusals.unverifiedPing++;
      this.#send(from, {t: 'ack', s: message.s, f: this.context.name, c: this.#count()});
    }
  }

  /** Whether the ack answers a probe of this peer's still waiting: only such an ack's count is read (PushPull.heardCount). */
  onAck(message: Ack): boolean {
    const handler = this.#ackHandlers.get(message.s);
    handler?.();
    return handler !== undefined;
  }

  /** A helper of a probe still waiting says the target did not ack it either (awareness, in #probe). */
  onNack(message: Nack, from: Address): void {
    // Only from the member known at that address: a forged nack would make a starved prober think itself healthy.
    if (this.context.table.isAt(message.f, from)) this.#nackHandlers.get(message.s)?.(message.f);
  }

  onPingReq(message: PingReq, from: Address): void {
    // Probe only a member we know as live, at the address we know: a ping-req must not
    // make us send pings to an address of the sender's choosing. The ack goes to the source.
    const known = this.context.table.get(message.to);
    if (!known || message.to === this.context.name || (known.state !== 'alive' && known.state !== 'suspect')) {
      this.context.table.refusals.pingReqUnknown++;
      return;
    }
    const target = known.address;
    const requester = from;
    const seq = this.#nextSeq();
    const timer = setTimeout(() => this.#ackHandlers.delete(seq), this.context.config.probeIntervalMs);
    const nack = setTimeout(() => this.#send(requester, {t: 'nack', s: message.s, f: this.context.name}), NACK_AT * this.context.config.probeTimeoutMs);
    this.#ackHandlers.set(seq, () => {
      clearTimeout(timer);
      clearTimeout(nack);
      this.#ackHandlers.delete(seq);
      this.#send(requester, {t: 'ack', s: message.s, f: this.context.name});
    });
    this.#send(target, {t: 'ping', s: seq, f: this.context.name, to: message.to, a: formatAddress(this.context.transport.address), u: this.gossip.piggyback()});
  }

  /**
   * The member count an ack says (messages.ts), or undefined when this profile
   * does not pull on gaps: nobody of it would read it, and at rest probes are
   * most of the traffic.
   */
  #count(): number | undefined {
    return this.context.config.gapPullQuietMs > 0 ? this.context.table.knownCount() : undefined;
  }

  /**
   * What rides on a probe's ping: the gossip, and first, when this peer holds
   * the target as suspect, that suspicion (memberlist's buddy system, from
   * Lifeguard). The one member that must hear it, to refute it, then hears it
   * from whoever probes it next, not only when the gossip reaches it: in a
   * storm the queues are long, and the suspicion's copies may be spent before
   * one reaches its subject.
   */
  #pingUpdates(target: Member): WireUpdate[] | undefined {
    if (target.state !== 'suspect') return this.gossip.piggyback();
    const suspicion = toWire({k: 'suspect', n: target.name, i: target.incarnation, f: this.context.name});
    return [suspicion, ...(this.gossip.piggyback(JSON.stringify(suspicion).length + 1) ?? [])];
  }

  #send(to: Address, message: OutgoingUdpMessage): void {
    this.context.transport.sendUdp(to, message);
  }

  #nextSeq(): number {
    this.#seq = (this.#seq + 1) % Number.MAX_SAFE_INTEGER;
    return this.#seq;
  }

  #nextProbeTarget(): Member | undefined {
    for (let tries = 0; tries < 2; tries++) {
      while (this.#probeIndex < this.#probeOrder.length) {
        const record = this.context.table.get(this.#probeOrder[this.#probeIndex++]!);
        if (record && record.name !== this.context.name && (record.state === 'alive' || record.state === 'suspect')) return record;
      }
      // Randomised round-robin (SWIM §4.3): every member is probed once per round, in a fresh order.
      this.#probeOrder = shuffle(this.context.table.others().map((m) => m.name));
      this.#probeIndex = 0;
    }
    return undefined;
  }

  /** Waits for the ack of `seq`, direct or relayed, until it comes or the probe gives up (cancel). */
  #waitAck(seq: number): {promise: Promise<boolean>; cancel(): void} {
    let settle: (v: boolean) => void = () => {};
    const promise = new Promise<boolean>((resolve) => {
      settle = resolve;
      this.#ackHandlers.set(seq, () => resolve(true));
    });
    return {
      promise: promise.finally(() => this.#ackHandlers.delete(seq)),
      cancel: () => settle(false),
    };
  }

  /**
   * One probe: a ping, then ping-reqs through indirectChecks members once
   * probeTimeoutMs passes without an ack, then the table's verdict at the end
   * of the window. The window is the probe interval stretched by this
   * member's health score (awareness.ts; memberlist's probeNode): the direct
   * wait is not, since waiting longer does not bring a datagram through. Its
   * outcome moves the score: an ack, one down; a miss, one up for each helper
   * that did not nack (none asked: one up).
   */
  async #probe(): Promise<void> {
    const target = this.#nextProbeTarget();
    if (!target) return;
    const {awareness} = this.context;
    const started = performance.now();
    const incarnation = target.incarnation;
    const seq = this.#nextSeq();
    const self = formatAddress(this.context.transport.address);
    const ack = this.#waitAck(seq);
    this.#send(target.address, {t: 'ping', s: seq, f: this.context.name, to: target.name, a: self, u: this.#pingUpdates(target)});
    const timeout = fairDelay(this.context.config.probeTimeoutMs);
    const direct = await Promise.race([ack.promise, timeout.promise.then(() => undefined)]);
    timeout.cancel();
    if (direct) return awareness.apply(-1);
    if (!this.context.run.active()) return ack.cancel();
    const helpers = shuffle(this.context.table.others(ALIVE).filter((m) => m.name !== target.name)).slice(0, this.context.config.indirectChecks);
    const asked = new Set(helpers.map((m) => m.name));
    const nacked = new Set<string>();
    this.#nackHandlers.set(seq, (from) => {
      if (asked.has(from)) nacked.add(from);
    });
    for (const helper of helpers) {
      this.#send(helper.address, {t: 'ping-req', s: seq, f: this.context.name, a: self, to: target.name, ta: formatAddress(target.address), u: this.gossip.piggyback()});
    }
    // What is left of the window, and never less than the indirect probes' own share of it:
    // a direct wait that was extended must not leave them no time.
    const {probeTimeoutMs} = this.context.config;
    const window = awareness.scale(this.context.config.probeIntervalMs);
    const remaining = Math.max(window - probeTimeoutMs, window - (performance.now() - started), 0);
    const wait = fairDelay(remaining);
    void wait.promise.then(() => ack.cancel());
    const acked = await ack.promise;
    wait.cancel();
    this.#nackHandlers.delete(seq);
    if (acked) return awareness.apply(-1);
    if (!this.context.run.active()) return;
    awareness.apply(helpers.length > 0 ? helpers.length - nacked.size : 1);
    this.context.table.missedAck(target.name, incarnation);
  }
}
