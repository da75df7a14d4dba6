/**
 * The membership state machine on its own: no process, no socket, no real
 * time. A MemberTable gets updates the way the probe, gossip and push-pull
 * hand them over, and a fake clock is advanced by hand, so each rule of
 * member-table.ts is checked by the exact states, incarnations and events it
 * must produce.
 */
import test from 'ava';
import {EventEmitter} from 'node:events';
import type {SwimConfig} from '../src/config.js';
import {MAX_INCARNATION_STEP, profiles, suspicionMaxMs, suspicionMinMs} from '../src/config.js';
import {Logger} from '../src/log.js';
import {MemberTable} from '../src/membership/member-table.js';
import type {PushPullMember, Update} from '../src/membership/messages.js';
import {MAX_INCARNATION} from '../src/membership/messages.js';
import type {MembershipEventName, MembershipEvents} from '../src/membership/types.js';
import type {Policy} from '../src/policy.js';
import {policyFor} from '../src/policy.js';
import {FakeClock} from './helpers/fake-clock.js';

type Recorded = {kind: MembershipEventName} & Record<string, unknown>;
const kinds: MembershipEventName[] = ['joined', 'alive', 'suspect', 'dead', 'left', 'updated', 'reaped'];
const config = profiles.local;

function setup(options: {policy?: Policy; config?: Partial<SwimConfig>} = {}) {
  const clock = new FakeClock();
  const events: Recorded[] = [];
  const emitter = new EventEmitter<MembershipEvents>();
  for (const kind of kinds) emitter.on(kind, (event: object) => events.push({kind, ...event}));
  const broadcasts: Update[] = [];
  /** Per broadcast, whether it may go out at once (Gossip.queue). */
  const atOnce: boolean[] = [];
  let viewChanges = 0;
  const table = new MemberTable({
    name: 'me',
    address: {host: '127.0.0.1', port: 1},
    config: {...config, ...options.config},
    log: new Logger('me', () => {}),
    events: emitter,
    clock,
    ...(options.policy ? {policy: options.policy} : {}),
    broadcast: (update, now) => {
      broadcasts.push(update);
      atOnce.push(now);
    },
    viewChanged: () => viewChanges++,
  });
  /** One datagram from `from` carrying `updates`. */
  const hear = (from: string, ...updates: Update[]) => table.applyDatagram(updates, from);
  const alive = (n: string, i: number, port = portOf(n)): Update => ({k: 'alive', n, i, a: `127.0.0.1:${port}`});
  const suspect = (n: string, i: number, f = 'x'): Update => ({k: 'suspect', n, i, f});
  const dead = (n: string, i: number, f = 'x'): Update => ({k: 'dead', n, i, f});
  const left = (n: string, i: number): Update => ({k: 'left', n, i});
  const state = (name: string) => {
    const m = table.get(name);
    return m ? `${m.state}@${m.incarnation}` : 'unknown';
  };
  /** Events since the last call, as `kind name@incarnation`. */
  const drain = () => events.splice(0).map((e) => `${e.kind} ${String(e.name)}@${String(e.incarnation)}`);
  return {table, clock, events, broadcasts, atOnce, hear, alive, suspect, dead, left, state, drain, viewChanges: () => viewChanges};
}

const ports = new Map<string, number>();
function portOf(name: string): number {
  if (!ports.has(name)) ports.set(name, 1000 + ports.size);
  return ports.get(name)!;
}

/** me plus bob, carol, dave and eve, all alive at incarnation 0: five live members. */
function groupOfFive(options: {policy?: Policy} = {}) {
  const s = setup(options);
  s.hear('bob', s.alive('bob', 0), s.alive('carol', 0), s.alive('dave', 0), s.alive('eve', 0));
  s.drain();
  s.broadcasts.length = 0;
  s.atOnce.length = 0;
  return s;
}

// --- introduction ----------------------------------------------------------

test('only alive introduces a member: joined is emitted and the news passed on', (t) => {
  const s = setup();
  s.hear('x', s.suspect('bob', 0), s.dead('carol', 0), s.left('dave', 0));
  t.deepEqual(s.table.all().map((m) => m.name), ['me'], 'suspect, dead and left about unknown names are ignored');
  s.hear('x', s.alive('bob', 3));
  t.is(s.state('bob'), 'alive@3');
  t.deepEqual(s.drain(), ['joined bob@3']);
  t.deepEqual(s.broadcasts, [s.alive('bob', 3)]);
  t.is(s.viewChanges(), 1);
  t.is(s.table.liveCount(), 2);
});

