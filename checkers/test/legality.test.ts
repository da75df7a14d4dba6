/**
 * membership-legality on hand-built histories: each rule, passing and failing,
 * with the message naming observer, subject, both states and both events.
 */
import test from 'ava';
import type {HistoryEvent} from '../src/history/types.js';
import {illegality, invariants, membershipLegality} from '../src/check.js';
import {History} from './history-builder.js';

const A = '127.0.0.1:7001';
const B = '127.0.0.1:7002';

/** alice and bob up, alice has bob alive at incarnation `i`. */
function base(i = 0): History {
  return new History().up('alice', 'bob').peer('alice', 'member.joined', {name: 'bob', address: A, incarnation: i});
}

function verdict(h: History | readonly HistoryEvent[]) {
  return membershipLegality(h instanceof History ? h.events : h);
}

test('registered as an invariant', (t) => {
  t.is(invariants['membership-legality'], membershipLegality);
});

test('an empty history and a plain join pass', (t) => {
  t.is(verdict([]).status, 'pass');
  const v = verdict(base());
  t.is(v.status, 'pass');
  t.deepEqual(v.figures, {illegal_transitions: 0, transitions: 0});
});

test('alive replaces suspect only at a higher incarnation', (t) => {
  const ok = base(2).peer('alice', 'member.suspect', {name: 'bob', incarnation: 2, from: 'carol'}).peer('alice', 'member.alive', {name: 'bob', address: A, incarnation: 3, previous: 'suspect'});
  t.is(verdict(ok).status, 'pass');
  const bad = base(2).peer('alice', 'member.suspect', {name: 'bob', incarnation: 2, from: 'carol'}).peer('alice', 'member.alive', {name: 'bob', address: A, incarnation: 2, previous: 'suspect'});
  const v = verdict(bad);
  t.is(v.status, 'fail');
  t.regex(v.message, /^alice's view of bob went from suspect@2 \(member\.suspect at [\d:.]+\) to alive@2 \(member\.alive at [\d:.]+\): alive replaces suspect only at a higher incarnation$/);
  t.is(v.evidence?.length, 3, 'alice started, the suspect and the alive');
  t.regex(v.evidence![0]!, /peer:alice peer\.started/);
  t.regex(v.evidence![1]!, /member\.suspect/);
  t.regex(v.evidence![2]!, /member\.alive/);
});

test('suspect replaces alive at the same or a higher incarnation, never a lower one', (t) => {
  t.is(verdict(base(2).peer('alice', 'member.suspect', {name: 'bob', incarnation: 2, from: 'alice'})).status, 'pass');
  t.is(verdict(base(2).peer('alice', 'member.suspect', {name: 'bob', incarnation: 5, from: 'alice'})).status, 'pass');
  const v = verdict(base(2).peer('alice', 'member.suspect', {name: 'bob', incarnation: 1, from: 'alice'}));
  t.is(v.status, 'fail');
  t.regex(v.message, /alive@2 .* to suspect@1 .*only at the same or a higher incarnation/);
});

test('suspect replaces suspect only at a higher incarnation', (t) => {
  const s = (i: number) => ['alice', 'member.suspect', {name: 'bob', incarnation: i, from: 'carol'}] as const;
  t.is(verdict(base(1).peer(...s(1)).peer(...s(2))).status, 'pass');
  t.is(verdict(base(1).peer(...s(1)).peer(...s(1))).status, 'fail');
});

test('alive over alive (updated, joined again) needs a higher incarnation', (t) => {
  t.is(verdict(base(1).peer('alice', 'member.updated', {name: 'bob', address: B, incarnation: 2, reason: 'address'})).status, 'pass');
  const v = verdict(base(1).peer('alice', 'member.updated', {name: 'bob', address: B, incarnation: 1, reason: 'address'}));
  t.is(v.status, 'fail');
  t.regex(v.message, /alive@1 \(member\.joined .* to alive@1 \(member\.updated/);
  t.is(verdict(base(1).peer('alice', 'member.joined', {name: 'bob', address: A, incarnation: 1})).status, 'fail', 'joined again at the same incarnation');
});

test('dead and alive/suspect: dead at the same or a higher incarnation; dead is final', (t) => {
  const dead = (h: History, i: number) => h.peer('alice', 'member.dead', {name: 'bob', incarnation: i, from: 'alice'});
  t.is(verdict(dead(base(2), 2)).status, 'pass');
  t.is(verdict(dead(base(2).peer('alice', 'member.suspect', {name: 'bob', incarnation: 3, from: 'carol'}), 3)).status, 'pass');
  t.is(verdict(dead(base(2), 1)).status, 'fail', 'dead at a lower incarnation');
  t.is(verdict(dead(dead(base(2), 2), 3)).status, 'fail', 'dead again');
  const v = verdict(dead(base(2), 2).peer('alice', 'member.suspect', {name: 'bob', incarnation: 4, from: 'carol'}));
  t.is(v.status, 'fail', 'suspect over dead, even higher');
  t.regex(v.message, /dead@2 .* to suspect@4 .*dead is final for its incarnation/);
});

test('a dead member comes back only alive at a higher incarnation (the resurrect defect fails)', (t) => {
  const dead = base(2).peer('alice', 'member.dead', {name: 'bob', incarnation: 2, from: 'carol'});
  const back = (i: number, address = A) => ['alice', 'member.alive', {name: 'bob', address, incarnation: i, previous: 'dead'}] as const;
  t.is(verdict(dead).status, 'pass');
  t.is(verdict(base(2).peer('alice', 'member.dead', {name: 'bob', incarnation: 2, from: 'carol'}).peer(...back(3))).status, 'pass');
  const v = verdict(dead.peer(...back(2)));
  t.is(v.status, 'fail');
  t.regex(v.message, /^alice's view of bob went from dead@2 \(member\.dead at .*\) to alive@2 \(member\.alive at .*\): a dead member comes back only alive at a higher incarnation/);
  t.is(verdict(base(2).peer('alice', 'member.dead', {name: 'bob', incarnation: 2, from: 'carol'}).peer(...back(1))).status, 'fail');
});

test('memberlist reclaim: a dead or left member may come back at a new address at any incarnation', (t) => {
  const back = ['alice', 'member.alive', {name: 'bob', address: B, incarnation: 0, previous: 'left'}] as const;
  t.is(verdict(base(2).peer('alice', 'member.left', {name: 'bob', incarnation: 2}).peer(...back)).status, 'pass');
  t.is(verdict(base(2).peer('alice', 'member.dead', {name: 'bob', incarnation: 2, from: 'alice'}).peer(...back)).status, 'pass');
  t.is(verdict(base(2).peer('alice', 'member.left', {name: 'bob', incarnation: 2}).peer('alice', 'member.alive', {name: 'bob', address: A, incarnation: 2, previous: 'left'})).status, 'fail', 'same address');
});

test('left: over alive, suspect or dead at the same or a higher incarnation; final otherwise', (t) => {
  const left = (h: History, i: number) => h.peer('alice', 'member.left', {name: 'bob', incarnation: i});
  t.is(verdict(left(base(2), 2)).status, 'pass');
  t.is(verdict(left(base(2).peer('alice', 'member.dead', {name: 'bob', incarnation: 2, from: 'alice'}), 2)).status, 'pass', 'a graceful leave is the better story');
  t.is(verdict(left(base(2), 1)).status, 'fail');
  t.is(verdict(left(base(2).peer('alice', 'member.dead', {name: 'bob', incarnation: 3, from: 'alice'}), 2)).status, 'fail');
  t.is(verdict(left(left(base(2), 2), 3)).status, 'fail', 'left again');
  t.is(verdict(left(base(2), 2).peer('alice', 'member.dead', {name: 'bob', incarnation: 2, from: 'carol'})).status, 'fail', 'dead over left');
  t.is(verdict(left(base(2), 2).peer('alice', 'member.alive', {name: 'bob', address: A, incarnation: 3, previous: 'left'})).status, 'pass');
});

test('member.reaped forgets the subject: news afterwards starts fresh', (t) => {
  const reaped = base(2).peer('alice', 'member.dead', {name: 'bob', incarnation: 2, from: 'alice'}).peer('alice', 'member.reaped', {name: 'bob', state: 'dead', incarnation: 2});
  t.is(verdict(reaped.peer('alice', 'member.joined', {name: 'bob', address: A, incarnation: 0})).status, 'pass');
  const unreaped = base(2).peer('alice', 'member.dead', {name: 'bob', incarnation: 2, from: 'alice'}).peer('alice', 'member.joined', {name: 'bob', address: A, incarnation: 0});
  t.is(verdict(unreaped).status, 'fail');
});

test('a new boot of the observer forgets its view; another observer keeps its own', (t) => {
  const h = base(2).peer('alice', 'member.dead', {name: 'bob', incarnation: 2, from: 'alice'}).kill('alice').started('alice');
  t.is(verdict(h.peer('alice', 'member.joined', {name: 'bob', address: A, incarnation: 0})).status, 'pass');
  const other = base(2)
    .peer('carol', 'member.joined', {name: 'bob', address: A, incarnation: 2})
    .peer('carol', 'member.dead', {name: 'bob', incarnation: 2, from: 'carol'})
    .started('alice')
    .peer('carol', 'member.alive', {name: 'bob', address: A, incarnation: 2, previous: 'dead'});
  const v = verdict(other);
  t.is(v.status, 'fail');
  t.regex(v.message, /^carol's view of bob/);
});

test("a peer's own incarnation never decreases within one boot", (t) => {
  const up = base().peer('alice', 'member.updated', {name: 'alice', address: B, incarnation: 3, reason: 'refute'});
  t.is(verdict(up).status, 'pass');
  t.is(verdict(base().peer('alice', 'member.updated', {name: 'alice', address: B, incarnation: 3, reason: 'refute'}).peer('alice', 'member.left', {name: 'alice', incarnation: 3}).peer('alice', 'member.alive', {name: 'alice', address: B, incarnation: 4, previous: 'left'})).status, 'pass', 'leave and rejoin');
  const down = base().peer('alice', 'member.updated', {name: 'alice', address: B, incarnation: 3, reason: 'refute'}).peer('alice', 'member.updated', {name: 'alice', address: B, incarnation: 2, reason: 'refute'});
  const v = verdict(down);
  t.is(v.status, 'fail');
  t.regex(v.message, /^alice's own incarnation went from 3 \(member\.updated at .*\) to 2 \(member\.updated at .*\): its own incarnation went down within one boot$/);
  const restarted = base().peer('alice', 'member.updated', {name: 'alice', address: B, incarnation: 3, reason: 'refute'}).kill('alice').started('alice');
  t.is(verdict(restarted.peer('alice', 'member.updated', {name: 'alice', address: B, incarnation: 1, reason: 'refute'})).status, 'pass', 'a new boot starts again at 0');
  const fromStart = new History().up('alice').peer('alice', 'peer.started', {address: B, incarnation: 5, profile: 'local'}).peer('alice', 'member.left', {name: 'alice', incarnation: 4});
  t.is(verdict(fromStart).status, 'fail', 'below the incarnation peer.started said');
});

test('a restart rejoining under its name, as the reference peer does it, passes', (t) => {
  // bob at 3 dies and is seen dead; his new process starts at 0, learns 3 and refutes at 4.
  const h = base(3)
    .peer('alice', 'member.suspect', {name: 'bob', incarnation: 3, from: 'alice'})
    .peer('alice', 'member.dead', {name: 'bob', incarnation: 3, from: 'alice'})
    .kill('bob')
    .started('bob')
    .peer('bob', 'member.joined', {name: 'alice', address: B, incarnation: 0})
    .peer('bob', 'member.updated', {name: 'bob', address: A, incarnation: 4, reason: 'refute'})
    .peer('alice', 'member.alive', {name: 'bob', address: A, incarnation: 4, previous: 'dead'})
    // Push-pull: a remote dead is taken as suspect at an incarnation no lower than the one held.
    .peer('bob', 'member.suspect', {name: 'alice', incarnation: 0, from: 'carol'})
    .peer('bob', 'member.alive', {name: 'alice', address: B, incarnation: 1, previous: 'suspect'});
  const v = verdict(h);
  t.is(v.status, 'pass', v.message);
  t.deepEqual(v.figures, {illegal_transitions: 0, transitions: 5});
});

test('counts every illegal transition, names the first', (t) => {
  const h = base(2)
    .peer('alice', 'member.dead', {name: 'bob', incarnation: 2, from: 'alice'})
    .peer('alice', 'member.alive', {name: 'bob', address: A, incarnation: 2, previous: 'dead'})
    .peer('alice', 'member.suspect', {name: 'bob', incarnation: 1, from: 'alice'});
  const v = verdict(h);
  t.is(v.status, 'fail');
  t.is(v.figures?.illegal_transitions, 2);
  t.regex(v.message, /dead@2 .* to alive@2 .*\(2 illegal transitions in all\)$/);
});

test('illegality on its own', (t) => {
  t.is(illegality({state: 'alive', incarnation: 1, address: A}, {state: 'suspect', incarnation: 1, address: undefined}), undefined);
  t.truthy(illegality({state: 'dead', incarnation: 1, address: A}, {state: 'alive', incarnation: 1, address: A}));
  t.truthy(illegality({state: 'dead', incarnation: 1, address: undefined}, {state: 'alive', incarnation: 0, address: B}), 'no address known: no reclaim');
});

test('after a decrease of its own incarnation the higher one still stands; without peer.started the first event sets it', (t) => {
  const refute = (i: number) => ['alice', 'member.updated', {name: 'alice', address: B, incarnation: i, reason: 'refute'}] as const;
  const v = verdict(base().peer(...refute(3)).peer(...refute(2)).peer(...refute(2)));
  t.is(v.figures?.illegal_transitions, 2);
  t.regex(v.message, /went from 3 .* to 2 .*\(2 illegal transitions in all\)$/);
  const noStart = new History().peer(...refute(5)).peer(...refute(4));
  t.is(verdict(noStart).status, 'fail');
  t.is(verdict(new History().peer(...refute(5)).peer(...refute(6))).status, 'pass');
});
