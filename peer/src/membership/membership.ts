/**
 * SWIM membership with the refinements memberlist and Lifeguard made usual:
 * probe, indirect probe through k members, suspicion that shrinks with
 * confirmations, incarnation numbers and refutation, piggybacked
 * dissemination, periodic push-pull over TCP, and reconnect attempts to dead
 * members so the two sides of a healed partition merge again.
 *
 * This is the façade the rest of the peer uses. It wires the parts, as
 * memberlist splits them: the member table and its rules (member-table.ts),
 * the probe loop (probe.ts), gossip (gossip.ts) and push-pull (push-pull.ts),
 * which drive the table; and it owns the lifecycle (start, join, leave, stop)
 * and the routing of datagrams to the part that handles them.
 */
import {EventEmitter} from 'node:events';
import {createHash} from 'node:crypto';
import type {SwimConfig} from '../config.js';
import type {Logger} from '../log.js';
import type {Policy} from '../policy.js';
import {correctPolicy} from '../policy.js';
import type {Clock} from './clock.js';
import {systemClock} from './clock.js';
import {Awareness} from './awareness.js';
import {Gossip} from './gossip.js';
import {LIVE, MemberTable} from './member-table.js';
import type {MembershipRefusals} from './member-table.js';
import type {UdpMessage} from './messages.js';
import {MalformedMessage, decodeUdp, toWire} from './messages.js';
import {Prober} from './probe.js';
import {PushPull} from './push-pull.js';
import type {ProtocolContext, RunState} from './run-state.js';
import type {Transport} from './transport.js';
import type {Address, Member, MemberState, MembershipEvents} from './types.js';
import {formatAddress, sameAddress} from './types.js';

export type {MembershipRefusals} from './member-table.js';

/** Datagram types the membership does not handle itself are handed to whoever registered for them (the chat). */
export type ExtraHandler = (message: UdpMessage, from: Address) => void;

export interface MembershipOptions {
  name: string;
  config: SwimConfig;
  transport: Transport;
  log: Logger;
  /** The protocol's hooks that deliberate defects override (policy.ts). */
  policy?: Policy;
  /** The member table's time: suspicion timeouts, reaping, `since` and event times. */
  clock?: Clock;
}

export class Membership extends EventEmitter<MembershipEvents> {
  readonly name: string;
  readonly config: SwimConfig;
  readonly transport: Transport;
  readonly refusals: MembershipRefusals;
  readonly #log: Logger;
  readonly #policy: Policy;
  readonly #table: MemberTable;
  readonly #gossip: Gossip;
  readonly #prober: Prober;
  readonly #pushPull: PushPull;
  readonly #extraHandlers = new Map<string, ExtraHandler>();
  #reapTimer: NodeJS.Timeout | undefined;
  readonly #awareness: Awareness;
  /** Bumped when the timers stop, so a loop still awaiting its work does not re-arm after a rejoin. */
  #generation = 0;
  #running = false;

