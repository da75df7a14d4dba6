/**
 * SWIM membership with the refinements memberlist and Lifeguard made usual:
 * probe, indirect probe through k members, suspicion that shrinks with
 * confirmations, incarnation numbers and refutation, piggybacked
 * dissemination, periodic push-pull over TCP, and reconnect attempts to dead
 * members so the two sides of a healed partition merge again.
 *
 * Unlike memberlist (its issue #157), a member that left or died may come back
 * under the same name, also from a new address: the newcomer learns its old
 * record through push-pull and refutes it with a higher incarnation.
 *
 * Incarnations are uint32 (0..2^32-1, as in memberlist); a packet carrying any
 * other value is malformed (messages.ts). They never wrap: a peer does not
 * refute past 2^32-1, and an accusation about itself it cannot beat is ignored
 * and counted. So that forged packets cannot use up the range (and leave a
 * member unable to refute, hence dead everywhere), news about a known member,
 * itself included, is taken only up to MAX_INCARNATION_STEP above what this
 * peer knows; beyond it, it is refused and counted. Honest groups move one per
 * refutation. Two sources are trusted beyond the step (see Intake.trusted):
 * a member speaking for itself in its answer to a push-pull this peer dialled
 * (how a lagging view catches up), and the answer to a fresh process's join
 * about that process (a restart starts at 0 and must learn its old
 * incarnation k, then refutes at k+1, one step for the others). A flood of
 * forged packets could still walk a member to the top, 2^24 of them; it is
 * then declared dead, reaped everywhere, and a restart comes back fresh.
 * News about an unknown member is taken, within per-packet and table caps: a
 * forged name is probed, declared dead, and reaped after deadReapMs.
 */
import {EventEmitter} from 'node:events';
import {createHash} from 'node:crypto';
import type {SwimConfig} from '../config.js';
import {MAX_INCARNATION_STEP, pushPullIntervalMs, retransmitLimit, suspicionMaxMs, suspicionMinMs} from '../config.js';
import type {Logger} from '../log.js';
import type {Policy} from '../policy.js';
import {correctPolicy} from '../policy.js';
import {BroadcastQueue} from './broadcast-queue.js';
import type {PushPullMember, PushPullRequest, PushPullResponse, UdpMessage, Update} from './messages.js';
import {MAX_INCARNATION, MalformedMessage, decodePushPull, decodePushPullReply, decodeUdp} from './messages.js';
import {Suspicion} from './suspicion.js';
import {systemClock} from './clock.js';
import type {Transport} from './transport.js';
import type {Address, Member, MemberState, MembershipEvents} from './types.js';
import {formatAddress, parseAddress, sameAddress} from './types.js';

const LIVE: readonly MemberState[] = ['alive', 'suspect'];
const ALIVE: readonly MemberState[] = ['alive'];
const DEAD: readonly MemberState[] = ['dead'];

interface Record_ {
  name: string;
  address: Address;
  state: MemberState;
  incarnation: number;
  since: number;
  suspicion?: Suspicion;
}

/** Where a batch of updates came from, and what it may still introduce. */
interface Intake {
  /** The member that sent the batch (or the push-pull partner). */
  from: string;
  /** Full state over TCP: remote `dead` is taken as `suspect` (see #apply). */
  pushPull: boolean;
  /** The reply to a push-pull this peer started: it may introduce as many members as the table holds. */
  solicited: boolean;
  /**
   * Members whose news this batch may bring beyond MAX_INCARNATION_STEP: the
   * partner's word about itself, at the address this peer dialled, and this
   * peer's own record in the answer to its first join (a restart learning its
   * old incarnation). Nothing else, or one reply from a member a forger
   * introduced could move this peer to the top of the range.
   */
  trusted?: ReadonlySet<string>;
  /** How many more unknown members this batch may introduce. */
  newMembers: number;
}

/** News this peer refused, by reason, and members it forgot: shown by `status`. */
export interface MembershipRefusals {
  /** News about a known member more than MAX_INCARNATION_STEP above what this peer knows. */
  incarnationStep: number;
  /** Accusations about this peer it cannot beat without going past 2^32-1. */
  unbeatable: number;
  /** Unknown members a datagram or push-pull request would have introduced beyond its cap. */
  newMembers: number;
  /** Unknown members not recorded because the table held maxMembers. */
  tableFull: number;
  /** ping-req naming a target this peer does not know as live. */
  pingReqUnknown: number;
  /** Pings from an address not their sender's: answered without piggybacked updates. */
  unverifiedPing: number;
  /** Dead and left members forgotten after deadReapMs (not a refusal: shows reaping at work). */
  reaped: number;
}

