/**
 * The `causal` invariant on hand-written histories: a correct causal history
 * passes; each defect fails with a message naming the message, its missing
 * cause and the chain; no hold-back or no message gives unknown; history
 * order across peers is not trusted, a restart is a new process, and a peer
 * that sends no `deps` is still judged by what it did.
 */
import test from 'ava';
import {causal} from '../src/causal.js';
import {defaultInvariants, effectiveInvariants, invariantNames} from '../src/history/types.js';
import {invariants} from '../src/invariants.js';
import {History} from './history-builder.js';

/** Long enough after the last send for lost messages to be judged (the quiet floor without timing). */
const QUIET = 5000;

/** A builder with causal chat: sends carry deps, holds are reported. */
class Causal extends History {
  /** `sender` sends its `seq`-th message (epoch e1 unless given), depending on `deps`. */
  say(sender: string, seq: number, deps?: string[], epoch = 'e1'): this {
    return this.peer(sender, 'chat.sent', {id: `${sender}:${epoch}:${seq}`, sender, seq, text: `m${seq}`, ...(deps ? {deps} : {})});
  }

  /** `peer` holds `id` back, waiting for `missing`. */
  hold(peer: string, id: string, deps: string[], missing: string[]): this {
    const [sender = '', , seq] = id.split(':');
    return this.peer(peer, 'chat.held', {id, sender, seq: Number(seq), deps, missing});
  }
}

const c = () => new Causal();

test('causal is an invariant a scenario opts into, never a default', (t) => {
  t.true((invariantNames as readonly string[]).includes('causal'));
  t.false((defaultInvariants as readonly string[]).includes('causal'));
  t.false(effectiveInvariants([]).includes('causal'));
  t.true(effectiveInvariants(['causal']).includes('causal'));
  t.is(invariants.causal, causal);
});

/**
 * alice says a, bob replies b after delivering a; charly gets b first, holds
 * it for a, then delivers both: causal, with one hold.
 */
function correctRun(): Causal {
  const b = c().group('alice', 'bob', 'charly');
  b.say('alice', 1, []).deliver('alice', 'alice:e1:1').deliver('bob', 'alice:e1:1');
  b.say('bob', 1, ['alice:e1:1']).deliver('bob', 'bob:e1:1');
  b.hold('charly', 'bob:e1:1', ['alice:e1:1'], ['alice:e1:1']);
  b.deliver('charly', 'alice:e1:1').deliver('charly', 'bob:e1:1');
  b.deliver('alice', 'bob:e1:1');
  return b;
}

test('a correct causal history passes, with figures, and lost is judged after a quiet end', (t) => {
  const b = correctRun();
  b.wait(QUIET).counters('alice', 1, 1);
  const v = causal(b.events);
  t.is(v.status, 'pass', v.message);
  t.is(v.message, '2 messages, 6 deliveries, 1 held back; every delivery came after its causes, once, of a message sent; nothing lost');
  t.deepEqual(v.figures, {messages: 2, deliveries: 6, held: 1, violations: 0, duplicates: 0, phantoms: 0, lost: 0, undeliverable: 0, reused_ids: 0, gaps: 0, bogus_deps: 0, max_frontier: 1});
});

test('no hold-back at all gives unknown, never pass; nor does a run without messages', (t) => {
  const b = c().group('alice', 'bob');
  b.say('alice', 1, []).deliverAll('alice:e1:1', 'alice', 'bob');
  const v = causal(b.events);
  t.is(v.status, 'unknown');
  t.is(v.message, 'no message was ever held back: causal order was never put to the test (1 message, 2 deliveries)');
  const none = causal(c().group('alice', 'bob').events);
  t.is(none.status, 'unknown');
  t.regex(none.message, /^no message was sent/);
});

