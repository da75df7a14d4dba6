/**
 * Traffic figures from the peers' net.counters: the run cut into forming,
 * rest and churn from the history, rates from counter differences spread over
 * the phases, restarts, and a scenario's bounds judged on the figures.
 */
import test from 'ava';
import {measureTraffic, sentByPhase, trafficFigures, trafficPhases, trafficVerdict} from '../src/traffic.js';
import type {PhaseSpan} from '../src/traffic.js';
import {evaluate} from '../src/verdict.js';
import {History, T0, coord} from './history-builder.js';

const h = () => new History();
/** Spans as [phase, from, to] in ms after T0, to read at a glance. */
const spansOf = (spans: readonly PhaseSpan[]) => spans.map((s): [string, number, number] => [s.phase, s.from - T0, s.to - T0]);

test('phases: forming until first converged, churn while a fault is in effect or views disagree, rest otherwise', (t) => {
  const b = h().group('alice', 'bob', 'charly');
  const formed = b.now - 1 - T0;
  b.at(2000).pause('charly');
  b.at(3000).resume('charly');
  b.at(5000).fault('loss', {rate: 0.2, links: 'all'});
  b.at(6000).heal();
  b.at(7000).partition(['alice'], ['bob', 'charly']);
  b.at(7500).deadAll(['bob', 'charly'], ['alice']).deadAll(['alice'], ['bob', 'charly']);
  b.at(7600).heal();
  b.at(7700).alive('alice', 'bob').alive('alice', 'charly').alive('bob', 'alice').alive('charly', 'alice');
  b.at(8000).kill('charly');
  b.at(8500).deadAll(['alice', 'bob'], ['charly']);
  b.at(10_000).coordinator('run.end', {});
  t.deepEqual(spansOf(trafficPhases(b.events)), [
    ['forming', 0, formed],
    ['rest', formed, 2000],
    // Paused: charly is not live and the others still see it alive; resumed, they agree again.
    ['churn', 2000, 3000],
    ['rest', 3000, 5000],
    // Loss leaves every view right, but it is a fault in effect until the heal.
    ['churn', 5000, 6000],
    ['rest', 6000, 7000],
    // Each side converges to itself during the partition, and after the heal it takes the alives to merge.
    ['churn', 7000, 7703],
    // The kill takes effect when the process is gone (its peer.exit, a ms after the signal).
    ['rest', 7703, 8001],
    ['churn', 8001, 8501],
    ['rest', 8501, 10_000],
  ]);
});

test('phases: a heal that leaves someone else\'s loss in force (kept_rates) ends no churn; the heal that clears it does', (t) => {
  const b = h().group('alice', 'bob', 'charly');
  const formed = b.now - 1 - T0;
  b.at(2000).fault('loss', {rate: 0.2, links: 'all'});
  b.at(3000).fault('heal', {kept_rates: true, nemesis: 1});
  b.at(4000).heal();
  b.at(6000).coordinator('run.end', {});
  t.deepEqual(spansOf(trafficPhases(b.events)), [
    ['forming', 0, formed],
    ['rest', formed, 2000],
    ['churn', 2000, 4000],
    ['rest', 4000, 6000],
  ]);
});

test('phases: a fault undone in the same ms it was made leaves one stretch of rest, not two', (t) => {
  const b = h().group('alice', 'bob');
  b.events.push(coord(T0 + 1000, 'fault', {kind: 'loss', rate: 0.1, links: 'all'}), coord(T0 + 1000, 'fault', {kind: 'heal'}), coord(T0 + 2000, 'run.end', {}));
  t.deepEqual(spansOf(trafficPhases(b.events)), [
    ['forming', 0, 5],
    ['rest', 5, 2000],
  ]);
});

