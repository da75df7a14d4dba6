/**
 * The member table and the rules that change it: alive, suspect, dead and
 * left with incarnation numbers, refutation, Lifeguard's suspicion that
 * shrinks with confirmations, leave and rejoin, the limits on what news is
 * taken, and reaping. memberlist's state.go without the network: the probe
 * loop, gossip and push-pull (probe.ts, gossip.ts, push-pull.ts) feed it news
 * and carry what it queues to the others. Time comes from an injected Clock,
 * so every rule here runs in a unit test with a clock advanced by hand.
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
import type {EventEmitter} from 'node:events';
import type {SwimConfig} from '../config.js';
import {MAX_INCARNATION_STEP, suspicionMaxMs, suspicionMinMs} from '../config.js';
import type {Logger} from '../log.js';
import type {Policy} from '../policy.js';
import {correctPolicy} from '../policy.js';
import type {Clock} from './clock.js';
import {systemClock} from './clock.js';
import type {PushPullMember, Update} from './messages.js';
import {MAX_INCARNATION} from './messages.js';
import {Suspicion} from './suspicion.js';
import type {Address, Member, MemberState, MembershipEvents} from './types.js';
import {formatAddress, parseAddress, sameAddress} from './types.js';

export const LIVE: readonly MemberState[] = ['alive', 'suspect'];

interface Record_ {
  name: string;
  address: Address;
  /** `address` as it goes on the wire, formatted once: every alive update heard is compared with it. */
  wire: string;
  state: MemberState;
  incarnation: number;
  since: number;
  suspicion?: Suspicion;
  /** Its index in MemberTable's live list while it is alive or suspect (and not this peer). */
  liveAt?: number;
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

export interface MemberTableOptions {
  /** This peer's own name and address: the record it speaks for and refutes for. */
  name: string;
  address: Address;
  config: SwimConfig;
  log: Logger;
  /** Where `joined`, `alive`, `suspect`, `dead`, `left`, `updated` and `reaped` are emitted. */
  events: EventEmitter<MembershipEvents>;
  clock?: Clock;
  policy?: Policy;
  /** Takes each update this peer passes on to the others: the gossip queue (atOnce: see Gossip.queue). */
  broadcast?: (update: Update, atOnce: boolean) => void;
  /** Told when a member came, went or came back: the live set changed. */
  viewChanged?: () => void;
}

export class MemberTable {
  readonly name: string;
  readonly refusals: MembershipRefusals = {incarnationStep: 0, unbeatable: 0, newMembers: 0, tableFull: 0, pingReqUnknown: 0, unverifiedPing: 0, reaped: 0};
  readonly #config: SwimConfig;
  readonly #log: Logger;
  readonly #events: EventEmitter<MembershipEvents>;
  readonly #clock: Clock;
  readonly #policy: Policy;
  readonly #broadcast: (update: Update, atOnce: boolean) => void;
  readonly #viewChanged: () => void;
  readonly #members = new Map<string, Record_>();
  /** Dead members #reap forgot, by name, oldest first: still reconnect targets (at most maxMembers). */
  readonly #reapedDead = new Map<string, Address>();
  #leaving = false;
  /**
   * Set while a join's answer is merged: what it says about others is not
   * passed on. It is the group's own state, which the group has; memberlist
   * queues all of it again, so every newcomer of a mass join sends the whole
   * group λ·log N times: at a thousand members, half of all the gossip of
   * forming, for news nobody lacked. The newcomer's own record, which is news,
   * is spread by the contact that learned it and by the newcomer itself, and a
   * refutation about itself always goes out. A pull on a gap
   * (PushPull.heardCount) is taken in quietly too: it fills in what the
   * group already holds. Every other exchange (periodic, reconnect, the answer
   * to someone else's) still passes on what it teaches: that is how a healed
   * partition merges.
   */
  #quiet = false;
  /**
   * Other members alive or suspect, in no order, kept as their states change:
   * every datagram sent reads its length (the retransmit limit) and every
   * gossip round draws from it. Rebuilt from the table after each change, it
   * cost a pass over a thousand members per packet while a group formed,
   * since every packet then brought a newcomer.
   */
  readonly #live: Record_[] = [];