/** Datagram types the membership does not handle itself are handed to whoever registered for them (the chat). */
export type ExtraHandler = (message: UdpMessage, from: Address) => void;

export interface MembershipOptions {
  name: string;
  config: SwimConfig;
  transport: Transport;
  log: Logger;
  /** The protocol's hooks that deliberate defects override (policy.ts). */
  policy?: Policy;
}

export class Membership extends EventEmitter<MembershipEvents> {
  readonly name: string;
  readonly config: SwimConfig;
  readonly transport: Transport;
  readonly #log: Logger;
  readonly #policy: Policy;
  readonly #members = new Map<string, Record_>();
  /** Dead members #reap forgot, by name, oldest first: still reconnect targets (at most maxMembers). */
  readonly #reapedDead = new Map<string, Address>();
  readonly #broadcasts = new BroadcastQueue(() => this.#armGossip());
  readonly #ackHandlers = new Map<number, () => void>();
  readonly #extraHandlers = new Map<string, ExtraHandler>();
  readonly #timers: NodeJS.Timeout[] = [];
  readonly refusals: MembershipRefusals = {incarnationStep: 0, unbeatable: 0, newMembers: 0, tableFull: 0, pingReqUnknown: 0, unverifiedPing: 0, reaped: 0};
  #probeTimer: NodeJS.Timeout | undefined;
  #gossipTimer: NodeJS.Timeout | undefined;
  #pushPullTimer: NodeJS.Timeout | undefined;
  #pushPullDueAt = Infinity;
  #pullSoon: () => void = () => {};
  #viewChangedAt = 0;
  #lastPushPullAt = 0;
  /** Bumped when the timers stop, so a loop still awaiting its work does not re-arm after a rejoin. */
  #generation = 0;
  #seq = 0;
  #probeOrder: string[] = [];
  #probeIndex = 0;
  #running = false;
  #leaving = false;
  #probing: Promise<void> | undefined;