test('a delivery before its cause fails naming the message, the earliest missing cause and the chain', (t) => {
  const b = c().group('alice', 'bob', 'charly', 'dave');
  b.say('alice', 1, []).deliver('alice', 'alice:e1:1').deliver('bob', 'alice:e1:1');
  b.say('bob', 1, ['alice:e1:1']).deliver('bob', 'bob:e1:1');
  b.hold('charly', 'bob:e1:1', ['alice:e1:1'], ['alice:e1:1']);
  b.deliver('charly', 'alice:e1:1').deliver('charly', 'bob:e1:1');
  b.say('charly', 1, ['bob:e1:1']).deliver('charly', 'charly:e1:1');
  // dave has neither a nor b, and delivers c.
  b.deliver('dave', 'charly:e1:1');
  const v = causal(b.events);
  t.is(v.status, 'fail');
  t.is(
    v.message,
    'dave delivered charly:e1:1 before its cause alice:e1:1; alice:e1:1 → bob:e1:1 (bob delivered alice:e1:1, then sent bob:e1:1) → charly:e1:1 (charly delivered bob:e1:1, then sent charly:e1:1)',
  );
  t.is(v.figures?.violations, 1);
  // The evidence: the sends along the chain, each link's delivery at the next sender, the receiver's delivery.
  const ev = v.evidence ?? [];
  t.true(ev.some((line) => line.includes('peer:alice chat.sent alice:e1:1')));
  t.true(ev.some((line) => line.includes('peer:bob chat.delivered alice:e1:1')));
  t.true(ev.some((line) => line.includes('peer:charly chat.delivered bob:e1:1')));
  t.regex(ev.at(-1) ?? '', /peer:dave chat\.delivered charly:e1:1$/);
});

test('per-sender order is implied: a second message before the first is a causal violation', (t) => {
  const b = c().group('alice', 'bob');
  b.say('alice', 1, []).say('alice', 2, ['alice:e1:1']).deliverAll('alice:e1:1', 'alice').deliverAll('alice:e1:2', 'alice');
  b.hold('bob', 'alice:e1:2', ['alice:e1:1'], ['alice:e1:1']);
  b.deliver('bob', 'alice:e1:2').deliver('bob', 'alice:e1:1');
  const v = causal(b.events);
  t.is(v.status, 'fail');
  t.is(v.message, 'bob delivered alice:e1:2 before its cause alice:e1:1; alice:e1:1 → alice:e1:2 (alice sent alice:e1:1, then alice:e1:2)');
});

test('the history\'s order across peers is not trusted: a delivery recorded before its send still counts', (t) => {
  // bob's delivery of a and his reply reach the history before alice's send of a does.
  const b = c().group('alice', 'bob', 'charly');
  b.deliver('bob', 'alice:e1:1').say('bob', 1, ['alice:e1:1']).deliver('bob', 'bob:e1:1');
  b.say('alice', 1, []).deliver('alice', 'alice:e1:1');
  b.hold('charly', 'bob:e1:1', ['alice:e1:1'], ['alice:e1:1']);
  b.deliver('charly', 'alice:e1:1').deliver('charly', 'bob:e1:1').deliver('alice', 'bob:e1:1');
  t.is(causal(b.events).status, 'pass', causal(b.events).message);
  // The same with charly taking b first: the cause recorded later in the history is still its cause.
  const bad = c().group('alice', 'bob', 'charly');
  bad.deliver('bob', 'alice:e1:1').say('bob', 1, ['alice:e1:1']).deliver('charly', 'bob:e1:1');
  bad.say('alice', 1, []);
  const v = causal(bad.events);
  t.is(v.status, 'fail');
  t.regex(v.message, /^charly delivered bob:e1:1 before its cause alice:e1:1; alice:e1:1 → bob:e1:1 \(bob delivered alice:e1:1, then sent bob:e1:1\)/);
});

