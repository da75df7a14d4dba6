/**
 * The checkers on hand-written histories: for each condition and invariant a
 * history that passes and histories that fail, with the message naming the
 * peer or message, the figures, the `unknown` cases, and restarts.
 */
import test from 'ava';
import type {HistoryEvent, Source} from '../src/history/types.js';
import {invariantNames} from '../src/history/types.js';
import {
  checkCondition,
  converged,
  delivered,
  describeEvent,
  eventsUpTo,
  invariants,
  liveSet,
  noDuplicateDelivery,
  noUnsentDelivery,
  percentile,
  perSenderOrder,
  stateSeen,
  views,
} from '../src/checkers/index.js';

// ---------------------------------------------------------------- a history builder

const T0 = Date.UTC(2024, 0, 1, 12, 0, 0, 0);

/** Builds a history; every event takes the current time, then the clock moves on by 1 ms. */
class History {
  readonly events: HistoryEvent[] = [];
  #t = T0;
  #pid = 1000;

  /** The current time (ms since T0 as an absolute epoch ms). */
  get now(): number {
    return this.#t;
  }

  /** Moves the clock to T0 + ms. */
  at(ms: number): this {
    this.#t = T0 + ms;
    return this;
  }

  wait(ms: number): this {
    this.#t += ms;
    return this;
  }

