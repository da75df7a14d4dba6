/**
 * `delivered`: every message sent so far was delivered exactly once by every
 * peer that is live now and was live (in its current process) when the
 * message was sent; nothing was delivered that was never sent; each sender's
 * stream reached each peer in order. Deliveries are counted per process:
 * since the peer's last `peer.started`.
 */
import type {HistoryEvent, Verdict} from '../history/types.js';
import type {Window} from './model.js';
import {ChatFold, Model, evidence, formatTime, list, parseChatId} from './model.js';

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

/** Delivery latencies (delivery t − sent t) over every first delivery, per process, to a peer other than the sender. */
export function latencyFigures(chat: ChatFold): Record<string, number> {
  const latencies: number[] = [];
  for (const p of chat.processes) {
    for (const [id, record] of p.delivered) {
      const sent = chat.sent.get(id);
      if (sent && sent.sender !== p.peer) latencies.push(record.t - sent.t);
    }
  }
  const figures: Record<string, number> = {messages: chat.sent.size};
  if (latencies.length === 0) return figures;
  latencies.sort((a, b) => a - b);
  figures.latency_p50_ms = percentile(latencies, 50);
  figures.latency_p99_ms = percentile(latencies, 99);
  figures.latency_max_ms = latencies[latencies.length - 1]!;
  return figures;
}

function streamOf(id: string): string {
  return parseChatId(id).stream;
}

/** The sender's name: the id up to its first colon. */
function senderOf(id: string): string {
  const cut = id.indexOf(':');
  return cut >= 0 ? id.slice(0, cut) : id;
}

/** The events that explain a delivery problem of `peer` with `id`: its process starts, its chat events on the stream, the send. */
function chatEvidence(history: readonly HistoryEvent[], at: number, peer: string, id: string): string[] {
  const stream = `${streamOf(id)}:`;
  const sender = senderOf(id);
  return evidence(history, at, (e) => {
    if (e.type === 'chat.sent' || e.type === 'chat.delivered') {
      const other = e.data.id;
      if (other === id) return true;
      return e.src === `peer:${peer}` && typeof other === 'string' && other.startsWith(stream);
    }
    if (e.src === `peer:${peer}`) return e.type === 'peer.started';
    return e.src === 'coordinator' && (e.data.peer === peer || e.data.peer === sender) && e.type.startsWith('peer.');
  });
}

function times(n: number): string {
  return n === 2 ? 'twice' : `${n} times`;
}

export function delivered(history: readonly HistoryEvent[], window: Window): Verdict {
  const model = new Model();
  const chat = new ChatFold();
  /** Per peer: the messages its current process (by spawn) must deliver. */
  const required = new Map<string, {generation: number; ids: string[]}>();
  for (const e of history) {
    if (e.t > window.at) continue;
    model.apply(e);
    const sent = chat.apply(e);
    if (!sent) continue;
    for (const peer of model.liveNames()) {
      // Entered the live set after the send (a late joiner, a resumed peer): not required to get it.
      if (model.liveSince(peer) > sent.t) continue;
      const generation = model.generation(peer);
      let r = required.get(peer);
      if (!r || r.generation !== generation) {
        r = {generation, ids: []};
        required.set(peer, r);
      }
      r.ids.push(sent.id);
    }
  }
  const at = window.at;
  const figures = latencyFigures(chat);
  const problems: string[] = [];
  let firstEvidence: string[] | undefined;
  const note = (message: string, peer: string, id: string) => {
    problems.push(message);
    firstEvidence ??= chatEvidence(history, at, peer, id);
  };

  const unsent = chat.unsent();
  for (const u of unsent) note(`${u.peer}: ${u.id} never sent (delivered at ${formatTime(u.t)})`, u.peer, u.id);
  for (const d of chat.duplicates) note(`${d.peer}: ${d.id} delivered ${times(d.process.delivered.get(d.id)?.count ?? 2)}`, d.peer, d.id);
  for (const o of chat.outOfOrder) note(`${o.peer}: ${o.id} out of order: got seq ${o.seq} after ${o.after}`, o.peer, o.id);
  figures.unsent = unsent.length;
  figures.duplicates = chat.extraDeliveries;
  figures.out_of_order = chat.outOfOrder.length;

  const live = model.live();
  const notStarted = live.filter((p) => !model.view(p)?.current);
  let missing = 0;
  let expected = 0;
  let firstMissing: string | undefined;
  let missingPeers = 0;
  for (const peer of live) {
    if (notStarted.includes(peer)) continue;
    const r = required.get(peer);
    if (!r || r.generation !== model.generation(peer)) continue;
    const process = chat.current.get(peer);
    let missingHere = 0;
    let first: string | undefined;
    for (const id of r.ids) {
      expected++;
      if ((process?.delivered.get(id)?.count ?? 0) === 0) {
        missingHere++;
        first ??= id;
      }
    }
    if (first !== undefined) {
      missing += missingHere;
      missingPeers++;
      const sent = chat.sent.get(first);
      const message = `${peer}: ${first} missing (sent by ${sent?.sender ?? senderOf(first)} at ${sent ? formatTime(sent.t) : '?'}${missingHere > 1 ? `; ${missingHere} messages missing at ${peer}` : ''})`;
      firstMissing ??= message;
      if (problems.length === 0) firstEvidence ??= chatEvidence(history, at, peer, first);
    }
  }
  figures.missing = missing;

  const summary = (first: string, count: number) => (count > 1 ? `${first} (and ${count - 1} more ${count === 2 ? 'problem' : 'problems'})` : first);
  if (problems.length > 0) {
    const count = problems.length + missingPeers;
    return {status: 'fail', message: summary(problems[0]!, count), figures, ...(firstEvidence ? {evidence: firstEvidence} : {})};
  }
  if (notStarted.length > 0) {
    const who = notStarted[0]!;
    const why = model.view(who)?.started ? 'has not started again since it was respawned' : 'never started (no peer.started from it)';
    return {
      status: 'unknown',
      message: `${who} is live but ${why}, so what it delivered is not known`,
      figures,
      evidence: evidence(history, at, (e) => e.src === `peer:${who}` ? e.type === 'peer.started' : e.src === 'coordinator' && e.data.peer === who),
    };
  }
  if (firstMissing) return {status: 'fail', message: summary(firstMissing, missingPeers), figures, ...(firstEvidence ? {evidence: firstEvidence} : {})};
  const n = chat.sent.size;
  return {
    status: 'pass',
    message: `${n} ${n === 1 ? 'message' : 'messages'}, ${expected} expected ${expected === 1 ? 'delivery' : 'deliveries'} to ${list(live)}, each exactly once and in order`,
    figures,
  };
}