test('phases: forming lasts until the first start step ended, though one peer alone is converged before the others spawn', (t) => {
  const b = h().coordinator('step.begin', {path: '1', kind: 'start', title: 'start all', line: 3});
  b.up('alice');
  b.at(500).spawn('bob').started('bob');
  b.at(600).coordinator('step.end', {path: '1', kind: 'start', title: 'start all', line: 3, status: 'pass', message: '', durationMs: 600});
  b.at(900).joined('alice', 'bob').joined('bob', 'alice');
  b.at(3000).coordinator('step.end', {path: '2', kind: 'sleep', title: 'sleep 2s', line: 4, status: 'pass', message: '', durationMs: 2000});
  b.at(4000).kill('bob').coordinator('run.end', {});
  // Measured until the last step ended: the peers' shutdown is no phase.
  t.deepEqual(spansOf(trafficPhases(b.events)), [
    ['forming', 1, 901],
    ['rest', 901, 3000],
  ]);
});

test('rates: counter differences spread evenly over the phases they span; mean over peers and the busiest peer', (t) => {
  const b = h();
  b.at(0).up('alice', 'bob');
  b.at(10).joined('alice', 'bob').joined('bob', 'alice');
  // alice: 10 datagrams of 100 bytes a second; bob twice that, with one TCP exchange.
  b.at(1002).counters('alice', 10, 1000).counters('bob', 20, 2000);
  b.at(2002).counters('alice', 20, 2000).counters('bob', 39, 3800, 1, 200);
  b.at(2002 + 500).kill('bob');
  b.at(3002).counters('alice', 30, 3000);
  b.at(3500).dead('alice', 'bob');
  b.at(4002).counters('alice', 40, 4000);
  b.at(5000).coordinator('run.end', {});
  const spans = trafficPhases(b.events);
  t.deepEqual(spansOf(spans), [
    ['forming', 0, 11],
    ['rest', 11, 2503],
    ['churn', 2503, 3500],
    ['rest', 3500, 5000],
  ]);
  const sent = sentByPhase(b.events, spans);
  // alice's last interval (3002..4002) is half churn, half rest: 5 packets each.
  const alice = sent.get('churn')!.get('alice')!;
  t.is(alice.ms, 997);
  t.true(Math.abs(alice.packets - 9.97) < 1e-9);
  const figures = trafficFigures(measureTraffic(b.events));
  t.is(figures['rest_packets_per_peer_s'], 15);
  t.is(figures['rest_max_packets_per_peer_s'], 20);
  t.is(figures['rest_bytes_per_peer_s'], 1500);
  t.is(figures['rest_max_bytes_per_peer_s'], 2000);
  t.is(figures['churn_packets_per_peer_s'], 10, 'bob reported nothing after its kill: only alice is measured there');
  t.is(figures['rest_duration_s'], 4);
  t.is(figures['forming_packets_per_peer_s'], undefined, 'forming lasted 11 ms of a one-second report: too little of it to give forming a rate of its own');
  t.is(figures['forming_duration_s'], undefined);
});

test('rates: a restarted process counts from zero again, and a counter that goes down gives no rate', (t) => {
  const b = h().group('alice', 'bob');
  b.at(1000).counters('bob', 10, 1000);
  b.at(2000).counters('bob', 20, 2000);
  // Restarted: its new process starts from 0, which is no negative rate.
  b.at(2500).coordinator('peer.exit', {peer: 'bob', pid: null, code: null, signal: 'SIGKILL', unexpectedly: false});
  b.at(2600).spawn('bob').started('bob');
  b.at(3602).counters('bob', 10, 1000);
  // A counter lower than the last without a peer.started: a new process whose start was lost; no rate, then on from there.
  b.at(4602).counters('bob', 2, 200);
  b.at(5602).counters('bob', 12, 1200);
  b.at(6000).coordinator('run.end', {});
  const figures = trafficFigures(measureTraffic(b.events));
  for (const [name, value] of Object.entries(figures)) if (!name.endsWith('duration_s')) t.true(value >= 0, `${name} = ${value}`);
  t.is(figures['rest_max_packets_per_peer_s'], 10);
  t.is(figures['churn_max_packets_per_peer_s'], 10);
  const sent = sentByPhase(b.events, trafficPhases(b.events));
  const total = [...sent.values()].reduce((sum, peers) => sum + (peers.get('bob')?.packets ?? 0), 0);
  t.true(Math.abs(total - 40) < 1e-9, 'the 4 intervals that have a rate: 10 + 10 + 10 + 10 packets');
});

