/**
 * Group chat over the membership: a message is pushed straight to every live
 * member, and anti-entropy repairs what the network lost. Each member
 * periodically sends a digest (highest in-order sequence per sender stream)
 * to one random member, which answers with what the digest lacks; a receiver
 * that sees the other side is ahead asks back. Delivery is exactly once
 * (duplicates are dropped by id) and in per-sender order (a message that
 * arrives ahead of its predecessor waits in a hold-back buffer).
 */
import {EventEmitter} from 'node:events';
import type {Logger} from '../log.js';
import type {Policy} from '../policy.js';
import {correctPolicy} from '../policy.js';
import type {ChatMessage, UdpMessage} from '../membership/messages.js';
import type {Membership} from '../membership/membership.js';
import type {Address} from '../membership/types.js';
import {formatAddress} from '../membership/types.js';

export interface DeliveredMessage extends ChatMessage {
  deliveredAt: number;
}

export interface ChatEvents {
  delivered: [DeliveredMessage];
  sent: [ChatMessage];
}

export const MAX_TEXT_LENGTH = 4000;

/** What the chat refused to hold or send: shown by `status`. */
export interface ChatRefusals {
  /**
   * Messages ahead of a gap not held: more than maxHeldMessages ahead of their
   * stream's delivered sequence, or maxHeldMessages were already waiting.
   */
  heldDropped: number;
  /** Digests from an address that is not their sender's: not answered. */
  unverifiedDigest: number;
}

interface Stream {
  /** Highest sequence delivered in order. */
  delivered: number;
  /** Messages that arrived ahead of a gap, by sequence. */
  held: Map<number, ChatMessage>;
}

export class Chat extends EventEmitter<ChatEvents> {
  readonly #streams = new Map<string, Stream>();
  readonly #log: DeliveredMessage[] = [];
  readonly #epoch: string;
  #seq = 0;
  #timer: NodeJS.Timeout | undefined;
  /** Messages in every stream's hold-back buffer. */
  #held = 0;
  duplicates = 0;
  readonly refusals: ChatRefusals = {heldDropped: 0, unverifiedDigest: 0};

  constructor(
    private readonly membership: Membership,
    private readonly log: Logger,
    /** Where delivery goes: to the log, or astray by a deliberate defect. */
    private readonly policy: Policy = correctPolicy,
  ) {
    super();
    // The epoch makes ids unique across restarts of a peer under the same name.
    this.#epoch = Date.now().toString(36) + Math.floor(Math.random() * 36 ** 2).toString(36).padStart(2, '0');
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

  send(text: string): ChatMessage {
    if (text.length === 0) throw new Error('cannot send an empty message');
    if (text.length > MAX_TEXT_LENGTH) throw new Error(`message is ${text.length} characters; the limit is ${MAX_TEXT_LENGTH}`);
    if (!this.membership.running) throw new Error('not a member of a group: join first');
    const seq = ++this.#seq;
    const sender = this.membership.name;
    const message: ChatMessage = {id: `${sender}:${this.#epoch}:${seq}`, sender, epoch: this.#epoch, seq, text, sentAt: Date.now()};
    this.emit('sent', message);
    this.#receive(message);
    for (const member of this.membership.others()) this.membership.transport.sendUdp(member.address, {t: 'chat', m: [message]});
    return message;
  }

  messages(): readonly DeliveredMessage[] {
    return this.#log;
  }

  /** Highest in-order sequence per stream: what this member has. */
  digest(): Record<string, number> {
    const digest: Record<string, number> = {};
    for (const [key, stream] of this.#streams) digest[key] = stream.delivered;
    return digest;
  }

  #receive(message: ChatMessage): void {
    const key = `${message.sender}:${message.epoch}`;
    const stream = this.#streams.get(key);
    if (stream && (message.seq <= stream.delivered || stream.held.has(message.seq))) {
      this.duplicates++;
      return;
    }
    const delivered = stream?.delivered ?? 0;
    const maxHeld = this.membership.config.maxHeldMessages;
    // A message that must wait for a gap is dropped when the buffer is full, or when it is further
    // ahead of its stream than the buffer could ever hold (a forged far-future seq would otherwise
    // keep its slot for ever): once the gap fills, anti-entropy brings it again. In-order messages
    // never wait, so they always pass.
    if (message.seq !== delivered + 1 && (message.seq > delivered + maxHeld || this.#held >= maxHeld)) {
      this.refusals.heldDropped++;
      return;
    }
    let target = stream;
    if (!target) {
      target = {delivered: 0, held: new Map()};
      this.#streams.set(key, target);
    }
    target.held.set(message.seq, message);
    this.#held++;
    for (let next = target.held.get(target.delivered + 1); next; next = target.held.get(target.delivered + 1)) {
      target.held.delete(next.seq);
      this.#held--;
      target.delivered = next.seq;
      this.#deliver(next, key);
    }
  }

  #deliver(message: ChatMessage, key: string): void {
    if (message.sender === this.membership.name) return this.#record(message);
    this.policy.deliver(message, key, (m) => this.#record(m));
  }

  #record(message: ChatMessage): void {
    const delivered: DeliveredMessage = {...message, deliveredAt: Date.now()};
    this.#log.push(delivered);
    this.log.info('chat', `delivered ${delivered.id} from ${delivered.sender}: ${delivered.text}`);
    this.emit('delivered', delivered);
  }

  #syncOnce(): void {
    // With nothing delivered there is nothing to offer, and whoever has messages syncs with us.
    if (!this.membership.running || this.#streams.size === 0) return;
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
    const missing: ChatMessage[] = [];
    let theyAreAhead = false;
    const settled = Date.now() - this.membership.config.chatRepairGraceMs;
    for (const [key, stream] of this.#streams) {
      const theirs = message.d[key] ?? 0;
      if (theirs < stream.delivered) missing.push(...this.#range(key, theirs + 1, stream.delivered, settled));
    }
    for (const [key, theirs] of Object.entries(message.d)) {
      if (theirs > (this.#streams.get(key)?.delivered ?? 0)) theyAreAhead = true;
    }
    this.#sendBatches(replyTo, missing);
    if (theyAreAhead && !message.reply) this.#sendDigest(replyTo, true);
  }

  /** The messages of a stream between two sequences that were delivered here by `settled`. */
  #range(key: string, from: number, to: number, settled: number): ChatMessage[] {
    const out: ChatMessage[] = [];
    for (const m of this.#log) {
      if (`${m.sender}:${m.epoch}` === key && m.seq >= from && m.seq <= to && m.deliveredAt <= settled) {
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