  constructor(options: MembershipOptions) {
    super();
    this.name = options.name;
    this.config = options.config;
    this.transport = options.transport;
    this.#log = options.log;
    this.#policy = options.policy ?? correctPolicy;
    this.#members.set(this.name, {
      name: this.name,
      address: this.transport.address,
      state: 'alive',
      incarnation: 0,
      since: Date.now(),
    });
    this.transport.on('datagram', (buf, from) => this.#onDatagram(buf, from));
    this.transport.onRequest((request, verdict) => this.#onRequest(request, verdict));
  }

  get self(): Member {
    return this.#view(this.#members.get(this.name)!);
  }

  get running(): boolean {
    return this.#running;
  }

  /** Registers a handler for datagram types outside the membership protocol. */
  handle(type: UdpMessage['t'], handler: ExtraHandler): void {
    this.#extraHandlers.set(type, handler);
  }

  /** Every member ever seen, self included. */
  all(): Member[] {
    return [...this.#members.values()].map((r) => this.#view(r)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Whether the member of that name is known at that address: the packet's source vouches for its sender. */
  isAt(name: string, address: Address): boolean {
    const record = this.#members.get(name);
    return record !== undefined && sameAddress(record.address, address);
  }

  /** The member, dead or alive, last known at this address. */
  nameAt(address: Address): string | undefined {
    for (const r of this.#members.values()) if (r.address.port === address.port && r.address.host === address.host) return r.name;
    // A forgotten dead member is still who a network fault names: a partition must hold past deadReapMs.
    for (const [name, a] of this.#reapedDead) if (a.port === address.port && a.host === address.host) return name;
    return undefined;
  }

  /** Size of the live set, without building it: this runs for every packet sent. */
  liveCount(): number {
    let n = 0;
    for (const r of this.#members.values()) if (r.state === 'alive' || r.state === 'suspect') n++;
    return n;
  }

  /** Alive and suspect members, self included: the live set. */
  live(): Member[] {
    return this.all().filter((m) => m.state === 'alive' || m.state === 'suspect');
  }

  /**
   * Other members in the given states (by default the live ones: those to
   * probe, gossip to and send chat to), unsorted: the timers pick from these
   * many times a second, so they skip the sorted, copied view `all()` builds.
   */
  others(states: readonly MemberState[] = LIVE): Member[] {
    const out: Member[] = [];
    for (const r of this.#members.values()) if (r.name !== this.name && states.includes(r.state)) out.push(r);
    return out;
  }

  /** A short checksum of the sorted live set, so two views compare at a glance. */
  checksum(): string {
    return liveSetChecksum(this.live().map((m) => m.name));
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#leaving = false;
    this.#broadcasts.queue(this.#aliveUpdate(this.#self()));
    this.#loop(() => this.#probe(), this.config.probeIntervalMs);
    this.#armGossip();
    this.#schedulePushPull();
    this.#every(this.config.reconnectIntervalMs, () => this.#reconnect());
    this.#every(Math.max(50, Math.floor(this.config.deadReapMs / 4)), () => this.#reap());
  }

  /** Joins through the given seeds with a push-pull each; returns how many answered. */
  async join(seeds: readonly Address[]): Promise<{contacted: number; errors: string[]}> {
    if (this.#leaving) this.#rejoin();
    else if (!this.#running) this.start();
    const errors: string[] = [];
    let contacted = 0;
    const others = seeds.filter((seed) => !sameAddress(seed, this.transport.address));
    await Promise.all(
      others.map(async (seed) => {
        try {
          await this.#pushPull(seed, true);
          // The first answer makes us part of the group; a dead seed must not delay saying so.
          if (++contacted === 1) this.emit('contacted', {via: formatAddress(seed), seeds: others.length, at: Date.now()});
        } catch (error) {
          errors.push(`${formatAddress(seed)}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }),
    );
    return {contacted, errors};
  }

  /**
   * Leaves gracefully: the `left` update goes straight to every live member and
   * keeps being gossiped for a short while, so others record left, not dead.
   */
  async leave(): Promise<void> {
    if (this.#leaving || !this.#running) return;
    this.#leaving = true;
    const self = this.#self();
    const update: Update = {k: 'left', n: this.name, i: self.incarnation};
    const recipients = this.others();
    self.state = 'left';
    self.since = Date.now();
    this.#broadcasts.clear();
    if (this.#policy.announcesLeave) {
      this.#broadcasts.queue(update);
      for (const member of recipients) this.transport.sendUdp(member.address, {t: 'gossip', f: this.name, u: [update]});
    }
    this.emit('left', {name: this.name, incarnation: self.incarnation, at: Date.now()});
    const generation = this.#generation;
    await new Promise((r) => setTimeout(r, this.config.leavePropagateMs));
    // A join during the grace period made us a member again (and a later leave has its own grace period).
    if (this.#leaving && generation === this.#generation) this.#stopTimers();
  }

  async stop(): Promise<void> {
    this.#stopTimers();
    for (const record of this.#members.values()) record.suspicion?.cancel();
    await this.#probing;
  }

  // --- state machine -------------------------------------------------------

  #self(): Record_ {
    return this.#members.get(this.name)!;
  }

  #view(r: Record_): Member {
    return {name: r.name, address: r.address, state: r.state, incarnation: r.incarnation, since: r.since};
  }

  #aliveUpdate(r: Record_): Update {
    return {k: 'alive', n: r.name, i: r.incarnation, a: formatAddress(r.address)};
  }

  #rejoin(): void {
    const self = this.#self();
    // At the top of the range the `left` cannot be beaten; others take us back once they reap it.
    if (self.incarnation < MAX_INCARNATION) self.incarnation++;
    else this.refusals.unbeatable++;
    self.state = 'alive';
    self.since = Date.now();
    this.#stopTimers();
    this.start();
    this.emit('alive', {name: this.name, address: self.address, incarnation: self.incarnation, previous: 'left', at: Date.now()});
  }

  /** Raises our incarnation above whatever others claim about us, and says so. */
  #refute(claimed: number): void {
    if (!this.#policy.refutes) return;
    const self = this.#self();
    const next = Math.max(self.incarnation, claimed) + 1;
    if (next > MAX_INCARNATION) {
      // No wrap: a wrapped incarnation would be stale to everyone. Only a forger claims this high.
      this.refusals.unbeatable++;
      this.#log.warn('swim', `ignoring a claim about me at incarnation ${claimed}: it cannot be refuted within the incarnation range`);
      return;
    }
    self.incarnation = next;
    this.#broadcasts.queue(this.#aliveUpdate(self));
    this.#log.debug('swim', `refuting a claim at incarnation ${claimed}; now ${self.incarnation}`);
    this.emit('updated', {name: this.name, address: self.address, incarnation: self.incarnation, reason: 'refute', at: Date.now()});
  }

  #apply(update: Update, intake: Intake): void {
    const known = this.#members.get(update.n);
    if (known && update.i - known.incarnation > MAX_INCARNATION_STEP && !intake.trusted?.has(update.n)) {
      this.refusals.incarnationStep++;
      this.#log.debug('swim', `refused ${update.k} ${update.n} at incarnation ${update.i} from ${intake.from}: more than ${MAX_INCARNATION_STEP} above ${known.incarnation}`);
      return;
    }
    // Only `alive` introduces a member (the others are ignored for unknown names); each batch may bring only so many.
    if (!known && update.k === 'alive') {
      if (intake.newMembers <= 0) return void this.refusals.newMembers++;
      if (this.#members.size >= this.config.maxMembers) return void this.refusals.tableFull++;
      intake.newMembers--;
    }
    const from = intake.from;
    switch (update.k) {
      case 'alive': {
        // Most alive updates a member hears are old news; the incarnation says so before the address is parsed.
        if (known && (update.i < known.incarnation || (update.i === known.incarnation && update.a === formatAddress(known.address)))) return;
        const address = parseAddress(update.a);
        if (address) this.#onAlive(update.n, update.i, address);
        return;
      }
      case 'suspect':
        return this.#onSuspect(update.n, update.i, update.f);
      case 'dead':
        // Push-pull state can be old: a remote `dead` only makes us suspect, so a live member gets to refute.
        return intake.pushPull ? this.#onSuspect(update.n, update.i, from) : this.#onDead(update.n, update.i, update.f, false);
      case 'left':
        return this.#onDead(update.n, update.i, update.n, true);
    }
  }

  #onAlive(name: string, incarnation: number, address: Address): void {
    if (this.#leaving) return;
    if (name === this.name) {
      const self = this.#self();
      if (incarnation > self.incarnation || (incarnation === self.incarnation && !sameAddress(address, self.address))) {
        this.#refute(incarnation);
      }
      return;
    }
    const now = Date.now();
    const current = this.#members.get(name);
    if (!current) {
      this.#members.set(name, {name, address, state: 'alive', incarnation, since: now});
      this.#reapedDead.delete(name);
      this.#broadcasts.queue({k: 'alive', n: name, i: incarnation, a: formatAddress(address)});
      this.#log.info('swim', `${name} joined at ${formatAddress(address)}`);
      this.#viewChanged();
      this.emit('joined', {name, address, incarnation, at: now});
      return;
    }
    // A stale alive never resurrects or overrides: the incarnation must be strictly higher.
    if (incarnation <= current.incarnation) {
      if (incarnation === current.incarnation && !sameAddress(address, current.address) && current.state !== 'dead' && current.state !== 'left') {
        this.#log.warn('swim', `conflicting address for ${name}: ${formatAddress(address)} vs ${formatAddress(current.address)}`);
      }
      return;
    }
    const previous = current.state;
    const moved = !sameAddress(address, current.address);
    current.suspicion?.cancel();
    delete current.suspicion;
    current.incarnation = incarnation;
    current.address = address;
    current.state = 'alive';
    this.#broadcasts.queue({k: 'alive', n: name, i: incarnation, a: formatAddress(address)});
    if (previous !== 'alive') {
      current.since = now;
      // A refuted suspicion leaves the live set as it was; a member back from dead or left changes it.
      if (previous === 'dead' || previous === 'left') this.#viewChanged();
      this.#log.info('swim', `${name} is alive again (was ${previous}) at incarnation ${incarnation}`);
      this.emit('alive', {name, address, incarnation, previous, at: now});
    } else {
      this.emit('updated', {name, address, incarnation, reason: moved ? 'address' : 'incarnation', at: now});
    }
  }

  #onSuspect(name: string, incarnation: number, from: string): void {
    if (this.#leaving) return;
    const current = this.#members.get(name);
    if (!current || incarnation < current.incarnation) return;
    if (current.state === 'dead' || current.state === 'left') return;
    if (name === this.name) return this.#refute(incarnation);
    if (current.state === 'suspect' && current.suspicion) {
      if (current.suspicion.confirm(from)) this.#broadcasts.queue({k: 'suspect', n: name, i: incarnation, f: from});
      return;
    }
    const now = Date.now();
    const n = this.liveCount();
    const expected = Math.max(0, Math.min(this.config.indirectChecks, n - 2));
    current.incarnation = incarnation;
    current.state = 'suspect';
    current.since = now;
    const [minMs, maxMs] = this.#policy.suspicionBounds(suspicionMinMs(this.config, n), suspicionMaxMs(this.config, n));
    current.suspicion = new Suspicion(from, expected, minMs, maxMs, () => {
      const record = this.#members.get(name);
      if (record?.state === 'suspect' && record.incarnation === incarnation) {
        this.#log.info('swim', `suspicion of ${name} timed out; declaring it dead`);
        this.#onDead(name, incarnation, this.name, false);
      }
    }, systemClock);
    this.#broadcasts.queue({k: 'suspect', n: name, i: incarnation, f: from});
    this.#log.info('swim', `suspect ${name} at incarnation ${incarnation} (reported by ${from})`);
    this.emit('suspect', {name, incarnation, from, at: now});
  }

  #onDead(name: string, incarnation: number, from: string, left: boolean): void {
    const current = this.#members.get(name);
    if (!current || incarnation < current.incarnation) return;
    if (current.state === 'left') return;
    // A graceful leave is the more accurate story, so `left` may replace `dead`, never the reverse.
    if (current.state === 'dead' && !left) return;
    if (name === this.name) {
      if (!this.#leaving) this.#refute(incarnation);
      return;
    }
    if (this.#leaving) return;
    const now = Date.now();
    current.suspicion?.cancel();
    delete current.suspicion;
    current.incarnation = incarnation;
    current.state = left ? 'left' : 'dead';
    current.since = now;
    this.#viewChanged();
    this.#broadcasts.queue(left ? {k: 'left', n: name, i: incarnation} : {k: 'dead', n: name, i: incarnation, f: from});
    if (left) {
      this.#log.info('swim', `${name} left`);
      this.emit('left', {name, incarnation, at: now});
    } else {
      this.#log.info('swim', `${name} is dead (declared by ${from})`);
      this.emit('dead', {name, incarnation, from, at: now});
    }
  }

  // --- UDP protocol --------------------------------------------------------

  #piggyback(): Update[] | undefined {
    const updates = this.#broadcasts.take(this.config.maxPacketBytes - 200, this.#policy.retransmitLimit(retransmitLimit(this.config, this.liveCount())));
    return updates.length > 0 ? updates : undefined;
  }

  #send(to: Address, message: UdpMessage): void {
    this.transport.sendUdp(to, message);
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
    if (!this.#running || this.#leaving) return;
    switch (message.t) {
      case 'ping': {
        this.#applyAll(message.u, message.f);
        // The address may now belong to a newer process under another name: only the named target answers.
        if (message.to !== this.name) return;
        // The ack goes where the ping came from, never to the address written inside it: that would
        // let one forged datagram aim our answers at any host. A source that is not its sender's
        // known address (a spoofed one, or a newcomer not yet heard of) gets a bare ack, no bigger than the ping.
        if (this.isAt(message.f, from)) this.#send(from, {t: 'ack', s: message.s, f: this.name, u: this.#piggyback()});
        else {
          this.refusals.unverifiedPing++;
          this.#send(from, {t: 'ack', s: message.s, f: this.name});
        }
        return;
      }
      case 'ack': {
        this.#applyAll(message.u, message.f);
        const handler = this.#ackHandlers.get(message.s);
        handler?.();
        return;
      }
      case 'ping-req': {
        this.#applyAll(message.u, message.f);
        // Probe only a member we know as live, at the address we know: a ping-req must not
        // make us send pings to an address of the sender's choosing. The ack goes to the source.
        const known = this.#members.get(message.to);
        if (!known || message.to === this.name || (known.state !== 'alive' && known.state !== 'suspect')) {
          this.refusals.pingReqUnknown++;
          return;
        }
        const target = known.address;
        const requester = from;
        const seq = this.#nextSeq();
        const timer = setTimeout(() => this.#ackHandlers.delete(seq), this.config.probeIntervalMs);
        this.#ackHandlers.set(seq, () => {
          clearTimeout(timer);
          this.#ackHandlers.delete(seq);
          this.#send(requester, {t: 'ack', s: message.s, f: this.name});
        });
        this.#send(target, {t: 'ping', s: seq, f: this.name, to: message.to, a: formatAddress(this.transport.address), u: this.#piggyback()});
        return;
      }
      case 'gossip':
        this.#applyAll(message.u, message.f);
        return;
      default:
        this.#extraHandlers.get(message.t)?.(message, from);
    }
  }

  #applyAll(updates: Update[] | undefined, from: string): void {
    if (!updates) return;
    const intake: Intake = {from, pushPull: false, solicited: false, newMembers: this.config.maxNewMembersPerPacket};
    for (const update of updates) this.#apply(update, intake);
  }

  #nextSeq(): number {
    this.#seq = (this.#seq + 1) % Number.MAX_SAFE_INTEGER;
    return this.#seq;
  }

  #nextProbeTarget(): Record_ | undefined {
    for (let tries = 0; tries < 2; tries++) {
      while (this.#probeIndex < this.#probeOrder.length) {
        const record = this.#members.get(this.#probeOrder[this.#probeIndex++]!);
        if (record && record.name !== this.name && (record.state === 'alive' || record.state === 'suspect')) return record;
      }
      // Randomised round-robin (SWIM §4.3): every member is probed once per round, in a fresh order.
      this.#probeOrder = shuffle(this.others().map((m) => m.name));
      this.#probeIndex = 0;
    }
    return undefined;
  }

  #waitAck(seq: number, ms: number): {promise: Promise<boolean>; cancel(): void} {
    let timer: NodeJS.Timeout | undefined;
    let settle: (v: boolean) => void = () => {};
    const promise = new Promise<boolean>((resolve) => {
      settle = resolve;
      timer = setTimeout(() => resolve(false), ms);
      this.#ackHandlers.set(seq, () => resolve(true));
    });
    return {
      promise: promise.finally(() => {
        clearTimeout(timer);
        this.#ackHandlers.delete(seq);
      }),
      cancel: () => settle(false),
    };
  }

  async #probe(): Promise<void> {
    const target = this.#nextProbeTarget();
    if (!target) return;
    const started = performance.now();
    const incarnation = target.incarnation;
    const seq = this.#nextSeq();
    const self = formatAddress(this.transport.address);
    const ack = this.#waitAck(seq, this.config.probeIntervalMs);
    this.#send(target.address, {t: 'ping', s: seq, f: this.name, to: target.name, a: self, u: this.#piggyback()});
    const timeout = cancellableDelay(this.config.probeTimeoutMs);
    const direct = await Promise.race([ack.promise, timeout.promise.then(() => undefined)]);
    timeout.cancel();
    if (direct) return;
    if (!this.#running || this.#leaving) return ack.cancel();
    const helpers = shuffle(this.others(ALIVE).filter((m) => m.name !== target.name)).slice(0, this.config.indirectChecks);
    for (const helper of helpers) {
      this.#send(helper.address, {t: 'ping-req', s: seq, f: this.name, a: self, to: target.name, ta: formatAddress(target.address), u: this.#piggyback()});
    }
    const remaining = Math.max(0, this.config.probeIntervalMs - (performance.now() - started));
    const timer = setTimeout(() => ack.cancel(), remaining);
    const acked = await ack.promise;
    clearTimeout(timer);
    if (acked || !this.#running || this.#leaving) return;
    const current = this.#members.get(target.name);
    if (!this.#policy.suspectsOnMissedAck) return;
    if (current && current.incarnation === incarnation && current.state !== 'dead' && current.state !== 'left') {
      this.#log.debug('swim', `no ack from ${target.name}, direct or indirect`);
      this.#onSuspect(target.name, incarnation, this.name);
    }
  }

  /**
   * Gossip ticks only while there is news: a group at rest would otherwise wake
   * every member 1000/gossipInterval times a second for nothing, and on one
   * machine carrying hundreds of members those wake-ups are most of the load.
   */
  #armGossip(): void {
    if (this.#gossipTimer || !this.#running || this.#leaving) return;
    // Alone, there is nobody to tell: the next member we learn of queues news and re-arms the timer.
    const newsToTell = () => this.#running && !this.#leaving && this.#broadcasts.size > 0 && this.liveCount() > 1;
    this.#gossipTimer = setInterval(() => {
      if (newsToTell()) return this.#gossip();
      clearInterval(this.#gossipTimer);
      this.#gossipTimer = undefined;
    }, this.config.gossipIntervalMs);
    // First news after a quiet spell goes out at once (once the current packet is applied), not a
    // whole interval later: a ticking timer would have fired half an interval later on average.
    setImmediate(() => {
      if (this.#gossipTimer && newsToTell()) this.#gossip();
    });
  }

  #gossip(): void {
    if (this.#broadcasts.size === 0) return;
    const targets = shuffle(this.others()).slice(0, this.config.gossipNodes);
    for (const target of targets) {
      const updates = this.#piggyback();
      if (!updates) return;
      this.#send(target.address, {t: 'gossip', f: this.name, u: updates});
    }
  }

  // --- push-pull over TCP --------------------------------------------------

  #localState(): PushPullMember[] {
    return [...this.#members.values()].map((r) => ({n: r.name, a: formatAddress(r.address), s: r.state, i: r.incarnation}));
  }

  #mergeState(members: PushPullMember[], from: string, solicited: boolean, trusted?: ReadonlySet<string>): void {
    const intake: Intake = {from, pushPull: true, solicited, newMembers: solicited ? Infinity : this.config.maxNewMembersPerPushPull, ...(trusted ? {trusted} : {})};
    for (const m of members) {
      const update: Update =
        m.s === 'alive' ? {k: 'alive', n: m.n, i: m.i, a: m.a}
        : m.s === 'left' ? {k: 'left', n: m.n, i: m.i}
        : {k: 'suspect', n: m.n, i: m.i, f: from};
      this.#apply(update, intake);
    }
  }

  /** `partner`: the member this peer believes is at `to`, if any. */
  async #pushPull(to: Address, join: boolean, partner?: string): Promise<void> {
    const request: PushPullRequest = {t: 'push-pull', f: this.name, a: formatAddress(this.transport.address), join, members: this.#localState()};
    const reply = decodePushPullReply(await this.transport.request(to, request, this.config.tcpTimeoutMs));
    const trusted = new Set<string>();
    if (partner !== undefined && reply.f === partner) trusted.add(partner);
    // Read when the answer arrives: once one seed's answer made this peer refute, the others are ordinary news.
    if (join && this.#self().incarnation === 0) trusted.add(this.name);
    this.#mergeState(reply.members, reply.f, true, trusted);
  }

  async #onRequest(raw: unknown, verdict: (announced: Address) => {action: string; ms?: number}): Promise<PushPullResponse | undefined> {
    const request = decodePushPull(raw);
    const announced = parseAddress(request.a);
    if (announced) {
      const v = verdict(announced);
      if (v.action === 'drop') return undefined;
      if (v.action === 'delay') await delay(v.ms ?? 0);
    }
    if (!this.#running || this.#leaving) return undefined;
    const reply: PushPullResponse = {t: 'push-pull-reply', f: this.name, members: this.#localState()};
    this.#mergeState(request.members, request.f, false);
    return reply;
  }

  async #periodicPushPull(): Promise<void> {
    const [target] = shuffle(this.others(ALIVE));
    if (!target) return;
    try {
      await this.#pushPull(target.address, false, target.name);
    } catch (error) {
      this.#log.debug('swim', `push-pull with ${target.name} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  async #reconnect(): Promise<void> {
    if (!this.#policy.reconnectsToDead) return;
    const candidates: Array<{name: string; address: Address}> = [...this.others(DEAD), ...[...this.#reapedDead].map(([name, address]) => ({name, address}))];
    const [target] = shuffle(candidates);
    if (!target) return;
    try {
      await this.#pushPull(target.address, false, target.name);
      this.#log.debug('swim', `reconnected to ${target.name}`);
    } catch {
      // Expected for members that really are gone.
    }
  }

  /**
   * Forgets dead and left members after deadReapMs: the table stays bounded
   * under forged names and churn, and the name is free for a newcomer again.
   * A dead member's address stays a reconnect target (#reapedDead), as Serf
   * keeps failed members: the other side of a partition longer than
   * deadReapMs is dead here, and only reconnecting heals it.
   */
  #reap(): void {
    const cutoff = Date.now() - this.config.deadReapMs;
    for (const [name, record] of this.#members) {
      if (name === this.name || (record.state !== 'dead' && record.state !== 'left') || record.since > cutoff) continue;
      this.#members.delete(name);
      if (record.state === 'dead') {
        this.#reapedDead.delete(name);
        this.#reapedDead.set(name, record.address);
        if (this.#reapedDead.size > this.config.maxMembers) this.#reapedDead.delete(this.#reapedDead.keys().next().value!);
      }
      this.refusals.reaped++;
      this.#log.debug('swim', `forgot ${name} (${record.state} since ${new Date(record.since).toISOString()})`);
      // Said out loud: a checker that saw it dead must know why it may come back at a lower incarnation.
      this.emit('reaped', {name, state: record.state, incarnation: record.incarnation, at: Date.now()});
    }
  }

  // --- timers --------------------------------------------------------------

  /**
   * Periodic push-pull. At rest it slows with the group's size (pushPullScale);
   * while the view is changing it runs at the base interval, and once more
   * after the last change: a group that formed or churned all at once leaves
   * a few members short of an update or two (an epidemic always misses a
   * few), and the scaled interval (3 min for 1,000 lan members) would leave
   * them so for minutes. memberlist has only the scaled interval.
   */
  #schedulePushPull(): void {
    const generation = this.#generation;
    const tick = async () => {
      if (!this.#running || this.#leaving || generation !== this.#generation) return;
      this.#pushPullDueAt = Infinity;
      const started = Date.now();
      await this.#periodicPushPull();
      if (!this.#running || this.#leaving || generation !== this.#generation) return;
      const changed = this.#viewChangedAt >= this.#lastPushPullAt;
      this.#lastPushPullAt = started;
      arm(changed ? this.config.pushPullIntervalMs : pushPullIntervalMs(this.config, this.liveCount()));
    };
    const arm = (ms: number) => {
      clearTimeout(this.#pushPullTimer);
      this.#pushPullDueAt = Date.now() + ms;
      this.#pushPullTimer = setTimeout(tick, ms);
    };
    this.#pullSoon = () => {
      if (!this.#running || this.#leaving || generation !== this.#generation) return;
      if (this.#pushPullDueAt !== Infinity && this.#pushPullDueAt - Date.now() > this.config.pushPullIntervalMs) arm(this.config.pushPullIntervalMs);
    };
    arm(this.config.pushPullIntervalMs);
  }

  /** A member came, went or came back: the view is changing (see #schedulePushPull). */
  #viewChanged(): void {
    this.#viewChangedAt = Date.now();
    this.#pullSoon();
  }

  #every(ms: number, fn: () => unknown): void {
    const timer = setInterval(() => {
      if (this.#running && !this.#leaving) void fn();
    }, ms);
    this.#timers.push(timer);
  }

  /** Runs fn back to back, one per period, never overlapping itself. */
  #loop(fn: () => Promise<void>, ms: number): void {
    const generation = this.#generation;
    const tick = async () => {
      if (!this.#running || this.#leaving) return;
      const started = performance.now();
      this.#probing = fn().catch((error) => this.#log.warn('swim', `probe failed: ${String(error)}`));
      await this.#probing;
      // A leave and a join while the probe ran started a new loop: this one ends.
      if (!this.#running || this.#leaving || generation !== this.#generation) return;
      this.#probeTimer = setTimeout(tick, Math.max(0, ms - (performance.now() - started)));
    };
    // A random phase keeps peers started together from probing in lock step.
    this.#probeTimer = setTimeout(tick, Math.floor(Math.random() * ms));
  }

  #stopTimers(): void {
    this.#running = false;
    this.#generation++;
    clearTimeout(this.#probeTimer);
    clearTimeout(this.#pushPullTimer);
    this.#pushPullDueAt = Infinity;
    clearInterval(this.#gossipTimer);
    this.#gossipTimer = undefined;
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers.length = 0;
  }
}

export function liveSetChecksum(names: readonly string[]): string {
  return createHash('sha256').update([...names].sort().join('\n')).digest('hex').slice(0, 8);
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** A delay whose timer can be cleared: a probe acked in time should not leave a wake-up behind. */
function cancellableDelay(ms: number): {promise: Promise<void>; cancel(): void} {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  return {promise, cancel: () => clearTimeout(timer)};
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