  event(src: Source, type: string, data: Record<string, unknown>): this {
    this.events.push({t: this.#t, src, type, data});
    this.#t += 1;
    return this;
  }

  coordinator(type: string, data: Record<string, unknown>): this {
    return this.event('coordinator', type, data);
  }

  peer(name: string, type: string, data: Record<string, unknown>): this {
    return this.event(`peer:${name}`, type, data);
  }

  spawn(...names: string[]): this {
    for (const peer of names) this.coordinator('peer.spawn', {peer, pid: ++this.#pid});
    return this;
  }

  started(...names: string[]): this {
    for (const name of names) this.peer(name, 'peer.started', {address: `127.0.0.1:${7000 + name.length}`, incarnation: 0, profile: 'local'});
    return this;
  }

  /** Spawned and started. */
  up(...names: string[]): this {
    return this.spawn(...names).started(...names);
  }

  exit(peer: string, signal: string | null = 'SIGKILL'): this {
    return this.coordinator('peer.exit', {peer, code: signal ? null : 0, signal, unexpectedly: false});
  }

  kill(peer: string): this {
    return this.coordinator('peer.kill', {peer, signal: 'SIGKILL'}).exit(peer, 'SIGKILL');
  }

  pause(peer: string): this {
    return this.coordinator('peer.kill', {peer, signal: 'SIGSTOP'});
  }

  resume(peer: string): this {
    return this.coordinator('peer.kill', {peer, signal: 'SIGCONT'});
  }

  joined(viewer: string, ...members: string[]): this {
    for (const name of members) this.peer(viewer, 'member.joined', {name, address: `127.0.0.1:${7000 + name.length}`, incarnation: 0});
    return this;
  }

  alive(viewer: string, name: string): this {
    return this.peer(viewer, 'member.alive', {name, address: '127.0.0.1:7000', incarnation: 1, previous: 'suspect'});
  }

  suspect(viewer: string, name: string, from = viewer): this {
    return this.peer(viewer, 'member.suspect', {name, incarnation: 0, from});
  }

  dead(viewer: string, name: string, from = viewer): this {
    return this.peer(viewer, 'member.dead', {name, incarnation: 0, from});
  }

  left(viewer: string, name: string): this {
    return this.peer(viewer, 'member.left', {name, incarnation: 0});
  }

  /** Everyone named is up and each has joined all the others. */
  group(...names: string[]): this {
    this.up(...names);
    for (const viewer of names) this.joined(viewer, ...names.filter((n) => n !== viewer));
    return this;
  }

  send(sender: string, seq: number, epoch = 'e1'): this {
    return this.peer(sender, 'chat.sent', {id: `${sender}:${epoch}:${seq}`, sender, seq, text: `message ${seq}`});
  }

  deliver(peer: string, id: string): this {
    const parts = id.split(':');
    return this.peer(peer, 'chat.delivered', {id, sender: parts[0], seq: Number(parts[2]), sentAt: this.#t});
  }

  /** Delivered to each named peer in turn. */
  deliverAll(id: string, ...peers: string[]): this {
    for (const p of peers) this.deliver(p, id);
    return this;
  }
}

const h = () => new History();
/** A window from `from` (ms after T0) to the builder's current time. */
const win = (b: History, from = 0) => ({from: T0 + from, at: b.now});

// ---------------------------------------------------------------- model

test('describeEvent gives one readable line', (t) => {
  const e: HistoryEvent = {t: Date.UTC(2024, 0, 1, 12, 0, 1, 234), src: 'peer:bob', type: 'member.dead', data: {name: 'charly', incarnation: 2, from: 'alice'}};
  t.is(describeEvent(e), '12:00:01.234 peer:bob member.dead charly (from alice)');
  t.is(describeEvent({t: T0, src: 'coordinator', type: 'peer.kill', data: {peer: 'bob', signal: 'SIGSTOP'}}), '12:00:00.000 coordinator peer.kill bob SIGSTOP');
  t.is(describeEvent({t: T0, src: 'peer:alice', type: 'chat.delivered', data: {id: 'bob:e1:3'}}), '12:00:00.000 peer:alice chat.delivered bob:e1:3');
  t.regex(describeEvent({t: T0, src: 'coordinator', type: 'something.new', data: {x: 1}}), /something\.new \{"x":1\}$/);
});

test('liveSet: spawned, not exited, not paused, not left', (t) => {
  const b = h().group('alice', 'bob', 'charly', 'dave');
  t.deepEqual(liveSet(b.events, b.now), ['alice', 'bob', 'charly', 'dave']);
  b.kill('charly').pause('dave').left('bob', 'bob');
  t.deepEqual(liveSet(b.events, b.now), ['alice']);
  b.resume('dave');
  t.deepEqual(liveSet(b.events, b.now), ['alice', 'dave']);
  // A new process of bob has not left; nor has a respawned charly exited.
  b.started('bob').spawn('charly');
  t.deepEqual(liveSet(b.events, b.now), ['alice', 'bob', 'charly', 'dave']);
  // Another peer saying bob left does not take bob out: only bob's own word does.
  b.left('alice', 'bob');
  t.deepEqual(liveSet(b.events, b.now), ['alice', 'bob', 'charly', 'dave']);
  // Up to an earlier time, the later events do not count.
  t.deepEqual(liveSet(b.events, T0 + 1), ['alice', 'bob']);
  t.is(eventsUpTo(b.events, T0 + 1).length, 2);
});

test('views: started flags and states folded from each peer\'s own events', (t) => {
  const b = h().group('alice', 'bob').spawn('charly').suspect('alice', 'bob').dead('bob', 'alice', 'charly');
  const v = views(b.events, b.now);
  t.deepEqual([...v.keys()], ['alice', 'bob', 'charly']);
  t.deepEqual(Object.fromEntries(v.get('alice')!.members), {alice: 'alive', bob: 'suspect'});
  t.deepEqual(Object.fromEntries(v.get('bob')!.members), {bob: 'alive', alice: 'dead'});
  t.true(v.get('alice')!.started);
  t.false(v.get('charly')!.started);
  t.is(v.get('charly')!.members.size, 0);
});

test('a restart (peer.started again) resets the view and the delivery counts', (t) => {
  const b = h().group('alice', 'bob', 'charly').send('alice', 1).deliverAll('alice:e1:1', 'alice', 'bob', 'charly');
  // bob restarts: exits, is spawned again; until it starts it is live with no known view.
  b.kill('bob').spawn('bob');
  t.is(converged(b.events, win(b)).status, 'unknown');
  t.regex(converged(b.events, win(b)).message, /^bob is live but has not started again since it was respawned/);
  t.is(delivered(b.events, win(b)).status, 'unknown');
  b.started('bob');
  const v = views(b.events, b.now).get('bob')!;
  t.deepEqual(Object.fromEntries(v.members), {bob: 'alive'});
  t.is(v.starts, 2);
  t.true(v.current);
  // Its new view lacks the others until it hears of them.
  t.is(converged(b.events, win(b)).status, 'fail');
  b.joined('bob', 'alice', 'charly');
  t.is(converged(b.events, win(b)).status, 'pass');
  // alice:e1:1 was sent before bob's new process: not required of it, but once more is allowed (a new process).
  t.is(delivered(b.events, win(b)).status, 'pass');
  b.deliver('bob', 'alice:e1:1');
  t.is(delivered(b.events, win(b)).status, 'pass');
  t.is(noDuplicateDelivery(b.events).status, 'pass');
  t.is(perSenderOrder(b.events).status, 'pass');
  // A second delivery within the new process is a duplicate.
  b.deliver('bob', 'alice:e1:1');
  const d = delivered(b.events, win(b));
  t.is(d.status, 'fail');
  t.is(d.message, 'bob: alice:e1:1 delivered twice');
  t.is(noDuplicateDelivery(b.events).status, 'fail');
  // A message sent after the restart is required of the new process.
  const c = h().group('alice', 'bob').kill('bob').spawn('bob').started('bob').joined('bob', 'alice').send('alice', 1).deliver('alice', 'alice:e1:1');
  const missing = delivered(c.events, win(c));
  t.is(missing.status, 'fail');
  t.regex(missing.message, /^bob: alice:e1:1 missing/);
});

// ---------------------------------------------------------------- converged

test('converged: passes when every live view is the live set, with converge_ms', (t) => {
  const b = h().up('alice', 'bob', 'charly');
  const from = b.now - T0;
  b.at(from + 100).joined('alice', 'bob', 'charly').joined('bob', 'alice', 'charly').joined('charly', 'alice');
  b.at(from + 350).joined('charly', 'bob');
  const last = b.now - 1;
  b.at(from + 500);
  const v = converged(b.events, win(b, from));
  t.is(v.status, 'pass');
  t.is(v.message, '3 live peers see [alice, bob, charly]');
  t.deepEqual(v.figures, {converge_ms: last - (T0 + from)});
  t.is(v.figures!.converge_ms, 350);
});

test('converged: converge_ms is 0 when it already held at from, and counts from the last time it became true', (t) => {
  const b = h().group('alice', 'bob');
  const from = b.now - T0 + 10;
  b.at(from + 1000);
  t.deepEqual(converged(b.events, win(b, from)).figures, {converge_ms: 0});
  // It breaks (alice suspects bob) and heals (alice hears bob alive again) after from.
  b.at(from + 200).suspect('alice', 'bob').at(from + 700).alive('alice', 'bob').at(from + 1000);
  const v = converged(b.events, win(b, from));
  t.is(v.status, 'pass'); // suspect is live: it never broke
  t.deepEqual(v.figures, {converge_ms: 0});
  b.at(from + 1200).dead('alice', 'bob').at(from + 1500).alive('alice', 'bob').at(from + 2000);
  t.deepEqual(converged(b.events, win(b, from)).figures, {converge_ms: 1500});
});

test('converged: fails naming the peer with an extra member and why it is not live', (t) => {
  const b = h().group('alice', 'bob', 'charly').kill('charly').dead('alice', 'charly').suspect('bob', 'charly', 'alice');
  const v = converged(b.events, win(b));
  t.is(v.status, 'fail');
  t.is(v.message, 'bob sees [alice, bob, charly] but the live set is [alice, bob]: extra charly (bob has it suspect; charly exited)');
  t.is(v.figures, undefined);
  t.true(v.evidence!.length > 0 && v.evidence!.length <= 8);
  t.regex(v.evidence!.at(-1)!, /peer:bob member\.suspect charly \(from alice\)$/);
  t.true(v.evidence!.some((line) => / coordinator peer\.exit charly/.test(line)));
  b.dead('bob', 'charly');
  t.is(converged(b.events, win(b)).status, 'pass');
});

test('converged: fails naming what a view lacks, and how many other peers differ', (t) => {
  const b = h().group('alice', 'bob', 'charly').up('dave').joined('dave', 'alice', 'bob', 'charly').joined('bob', 'dave').dead('charly', 'dave');
  const v = converged(b.events, win(b));
  t.is(v.status, 'fail');
  t.is(v.message, 'alice sees [alice, bob, charly] but the live set is [alice, bob, charly, dave]: lacks dave (alice has not seen it) (1 more peer differs: charly)');
  b.joined('alice', 'dave');
  t.regex(converged(b.events, win(b)).message, /^charly sees \[alice, bob, charly\] but the live set is \[alice, bob, charly, dave\]: lacks dave \(charly has it dead\)$/);
});

test('converged: paused and departed peers are not live', (t) => {
  const b = h().group('alice', 'bob', 'charly').pause('charly');
  t.regex(converged(b.events, win(b)).message, /extra charly \(alice has it alive; charly paused\)/);
  b.suspect('alice', 'charly').dead('alice', 'charly').dead('bob', 'charly');
  t.is(converged(b.events, win(b)).status, 'pass');
  // bob leaves: it says so itself; the others mark it left.
  b.left('bob', 'bob').left('alice', 'bob');
  t.is(converged(b.events, win(b)).status, 'pass');
  t.deepEqual(liveSet(b.events, b.now), ['alice']);
});

test('converged: unknown when a live peer never started', (t) => {
  const b = h().group('alice', 'bob').spawn('charly');
  const v = converged(b.events, win(b));
  t.is(v.status, 'unknown');
  t.is(v.message, 'charly is live but never started (no peer.started from it), so its view is not known');
  t.deepEqual(v.evidence, [describeEvent(b.events.find((e) => e.type === 'peer.spawn' && e.data.peer === 'charly')!)]);
});

test('converged: events after at are not seen', (t) => {
  const b = h().group('alice', 'bob');
  const at = b.now - 1;
  b.wait(100).kill('bob');
  t.is(converged(b.events, {from: T0, at}).status, 'pass');
  t.is(converged(b.events, win(b)).status, 'fail');
  t.is(checkCondition({kind: 'converged'}, b.events, {from: T0, at}).status, 'pass');
});

// ---------------------------------------------------------------- delivered

test('delivered: passes with figures when every live peer delivered each message once', (t) => {
  const b = h().group('alice', 'bob', 'charly');
  b.at(1000).send('alice', 1).deliver('alice', 'alice:e1:1').at(1010).deliver('bob', 'alice:e1:1').at(1030).deliver('charly', 'alice:e1:1');
  b.at(2000).send('bob', 1).deliver('bob', 'bob:e1:1').at(2005).deliver('alice', 'bob:e1:1').at(2100).deliver('charly', 'bob:e1:1');
  const v = delivered(b.events, win(b));
  t.is(v.status, 'pass');
  t.is(v.message, '2 messages, 6 expected deliveries to [alice, bob, charly], each exactly once and in order');
  // Latencies to others: 10, 30, 5, 100 (the sender's own delivery does not count).
  t.like(v.figures, {messages: 2, latency_p50_ms: 10, latency_p99_ms: 100, latency_max_ms: 100, missing: 0, duplicates: 0, out_of_order: 0, unsent: 0});
  t.is(checkCondition({kind: 'delivered'}, b.events, win(b)).status, 'pass');
});

test('delivered: fails naming the peer and the missing message', (t) => {
  const b = h().group('alice', 'bob', 'charly').send('alice', 1).deliverAll('alice:e1:1', 'alice', 'bob', 'charly');
  b.at(5000).send('alice', 2).deliverAll('alice:e1:2', 'alice', 'bob').send('alice', 3).deliverAll('alice:e1:3', 'alice', 'bob');
  const v = delivered(b.events, win(b));
  t.is(v.status, 'fail');
  t.is(v.message, 'charly: alice:e1:2 missing (sent by alice at 12:00:05.000; 2 messages missing at charly)');
  t.is(v.figures!.missing, 2);
  t.is(v.figures!.messages, 3);
  t.true(v.evidence!.some((line) => line.includes('peer:alice chat.sent alice:e1:2')));
  t.true(v.evidence!.some((line) => line.includes('peer:charly chat.delivered alice:e1:1')));
});

test('delivered: fails on a message delivered twice, one never sent, one out of order', (t) => {
  const base = () => h().group('alice', 'bob').send('alice', 1).send('alice', 2).deliverAll('alice:e1:1', 'alice').deliverAll('alice:e1:2', 'alice');
  const twice = base().deliverAll('alice:e1:1', 'bob', 'bob').deliver('bob', 'alice:e1:2');
  const v1 = delivered(twice.events, win(twice));
  t.is(v1.status, 'fail');
  t.is(v1.message, 'bob: alice:e1:1 delivered twice');
  t.is(v1.figures!.duplicates, 1);
  const thrice = base().deliverAll('alice:e1:1', 'bob', 'bob', 'bob').deliver('bob', 'alice:e1:2');
  t.is(delivered(thrice.events, win(thrice)).message, 'bob: alice:e1:1 delivered 3 times');

  const unsent = base().deliverAll('alice:e1:1', 'bob').deliver('bob', 'alice:e1:2').deliver('bob', 'mallory:e9:1');
  const v2 = delivered(unsent.events, win(unsent));
  t.is(v2.status, 'fail');
  t.regex(v2.message, /^bob: mallory:e9:1 never sent \(delivered at 12:00:00\.\d{3}\)$/);
  t.is(v2.figures!.unsent, 1);
  t.true(v2.evidence!.some((line) => line.endsWith('peer:bob chat.delivered mallory:e9:1')));

  const order = base().deliver('bob', 'alice:e1:2').deliver('bob', 'alice:e1:1');
  const v3 = delivered(order.events, win(order));
  t.is(v3.status, 'fail');
  t.is(v3.message, 'bob: alice:e1:1 out of order: got seq 1 after 2');
  t.is(v3.figures!.out_of_order, 1);

  // Several problems: the first is named, the rest counted.
  const many = base().deliver('bob', 'alice:e1:2').deliver('bob', 'alice:e1:1').deliver('bob', 'alice:e1:1');
  t.is(delivered(many.events, win(many)).message, 'bob: alice:e1:1 delivered twice (and 1 more problem)');
});

test('delivered: a late joiner need not have older messages, but what it delivers counts', (t) => {
  const b = h().group('alice', 'bob').send('alice', 1).deliverAll('alice:e1:1', 'alice', 'bob').wait(10).up('charly').joined('charly', 'alice', 'bob');
  t.is(delivered(b.events, win(b)).status, 'pass');
  b.send('alice', 2).deliverAll('alice:e1:2', 'alice', 'bob');
  t.regex(delivered(b.events, win(b)).message, /^charly: alice:e1:2 missing/);
  b.deliver('charly', 'alice:e1:2');
  t.is(delivered(b.events, win(b)).status, 'pass');
  b.deliver('charly', 'alice:e1:1');
  // History brought late, out of order within alice's stream: seq 1 after 2.
  t.is(delivered(b.events, win(b)).message, 'charly: alice:e1:1 out of order: got seq 1 after 2');
});

test('delivered: a peer that is gone, paused, or was paused at the send is not required', (t) => {
  const b = h().group('alice', 'bob', 'charly', 'dave').kill('charly').pause('dave').send('alice', 1).deliverAll('alice:e1:1', 'alice', 'bob');
  t.is(delivered(b.events, win(b)).status, 'pass');
  b.resume('dave');
  // Resumed after the send: not required (it was not live when the message was sent).
  t.is(delivered(b.events, win(b)).status, 'pass');
  // A message sent while it is live is.
  b.send('bob', 1).deliverAll('bob:e1:1', 'bob', 'alice');
  t.regex(delivered(b.events, win(b)).message, /^dave: bob:e1:1 missing/);
});

test('delivered: unknown when a live peer never started; definite violations still fail', (t) => {
  const b = h().group('alice', 'bob').send('alice', 1).deliverAll('alice:e1:1', 'alice', 'bob').spawn('charly');
  const v = delivered(b.events, win(b));
  t.is(v.status, 'unknown');
  t.is(v.message, 'charly is live but never started (no peer.started from it), so what it delivered is not known');
  b.deliver('bob', 'alice:e1:1');
  t.is(delivered(b.events, win(b)).status, 'fail');
});

test('percentile is nearest-rank', (t) => {
  const values = Array.from({length: 100}, (_, i) => i + 1);
  t.is(percentile(values, 50), 50);
  t.is(percentile(values, 99), 99);
  t.is(percentile([7], 99), 7);
  t.is(percentile([], 50), 0);
});

// ---------------------------------------------------------------- state

test('state: passes when every other live peer sees it, with seen_ms', (t) => {
  const b = h().group('alice', 'bob', 'charly');
  const from = b.now - T0;
  b.kill('alice').at(from + 300).suspect('bob', 'alice').at(from + 800).dead('bob', 'alice').at(from + 900).dead('charly', 'alice', 'bob').at(from + 1000);
  const v = stateSeen(b.events, win(b, from), {of: 'alice', is: 'dead', seenBy: 'all'});
  t.is(v.status, 'pass');
  t.is(v.message, 'alice is dead to [bob, charly]');
  t.deepEqual(v.figures, {seen_ms: 900});
  t.is(checkCondition({kind: 'state', of: 'alice', is: 'dead', seenBy: 'all'}, b.events, win(b, from)).status, 'pass');
});

test('state: fails naming the observer and the state it has instead', (t) => {
  const b = h().group('alice', 'bob', 'charly', 'dave').kill('alice').dead('bob', 'alice').suspect('charly', 'alice');
  const v = stateSeen(b.events, win(b), {of: 'alice', is: 'dead', seenBy: 'all'});
  t.is(v.status, 'fail');
  t.is(v.message, 'charly has alice suspect, not dead (and dave)');
  t.regex(v.evidence!.at(-1)!, /peer:charly member\.suspect alice \(from charly\)$/);
  // Only bob asked: it sees alice dead.
  t.is(stateSeen(b.events, win(b), {of: 'alice', is: 'dead', seenBy: ['bob']}).status, 'pass');
  t.is(stateSeen(b.events, win(b), {of: 'alice', is: 'dead', seenBy: ['bob', 'charly']}).message, 'charly has alice suspect, not dead');
  // Not seen at all.
  const c = h().group('alice', 'bob').up('charly').joined('alice', 'charly');
  const u = stateSeen(c.events, win(c), {of: 'charly', is: 'alive', seenBy: 'all'});
  t.is(u.status, 'fail');
  t.is(u.message, 'bob has not seen charly at all, not alive');
});

test('state: left, and a peer that comes back', (t) => {
  const b = h().group('alice', 'bob').left('alice', 'alice').left('bob', 'alice');
  t.is(stateSeen(b.events, win(b), {of: 'alice', is: 'left', seenBy: ['bob']}).status, 'pass');
  b.alive('bob', 'alice');
  t.is(stateSeen(b.events, win(b), {of: 'alice', is: 'left', seenBy: ['bob']}).message, 'bob has alice alive, not left');
});

test('state: unknown when an observer never started, is not live, or there is none', (t) => {
  const b = h().group('alice', 'bob').spawn('charly').dead('bob', 'alice');
  const v = stateSeen(b.events, win(b), {of: 'alice', is: 'dead', seenBy: 'all'});
  t.is(v.status, 'unknown');
  t.is(v.message, 'observer charly is live but never started (no peer.started from it), so its view is not known');
  const paused = h().group('alice', 'bob').dead('bob', 'alice').pause('bob');
  t.is(stateSeen(paused.events, win(paused), {of: 'alice', is: 'dead', seenBy: ['bob']}).message, 'observer bob is not live (paused), so it cannot see alice as dead');
  const alone = h().up('bob').kill('bob');
  const a = stateSeen(alone.events, win(alone), {of: 'bob', is: 'dead', seenBy: 'all'});
  t.is(a.status, 'unknown');
  t.is(a.message, 'no live peer other than bob to observe it (bob exited)');
});

// ---------------------------------------------------------------- invariants

test('invariants: pass on a clean history, with figures', (t) => {
  const b = h().group('alice', 'bob').send('alice', 1).send('alice', 2).deliverAll('alice:e1:1', 'alice', 'bob').deliverAll('alice:e1:2', 'alice', 'bob');
  t.deepEqual(Object.keys(invariants).sort(), [...invariantNames].sort());
  for (const name of invariantNames) t.is(invariants[name](b.events).status, 'pass', name);
  t.deepEqual(noDuplicateDelivery(b.events).figures, {duplicates: 0, deliveries: 4});
  t.deepEqual(perSenderOrder(b.events).figures, {out_of_order: 0, deliveries: 4});
  t.deepEqual(noUnsentDelivery(b.events).figures, {unsent: 0, messages: 2});
});

test('no-duplicate-delivery fails naming the peer and the message', (t) => {
  const b = h().group('alice', 'bob').send('alice', 1).deliverAll('alice:e1:1', 'alice', 'bob', 'bob');
  const v = invariants['no-duplicate-delivery'](b.events);
  t.is(v.status, 'fail');
  t.is(v.message, 'bob delivered alice:e1:1 twice');
  t.deepEqual(v.figures, {duplicates: 1, deliveries: 3});
  t.is(v.evidence!.filter((line) => line.endsWith('peer:bob chat.delivered alice:e1:1')).length, 2);
  // Even by a peer that is gone by the end.
  b.kill('bob');
  t.is(noDuplicateDelivery(b.events).status, 'fail');
});

test('per-sender-order fails naming the peer, the message and the seqs; streams are per epoch', (t) => {
  const b = h().group('alice', 'bob').send('alice', 1).send('alice', 2).send('alice', 3);
  b.deliverAll('alice:e1:1', 'alice', 'bob').deliverAll('alice:e1:2', 'alice').deliverAll('alice:e1:3', 'alice', 'bob').deliver('bob', 'alice:e1:2');
  const v = invariants['per-sender-order'](b.events);
  t.is(v.status, 'fail');
  t.is(v.message, 'bob: alice:e1:2 out of order: got seq 2 after 3');
  t.is(v.figures!.out_of_order, 1);
  // A new epoch of alice (a restart) starts a new stream at seq 1: in order.
  const c = h().group('alice', 'bob').send('alice', 5).deliverAll('alice:e1:5', 'alice', 'bob').send('alice', 1, 'e2').deliverAll('alice:e2:1', 'alice', 'bob');
  t.is(perSenderOrder(c.events).status, 'pass');
});

test('no-unsent-delivery fails naming the peer and the message; a send recorded later is fine', (t) => {
  // bob's delivery reaches the history before alice's send: still sent.
  const b = h().group('alice', 'bob').deliver('bob', 'alice:e1:1').send('alice', 1).deliver('alice', 'alice:e1:1');
  t.is(noUnsentDelivery(b.events).status, 'pass');
  b.deliver('alice', 'ghost:e0:7');
  const v = invariants['no-unsent-delivery'](b.events);
  t.is(v.status, 'fail');
  t.regex(v.message, /^alice delivered ghost:e0:7 at 12:00:00\.\d{3}, which was never sent$/);
  t.deepEqual(v.figures, {unsent: 1, messages: 1});
});

// ---------------------------------------------------------------- scale

test('the checkers are linear: 300 000 events in well under a few seconds', (t) => {
  const peers = ['alice', 'bob', 'charly', 'dave', 'erin'];
  const b = h().group(...peers);
  for (let i = 1; i <= 40_000; i++) {
    const sender = peers[i % peers.length]!;
    b.send(sender, Math.ceil(i / peers.length));
    const id = `${sender}:e1:${Math.ceil(i / peers.length)}`;
    for (const p of peers) b.deliver(p, id);
    // Membership chatter: a suspicion and its refutation.
    const viewer = peers[(i + 1) % peers.length]!;
    const member = peers[(i + 2) % peers.length]!;
    b.suspect(viewer, member).alive(viewer, member);
    if (b.events.length >= 300_000) break;
  }
  t.true(b.events.length >= 300_000);
  const started = performance.now();
  const window = win(b);
  t.is(converged(b.events, window).status, 'pass');
  t.is(delivered(b.events, window).status, 'pass');
  t.is(stateSeen(b.events, window, {of: 'alice', is: 'alive', seenBy: 'all'}).status, 'pass');
  for (const name of invariantNames) t.is(invariants[name](b.events).status, 'pass');
  const elapsed = performance.now() - started;
  t.true(elapsed < 5000, `took ${elapsed.toFixed(0)} ms`);
  t.log(`${b.events.length} events, all checkers in ${elapsed.toFixed(0)} ms`);
});