test('no counters: no traffic figures', (t) => {
  const b = h().group('alice', 'bob');
  b.at(3000).coordinator('run.end', {});
  t.deepEqual(trafficFigures(measureTraffic(b.events)), {});
});

test('bounds: the busiest peer above a bound fails, naming the phase and the peer; within passes; an unmeasured phase is unknown', (t) => {
  const rest = (charly: number) => ({
    durationMs: 7240,
    peers: new Map([
      ['alice', {packets: 14.9, bytes: 1061}],
      ['bob', {packets: 15.9, bytes: 1157}],
      ['charly', {packets: charly, bytes: 1100}],
    ]),
  });
  const fail = trafficVerdict(new Map([['rest', rest(68.3)]]), {rest: {max_packets_per_peer_s: 40}});
  t.is(fail.status, 'fail');
  t.is(fail.message, 'rest: charly sent 68.3 packets/s, above the bound of 40 (mean 33 packets/s per peer, over 7.2 s)');
  const measure = new Map([['rest', rest(15)]] as const);
  const pass = trafficVerdict(measure, {rest: {max_packets_per_peer_s: 40, max_bytes_per_peer_s: 8000}});
  t.is(pass.status, 'pass');
  t.is(pass.message, 'busiest peer: rest 15.9 packets/s <= 40; rest 1157 bytes/s <= 8000');
  const churn = trafficVerdict(measure, {rest: {max_packets_per_peer_s: 40}, churn: {max_bytes_per_peer_s: 1}});
  t.is(churn.status, 'unknown');
  t.is(churn.message, "cannot judge churn.max_bytes_per_peer_s: the run was not in that phase long enough to measure, for the peers' reports");
  t.is(trafficVerdict(new Map(), {rest: {max_packets_per_peer_s: 40}}).message, 'cannot judge rest.max_packets_per_peer_s: no peer reported net.counters');
});

test('evaluate: every run carries the traffic figures; a bound in run.begin is judged as the traffic invariant', (t) => {
  const run = (traffic: boolean) => {
    const b = h().coordinator('run.begin', {scenario: 'chatty', ...(traffic ? {traffic: {rest: {max_packets_per_peer_s: 40}}} : {})});
    b.group('alice', 'bob');
    for (let s = 1; s <= 3; s++) b.at(s * 1000).counters('alice', s * 10, s * 1000).counters('bob', s * 60, s * 6000);
    return b.at(3500).coordinator('run.end', {}).events;
  };
  const plain = evaluate(run(false));
  t.is(plain.status, 'pass');
  t.deepEqual(plain.invariants, []);
  // bob started a few ms after T0: its first interval is a little under a second.
  t.true(Math.abs(plain.figures['rest_max_packets_per_peer_s']! - 60) <= 0.2);
  const bounded = evaluate(run(true));
  t.is(bounded.status, 'fail');
  t.is(bounded.invariants[0]?.name, 'traffic');
  t.regex(bounded.message ?? '', /^invariant traffic: rest: bob sent 60(\.\d)? packets\/s, above the bound of 40/);
  // The evidence is how fast the busiest peer's counters climbed in the phase.
  t.deepEqual(
    (bounded.evidence ?? []).map((e) => e.replace(/^[\d:.]+ /, '')),
    ['peer:bob net.counters sent 60 datagrams (6000 B), 0 connections (0 B)', 'peer:bob net.counters sent 120 datagrams (12000 B), 0 connections (0 B)', 'peer:bob net.counters sent 180 datagrams (18000 B), 0 connections (0 B)'],
  );
});
