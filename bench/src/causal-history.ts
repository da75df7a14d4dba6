/**
 * A synthetic history of causal chat, for timing the `causal` invariant: a
 * group of peers taking turns to send, each message carrying its sender's
 * frontier as `deps`; every other peer delivers it a few turns later, in an
 * order that respects causality, now and then holding one that arrived before
 * its causes (`chat.held`); some deliveries reach the history before their
 * send, as batches from different peers do. It ends quiet, a while after the
 * last send, so the checker also judges what was lost: the whole of its work.
 * Deterministic (a fixed seed), so every run times the same file.
 */
import {writeFile} from 'node:fs/promises';

/** Park–Miller: the same file every run. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 48271) % 2147483647;
    return s / 2147483647;
  };
}

export interface CausalHistoryShape {
  peers: number;
  /** How many chat events (sends, deliveries, holds) to write; a few setup events come on top. */
  events: number;
  /** The timing the peers report in their `peer.started` (the checker's quiet window comes from it). */
  timing: object;
}

/** Writes the history as JSONL; returns how many messages it holds. */
export async function writeCausalHistory(file: string, shape: CausalHistoryShape): Promise<{messages: number; held: number}> {
  const {peers: n, events} = shape;
  const rand = random(42);
  const names = Array.from({length: n}, (_, i) => `peer${String(i).padStart(2, '0')}`);
  const lines: string[] = [];
  let t = Date.UTC(2026, 0, 1);
  const line = (src: string, type: string, data: object) => lines.push(JSON.stringify({t, src, type, data}));
  line('coordinator', 'run.begin', {scenario: 'bench causal', peers: names, invariants: ['causal']});
  for (const p of names) line('coordinator', 'peer.spawn', {peer: p, pid: 1});
  for (const p of names) line(`peer:${p}`, 'peer.started', {address: '127.0.0.1:1', incarnation: 0, profile: 'local', timing: shape.timing});

  interface Message {
    id: string;
    sender: string;
    seq: number;
    sentAt: number;
    deps: string[];
  }
  const sent: Message[] = [];
  /** Per peer: how far through `sent` it has delivered (in send order: causal, since a cause is always sent first). */
  const cursor = new Array<number>(n).fill(0);
  /** Per peer: its frontier (own last message, then what it delivered since). */
  const frontier = names.map(() => [] as string[]);
  const seqs = new Array<number>(n).fill(0);
  let chat = 0;
  let held = 0;
  /** Whether peer `p` has delivered message index `k`. */
  const has = (p: number, k: number) => k < cursor[p]!;
  const index = new Map<string, number>();
  const deliverUpTo = (p: number, upTo: number, out: string[]) => {
    while (cursor[p]! < upTo) {
      const k = cursor[p]!;
      const m = sent[k]!;
      cursor[p] = k + 1;
      if (m.sender === names[p]) continue;
      out.push(JSON.stringify({t, src: `peer:${names[p]}`, type: 'chat.delivered', data: {id: m.id, sender: m.sender, seq: m.seq, sentAt: m.sentAt, deps: m.deps}}));
      chat++;
      const f = frontier[p]!;
      // What the new message's own deps cover leaves the frontier, as a causal peer keeps it.
      const covered = new Set(m.deps);
      frontier[p] = f.filter((id) => !covered.has(id));
      frontier[p]!.push(m.id);
    }
  };
  while (chat < events) {
    t += 1 + Math.floor(rand() * 3);
    const s = Math.floor(rand() * n);
    const sender = names[s]!;
    const seq = ++seqs[s]!;
    const id = `${sender}:e${s}:${seq}`;
    const deps = frontier[s]!.slice(-16);
    const m: Message = {id, sender, seq, sentAt: t, deps};
    index.set(id, sent.length);
    sent.push(m);
    const step: string[] = [];
    step.push(JSON.stringify({t, src: `peer:${sender}`, type: 'chat.sent', data: {id, sender, seq, text: `message ${seq} from ${sender}`, deps}}));
    step.push(JSON.stringify({t, src: `peer:${sender}`, type: 'chat.delivered', data: {id, sender, seq, sentAt: t, deps}}));
    chat += 2;
    // The sender has delivered everything it sent, and its frontier is now its own message.
    frontier[s] = [id];
    if (cursor[s]! === sent.length - 1) cursor[s] = sent.length;
    else {
      // It had not caught up: what it delivers after its send was no cause of it, and joins its frontier after it.
      deliverUpTo(s, sent.length - 1, step);
      cursor[s] = sent.length;
    }
    for (let p = 0; p < n; p++) {
      if (p === s) continue;
      // Each peer is zero to four messages behind; one in twenty times, the newest arrives early and is held.
      const behind = Math.floor(rand() * 5);
      if (behind > 0 && rand() < 0.05) {
        const missing = deps.filter((d) => {
          const k = index.get(d);
          return k !== undefined && !has(p, k);
        });
        if (missing.length > 0) {
          step.push(JSON.stringify({t, src: `peer:${names[p]}`, type: 'chat.held', data: {id, sender, seq, deps, missing}}));
          chat++;
          held++;
        }
      }
      deliverUpTo(p, Math.max(cursor[p]!, sent.length - behind), step);
    }
    // One step in twenty: a receiver's batch reaches the coordinator before the sender's.
    // Only a peer's first line of the step moves, so each peer's own order stays as it was.
    if (step.length > 3 && rand() < 0.05) {
      const src = (l: string) => l.slice(l.indexOf('"src":"'), l.indexOf('","type"'));
      const early = step.findIndex((l, i) => i >= 2 && l.includes(`"id":"${id}"`) && l.includes('chat.delivered') && !step.slice(0, i).some((o) => src(o) === src(l)));
      if (early > 0) step.unshift(...step.splice(early, 1));
    }
    for (const l of step) lines.push(l);
  }
  // Everyone catches up, then the run stays quiet for a while before it ends.
  const tail: string[] = [];
  for (let p = 0; p < n; p++) deliverUpTo(p, sent.length, tail);
  for (const l of tail) lines.push(l);
  t += 10_000;
  line('coordinator', 'run.end', {});
  await writeFile(file, lines.join('\n') + '\n');
  return {messages: sent.length, held};
}
