import test from 'ava';
import {groupRate, restRate} from '../src/rest.js';

/** One member's cumulative reports, a second apart, sending `perSecond` datagrams a second. */
const member = (perSecond: number, seconds = 4, from = 1000) => Array.from({length: seconds + 1}, (_, i) => ({time: from + i * 1000, udpOut: 50 + i * perSecond}));

test('a group at rest sends about two datagrams a probe interval a member; the limit leaves half that again', (t) => {
  t.is(restRate(1000), 3);
  t.is(restRate(150), 20);
  t.is(groupRate([member(2), member(2), member(2)], 3, 3000), 2);
});

test('the rate is the mean over members, each over its own last window only', (t) => {
  // A member that gossiped hard earlier and has gone quiet in the window counts as quiet.
  const calmedDown = [...member(15, 4), ...member(2, 3, 6000).map((s) => ({...s, udpOut: s.udpOut + 100}))];
  t.is(groupRate([calmedDown, member(4, 8)], 2, 3000), 3);
  t.is(groupRate([member(15), member(15)], 2, 3000), 15);
});

test('no rate until nine in ten members have reported across half a window: never a quiet group from silence', (t) => {
  t.true(Number.isNaN(groupRate([], 10, 3000)));
  t.true(Number.isNaN(groupRate([member(2), member(2)], 3, 3000)), 'two of three reporting');
  t.true(Number.isNaN(groupRate([member(2, 1), member(2, 1)], 2, 3000)), 'one second of reports is under half a 3 s window');
  t.is(groupRate([member(2, 2), member(2, 2)], 2, 3000), 2);
});

test('a member gone silent, or whose counter went back, is left out of the rate, not counted as quiet', (t) => {
  const silent = member(0, 4, -10_000);
  t.true(Number.isNaN(groupRate([silent, member(15)], 2, 3000)), 'the silent one does not make a busy group look half as busy');
  t.is(groupRate([silent, member(15), member(15), member(15), member(15), member(15), member(15), member(15), member(15), member(15), member(15)], 11, 3000), 15);
  const restarted = member(15).map((s, i) => (i === 4 ? {...s, udpOut: 3} : s));
  t.true(Number.isNaN(groupRate([restarted], 1, 3000)));
});