test('a restart is a new process: what the old one delivered does not count, nor what it had sent before', (t) => {
  const b = c().group('alice', 'bob');
  b.say('alice', 1, []).deliver('alice', 'alice:e1:1').say('alice', 2, ['alice:e1:1']).deliver('alice', 'alice:e1:2');
  b.deliver('bob', 'alice:e1:1');
  // bob restarts: his new process has delivered nothing, so taking alice's second message now is out of order.
  b.kill('bob').spawn('bob').started('bob');
  b.hold('bob', 'alice:e1:2', ['alice:e1:1'], ['alice:e1:1']);
  b.deliver('bob', 'alice:e1:2');
  const v = causal(b.events);
  t.is(v.status, 'fail');
  t.regex(v.message, /^bob delivered alice:e1:2 before its cause alice:e1:1/);

  // alice restarts with a new epoch: her new messages depend on nothing the old process delivered.
  const r = c().group('alice', 'bob', 'charly');
  r.say('bob', 1, []).deliverAll('bob:e1:1', 'bob', 'alice');
  r.kill('alice').spawn('alice').started('alice');
  r.say('alice', 1, [], 'e2').deliver('alice', 'alice:e2:1');
  r.hold('charly', 'alice:e2:1', [], []).deliver('charly', 'alice:e2:1').deliver('charly', 'bob:e1:1');
  const ok = causal(r.events);
  t.is(ok.status, 'pass', ok.message);
});

test('a message delivered twice by one process fails; the sender\'s own delivery after its send is no duplicate', (t) => {
  const b = correctRun();
  b.deliver('charly', 'bob:e1:1');
  const v = causal(b.events);
  t.is(v.status, 'fail');
  t.regex(v.message, /^charly delivered bob:e1:1 twice \(again at 12:00:00\.\d{3}\)$/);
  t.is(v.figures?.duplicates, 1);
  t.true(v.evidence?.some((line) => line.includes('peer:charly chat.delivered bob:e1:1')));
});

test('a delivery of a message never sent fails as a phantom', (t) => {
  const b = correctRun();
  b.deliver('charly', 'alice:e1:9');
  const v = causal(b.events);
  t.is(v.status, 'fail');
  t.regex(v.message, /^charly delivered alice:e1:9 at [\d:.]+, which was never sent$/);
  t.is(v.figures?.phantoms, 1);
  t.is(v.figures?.violations, 0);
});

test('a message due at a live peer and missing after a quiet end is lost; sooner, or with a fault in force, it is not judged', (t) => {
  const run = () => {
    const b = correctRun();
    b.say('alice', 2, ['alice:e1:1', 'bob:e1:1']).deliverAll('alice:e1:2', 'alice', 'bob');
    return b;
  };
  const quiet = run().wait(QUIET).counters('alice', 1, 1);
  const v = causal(quiet.events);
  t.is(v.status, 'fail');
  t.regex(v.message, /^charly never delivered alice:e1:2 \(sent by alice at [\d:.]+\)$/);
  t.is(v.figures?.lost, 1);

  const soon = causal(run().wait(500).counters('alice', 1, 1).events);
  t.is(soon.status, 'pass');
  t.regex(soon.message, /lost not judged: the run ended 50\d ms after the last send at [\d:.]+, less than the quiet window of 2000 ms \(no peer reported its timing\)$/);

  const cut = run().partition(['alice', 'bob'], ['charly']).wait(QUIET).counters('alice', 1, 1);
  t.regex(causal(cut.events).message, /lost not judged: links are still blocked at the end of the run$/);
  const slow = run().fault('delay', {ms: 50, links: 'all'}).wait(QUIET).counters('alice', 1, 1);
  t.regex(causal(slow.events).message, /lost not judged: loss or delay is still in force at the end of the run$/);
  // Healed and quiet: judged again.
  const healed = run().partition(['alice', 'bob'], ['charly']).heal().wait(QUIET).counters('alice', 1, 1);
  t.is(causal(healed.events).figures?.lost, 1);
});