test('one datagram introduces at most maxNewMembersPerPacket, an unsolicited push-pull maxNewMembersPerPushPull, a solicited one up to maxMembers', (t) => {
  const s = setup({config: {maxNewMembersPerPacket: 2, maxNewMembersPerPushPull: 3, maxMembers: 10}});
  s.hear('x', s.alive('a1', 0), s.alive('a2', 0), s.alive('a3', 0));
  t.is(s.table.all().length, 3);
  t.is(s.table.refusals.newMembers, 1);
  const entries = (prefix: string, count: number): PushPullMember[] => Array.from({length: count}, (_, i) => ({n: `${prefix}${i}`, a: `127.0.0.1:${2000 + i}`, s: 'alive', i: 0}));
  s.table.mergeState(entries('b', 5), 'x', false);
  t.is(s.table.all().length, 6);
  t.is(s.table.refusals.newMembers, 3);
  s.table.mergeState(entries('c', 6), 'x', true);
  t.is(s.table.all().length, 10, 'solicited: capped only by the table');
  t.is(s.table.refusals.tableFull, 2);
});

// --- incarnation rules -----------------------------------------------------

test('alive at i replaces suspect at j only if i > j', (t) => {
  const s = groupOfFive();
  s.hear('carol', s.suspect('bob', 3, 'carol'));
  t.is(s.state('bob'), 'suspect@3');
  s.hear('bob', s.alive('bob', 2), s.alive('bob', 3));
  t.is(s.state('bob'), 'suspect@3', 'alive at the same or a lower incarnation does not clear a suspicion');
  s.hear('bob', s.alive('bob', 4));
  t.is(s.state('bob'), 'alive@4');
  t.deepEqual(s.drain(), ['suspect bob@3', 'alive bob@4']);
  t.is(s.events.length, 0);
  s.clock.advance(suspicionMaxMs(config, 5) * 2);
  t.is(s.state('bob'), 'alive@4', 'the refuted suspicion timer was cancelled');
  t.is(s.clock.pending, 0);
});

test('suspect replaces alive when i >= j, never below', (t) => {
  const s = groupOfFive();
  s.hear('bob', s.alive('bob', 5));
  s.hear('carol', s.suspect('bob', 4, 'carol'));
  t.is(s.state('bob'), 'alive@5', 'a suspicion of an older incarnation is old news');
  s.hear('carol', s.suspect('bob', 5, 'carol'));
  t.is(s.state('bob'), 'suspect@5');
  s.hear('dave', s.suspect('carol', 7, 'dave'));
  t.is(s.state('carol'), 'suspect@7', 'a higher incarnation is taken');
  t.deepEqual(s.drain(), ['updated bob@5', 'suspect bob@5', 'suspect carol@7']);
});

test('dead is final for its incarnation, left may replace dead and nothing replaces left', (t) => {
  const s = groupOfFive();
  s.hear('x', s.dead('bob', 2, 'carol'));
  t.is(s.state('bob'), 'dead@2');
  s.hear('x', s.suspect('bob', 2), s.suspect('bob', 3), s.dead('bob', 3), s.alive('bob', 2, 9999));
  t.is(s.state('bob'), 'dead@2', 'suspect, dead and same-incarnation alive do not move a dead member');
  s.hear('x', s.left('bob', 2));
  t.is(s.state('bob'), 'left@2', 'a graceful leave is the more accurate story');
  s.hear('x', s.dead('bob', 2), s.dead('bob', 3), s.suspect('bob', 3));
  t.is(s.state('bob'), 'left@2');
  t.deepEqual(s.drain(), ['dead bob@2', 'left bob@2']);
});