  constructor(options: MemberTableOptions) {
    this.name = options.name;
    this.#config = options.config;
    this.#log = options.log;
    this.#events = options.events;
    this.#clock = options.clock ?? systemClock;
    this.#policy = options.policy ?? correctPolicy;
    this.#broadcast = options.broadcast ?? (() => {});
    this.#viewChanged = options.viewChanged ?? (() => {});
    this.#members.set(this.name, {name: this.name, address: options.address, wire: formatAddress(options.address), state: 'alive', incarnation: 0, since: this.#clock.now()});
  }

  // --- views ---------------------------------------------------------------

  get self(): Member {
    return view(this.#self());
  }

  /** Whether this peer has left and not joined again: it takes no news while it says goodbye. */
  get leaving(): boolean {
    return this.#leaving;
  }

  /** The member of that name as recorded now (not a copy: read it at once). */
  get(name: string): Member | undefined {
    return this.#members.get(name);
  }

  /** Whether the member is in the table in any state, or was forgotten dead (a reconnect target). */
  knows(name: string): boolean {
    return this.#members.has(name) || this.#reapedDead.has(name);
  }

  /** Every member ever seen and not reaped, self included, sorted by name. */
  all(): Member[] {
    return [...this.#members.values()].map(view).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
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

  /**
   * Every member this peer holds a record of, in any state, itself included
   * (reaped ones not): what an ack says (`c`), so that a death, which changes
   * no one's count, never looks like missed news.
   */
  knownCount(): number {
    return this.#members.size;
  }

  /** Size of the live set, this peer included while it is alive or suspect. */
  liveCount(): number {
    return this.#live.length + (this.#self().state === 'alive' || this.#self().state === 'suspect' ? 1 : 0);
  }

  /**
   * Up to k distinct live members other than this peer, at random: the
   * gossip targets, picked five times a second by every member. Copying and
   * shuffling the whole live set for three of a thousand was most of the cost
   * of a gossip round.
   */
  sampleOthers(k: number): Member[] {
    const live = this.#live;
    if (live.length <= k) return [...live];
    const picked = new Set<number>();
    while (picked.size < k) picked.add(Math.floor(Math.random() * live.length));
    return [...picked].map((i) => live[i]!);
  }

  /** Sets another member's state, and keeps the live list in step with it. */
  #setState(record: Record_, state: MemberState): void {
    record.state = state;
    const live = state === 'alive' || state === 'suspect';
    if (live && record.liveAt === undefined) {
      record.liveAt = this.#live.push(record) - 1;
    } else if (!live && record.liveAt !== undefined) {
      this.#dropLive(record);
    }
  }

  /** Takes a member out of the live list: the last one takes its place. */
  #dropLive(record: Record_): void {
    const at = record.liveAt!;
    const last = this.#live.pop()!;
    if (last !== record) {
      this.#live[at] = last;
      last.liveAt = at;
    }
    delete record.liveAt;
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

  /** Dead members already reaped, oldest first: still worth a reconnect attempt. */
  reapedDead(): Array<{name: string; address: Address}> {
    return [...this.#reapedDead].map(([name, address]) => ({name, address}));
  }

  /** The whole table as push-pull sends it. */
  localState(): PushPullMember[] {
    return [...this.#members.values()].map((r) => ({n: r.name, a: r.wire, s: r.state, i: r.incarnation}));
  }

  /** This peer's own `alive`, as it announces itself when it starts. */
  selfAlive(): Update {
    return aliveUpdate(this.#self());
  }

  // --- news from others ----------------------------------------------------

  /** Updates piggybacked on one datagram from `from`: each packet introduces at most maxNewMembersPerPacket. */
  applyDatagram(updates: readonly Update[] | undefined, from: string): void {
    if (!updates) return;
    const intake: Intake = {from, pushPull: false, solicited: false, newMembers: this.#config.maxNewMembersPerPacket};
    for (const update of updates) this.#apply(update, intake);
  }

  /**
   * Full state from a push-pull with `from`. `solicited`: the reply to one this
   * peer started, which may introduce as many members as the table holds.
   * `trusted`: the members whose news may go beyond MAX_INCARNATION_STEP (Intake.trusted).
   */
  mergeState(members: readonly PushPullMember[], from: string, solicited: boolean, trusted?: ReadonlySet<string>, quiet = false): void {
    const intake: Intake = {from, pushPull: true, solicited, newMembers: solicited ? Infinity : this.#config.maxNewMembersPerPushPull, ...(trusted ? {trusted} : {})};
    this.#quiet = quiet;
    try {
      for (const m of members) {
        const update: Update =
          m.s === 'alive' ? {k: 'alive', n: m.n, i: m.i, a: m.a}
          : m.s === 'left' ? {k: 'left', n: m.n, i: m.i}
          : {k: 'suspect', n: m.n, i: m.i, f: from};
        this.#apply(update, intake);
      }
    } finally {
      this.#quiet = false;
    }
  }

  /** A probe of `name` at `incarnation` got no ack, direct or indirect. */
  missedAck(name: string, incarnation: number): void {
    if (!this.#policy.suspectsOnMissedAck) return;
    const current = this.#members.get(name);
    if (current && current.incarnation === incarnation && current.state !== 'dead' && current.state !== 'left') {
      this.#log.debug('swim', `no ack from ${name}, direct or indirect`);
      this.#onSuspect(name, incarnation, this.name);
    }
  }

  // --- this peer's own record ----------------------------------------------

  /** Marks this peer left and says so; returns the `left` update for whoever should hear it. */
  leave(): Update {
    this.#leaving = true;
    const self = this.#self();
    self.state = 'left';
    self.since = this.#clock.now();
    this.#events.emit('left', {name: this.name, incarnation: self.incarnation, at: this.#clock.now()});
    return {k: 'left', n: this.name, i: self.incarnation};
  }

  /** Alive again after a leave, one incarnation above the `left` others hold. */
  rejoin(): void {
    const self = this.#self();
    // At the top of the range the `left` cannot be beaten; others take us back once they reap it.
    if (self.incarnation < MAX_INCARNATION) self.incarnation++;
    else this.refusals.unbeatable++;
    self.state = 'alive';
    self.since = this.#clock.now();
    this.#leaving = false;
    this.#events.emit('alive', {name: this.name, address: self.address, incarnation: self.incarnation, previous: 'left', at: this.#clock.now()});
  }

  /**
   * Forgets dead and left members after deadReapMs: the table stays bounded
   * under forged names and churn, and the name is free for a newcomer again.
   * A dead member's address stays a reconnect target (#reapedDead), as Serf
   * keeps failed members: the other side of a partition longer than
   * deadReapMs is dead here, and only reconnecting heals it.
   */
  reap(): void {
    const cutoff = this.#clock.now() - this.#config.deadReapMs;
    for (const [name, record] of this.#members) {
      if (name === this.name || (record.state !== 'dead' && record.state !== 'left') || record.since > cutoff) continue;
      this.#members.delete(name);
      if (record.state === 'dead') {
        this.#reapedDead.delete(name);
        this.#reapedDead.set(name, record.address);
        if (this.#reapedDead.size > this.#config.maxMembers) this.#reapedDead.delete(this.#reapedDead.keys().next().value!);
      }
      this.refusals.reaped++;
      this.#log.debug('swim', `forgot ${name} (${record.state} since ${new Date(record.since).toISOString()})`);
      // Said out loud: a checker that saw it dead must know why it may come back at a lower incarnation.
      this.#events.emit('reaped', {name, state: record.state, incarnation: record.incarnation, at: this.#clock.now()});
    }
  }

  /** Cancels every suspicion timer: the peer is closing. */
  stop(): void {
    for (const record of this.#members.values()) record.suspicion?.cancel();
  }

  // --- the rules -----------------------------------------------------------

  /** News about another member, passed on unless it came with a join's answer or a pull on a gap (#quiet). */
  #passOn(update: Update, atOnce = true): void {
    if (!this.#quiet) this.#broadcast(update, atOnce);
  }

  #self(): Record_ {
    return this.#members.get(this.name)!;
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
    this.#broadcast(aliveUpdate(self), true);
    this.#log.debug('swim', `refuting a claim at incarnation ${claimed}; now ${self.incarnation}`);
    this.#events.emit('updated', {name: this.name, address: self.address, incarnation: self.incarnation, reason: 'refute', at: this.#clock.now()});
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
      if (this.#members.size >= this.#config.maxMembers) return void this.refusals.tableFull++;
      intake.newMembers--;
    }
    const from = intake.from;
    switch (update.k) {
      case 'alive': {
        // Most alive updates a member hears are old news; the incarnation says so before the address is parsed.
        if (known && !this.#policy.aliveOverrides(update.i, known.incarnation, known.state) && (update.i < known.incarnation || update.a === (known as Record_).wire)) return;
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
        // Heard from the leaver itself: it sent its left to every member it knew, so ours waits for the next tick.
        return this.#onDead(update.n, update.i, update.n, true, intake.from !== update.n || intake.pushPull);
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
    const now = this.#clock.now();
    const current = this.#members.get(name);
    if (!current) {
      const wire = formatAddress(address);
      const record: Record_ = {name, address, wire, state: 'alive', incarnation, since: now};
      this.#members.set(name, record);
      this.#setState(record, 'alive');
      this.#reapedDead.delete(name);
      this.#passOn({k: 'alive', n: name, i: incarnation, a: wire});
      this.#log.info('swim', `${name} joined at ${wire}`);
      this.#viewChanged();
      this.#events.emit('joined', {name, address, incarnation, at: now});
      return;
    }
    // A stale alive never resurrects or overrides: the incarnation must be strictly higher.
    if (!this.#policy.aliveOverrides(incarnation, current.incarnation, current.state)) {
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
    if (moved) {
      current.address = address;
      current.wire = formatAddress(address);
    }
    this.#setState(current, 'alive');
    this.#passOn({k: 'alive', n: name, i: incarnation, a: current.wire});
    if (previous !== 'alive') {
      current.since = now;
      // A refuted suspicion leaves the live set as it was; a member back from dead or left changes it.
      if (previous === 'dead' || previous === 'left') this.#viewChanged();
      this.#log.info('swim', `${name} is alive again (was ${previous}) at incarnation ${incarnation}`);
      this.#events.emit('alive', {name, address, incarnation, previous, at: now});
    } else {
      this.#events.emit('updated', {name, address, incarnation, reason: moved ? 'address' : 'incarnation', at: now});
    }
  }

  #onSuspect(name: string, incarnation: number, from: string): void {
    if (this.#leaving) return;
    const current = this.#members.get(name);
    if (!current || incarnation < current.incarnation) return;
    if (current.state === 'dead' || current.state === 'left') return;
    if (name === this.name) return this.#refute(incarnation);
    if (current.state === 'suspect' && current.suspicion) {
      if (current.suspicion.confirm(from)) this.#passOn({k: 'suspect', n: name, i: incarnation, f: from});
      return;
    }
    const now = this.#clock.now();
    const n = this.liveCount();
    const expected = Math.max(0, Math.min(this.#config.indirectChecks, n - 2));
    current.incarnation = incarnation;
    this.#setState(current, 'suspect');
    current.since = now;
    const [minMs, maxMs] = this.#policy.suspicionBounds(suspicionMinMs(this.#config, n), suspicionMaxMs(this.#config, n));
    current.suspicion = new Suspicion(
      from,
      expected,
      minMs,
      maxMs,
      () => {
        const record = this.#members.get(name);
        if (record?.state === 'suspect' && record.incarnation === incarnation) {
          this.#log.info('swim', `suspicion of ${name} timed out; declaring it dead`);
          this.#onDead(name, incarnation, this.name, false);
        }
      },
      this.#clock,
    );
    this.#passOn({k: 'suspect', n: name, i: incarnation, f: from});
    this.#log.info('swim', `suspect ${name} at incarnation ${incarnation} (reported by ${from})`);
    this.#events.emit('suspect', {name, incarnation, from, at: now});
  }

  #onDead(name: string, incarnation: number, from: string, left: boolean, passOnAtOnce = true): void {
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
    const now = this.#clock.now();
    current.suspicion?.cancel();
    delete current.suspicion;
    current.incarnation = incarnation;
    this.#setState(current, left ? 'left' : 'dead');
    current.since = now;
    this.#viewChanged();
    this.#passOn(left ? {k: 'left', n: name, i: incarnation} : {k: 'dead', n: name, i: incarnation, f: from}, passOnAtOnce);
    if (left) {
      this.#log.info('swim', `${name} left`);
      this.#events.emit('left', {name, incarnation, at: now});
    } else {
      this.#log.info('swim', `${name} is dead (declared by ${from})`);
      this.#events.emit('dead', {name, incarnation, from, at: now});
    }
  }
}

function view(r: Record_): Member {
  return {name: r.name, address: r.address, state: r.state, incarnation: r.incarnation, since: r.since};
}

function aliveUpdate(r: Record_): Update {
  return {k: 'alive', n: r.name, i: r.incarnation, a: r.wire};
}
