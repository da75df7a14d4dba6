/**
 * Group chat over the membership: a message is pushed straight to every live
 * member, and anti-entropy repairs what the network lost. Each member
 * periodically sends a digest (highest in-order sequence per sender stream)
 * to one random member, which answers with what the digest lacks (a stream
 * the digest does not name counts as none of it); a receiver that sees the
 * other side is ahead asks back. Delivery is exactly once (duplicates are
 * dropped by id) and causal: a message carries the ids it depends on, and one
 * that arrives before any of them waits in a hold-back buffer until they are
 * delivered (causal-delivery.ts). Per-sender order follows.
 */
import {randomBytes} from 'node:crypto';
import {EventEmitter} from 'node:events';
import type {Logger} from '../log.js';
import type {Policy} from '../policy.js';
import {correctPolicy} from '../policy.js';
import type {ChatMessage, UdpMessage} from '../membership/messages.js';
import {MAX_CHAT_DEPS} from '../membership/messages.js';
import type {Membership} from '../membership/membership.js';
import type {Address} from '../membership/types.js';
import {formatAddress} from '../membership/types.js';
import {CausalDelivery, streamOf} from './causal-delivery.js';

export interface DeliveredMessage extends ChatMessage {
  deliveredAt: number;
}

/** A message from another member that waits for its causes, when it is held (first, or again after it was evicted from a full buffer). */
export interface HeldMessage {
  message: ChatMessage;
  /** Its deps, and its sender's previous message, not delivered here yet. */
  missing: string[];
}

export interface ChatEvents {
  delivered: [DeliveredMessage];
  sent: [ChatMessage];
  held: [HeldMessage];
}

export const MAX_TEXT_LENGTH = 4000;

/** The first `shown` of a list, and how many more: a log line stays a line however many deps a message has. */
function listed(items: readonly string[], shown: number): string {
  const head = items.slice(0, shown).join(', ');
  return items.length > shown ? `${head} and ${items.length - shown} more` : head;
}

/** What the chat refused to hold or send: shown by `status`. */
export interface ChatRefusals {
  /**
   * Messages that had to wait for their causes and were not held: more than
   * maxHeldMessages ahead of their stream's delivered sequence.
   */
  heldDropped: number;
  /**
   * Held messages evicted, oldest first, to make room when maxHeldMessages
   * were already waiting (causal-delivery.ts says why): a genuine one comes
   * back by anti-entropy once its causes are here.
   */
  heldEvicted: number;
  /** Digests from an address that is not their sender's: not answered. */
  unverifiedDigest: number;
}

export interface SendOptions {
  /** The id of a message delivered here that this one answers: it depends on it explicitly. */
  replyTo?: string | undefined;
}

export class Chat extends EventEmitter<ChatEvents> {
  readonly #order: CausalDelivery;
  readonly #log: DeliveredMessage[] = [];
  readonly #epoch: string;
  #seq = 0;
  #timer: NodeJS.Timeout | undefined;
  duplicates = 0;
  readonly refusals: ChatRefusals = {heldDropped: 0, heldEvicted: 0, unverifiedDigest: 0};