test('a dead or left member comes back only as alive with a higher incarnation, at any address', (t) => {
  const s = groupOfFive();
  s.hear('x', s.dead('bob', 2), s.left('carol', 4));
  const changesBefore = s.viewChanges();
  s.hear('x', s.alive('bob', 1), s.alive('bob', 2), s.alive('carol', 4, 7777));
  t.is(s.state('bob'), 'dead@2', 'a stale alive never resurrects');
  t.is(s.state('carol'), 'left@4');
  s.hear('bob', s.alive('bob', 3, 5555));
  s.hear('carol', s.alive('carol', 5));
  t.is(s.state('bob'), 'alive@3');
  t.deepEqual(s.table.get('bob')!.address, {host: '127.0.0.1', port: 5555}, 'a restart may come from a new address');
  t.is(s.state('carol'), 'alive@5');
  t.deepEqual(
    s.events.filter((e) => e.kind === 'alive').map((e) => [e.name, e.previous]),
    [
      ['bob', 'dead'],
      ['carol', 'left'],
    ],
  );
  t.is(s.viewChanges() - changesBefore, 2, 'members back from dead or left change the live set');
});

test('an alive at a higher incarnation on a live member is an update, by incarnation or by address', (t) => {
  const s = groupOfFive();
  s.hear('bob', s.alive('bob', 1));
  s.hear('bob', s.alive('bob', 2, 4444));
  t.deepEqual(
    s.events.map((e) => [e.kind, e.incarnation, e.reason]),
    [
      ['updated', 1, 'incarnation'],
      ['updated', 2, 'address'],
    ],
  );
});

test(`news more than MAX_INCARNATION_STEP (${MAX_INCARNATION_STEP}) above what is known is refused and counted, about others and about itself`, (t) => {
  const s = groupOfFive();
  s.hear('x', s.alive('bob', MAX_INCARNATION_STEP + 1), s.dead('carol', MAX_INCARNATION_STEP + 1), s.suspect('me', MAX_INCARNATION_STEP + 1));
  t.is(s.state('bob'), 'alive@0');
  t.is(s.state('carol'), 'alive@0');
  t.is(s.state('me'), 'alive@0', 'no refute for a refused accusation');
  t.is(s.table.refusals.incarnationStep, 3);
  s.hear('x', s.alive('bob', MAX_INCARNATION_STEP));
  t.is(s.state('bob'), `alive@${MAX_INCARNATION_STEP}`, 'exactly the step is taken');
  s.table.mergeState([{n: 'dave', a: '127.0.0.1:1', s: 'alive', i: 10_000}], 'eve', true);
  t.is(s.state('dave'), 'alive@0', 'push-pull news is held to the step too');
  t.is(s.table.refusals.incarnationStep, 4);
});

test('trusted beyond the step: the dialled partner about itself, and a fresh process about itself in its join', (t) => {
  const s = groupOfFive();
  const reply: PushPullMember[] = [
    {n: 'bob', a: `127.0.0.1:${portOf('bob')}`, s: 'alive', i: 5000},
    {n: 'carol', a: `127.0.0.1:${portOf('carol')}`, s: 'alive', i: 5000},
  ];
  s.table.mergeState(reply, 'bob', true, new Set(['bob']));
  t.is(s.state('bob'), 'alive@5000', 'the partner speaks for itself');
  t.is(s.state('carol'), 'alive@0', 'but not for others');
  t.is(s.table.refusals.incarnationStep, 1);

  // A restarted process at incarnation 0 learns in its join's answer that the group holds it dead far up.
  const fresh = setup();
  fresh.table.mergeState([{n: 'me', a: '127.0.0.1:1', s: 'dead', i: 70_000}], 'seed', true, new Set(['me']));
  t.is(fresh.state('me'), 'alive@70001', 'refutes one above its old incarnation');
  t.deepEqual(fresh.broadcasts, [fresh.alive('me', 70_001, 1)]);
});

// --- suspicion (Lifeguard) -------------------------------------------------

test('an unconfirmed suspicion times out at the maximum bound, and only then the member is dead', (t) => {
  const s = groupOfFive();
  const max = suspicionMaxMs(config, 5);
  t.is(max, config.suspicionMaxTimeoutMult * suspicionMinMs(config, 5));
  s.hear('carol', s.suspect('bob', 0, 'carol'));
  s.clock.advance(max - 1);
  t.is(s.state('bob'), 'suspect@0');
  s.clock.advance(1);
  t.is(s.state('bob'), 'dead@0');
  t.deepEqual(
    s.events.map((e) => [e.kind, e.name, e.from]),
    [
      ['suspect', 'bob', 'carol'],
      ['dead', 'bob', 'me'],
    ],
  );
  t.deepEqual(s.broadcasts, [s.suspect('bob', 0, 'carol'), s.dead('bob', 0, 'me')]);
});

