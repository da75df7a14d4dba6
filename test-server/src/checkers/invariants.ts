/**
 * Invariants over the whole history, checked once at the end of a run.
 * Deliveries are counted per process: a restarted peer (a new `peer.started`)
 * may deliver a message again, once.
 */
import type {HistoryEvent, InvariantName, Verdict} from '../history/types.js';
import {ChatFold, evidence, formatTime, parseChatId} from './model.js';

function foldAll(history: readonly HistoryEvent[]): ChatFold {
  const chat = new ChatFold();
  for (const e of history) chat.apply(e);
  return chat;
}

function more(count: number, noun: string): string {
  return count > 1 ? ` (${count} ${noun} in all)` : '';
}

/** Events from `peer` on the stream of `id` and its process starts, plus the send of `id`. */
function streamEvidence(history: readonly HistoryEvent[], peer: string, id: string): string[] {
  const stream = `${parseChatId(id).stream}:`;
  return evidence(history, Infinity, (e) => {
    if (e.type === 'chat.sent' && e.data.id === id) return true;
    if (e.src !== `peer:${peer}`) return false;
    if (e.type === 'peer.started') return true;
    return e.type === 'chat.delivered' && typeof e.data.id === 'string' && e.data.id.startsWith(stream);
  });
}

/** No process of any peer delivered the same message id twice. */
export function noDuplicateDelivery(history: readonly HistoryEvent[]): Verdict {
  const chat = foldAll(history);
  const figures = {duplicates: chat.extraDeliveries, deliveries: chat.deliveries};
  const d = chat.duplicates[0];
  if (!d) return {status: 'pass', message: `${chat.deliveries} deliveries, none twice in one process`, figures};
  const count = d.process.delivered.get(d.id)?.count ?? 2;
  return {
    status: 'fail',
    message: `${d.peer} delivered ${d.id} ${count === 2 ? 'twice' : `${count} times`}${more(chat.duplicates.length, 'messages delivered more than once')}`,
    figures,
    evidence: evidence(history, Infinity, (e) => (e.src === `peer:${d.peer}` && (e.type === 'peer.started' || e.data.id === d.id)) || (e.type === 'chat.sent' && e.data.id === d.id)),
  };
}

/** Each peer delivered each sender's stream (`sender:epoch`) in increasing seq order. */
export function perSenderOrder(history: readonly HistoryEvent[]): Verdict {
  const chat = foldAll(history);
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
  const chat = foldAll(history);
  const unsent = chat.unsent();
  const figures = {unsent: unsent.length, messages: chat.sent.size};
  const u = unsent[0];
  if (!u) return {status: 'pass', message: `every delivered message among ${chat.sent.size} was sent`, figures};
  return {
    status: 'fail',
    message: `${u.peer} delivered ${u.id} at ${formatTime(u.t)}, which was never sent${more(unsent.length, 'unsent deliveries')}`,
    figures,
    evidence: evidence(history, Infinity, (e) => e.data.id === u.id || (e.src === `peer:${u.peer}` && e.type === 'peer.started')),
  };
}

export const invariants: Record<InvariantName, (history: readonly HistoryEvent[]) => Verdict> = {
  'no-duplicate-delivery': noDuplicateDelivery,
  'per-sender-order': perSenderOrder,
  'no-unsent-delivery': noUnsentDelivery,
};