  constructor(options: MembershipOptions) {
    super();
    this.name = options.name;
    this.config = options.config;
    this.transport = options.transport;
    this.#log = options.log;
    this.#policy = options.policy ?? correctPolicy;
    this.#awareness = new Awareness(this.config.awarenessMaxMultiplier);
    const run: RunState = {active: () => this.active, generation: () => this.#generation};
    this.#table = new MemberTable({
      name: this.name,
      address: this.transport.address,
      config: this.config,
      log: this.#log,
      events: this,
      clock: options.clock ?? systemClock,
      policy: this.#policy,
      broadcast: (update, atOnce) => this.#gossip.queue(update, atOnce),
      viewChanged: () => this.#pushPull.viewChanged(),
    });
    this.refusals = this.#table.refusals;
    const context: ProtocolContext = {name: this.name, config: this.config, policy: this.#policy, transport: this.transport, table: this.#table, log: this.#log, run, awareness: this.#awareness};
    this.#gossip = new Gossip(context);
    this.#prober = new Prober(context, this.#gossip);
    this.#pushPull = new PushPull(context);
    this.transport.on('datagram', (buf, from) => this.#onDatagram(buf, from));
    this.transport.onRequest((request, verdict) => this.#pushPull.onRequest(request, verdict));
    // Having to refute a suspicion of itself says this member answers late (Lifeguard; memberlist's refute).
    this.on('updated', (update) => {
      if (update.reason === 'refute') this.#awareness.apply(1);
    });
    this.on('joined', ({name}) => this.#prober.memberJoined(name));
  }

  /** Lifeguard's local health score: 0 when this member keeps up, up to awarenessMaxMultiplier - 1 (awareness.ts). */
  get healthScore(): number {
    return this.#awareness.score;
  }

  get self(): Member {
    return this.#table.self;
  }

  get running(): boolean {
    return this.#running;
  }

  /** Registers a handler for datagram types outside the membership protocol. */
  handle(type: UdpMessage['t'], handler: ExtraHandler): void {
    this.#extraHandlers.set(type, handler);
  }

  /** Whether this member holds a member of that name in any state, or forgot it dead (a reconnect target). */
  knows(name: string): boolean {
    return this.#table.knows(name);
  }

  /** Running and not leaving: the protocol does its rounds, and nothing new is started on a group it has left. */
  get active(): boolean {
    return this.#running && !this.#table.leaving;
  }

  /**
   * A full-state exchange with a member this one has never heard of, outside
   * a join (no `contacted`). Both sides pass on what they learn, as a
   * reconnect's exchange does: that is how two groups that did not know of
   * each other become one.
   */
  async bridge(to: Address, partner: string): Promise<void> {
    await this.#pushPull.exchange(to, false, partner);
  }

  /** Every member ever seen, self included. */
  all(): Member[] {
    return this.#table.all();
  }

  /** Whether the member of that name is known at that address: the packet's source vouches for its sender. */
  isAt(name: string, address: Address): boolean {
    return this.#table.isAt(name, address);
  }

  /** The member, dead or alive, last known at this address. */
  nameAt(address: Address): string | undefined {
    return this.#table.nameAt(address);
  }

  /** Size of the live set, without building it: this runs for every packet sent. */
  liveCount(): number {
    return this.#table.liveCount();
  }

  /** Alive and suspect members, self included: the live set. */
  live(): Member[] {
    return this.all().filter((m) => m.state === 'alive' || m.state === 'suspect');
  }

  /** Other members in the given states (by default the live ones), unsorted: see MemberTable.others. */
  others(states: readonly MemberState[] = LIVE): Member[] {
    return this.#table.others(states);
  }

  /** A short checksum of the sorted live set, so two views compare at a glance. */
  checksum(): string {
    return liveSetChecksum(this.live().map((m) => m.name));
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#gossip.queue(this.#table.selfAlive());
    this.#prober.start();
    this.#gossip.arm();
    this.#pushPull.start();
    this.#reapTimer = setInterval(
      () => {
        if (this.#running && !this.#table.leaving) this.#table.reap();
      },
      Math.max(50, Math.floor(this.config.deadReapMs / 4)),
    );
  }

  /**
   * Joins through the given seeds with a push-pull each; returns how many
   * answered. With `hedgeMs`, one seed at a time instead, in the order given:
   * the next is asked when the one before failed or has not answered within
   * hedgeMs, and the join is done at the first answer (a slower exchange still
   * under way finishes unawaited). One full state is all a newcomer needs,
   * and bootstrap contacts are everyone's: a thousand newcomers asking all of
   * them at once held every answer up past its deadline, while waiting out a
   * whole deadline before the next seed left a newcomer outside for 10 s.
   */
  async join(seeds: readonly Address[], options: {hedgeMs?: number} = {}): Promise<{contacted: number; errors: string[]}> {
    if (this.#table.leaving) this.#rejoin();
    else if (!this.#running) this.start();
    const errors: string[] = [];
    let contacted = 0;
    const others = seeds.filter((seed) => !sameAddress(seed, this.transport.address));
    const ask = async (seed: Address) => {
      try {
        await this.#pushPull.exchange(seed, true);
        // The first answer makes us part of the group; a dead seed must not delay saying so.
        if (++contacted === 1) this.emit('contacted', {via: formatAddress(seed), seeds: others.length, at: Date.now()});
        return true;
      } catch (error) {
        errors.push(`${formatAddress(seed)}: ${error instanceof Error ? error.message : String(error)}`);
        return false;
      }
    };
    if (options.hedgeMs === undefined) {
      await Promise.all(others.map(ask));
      return {contacted, errors};
    }
    const hedgeMs = options.hedgeMs;
    await new Promise<void>((resolve) => {
      let next = 0;
      let pending = 0;
      const askNext = () => {
        // Stopped or leaving: the rest of the seeds are not asked for a state nobody will take in.
        if (!this.#running || this.#table.leaving) return resolve();
        if (contacted > 0 || next >= others.length) {
          if (contacted > 0 || pending === 0) resolve();
          return;
        }
        const seed = others[next++]!;
        pending++;
        const hedge = setTimeout(askNext, hedgeMs);
        void ask(seed).then((answered) => {
          clearTimeout(hedge);
          pending--;
          if (answered) resolve();
          else askNext();
        });
      };
      askNext();
    });
    return {contacted, errors: [...errors]};
  }

  /**
   * Leaves gracefully: the `left` update goes straight to every live member and
   * keeps being gossiped for a short while, so others record left, not dead.
   */
  async leave(): Promise<void> {
    if (this.#table.leaving || !this.#running) return;
    const recipients = this.others();
    const update = this.#table.leave();
    this.#gossip.clear();
    if (this.#policy.announcesLeave) {
      // Sent to every member just below: the queue keeps it for those this peer did not know of, at the next tick.
      this.#gossip.queue(update, false);
      const wire = [toWire(update)];
      for (const member of recipients) this.transport.sendUdp(member.address, {t: 'gossip', f: this.name, u: wire});
    }
    const generation = this.#generation;
    await new Promise((r) => setTimeout(r, this.config.leavePropagateMs));
    // A join during the grace period made us a member again (and a later leave has its own grace period).
    if (this.#table.leaving && generation === this.#generation) this.#stopTimers();
  }

  async stop(): Promise<void> {
    this.#stopTimers();
    this.#table.stop();
    await this.#prober.settled();
  }

  #rejoin(): void {
    this.#table.rejoin();
    this.#stopTimers();
    this.start();
  }

  #onDatagram(buf: Buffer, from: Address): void {
    let message: UdpMessage;
    try {
      message = decodeUdp(buf);
    } catch (error) {
      this.transport.stats.malformed++;
      this.#log.debug('transport', `ignored malformed datagram from ${formatAddress(from)}: ${error instanceof MalformedMessage ? error.message : String(error)}`);
      return;
    }
    if (!this.#running || this.#table.leaving) return;
    switch (message.t) {
      case 'ping':
        this.#table.applyDatagram(message.u, message.f);
        return this.#prober.onPing(message, from);
      case 'ack':
        this.#table.applyDatagram(message.u, message.f);
        // Only an ack to a probe still waiting: one nobody on the path could forge, once a second at most.
        if (this.#prober.onAck(message)) this.#pushPull.heardCount(message.f, from, message.c);
        return;
      case 'ping-req':
        this.#table.applyDatagram(message.u, message.f);
        return this.#prober.onPingReq(message, from);
      case 'nack':
        return this.#prober.onNack(message, from);
      case 'gossip':
        return this.#table.applyDatagram(message.u, message.f);
      default:
        this.#extraHandlers.get(message.t)?.(message, from);
    }
  }

  #stopTimers(): void {
    this.#running = false;
    this.#generation++;
    this.#prober.stop();
    this.#pushPull.stop();
    this.#gossip.stop();
    clearInterval(this.#reapTimer);
  }
}

export function liveSetChecksum(names: readonly string[]): string {
  return createHash('sha256').update([...names].sort().join('\n')).digest('hex').slice(0, 8);
}