  constructor(
    private readonly membership: Membership,
    private readonly log: Logger,
    /** Where delivery goes: to the log, or astray by a deliberate defect. */
    private readonly policy: Policy = correctPolicy,
  ) {
    super();
    // The epoch makes ids unique across restarts of a peer under the same name: the start time,
    // and 40 random bits for two processes started in the same millisecond.
    this.#epoch = Date.now().toString(36) + randomBytes(5).readUIntBE(0, 5).toString(36).padStart(8, '0');
    this.#order = new CausalDelivery({maxHeld: membership.config.maxHeldMessages, waitsForCauses: policy.waitsForCauses});
    membership.handle('chat', (message) => message.t === 'chat' && message.m.forEach((m) => this.#receive(m)));
    membership.handle('chat-digest', (message, from) => message.t === 'chat-digest' && this.#onDigest(message, from));
  }

  start(): void {
    clearInterval(this.#timer);
    if (!this.policy.syncsChat) return;
    this.#timer = setInterval(() => this.#syncOnce(), this.membership.config.chatSyncIntervalMs);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  send(text: string, options: SendOptions = {}): ChatMessage {
    const {replyTo} = options;
    if (text.length === 0) throw new Error('cannot send an empty message');
    if (text.length > MAX_TEXT_LENGTH) throw new Error(`message is ${text.length} characters; the limit is ${MAX_TEXT_LENGTH}`);
    if (!this.membership.running) throw new Error('not a member of a group: join first');
    if (replyTo !== undefined && !this.#order.isDelivered(replyTo)) throw new Error(`cannot reply to ${replyTo}: no such message was delivered here`);
    const deps = this.#order.depsForSend(replyTo);
    // The frontier holds at most one id per stream (whose latest message nobody here answered yet), so
    // deps grow with the streams that sent concurrently; the packet budget below binds long before this.
    if (deps.length > MAX_CHAT_DEPS) throw new Error(`this message would depend on ${deps.length} messages; the limit is ${MAX_CHAT_DEPS}`);
    const seq = this.#seq + 1;
    const sender = this.membership.name;
    const message: ChatMessage = {id: `${sender}:${this.#epoch}:${seq}`, sender, epoch: this.#epoch, seq, text, sentAt: Date.now(), deps, ...(replyTo !== undefined ? {replyTo} : {})};
    this.#checkFits(message);
    this.#seq = seq;
    this.emit('sent', message);
    this.#receive(message);
    for (const member of this.membership.others()) this.membership.transport.sendUdp(member.address, {t: 'chat', m: [message]});
    return message;
  }

  /**
   * A message goes in one datagram, pushed or repaired, and never more than
   * maxPacketBytes: the transport would send a larger one all the same, and a
   * network drops what exceeds its datagram size without a word (over 64 KiB
   * the operating system refuses it, and the transport ignores send errors).
   * So one that cannot fit is refused here, before it has a sequence number.
   */
  #checkFits(message: ChatMessage): void {
    const {maxPacketBytes, profile} = this.membership.config;
    const bytes = Buffer.byteLength(JSON.stringify({t: 'chat', m: [message]} satisfies UdpMessage));
    if (bytes <= maxPacketBytes) return;
    const textBytes = Buffer.byteLength(JSON.stringify(message.text));
    const depBytes = Buffer.byteLength(JSON.stringify(message.deps));
    throw new Error(
      `this message would take ${bytes} bytes in its datagram, more than the ${maxPacketBytes} one packet may carry (maxPacketBytes, profile ${profile}): ` +
        `its text takes ${textBytes} and its deps (${message.deps.length} ids) ${depBytes}; send a shorter text`,
    );
  }

  messages(): readonly DeliveredMessage[] {
    return this.#log;
  }

  /** How many messages from others wait for their causes. */
  get heldCount(): number {
    return this.#order.heldCount;
  }

  /** Highest in-order sequence per stream: what this member has. */
  digest(): Record<string, number> {
    const digest: Record<string, number> = {};
    for (const [key, delivered] of this.#order.prefixes()) digest[key] = delivered;
    return digest;
  }

  #receive(message: ChatMessage): void {
    const arrival = this.#order.receive(message, (m) => this.#deliver(m));
    switch (arrival.outcome) {
      case 'duplicate':
        this.duplicates++;
        break;
      case 'dropped':
        this.refusals.heldDropped++;
        break;
      case 'held':
        if (arrival.evicted) {
          this.refusals.heldEvicted++;
          this.log.info('chat', `evicted ${arrival.evicted.id} from ${arrival.evicted.sender}: the hold-back buffer is full and it had waited longest`);
        }
        this.log.info('chat', `held ${message.id} from ${message.sender}: waits for ${listed(arrival.missing, 5)}`);
        this.emit('held', {message, missing: arrival.missing});
        break;
      case 'delivered':
        break;
    }
  }

  #deliver(message: ChatMessage): void {
    if (message.sender === this.membership.name && message.epoch === this.#epoch) return this.#record(message);
    this.policy.deliver(message, streamOf(message), (m) => this.#record(m));
  }

  #record(message: ChatMessage): void {
    const delivered: DeliveredMessage = {...message, deliveredAt: Date.now()};
    this.#log.push(delivered);
    this.log.info('chat', `delivered ${delivered.id} from ${delivered.sender}: ${delivered.text}`);
    this.emit('delivered', delivered);
  }

  #syncOnce(): void {
    // With nothing delivered there is nothing to offer, and whoever has messages syncs with us.
    if (!this.membership.running || this.#order.streamCount === 0) return;
    const peers = this.membership.others(['alive']);
    const target = peers[Math.floor(Math.random() * peers.length)];
    if (target) this.#sendDigest(target.address, false);
  }

  #sendDigest(to: Address, reply: boolean): void {
    const message: UdpMessage = {t: 'chat-digest', f: this.membership.name, a: formatAddress(this.membership.transport.address), d: this.digest(), reply};
    this.membership.transport.sendUdp(to, message);
  }

  /**
   * Answers the packet's source, never the address written in the digest: that
   * let an 84-byte forgery send a peer's whole history (86 KB) to any host.
   * A source that is not the sender's known address gets nothing: one datagram
   * (up to maxPacketBytes) for a spoofable ~80-byte request was still a 200x
   * amplifier. A newcomer becomes known through membership within a probe or
   * two, and its digests are answered from then on.
   */
  #onDigest(message: Extract<UdpMessage, {t: 'chat-digest'}>, from: Address): void {
    const replyTo = from;
    if (!this.membership.isAt(message.f, from)) {
      this.refusals.unverifiedDigest++;
      return;
    }
    let theyAreAhead = false;
    for (const [key, theirs] of Object.entries(message.d)) {
      if (theirs > this.#order.delivered(key)) theyAreAhead = true;
    }
    this.#sendBatches(replyTo, this.#missingFrom(message.d));
    if (theyAreAhead && !message.reply) this.#sendDigest(replyTo, true);
  }

  /**
   * What a digest lacks of what was delivered here by the repair grace, in
   * this peer's delivery order: that order is causal, so the other side can
   * deliver a batch as it comes instead of holding most of it. A stream the
   * digest does not name counts as none of it, so a peer holding a message
   * whose cause is in a stream it never saw gets that stream whole.
   */
  #missingFrom(theirs: Record<string, number>): ChatMessage[] {
    const settled = Date.now() - this.membership.config.chatRepairGraceMs;
    const out: ChatMessage[] = [];
    for (const m of this.#log) {
      const key = streamOf(m);
      if (m.deliveredAt <= settled && m.seq > (theirs[key] ?? 0) && m.seq <= this.#order.delivered(key)) {
        const {deliveredAt: _, ...message} = m;
        out.push(message);
      }
    }
    return out;
  }

  /** Splits messages into datagrams that stay under the packet budget. */
  #sendBatches(to: Address, messages: ChatMessage[]): void {
    const budget = this.membership.config.maxPacketBytes - 100;
    let batch: ChatMessage[] = [];
    let size = 0;
    for (const message of messages) {
      const bytes = Buffer.byteLength(JSON.stringify(message)) + 1;
      if (batch.length > 0 && size + bytes > budget) {
        this.membership.transport.sendUdp(to, {t: 'chat', m: batch});
        batch = [];
        size = 0;
      }
      batch.push(message);
      size += bytes;
    }
    if (batch.length > 0) this.membership.transport.sendUdp(to, {t: 'chat', m: batch});
  }
}
