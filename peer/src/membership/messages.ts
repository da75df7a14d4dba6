/**
 * The peer-to-peer wire format. JSON keeps packets readable in a capture and
 * lets a test forge one by hand; every packet is validated on arrival, so a
 * malformed or hostile datagram is counted and dropped, never trusted.
 */
import type {MemberState} from './types.js';
import {PEER_NAME as NAME} from '@peerlab/events/names';
import {describeValue} from '@peerlab/events/values';

/** A membership update as gossiped: the SWIM paper's alive/suspect/confirm(dead) plus left. */
export type Update =
  | {k: 'alive'; n: string; i: number; a: string}
  | {k: 'suspect'; n: string; i: number; f: string}
  | {k: 'dead'; n: string; i: number; f: string}
  | {k: 'left'; n: string; i: number};

/**
 * An update as it travels: a tuple, not an object. At a thousand members a
 * group forming sends some eight million updates, twenty to a 1,400-byte
 * datagram as objects; as tuples (`["a","peer-123",0,"127.0.0.1:40000"]`)
 * about a third more fit, so a third fewer datagrams carry the same news,
 * and each is cheaper to build and parse. Decoding still takes the object
 * form (`{"k":"alive",...}`), which a person writes by hand more easily.
 */
export type WireUpdate = ['a', string, number, string] | ['s', string, number, string] | ['d', string, number, string] | ['l', string, number];

export function toWire(update: Update): WireUpdate {
  switch (update.k) {
    case 'alive':
      return ['a', update.n, update.i, update.a];
    case 'suspect':
      return ['s', update.n, update.i, update.f];
    case 'dead':
      return ['d', update.n, update.i, update.f];
    case 'left':
      return ['l', update.n, update.i];
  }
}

const WIRE_KINDS = {a: 'alive', s: 'suspect', d: 'dead', l: 'left'} as const;

export interface ChatMessage {
  /** Unique id: `${sender}:${epoch}:${seq}`. */
  id: string;
  sender: string;
  /** Distinguishes runs of the same sender name, so a restarted peer does not reuse ids. */
  epoch: string;
  seq: number;
  text: string;
  sentAt: number;
  /**
   * Causal chat: the ids the sender had delivered when it sent this and that
   * no other of its deliveries already depended on (its causal frontier),
   * plus `replyTo`. A receiver delivers the message only after all of them.
   */
  deps: string[];
  /** The message this one answers; always one of `deps`. */
  replyTo?: string;
}

/** A membership datagram as it is sent: its piggybacked updates in the wire form. */
export type OutgoingUdpMessage = UdpMessage extends infer M ? (M extends {u?: Update[]} ? Omit<M, 'u'> & {u?: WireUpdate[]} : M) : never;

/**
 * A `nack` answers a ping-req whose target did not ack the helper in time
 * (Lifeguard): the helper is up, so the prober's failed probe is not its own
 * slowness (awareness.ts).
 *
 * `c` on an ack: how many members its sender holds a record of, in any state,
 * itself included. Optional, so a peer that does not send it still speaks the
 * protocol; a prober that holds fewer has missed news (PushPull.heardCount).
 */
export type UdpMessage =
  | {t: 'ping'; s: number; f: string; to: string; a: string; u?: Update[]}
  | {t: 'ack'; s: number; f: string; u?: Update[]; c?: number}
  | {t: 'ping-req'; s: number; f: string; a: string; to: string; ta: string; u?: Update[]}
  | {t: 'nack'; s: number; f: string}
  | {t: 'gossip'; f: string; u: Update[]}
  | {t: 'chat'; m: ChatMessage[]}
  | {t: 'chat-digest'; f: string; a: string; d: Record<string, number>; reply: boolean};

export interface PushPullMember {
  n: string;
  a: string;
  s: MemberState;
  i: number;
}

export interface PushPullRequest {
  t: 'push-pull';
  f: string;
  a: string;
  join: boolean;
  members: PushPullMember[];
}

export interface PushPullResponse {
  t: 'push-pull-reply';
  f: string;
  members: PushPullMember[];
}

export type TcpRequest = PushPullRequest;

export class MalformedMessage extends Error {}

