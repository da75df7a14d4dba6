/**
 * Deliberate defects are overrides of the correct policy: each --bug name
 * bends exactly its hook, and defects combine as they always have.
 */
import test from 'ava';
import type {ChatMessage} from '../src/membership/messages.js';
import {bugNames, correctPolicy, isBugName, policyFor} from '../src/policy.js';
import type {BugName, Policy} from '../src/policy.js';

const message = (seq: number): ChatMessage => ({id: `bob:e:${seq}`, sender: 'bob', epoch: 'e', seq, text: `m${seq}`, sentAt: 0, deps: seq > 1 ? [`bob:e:${seq - 1}`] : []});

function deliverAll(policy: Policy, seqs: number[]): string[] {
  const out: string[] = [];
  for (const seq of seqs) policy.deliver(message(seq), 'bob:e', (m) => out.push(m.id));
  return out;
}

const hooks = (p: Policy) => ({
  dropsAllPackets: p.dropsAllPackets,
  announcesLeave: p.announcesLeave,
  suspectsOnMissedAck: p.suspectsOnMissedAck,
  refutes: p.refutes,
  reconnectsToDead: p.reconnectsToDead,
  syncsChat: p.syncsChat,
  waitsForCauses: p.waitsForCauses,
  suspicionBounds: p.suspicionBounds(600, 2400),
  retransmitLimit: p.retransmitLimit(8),
  /** alive over dead, suspect and alive at the incarnation held, one below and one above. */
  aliveOverrides: (['dead', 'suspect', 'alive'] as const).map((held) => [4, 5, 6].map((i) => p.aliveOverrides(i, 5, held))),
  delivered: deliverAll(p, [1, 2]),
});

test('no defects is the correct policy', (t) => {
  t.deepEqual(hooks(policyFor([])), hooks(correctPolicy));
  t.deepEqual(hooks(correctPolicy), {
    dropsAllPackets: false,
    announcesLeave: true,
    suspectsOnMissedAck: true,
    refutes: true,
    reconnectsToDead: true,
    syncsChat: true,
    waitsForCauses: true,
    suspicionBounds: [600, 2400],
    retransmitLimit: 8,
    aliveOverrides: [
      [false, false, true],
      [false, false, true],
      [false, false, true],
    ],
    delivered: ['bob:e:1', 'bob:e:2'],
  });
});

test('each defect bends exactly one hook', (t) => {
  const expected: Record<BugName, Partial<ReturnType<typeof hooks>>> = {
    deaf: {dropsAllPackets: true},
    'duplicate-delivery': {delivered: ['bob:e:1', 'bob:e:1', 'bob:e:2', 'bob:e:2']},
    'drop-delivery': {delivered: []},
    reorder: {delivered: ['bob:e:2', 'bob:e:1']},
    'phantom-delivery': {delivered: ['bob:e:1-phantom', 'bob:e:1', 'bob:e:2-phantom', 'bob:e:2']},
    'silent-leave': {announcesLeave: false},
    'never-suspect': {suspectsOnMissedAck: false},
    'hair-trigger': {suspicionBounds: [0, 0]},
    'no-refute': {refutes: false},
    'no-reconnect': {reconnectsToDead: false},
    'no-anti-entropy': {syncsChat: false},
    'deliver-on-arrival': {waitsForCauses: false},
    resurrect: {
      aliveOverrides: [
        [false, true, true],
        [false, false, true],
        [false, false, true],
      ],
    },
    'gossip-once': {retransmitLimit: 1},
    chatty: {retransmitLimit: Infinity},
  };
  t.deepEqual([...bugNames].sort(), Object.keys(expected).sort());
  for (const name of bugNames) {
    t.true(isBugName(name));
    t.deepEqual(hooks(policyFor([name])), {...hooks(correctPolicy), ...expected[name]}, name);
  }
  t.false(isBugName('toString'));
  t.false(isBugName('nope'));
});

test('chat defects combine as before: drop beats all, reorder beats phantom and duplicate, phantom comes before the duplicate', (t) => {
  t.deepEqual(deliverAll(policyFor(['duplicate-delivery', 'phantom-delivery']), [1]), ['bob:e:1-phantom', 'bob:e:1', 'bob:e:1']);
  t.deepEqual(deliverAll(policyFor(['phantom-delivery', 'duplicate-delivery']), [1]), ['bob:e:1-phantom', 'bob:e:1', 'bob:e:1'], 'the order of the flags does not matter');
  t.deepEqual(deliverAll(policyFor(['reorder', 'duplicate-delivery', 'phantom-delivery']), [1, 2]), ['bob:e:2', 'bob:e:1']);
  t.deepEqual(deliverAll(policyFor(['reorder', 'drop-delivery']), [1, 2]), []);
});

test('reorder keeps its held message per peer: two policies do not share it', (t) => {
  const a = policyFor(['reorder']);
  const b = policyFor(['reorder']);
  t.deepEqual(deliverAll(a, [1]), []);
  t.deepEqual(deliverAll(b, [2]), ['bob:e:2']);
  t.deepEqual(deliverAll(a, [2]), ['bob:e:2', 'bob:e:1']);
});
