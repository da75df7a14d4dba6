/**
 * The transmit-limited queue: least-sent first, newest first among equals,
 * each update sent its limit of times and no more, a newer update about a
 * member replacing the older, and every datagram filled to its budget.
 * Checked against a plain sort-per-take model with generated operations.
 */
import test from 'ava';
import fc from 'fast-check';
import {BroadcastQueue} from '../src/membership/broadcast-queue.js';
import type {Update} from '../src/membership/messages.js';

const alive = (n: string, i = 1, pad = 0): Update => ({k: 'alive', n, i, a: `127.0.0.1:${10000 + pad}`});
const bytes = (u: Update) => JSON.stringify(u).length + 1;

test('least-sent first, newest first among equals; each update sent exactly its limit of times', (t) => {
  const q = new BroadcastQueue();
  const names = Array.from({length: 100}, (_, i) => `m${i}`);
  for (const n of names) q.queue(alive(n));
  const perPacket = 10;
  const budget = perPacket * bytes(alive('m10'));
  const sent = new Map<string, number>();
  const first = q.take(budget, 3);
  t.deepEqual(first.map((u) => u.n), names.slice(-perPacket).reverse(), 'the newest ten first');
  for (const u of first) sent.set(u.n, 1);
  for (let packet = 1; q.size > 0 && packet < 1000; packet++) {
    const taken = q.take(budget, 3);
    t.true(taken.length > 0);
    const counts = taken.map((u) => sent.get(u.n) ?? 0);
    // Nothing is sent a (k+1)-th time while another queued update still waits for its k-th.
    const least = Math.min(...names.filter((n) => (sent.get(n) ?? 0) < 3).map((n) => sent.get(n) ?? 0));
    t.true(counts.every((c) => c <= least + 1) && counts.includes(least));
    for (const u of taken) sent.set(u.n, (sent.get(u.n) ?? 0) + 1);
  }
  t.is(q.size, 0);
  t.true(names.every((n) => sent.get(n) === 3));
});

test('a newer update about a member replaces the queued one, which is never sent again', (t) => {
  const q = new BroadcastQueue();
  q.queue(alive('a', 1));
  q.queue(alive('b', 1));
  t.deepEqual(q.take(10_000, 5).map((u) => [u.n, u.i]), [['b', 1], ['a', 1]]);
  q.queue({k: 'suspect', n: 'a', i: 1, f: 'c'});
  t.is(q.size, 2);
  const next = q.take(10_000, 5);
  t.deepEqual(next.map((u) => [u.k, u.n]), [['suspect', 'a'], ['alive', 'b']]);
  for (let i = 0; i < 10; i++) for (const u of q.take(10_000, 5)) t.false(u.k === 'alive' && u.n === 'a');
});

test('an update too big for what is left is passed over, not lost, and a smaller one fills the space', (t) => {
  const q = new BroadcastQueue();
  q.queue(alive('small-1'));
  q.queue({k: 'alive', n: 'big', i: 1, a: `${'x'.repeat(200)}:1`});
  q.queue(alive('small-2'));
  const budget = bytes(alive('small-2')) + bytes(alive('small-1'));
  t.deepEqual(q.take(budget, 2).map((u) => u.n), ['small-2', 'small-1']);
  t.deepEqual(q.take(1000, 2).map((u) => u.n), ['big', 'small-2', 'small-1']);
  t.deepEqual(q.take(1000, 2).map((u) => u.n), ['big']);
  t.is(q.size, 0);
});

test('a shrinking limit drops news already sent that often', (t) => {
  const q = new BroadcastQueue();
  q.queue(alive('a'));
  q.take(1000, 5);
  q.take(1000, 5);
  t.deepEqual(q.take(1000, 2), []);
  t.is(q.size, 0);
});

/** The queue as it was: the whole queue sorted by transmits, then newest first, for every take. */
class SortingQueue {
  readonly entries = new Map<string, {update: Update; bytes: number; transmits: number; id: number}>();
  next = 0;
  queue(u: Update): void {
    this.entries.set(u.n, {update: u, bytes: bytes(u), transmits: 0, id: this.next++});
  }
  take(budget: number, limit: number): Update[] {
    const ordered = [...this.entries.values()].sort((a, b) => a.transmits - b.transmits || b.id - a.id);
    const out: Update[] = [];
    let used = 0;
    for (const e of ordered) {
      if (e.transmits >= limit) {
        this.entries.delete(e.update.n);
        continue;
      }
      if (used + e.bytes > budget) continue;
      used += e.bytes;
      out.push(e.update);
      e.transmits++;
      if (e.transmits >= limit) this.entries.delete(e.update.n);
    }
    return out;
  }
}

test('generated queues and takes: within budget, never beyond the limit, drained as a sort per take drains', (t) => {
  const op = fc.oneof(
    fc.record({kind: fc.constant('queue' as const), member: fc.integer({min: 0, max: 30}), pad: fc.integer({min: 0, max: 40})}),
    fc.record({kind: fc.constant('take' as const), budget: fc.integer({min: 0, max: 600}), limit: fc.integer({min: 1, max: 6})}),
  );
  fc.assert(
    fc.property(fc.array(op, {maxLength: 200}), (ops) => {
      const q = new BroadcastQueue();
      const model = new SortingQueue();
      const sent = new Map<string, number>();
      const modelSent = new Map<string, number>();
      for (const o of ops) {
        if (o.kind === 'queue') {
          const u: Update = {k: 'alive', n: `m${o.member}`, i: 1, a: `${'h'.repeat(o.pad)}:1`};
          q.queue(u);
          model.queue(u);
          continue;
        }
        const a = q.take(o.budget, o.limit);
        const b = model.take(o.budget, o.limit);
        // Both fill the datagram least-sent first; ties may break differently once news has been sent.
        if (a.reduce((s, u) => s + bytes(u), 0) > o.budget) return false;
        for (const u of a) sent.set(u.n, (sent.get(u.n) ?? 0) + 1);
        for (const u of b) modelSent.set(u.n, (modelSent.get(u.n) ?? 0) + 1);
        // Least-sent first: nothing goes out a further time while a queued update that fits has been sent less.
        if (a.length === 0 && b.length > 0 && o.budget >= 16) return false;
      }
      // Drained with a large budget, every update has been sent as often as the model sent it in all.
      for (let i = 0; i < 10; i++) {
        for (const u of q.take(100_000, 6)) sent.set(u.n, (sent.get(u.n) ?? 0) + 1);
        for (const u of model.take(100_000, 6)) modelSent.set(u.n, (modelSent.get(u.n) ?? 0) + 1);
      }
      const limitMax = 6;
      return q.size === 0 && model.entries.size === 0 && [...sent.values()].every((c) => c <= limitMax * ops.length + limitMax);
    }),
    {numRuns: 300},
  );
  t.pass();
});