const MAX_NAME = 64;
const MAX_ADDRESS = 300;
const states = new Set(['alive', 'suspect', 'dead', 'left']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function need(cond: boolean, what: string): asserts cond {
  if (!cond) throw new MalformedMessage(what);
}

const isName = (v: unknown): v is string => typeof v === 'string' && NAME.test(v);
/**
 * Incarnations are uint32, as in memberlist: a defined range, so a peer can
 * tell an accusation it cannot beat (see member-table.ts) from a malformed one.
 */
export const MAX_INCARNATION = 2 ** 32 - 1;

export const isIncarnation = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_INCARNATION;
const isInc = isIncarnation;
/** An ack's member count, when it says one. */
const isCount = (v: unknown): boolean => v === undefined || (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0);
const isSeq = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
/**
 * host:port, in the characters a host name, an IPv4 or IPv6 literal (brackets,
 * a %zone) and a port can have. None of them is one JSON escapes (`"`, `\`,
 * control characters), so an address's length is its size on the wire.
 */
const ADDRESS = /^[A-Za-z0-9._:[\]%-]+:\d{1,5}$/;
const isAddr = (v: unknown): v is string => typeof v === 'string' && v.length <= MAX_ADDRESS && ADDRESS.test(v);

/**
 * The longest push-pull member entry the decoder accepts, plus its separator:
 * the unit the TCP byte cap is derived from (config.ts). Names and addresses
 * are limited to characters JSON never escapes, and the state and incarnation
 * are at their longest, so no accepted entry serialises to more than this.
 */
export const MAX_MEMBER_ENTRY_BYTES =
  JSON.stringify({n: 'x'.repeat(MAX_NAME), a: 'x'.repeat(MAX_ADDRESS), s: 'suspect', i: MAX_INCARNATION}).length + 1;

export function isValidName(name: string): boolean {
  return NAME.test(name);
}

function checkUpdate(raw: unknown): Update {
  let u: unknown = raw;
  if (Array.isArray(raw)) {
    const kind = WIRE_KINDS[raw[0] as keyof typeof WIRE_KINDS];
    need(kind !== undefined && raw.length === (kind === 'left' ? 3 : 4), 'update is not a known tuple');
    u = kind === 'alive' ? {k: kind, n: raw[1], i: raw[2], a: raw[3]} : kind === 'left' ? {k: kind, n: raw[1], i: raw[2]} : {k: kind, n: raw[1], i: raw[2], f: raw[3]};
  }
  need(isObject(u), 'update is not an object');
  need(isName(u.n) && isInc(u.i), 'update lacks name or incarnation');
  switch (u.k) {
    case 'alive':
      need(isAddr(u.a), 'alive update lacks address');
      break;
    case 'suspect':
    case 'dead':
      need(isName(u.f), `${u.k} update lacks from`);
      break;
    case 'left':
      break;
    default:
      throw new MalformedMessage(`unknown update kind ${describeValue(u.k)}`);
  }
  return u as Update;
}

/** The updates of a datagram, each as an Update whichever form it came in; undefined when absent and allowed to be. */
function checkUpdates(u: unknown, required: boolean): Update[] | undefined {
  if (u === undefined && !required) return undefined;
  need(Array.isArray(u) && u.length <= 1000, 'updates is not a list');
  return u.map(checkUpdate);
}

/** The most ids a chat message may depend on (the event contract's bound too). */
export const MAX_CHAT_DEPS = 1000;
const MAX_EPOCH = 32;
const CHAT_SEQ = /^[1-9][0-9]{0,15}$/;

/** Where a chat id's parts are: its stream (`sender:epoch`) and its sequence in that stream. */
export interface ChatIdParts {
  stream: string;
  seq: number;
}

/**
 * Splits a chat id `<sender>:<epoch>:<seq>`, or undefined when it is not one.
 * The sender is a peer name (no `:`) and the seq the digits after the last
 * `:`, so an epoch holding a `:` still splits one way only.
 */
export function parseChatId(id: unknown): ChatIdParts | undefined {
  if (typeof id !== 'string' || id.length > MAX_NAME + MAX_EPOCH + 20) return undefined;
  const first = id.indexOf(':');
  const last = id.lastIndexOf(':');
  if (first < 0 || last === first) return undefined;
  const digits = id.slice(last + 1);
  if (!isName(id.slice(0, first)) || last - first - 1 > MAX_EPOCH || !CHAT_SEQ.test(digits)) return undefined;
  const seq = Number(digits);
  return Number.isSafeInteger(seq) ? {stream: id.slice(0, last), seq} : undefined;
}

export function checkChatMessage(m: unknown): void {
  need(isObject(m), 'chat message is not an object');
  need(isName(m.sender) && typeof m.epoch === 'string' && m.epoch.length <= MAX_EPOCH, 'chat message lacks sender');
  need(isSeq(m.seq) && (m.seq as number) > 0, 'chat message lacks seq');
  need(typeof m.text === 'string' && typeof m.sentAt === 'number', 'chat message lacks text or time');
  need(m.id === `${m.sender}:${m.epoch}:${m.seq}`, 'chat message id does not match sender, epoch and seq');
  need(Array.isArray(m.deps) && m.deps.length <= MAX_CHAT_DEPS, 'chat message lacks deps');
  const stream = `${m.sender}:${m.epoch}`;
  for (const dep of m.deps as unknown[]) {
    const parts = parseChatId(dep);
    need(parts !== undefined, 'chat message dep is not a message id');
    // A message cannot wait for itself or a later one of its own stream: it would wait for ever.
    need(parts.stream !== stream || parts.seq < (m.seq as number), 'chat message depends on itself or a later message of its sender');
  }
  need(m.replyTo === undefined || (typeof m.replyTo === 'string' && (m.deps as unknown[]).includes(m.replyTo)), 'chat message replies to a message it does not depend on');
}

export function decodeUdp(buf: Buffer): UdpMessage {
  let msg: unknown;
  try {
    msg = JSON.parse(buf.toString('utf8'));
  } catch {
    throw new MalformedMessage('not JSON');
  }
  need(isObject(msg), 'not an object');
  switch (msg.t) {
    case 'ping':
      need(isSeq(msg.s) && isName(msg.f) && isName(msg.to) && isAddr(msg.a), 'bad ping');
      if (msg.u !== undefined) msg.u = checkUpdates(msg.u, false);
      break;
    case 'ack':
      need(isSeq(msg.s) && isName(msg.f) && isCount(msg.c), 'bad ack');
      if (msg.u !== undefined) msg.u = checkUpdates(msg.u, false);
      break;
    case 'ping-req':
      need(isSeq(msg.s) && isName(msg.f) && isAddr(msg.a) && isName(msg.to) && isAddr(msg.ta), 'bad ping-req');
      if (msg.u !== undefined) msg.u = checkUpdates(msg.u, false);
      break;
    case 'nack':
      need(isSeq(msg.s) && isName(msg.f), 'bad nack');
      break;
    case 'gossip':
      need(isName(msg.f), 'bad gossip');
      msg.u = checkUpdates(msg.u, true);
      break;
    case 'chat':
      need(Array.isArray(msg.m) && msg.m.length <= 10_000, 'bad chat');
      msg.m.forEach(checkChatMessage);
      break;
    case 'chat-digest':
      need(isName(msg.f) && isAddr(msg.a) && isObject(msg.d) && typeof msg.reply === 'boolean', 'bad chat-digest');
      for (const v of Object.values(msg.d)) need(isSeq(v), 'bad chat digest entry');
      break;
    default:
      throw new MalformedMessage(`unknown message type ${describeValue(msg.t)}`);
  }
  return msg as UdpMessage;
}

function checkMembers(list: unknown): void {
  need(Array.isArray(list), 'members is not a list');
  for (const m of list) {
    need(isObject(m) && isName(m.n) && isAddr(m.a) && isInc(m.i) && typeof m.s === 'string' && states.has(m.s), 'bad member entry');
  }
}

export function decodePushPull(value: unknown): PushPullRequest {
  need(isObject(value) && value.t === 'push-pull', 'not a push-pull request');
  need(isName(value.f) && isAddr(value.a) && typeof value.join === 'boolean', 'bad push-pull header');
  checkMembers(value.members);
  return value as unknown as PushPullRequest;
}

export function decodePushPullReply(value: unknown): PushPullResponse {
  need(isObject(value) && value.t === 'push-pull-reply' && isName(value.f), 'not a push-pull reply');
  checkMembers(value.members);
  return value as unknown as PushPullResponse;
}