test("Lifeguard: each independent confirmation shrinks the timeout, down to the minimum bound", (t) => {
  const min = suspicionMinMs(config, 5);
  const max = suspicionMaxMs(config, 5);
  // Five live members: expected confirmations min(indirectChecks, n - 2) = 3; one confirmation is log(2)/log(4) = half way.
  const oneConfirmation = Math.floor(max - 0.5 * (max - min));

  const one = groupOfFive();
  one.hear('carol', one.suspect('bob', 0, 'carol'));
  one.clock.advance(100);
  one.hear('dave', one.suspect('bob', 0, 'dave'), one.suspect('bob', 0, 'dave'));
  t.deepEqual(one.broadcasts, [one.suspect('bob', 0, 'carol'), one.suspect('bob', 0, 'dave')], 'a new confirmation is passed on once');
  one.clock.advance(oneConfirmation - 100 - 1);
  t.is(one.state('bob'), 'suspect@0');
  one.clock.advance(1);
  t.is(one.state('bob'), 'dead@0', `dead at ${oneConfirmation} ms, counted from the start of the suspicion`);

  const all = groupOfFive();
  all.hear('carol', all.suspect('bob', 0, 'carol'));
  all.hear('dave', all.suspect('bob', 0, 'dave'));
  all.hear('eve', all.suspect('bob', 0, 'eve'));
  all.table.missedAck('bob', 0);
  all.clock.advance(min - 1);
  t.is(all.state('bob'), 'suspect@0');
  all.clock.advance(1);
  t.is(all.state('bob'), 'dead@0', `three confirmations: the minimum, ${min} ms`);
});

test('a confirmation that arrives after the shrunk timeout has passed declares the member dead at once', (t) => {
  const s = groupOfFive();
  s.hear('carol', s.suspect('bob', 0, 'carol'));
  s.clock.advance(suspicionMinMs(config, 5) + 1);
  s.hear('dave', s.suspect('bob', 0, 'dave'));
  s.hear('eve', s.suspect('bob', 0, 'eve'));
  s.table.missedAck('bob', 0);
  t.is(s.state('bob'), 'suspect@0');
  s.clock.advance(0);
  t.is(s.state('bob'), 'dead@0');
});

test('a missed ack suspects the target only at the probed incarnation, and not at all under never-suspect', (t) => {
  const s = groupOfFive();
  s.hear('bob', s.alive('bob', 1));
  s.table.missedAck('bob', 0);
  t.is(s.state('bob'), 'alive@1', 'the member refuted while the probe ran');
  s.table.missedAck('bob', 1);
  t.is(s.state('bob'), 'suspect@1');
  t.is(s.events.at(-1)!.from, 'me');

  const blind = groupOfFive({policy: policyFor(['never-suspect'])});
  blind.table.missedAck('bob', 0);
  t.is(blind.state('bob'), 'alive@0');
  t.is(blind.clock.pending, 0);
});

test('hair-trigger: a suspect is dead without waiting', (t) => {
  const s = groupOfFive({policy: policyFor(['hair-trigger'])});
  s.hear('carol', s.suspect('bob', 0, 'carol'));
  t.is(s.state('bob'), 'suspect@0');
  s.clock.advance(0);
  t.is(s.state('bob'), 'dead@0');
});

// --- refute ----------------------------------------------------------------