test('lost is judged at the end of the steps, not after the peers are stopped', (t) => {
  const b = correctRun();
  b.coordinator('step.begin', {path: '1', kind: 'chat', title: 'say', line: 3});
  b.say('alice', 2, ['alice:e1:1', 'bob:e1:1']).deliverAll('alice:e1:2', 'alice', 'bob');
  b.wait(QUIET).coordinator('step.end', {path: '1', kind: 'chat', title: 'say', line: 3, status: 'pass', message: '', durationMs: QUIET});
  // Teardown: every peer exits, so none is live any more; charly's missing message is still lost.
  b.kill('alice').kill('bob').kill('charly');
  const v = causal(b.events);
  t.is(v.status, 'fail');
  t.regex(v.message, /^charly never delivered alice:e1:2/);
});

test('a message whose cause only killed processes ever held is undeliverable, not lost, and the verdict says so; while a holder lives it is lost', (t) => {
  // alice says a, bob gets it and replies b; charly and dave get only b and hold it for a; then alice and bob are killed.
  const run = (killed: string[]) => {
    const b = c().group('alice', 'bob', 'charly', 'dave');
    b.say('alice', 1, []).deliverAll('alice:e1:1', 'alice', 'bob');
    b.say('bob', 1, ['alice:e1:1']).deliverAll('bob:e1:1', 'bob');
    b.hold('charly', 'bob:e1:1', ['alice:e1:1'], ['alice:e1:1']);
    b.hold('dave', 'bob:e1:1', ['alice:e1:1'], ['alice:e1:1']);
    for (const peer of killed) b.kill(peer);
    return b.wait(QUIET).counters('charly', 1, 1);
  };
  const gone = causal(run(['alice', 'bob']).events);
  t.is(gone.status, 'pass', gone.message);
  t.is(
    gone.message,
    '2 messages, 3 deliveries, 2 held back; every delivery came after its causes, once, of a message sent; nothing lost (not judged: 4 messages no correct peer could still deliver, such as bob:e1:1 at charly: its cause alice:e1:1 is held only by processes that are gone)',
  );
  t.is(gone.figures?.lost, 0);
  t.is(gone.figures?.undeliverable, 4, 'a and b, at charly and at dave');

  // alice lives: a can still come to charly and dave, so it is lost at both; b only bob ever held (missing at alice, charly, dave).
  const alive = causal(run(['bob']).events);
  t.is(alive.status, 'fail');
  t.regex(alive.message, /^charly never delivered alice:e1:1 \(sent by alice at [\d:.]+\) \(2 messages lost in all\)$/);
  t.is(alive.figures?.lost, 2);
  t.is(alive.figures?.undeliverable, 3);
  // Nobody killed: everything missing is lost, b at alice too.
  t.is(causal(run([]).events).figures?.lost, 5);
});

test('an id sent twice, or an actor sending from a second process, is reuse', (t) => {
  const again = c().group('alice', 'bob');
  again.say('alice', 1, []).deliverAll('alice:e1:1', 'alice', 'bob');
  again.kill('alice').spawn('alice').started('alice').say('alice', 1, []).deliver('alice', 'alice:e1:1');
  const v = causal(again.events);
  t.is(v.status, 'fail');
  t.regex(v.message, /^alice:e1:1 was sent twice \(again by a new process of alice at [\d:.]+\)$/);
  t.is(v.figures?.reused_ids, 1);
  // One defect, counted once: the new process's own delivery of what it sent is no duplicate, nor a gap.
  t.is(v.figures?.gaps, 0);
  t.is(v.figures?.duplicates, 0);

  const actor = c().group('alice', 'bob');
  actor.say('alice', 1, []).deliverAll('alice:e1:1', 'alice', 'bob');
  actor.kill('alice').spawn('alice').started('alice').say('alice', 2, []);
  t.is(causal(actor.events).message, 'actor alice:e1 sent alice:e1:2 from a second process (alice restarted under the same epoch)');
});

