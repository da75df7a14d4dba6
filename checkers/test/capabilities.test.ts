/**
 * A check runs only on what the peers declared: the reasons it gives when
 * some or all of them did not, and a history written before peers declared
 * anything judged as it always was.
 */
import test from 'ava';
import type {Capabilities} from '@peerlab/events/capabilities';
import {invariantNeeds, undeclared} from '../src/capabilities.js';
import {evaluate} from '../src/verdict.js';
import {T0, coord, peer} from './history-builder.js';

const everything: Capabilities = {events: ['membership', 'chat', 'causal-chat', 'traffic'], fields: ['incarnation', 'suspicion-source']};
const registered = (name: string, t: number, capabilities?: Capabilities) => coord(t, 'peer.registered', {peer: name, pid: 100, registrations: 1, ...(capabilities ? {capabilities} : {})});

test('undeclared names the peers that lack each need, or says no peer has it', (t) => {
  const needs = invariantNeeds['membership-legality'];
  t.is(undeclared([registered('alice', T0, everything), registered('bob', T0, everything)], needs), undefined);
  t.is(undeclared([registered('alice', T0, everything), registered('bob', T0, {events: ['membership'], fields: []})], needs), 'not judged: bob does not declare incarnation (in the capabilities of its hello)');
  t.is(undeclared([registered('alice', T0, {events: [], fields: []}), registered('bob', T0, {events: [], fields: []})], needs), 'not judged: no peer declares membership; no peer declares incarnation (in the capabilities of its hello)');
  t.is(undeclared([registered('alice', T0), registered('bob', T0)], needs), undefined, 'a history from before declarations: judged as before');
  // The latest registration counts: a restart may declare otherwise.
  t.is(undeclared([registered('alice', T0, {events: [], fields: []}), registered('alice', T0 + 1, everything)], needs), undefined);
});

test('an invariant on a peer that declared nothing is unknown with the reason; the same history with declarations is judged', (t) => {
  const events = (capabilities?: Capabilities) => [
    coord(T0, 'run.begin', {scenario: 's', seed: 1, invariants: ['membership-legality', 'no-duplicate-delivery']}),
    registered('alice', T0 + 1, capabilities),
    peer('alice', T0 + 2, 'peer.started', {address: '127.0.0.1:1', incarnation: 0, profile: 'local'}, 1),
    coord(T0 + 3, 'run.end', {}),
  ];
  const bare = evaluate(events({events: [], fields: []}));
  t.like(bare.invariants.find((i) => i.name === 'membership-legality'), {status: 'unknown', message: 'not judged: no peer declares membership; no peer declares incarnation (in the capabilities of its hello)'});
  t.like(bare.invariants.find((i) => i.name === 'no-duplicate-delivery'), {status: 'unknown', message: 'not judged: no peer declares chat (in the capabilities of its hello)'});
  const full = evaluate(events(everything));
  t.like(full.invariants.find((i) => i.name === 'membership-legality'), {status: 'pass'});
  t.like(full.invariants.find((i) => i.name === 'no-duplicate-delivery'), {status: 'pass'});
});