test('refute: a claim about itself makes the peer bump its incarnation above the claim and say so', (t) => {
  const s = groupOfFive();
  s.hear('carol', s.suspect('me', 0, 'carol'));
  t.is(s.state('me'), 'alive@1');
  s.hear('carol', s.dead('me', 10, 'carol'));
  t.is(s.state('me'), 'alive@11');
  s.hear('carol', s.alive('me', 11, 6666));
  t.is(s.state('me'), 'alive@12', 'someone else alive under our name at our incarnation');
  s.hear('carol', s.alive('me', 12, 1), s.suspect('me', 5));
  t.is(s.state('me'), 'alive@12', 'our own alive and old claims are no news');
  t.deepEqual(s.drain(), ['updated me@1', 'updated me@11', 'updated me@12']);
  t.true(s.events.length === 0 && s.broadcasts.every((u) => u.k === 'alive' && u.n === 'me'));
  t.deepEqual(
    s.broadcasts.map((u) => u.i),
    [1, 11, 12],
  );
});

test('refute never goes past 2^32-1: an accusation it cannot beat is ignored and counted', (t) => {
  const s = setup();
  s.table.mergeState([{n: 'me', a: '127.0.0.1:1', s: 'suspect', i: MAX_INCARNATION - 1}], 'seed', true, new Set(['me']));
  t.is(s.state('me'), `alive@${MAX_INCARNATION}`, 'up to the top of the range');
  s.hear('x', s.suspect('me', MAX_INCARNATION));
  t.is(s.state('me'), `alive@${MAX_INCARNATION}`);
  t.is(s.table.refusals.unbeatable, 1);
  t.deepEqual(s.drain(), [`updated me@${MAX_INCARNATION}`]);
});

test('no-refute: claims about itself stand', (t) => {
  const s = groupOfFive({policy: policyFor(['no-refute'])});
  s.hear('carol', s.suspect('me', 0, 'carol'), s.alive('me', 3, 6666));
  t.is(s.state('me'), 'alive@0');
  t.deepEqual(s.broadcasts, []);
});

test('resurrect: an alive at the same incarnation brings a dead member back (SWIM forbids it); a suspect or left one stays', (t) => {
  const s = groupOfFive({policy: policyFor(['resurrect'])});
  s.hear('x', s.dead('bob', 2), s.left('carol', 4), s.suspect('dave', 1));
  s.drain();
  s.hear('x', s.alive('bob', 1), s.alive('carol', 4), s.alive('dave', 1));
  t.is(s.state('bob'), 'dead@2', 'a lower incarnation still does not');
  t.is(s.state('carol'), 'left@4');
  t.is(s.state('dave'), 'suspect@1');
  s.hear('x', s.alive('bob', 2));
  t.is(s.state('bob'), 'alive@2');
  t.deepEqual(s.drain(), ['alive bob@2']);
});

// --- leave and rejoin ------------------------------------------------------

test('leave: the peer is left, says so, takes no news and refutes nothing until it rejoins one incarnation up', (t) => {
  const s = groupOfFive();
  s.hear('carol', s.suspect('me', 0));
  s.drain();
  t.deepEqual(s.table.leave(), {k: 'left', n: 'me', i: 1});
  t.true(s.table.leaving);
  t.is(s.state('me'), 'left@1');
  t.deepEqual(s.drain(), ['left me@1']);
  s.hear('x', s.suspect('me', 1), s.dead('me', 2), s.alive('newcomer', 0), s.suspect('bob', 0), s.dead('carol', 0));
  t.is(s.state('me'), 'left@1');
  t.is(s.state('newcomer'), 'unknown');
  t.is(s.state('bob'), 'alive@0');
  t.is(s.state('carol'), 'alive@0');
  t.deepEqual(s.drain(), []);
  s.table.rejoin();
  t.false(s.table.leaving);
  t.is(s.state('me'), 'alive@2');
  t.deepEqual(
    s.events.map((e) => [e.kind, e.name, e.incarnation, e.previous]),
    [['alive', 'me', 2, 'left']],
  );
  t.deepEqual(s.table.selfAlive(), s.alive('me', 2, 1));
});

test("a leaver's own left is passed on at the next tick (it told every member itself); a left relayed by another, or learnt in an exchange, at once", (t) => {
  const s = groupOfFive();
  s.hear('bob', s.left('bob', 0));
  s.hear('dave', s.left('carol', 0));
  s.table.mergeState([{n: 'eve', a: `127.0.0.1:${portOf('eve')}`, s: 'left', i: 0}], 'eve', false);
  t.deepEqual(s.drain(), ['left bob@0', 'left carol@0', 'left eve@0']);
  t.deepEqual(s.broadcasts, [s.left('bob', 0), s.left('carol', 0), s.left('eve', 0)]);
  t.deepEqual(s.atOnce, [false, true, true]);
});