test('an actor\'s sends not numbered 1, 2, 3, … are a sequence gap', (t) => {
  const b = correctRun();
  b.say('alice', 3, ['alice:e1:1', 'bob:e1:1']).deliverAll('alice:e1:3', 'alice', 'bob', 'charly');
  const v = causal(b.events);
  t.is(v.status, 'fail');
  t.is(v.message, 'actor alice:e1 sent seq 3 after seq 1 (alice:e1:3)');
  t.is(v.figures?.gaps, 1);
  const late = c().group('alice', 'bob').say('alice', 2, []);
  t.is(causal(late.events).message, "actor alice:e1's first message alice:e1:2 has seq 2, not 1");
});

test('a dependency its sender had not delivered is bogus; a peer without deps is judged on the rest', (t) => {
  const b = correctRun();
  b.say('bob', 1, [], 'e9').deliver('bob', 'bob:e9:1');
  b.say('alice', 2, ['bob:e9:1']).deliverAll('alice:e1:2', 'alice');
  const v = causal(b.events);
  t.is(v.status, 'fail');
  t.is(v.message, 'alice sent alice:e1:2 naming bob:e9:1 as a dependency, which it had not delivered or sent');
  t.is(v.figures?.bogus_deps, 1);
  // A reply_to the sender had not delivered is as bogus.
  const reply = correctRun();
  reply.peer('charly', 'chat.sent', {id: 'charly:e1:1', sender: 'charly', seq: 1, text: 'hi', deps: ['bob:e1:1'], reply_to: 'alice:e1:7'});
  t.regex(causal(reply.events).message, /^charly sent charly:e1:1 naming alice:e1:7 as the message it replies to, which it had not delivered or sent/);
  // reply_to is checked on its own too: a sender that lists no deps still names a cause with it.
  const bare = correctRun();
  bare.peer('charly', 'chat.sent', {id: 'charly:e1:1', sender: 'charly', seq: 1, text: 'hi', reply_to: 'alice:e1:7'});
  const bareVerdict = causal(bare.events);
  t.is(bareVerdict.status, 'fail');
  t.is(bareVerdict.message, 'charly sent charly:e1:1 naming alice:e1:7 as the message it replies to, which it had not delivered or sent');
  t.is(bareVerdict.figures?.bogus_deps, 1);
  const genuine = correctRun();
  genuine.peer('charly', 'chat.sent', {id: 'charly:e1:1', sender: 'charly', seq: 1, text: 'hi', reply_to: 'bob:e1:1'}).deliverAll('charly:e1:1', 'charly');
  t.is(causal(genuine.events).figures?.bogus_deps, 0, 'a reply to a message it delivered, without deps, is no bogus dependency');

  // An older peer sends no deps: nothing to check there, and causal order is still judged from the history.
  const old = c().group('alice', 'bob', 'charly');
  old.say('alice', 1).deliverAll('alice:e1:1', 'alice', 'bob').say('bob', 1).deliver('bob', 'bob:e1:1');
  old.hold('charly', 'bob:e1:1', ['alice:e1:1'], ['alice:e1:1']).deliverAll('alice:e1:1', 'charly').deliverAll('bob:e1:1', 'charly', 'alice');
  const fine = causal(old.events);
  t.is(fine.status, 'pass', fine.message);
  old.say('charly', 1).deliver('charly', 'charly:e1:1').deliver('alice', 'charly:e1:1');
  const still = causal(old.events);
  t.is(still.status, 'pass', 'alice had bob:e1:1 and so alice:e1:1 before charly:e1:1');
  const bad = c().group('alice', 'bob', 'charly', 'dave');
  bad.say('alice', 1).deliverAll('alice:e1:1', 'alice', 'bob').say('bob', 1).deliver('bob', 'bob:e1:1');
  bad.hold('charly', 'bob:e1:1', ['alice:e1:1'], ['alice:e1:1']).deliver('dave', 'bob:e1:1');
  t.regex(causal(bad.events).message, /^dave delivered bob:e1:1 before its cause alice:e1:1/);
});