test('a member restarted under the same name starts at 0, is ignored until it refutes what the group holds, then is alive again', (t) => {
  const s = groupOfFive();
  s.hear('carol', s.suspect('bob', 7, 'carol'));
  s.clock.advance(suspicionMaxMs(config, 5));
  t.is(s.state('bob'), 'dead@7');
  // The new process announces itself at 0 from a new port: stale.
  s.hear('bob', s.alive('bob', 0, 3333));
  t.is(s.state('bob'), 'dead@7');
  // It learned "dead at 7" through push-pull and refutes at 8.
  s.hear('bob', s.alive('bob', 8, 3333));
  t.is(s.state('bob'), 'alive@8');
  t.is(s.table.get('bob')!.address.port, 3333);
  t.deepEqual(s.drain(), ['suspect bob@7', 'dead bob@7', 'alive bob@8']);
});

// --- push-pull -------------------------------------------------------------

test('push-pull turns a remote dead into a local suspect, reported by the partner; a datagram dead is taken as dead', (t) => {
  const s = groupOfFive();
  s.table.mergeState([{n: 'bob', a: `127.0.0.1:${portOf('bob')}`, s: 'dead', i: 0}], 'carol', false);
  t.is(s.state('bob'), 'suspect@0');
  t.deepEqual(s.events.map((e) => [e.kind, e.name, e.from]), [['suspect', 'bob', 'carol']]);
  s.table.mergeState([{n: 'me', a: '127.0.0.1:1', s: 'dead', i: 0}], 'carol', false);
  t.is(s.state('me'), 'alive@1', 'about itself, a refute');
  s.hear('carol', s.dead('dave', 0, 'carol'));
  t.is(s.state('dave'), 'dead@0');
  s.table.mergeState([{n: 'eve', a: `127.0.0.1:${portOf('eve')}`, s: 'left', i: 0}], 'carol', false);
  t.is(s.state('eve'), 'left@0', 'left is taken as it is');
});

test('the local state push-pull sends is the whole table', (t) => {
  const s = groupOfFive();
  s.hear('x', s.dead('bob', 0));
  const state = s.table.localState();
  t.is(state.length, 5);
  t.deepEqual(
    state.find((m) => m.n === 'bob'),
    {n: 'bob', a: `127.0.0.1:${portOf('bob')}`, s: 'dead', i: 0},
  );
});

// --- reaping ---------------------------------------------------------------

test('dead and left members are forgotten after deadReapMs; a reaped dead address stays a reconnect target and a name', (t) => {
  const s = groupOfFive();
  s.hear('x', s.dead('bob', 4), s.left('carol', 2));
  s.clock.advance(config.deadReapMs - 1);
  s.table.reap();
  t.is(s.state('bob'), 'dead@4');
  s.clock.advance(1);
  s.table.reap();
  t.is(s.state('bob'), 'unknown');
  t.is(s.state('carol'), 'unknown');
  t.is(s.state('dave'), 'alive@0', 'live members stay');
  t.is(s.state('me'), 'alive@0');
  t.is(s.table.refusals.reaped, 2);
  t.deepEqual(
    s.events.filter((e) => e.kind === 'reaped').map((e) => [e.name, e.state, e.incarnation]),
    [
      ['bob', 'dead', 4],
      ['carol', 'left', 2],
    ],
  );
  t.deepEqual(s.table.reapedDead(), [{name: 'bob', address: {host: '127.0.0.1', port: portOf('bob')}}], 'only dead, not left, stay reconnect targets');
  t.is(s.table.nameAt({host: '127.0.0.1', port: portOf('bob')}), 'bob');
  s.drain();
  // The name is free again: news of it is taken afresh, even at a lower incarnation.
  s.hear('bob', s.alive('bob', 0));
  t.is(s.state('bob'), 'alive@0');
  t.deepEqual(s.drain(), ['joined bob@0']);
  t.deepEqual(s.table.reapedDead(), []);
});