test('every defect is counted, and the first of each kind is named', (t) => {
  const b = correctRun();
  b.deliver('charly', 'bob:e1:1').deliver('charly', 'bob:e1:1').deliver('bob', 'nobody:e1:1');
  const v = causal(b.events);
  t.is(v.status, 'fail');
  t.regex(v.message, /^bob delivered nobody:e1:1 at [\d:.]+, which was never sent; charly delivered bob:e1:1 twice \(again at [\d:.]+\) \(2 deliveries more than once in all\)$/);
  t.is(v.figures?.duplicates, 2);
  t.is(v.figures?.phantoms, 1);
});

test('a peer that delivers thousands before it sends: its message depends on them all through two causes', (t) => {
  const b = c().group('alice', 'bob', 'charly', 'dave');
  for (let i = 1; i <= 1500; i++) {
    b.say('alice', i).deliver('alice', `alice:e1:${i}`).say('bob', i).deliver('bob', `bob:e1:${i}`);
    b.deliver('charly', `alice:e1:${i}`).deliver('charly', `bob:e1:${i}`).deliver('dave', `alice:e1:${i}`);
  }
  b.say('charly', 1).deliver('charly', 'charly:e1:1');
  b.hold('dave', 'charly:e1:1', [], ['bob:e1:1500']);
  const v = causal(b.events);
  t.is(v.figures?.max_frontier, 2, 'charly:e1:1 depends on alice:e1:1500 and bob:e1:1500, which imply the rest');
  t.is(v.status, 'pass', v.message);
  // dave takes charly's message with none of bob's: the walk back names a cause a dozen links up the chain.
  b.deliver('dave', 'charly:e1:1');
  const bad = causal(b.events);
  t.is(bad.status, 'fail');
  t.regex(bad.message, /^dave delivered charly:e1:1 before its cause bob:e1:1488; … bob:e1:1488 → bob:e1:1489 \(bob sent bob:e1:1488, then bob:e1:1489\) → .* → charly:e1:1 \(charly delivered bob:e1:1500, then sent charly:e1:1\)$/);
});

/**
 * A generated history: `peers` peers each sending in turn, each message
 * delivered by the others a few sends later (so frontiers hold several
 * concurrent messages), every tenth delivered ahead of its causes' arrival
 * and held; some deliveries reach the history before their send.
 */
function generated(peers: number, sends: number): Causal {
  const names = Array.from({length: peers}, (_, i) => `p${i}`);
  const b = c().group(...names);
  const lag = 3;
  const pending: Array<{id: string; sender: string}> = [];
  const seq = new Map<string, number>();
  for (let i = 0; i < sends + lag; i++) {
    if (i < sends) {
      const sender = names[i % peers]!;
      const n = (seq.get(sender) ?? 0) + 1;
      seq.set(sender, n);
      const id = `${sender}:e1:${n}`;
      b.say(sender, n).deliver(sender, id);
      pending.push({id, sender});
    }
    // The message sent `lag` turns ago reaches everyone else now, in send order.
    const due = i - lag >= 0 ? pending[i - lag] : undefined;
    if (!due) continue;
    for (const p of names) {
      if (p === due.sender) continue;
      if (i % 10 === 0) b.hold(p, due.id, [], []);
      b.deliver(p, due.id);
    }
  }
  return b;
}

test('a generated history of 100,000 events is judged, and one late violation in it is found', (t) => {
  const b = generated(10, 9_000);
  t.true(b.events.length > 100_000);
  const v = causal(b.events);
  t.is(v.status, 'pass', v.message);
  t.is(v.figures?.messages, 9_000);
  t.is(v.figures?.deliveries, 90_000);
  t.true((v.figures?.max_frontier ?? 0) >= 2, 'concurrent messages make frontiers of several');
  // One more message that p3 takes before the one it answers.
  b.say('p0', 901).deliver('p2', 'p0:e1:901').say('p2', 901, ['p0:e1:901']).deliver('p3', 'p2:e1:901');
  const bad = causal(b.events);
  t.is(bad.status, 'fail');
  t.regex(bad.message, /^p3 delivered p2:e1:901 before its cause p0:e1:901/);
});