test("a join's answer is taken in but not passed on, a refutation in it still is, and any other exchange passes on what it teaches", (t) => {
  const answer: PushPullMember[] = [
    {n: 'bob', a: `127.0.0.1:${portOf('bob')}`, s: 'alive', i: 0},
    {n: 'carol', a: `127.0.0.1:${portOf('carol')}`, s: 'dead', i: 2},
    {n: 'dave', a: `127.0.0.1:${portOf('dave')}`, s: 'left', i: 1},
    {n: 'erin', a: `127.0.0.1:${portOf('erin')}`, s: 'alive', i: 3},
    {n: 'me', a: '127.0.0.1:1', s: 'suspect', i: 0},
  ];
  const quiet = setup();
  const loud = setup();
  for (const s of [quiet, loud]) {
    s.hear('carol', s.alive('carol', 0), s.alive('dave', 0));
    s.broadcasts.length = 0;
    s.drain();
  }
  quiet.table.mergeState(answer, 'bob', true, new Set(['bob', 'me']), true);
  loud.table.mergeState(answer, 'bob', true, new Set(['bob', 'me']));
  for (const s of [quiet, loud]) {
    t.is(s.state('bob'), 'alive@0');
    t.is(s.state('carol'), 'suspect@2', 'a remote dead is a suspicion here, as from any push-pull');
    t.is(s.state('dave'), 'left@1');
    t.is(s.state('erin'), 'alive@3');
    t.is(s.state('me'), 'alive@1', 'refuted');
  }
  t.deepEqual(quiet.drain(), loud.drain(), 'the same events either way');
  t.deepEqual(quiet.broadcasts, [quiet.alive('me', 1, 1)], 'only the refutation about itself goes out');
  t.true(loud.broadcasts.length >= 5, 'any other exchange passes on what it teaches');
  // News heard afterwards by gossip is passed on as ever.
  quiet.hear('bob', quiet.alive('frank', 0));
  t.deepEqual(quiet.broadcasts.at(-1), quiet.alive('frank', 0));
});

test('the live count and the gossip targets follow every change of state: joins, suspicions, refutations, deaths, leaves, returns, reaping, and this peer leaving and rejoining', (t) => {
  const s = setup();
  const names = Array.from({length: 12}, (_, i) => `m${i}`);
  const incarnation = new Map<string, number>();
  // A seeded walk, so a failure is reproducible: each step is news about one member, or a reap or a leave of this peer.
  let seed = 7;
  const random = () => (seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) / 2 ** 32;
  const expected = () => s.table.all().filter((m) => m.name !== 'me' && (m.state === 'alive' || m.state === 'suspect')).map((m) => m.name);
  for (let step = 0; step < 2000; step++) {
    const name = names[Math.floor(random() * names.length)]!;
    const i = incarnation.get(name) ?? 0;
    const roll = random();
    if (roll < 0.3) {
      const next = i + (random() < 0.5 ? 1 : 0);
      incarnation.set(name, next);
      s.hear('x', s.alive(name, next));
    } else if (roll < 0.5) s.hear('x', s.suspect(name, i));
    else if (roll < 0.6) s.hear('x', s.dead(name, i));
    else if (roll < 0.7) s.hear('x', s.left(name, i));
    else if (roll < 0.75) {
      s.clock.advance(config.deadReapMs);
      s.table.reap();
    } else if (roll < 0.78) {
      if (s.table.leaving) s.table.rejoin();
      else s.table.leave();
    } else s.clock.advance(1000);
    const live = expected();
    const self = s.table.leaving ? 0 : 1;
    t.is(s.table.liveCount(), live.length + self, `step ${step}`);
    const targets = s.table.sampleOthers(3).map((m) => m.name);
    t.is(new Set(targets).size, Math.min(3, live.length), `step ${step}: distinct targets`);
    for (const target of targets) t.true(live.includes(target), `step ${step}: ${target} is live`);
    t.deepEqual(s.table.sampleOthers(live.length + 1).map((m) => m.name).sort(), [...live].sort(), `step ${step}: every live member can be drawn`);
  }
  // The walk went through every kind of state, so the check above saw each transition.
  t.true(s.events.some((e) => e.kind === 'reaped') && s.events.some((e) => e.kind === 'alive') && s.events.some((e) => e.kind === 'dead') && s.events.some((e) => e.kind === 'left'));
});
