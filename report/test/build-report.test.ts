/**
 * buildReport on histories built event by event: each section says what the
 * checkers say of the same history (the verdicts, the missing deliveries, the
 * false deaths), and what the events say (who saw whom when).
 */
import test from 'ava';
import {delivered} from '@peerlab/checkers/delivered';
import {noFalseDead} from '@peerlab/checkers/invariants';
import {evaluate} from '@peerlab/checkers/verdict';
import type {ReportData} from '../src/index.js';
import {buildReport, chunkCount, eventChunk, memberStates} from '../src/index.js';
// The checkers' own test builder: the report is tested on the same shapes of history as the checkers.
import {History, T0} from '@peerlab/checkers/test/history-builder';

const stateName = (code: number) => memberStates[code];

/** The state the last change gave `observer`'s view of `subject` (by name), or undefined. */
function lastState(data: ReportData, observer: string, subject: string): string | undefined {
  const o = data.peers.indexOf(observer);
  const s = data.peers.indexOf(subject);
  const c = data.membership.changes;
  for (let i = c.t.length - 1; i >= 0; i--) if (c.observer[i] === o && c.subject[i] === s) return stateName(c.state[i]!);
  return undefined;
}

function killHistory(): History {
  const h = new History();
  h.coordinator('run.begin', {scenario: 'kill', peers: ['alice', 'bob', 'charly']});
  h.group('alice', 'bob', 'charly');
  h.at(1000).coordinator('peer.kill', {peer: 'charly', signal: 'SIGKILL'}).exit('charly').fault('kill', {peer: 'charly'});
  h.at(1200).suspect('alice', 'charly').suspect('bob', 'charly', 'alice');
  h.at(1500).dead('alice', 'charly').at(1700).dead('bob', 'charly', 'alice');
  h.at(2000).coordinator('run.end', {});
  return h;
}

test('a kill: the band, the lifecycle, the epochs, every observer suspecting then declaring it dead, and the change converging when the last does', (t) => {
  const data = buildReport(killHistory().events);
  t.deepEqual(data.peers, ['alice', 'bob', 'charly']);
  const charly = 2;
  t.is(data.meta.t0, T0);
  t.is(data.meta.status, evaluate(killHistory().events).status);

  const band = data.timeline.faults.find((f) => f.kind === 'kill');
  t.truthy(band, JSON.stringify(data.timeline.faults));
  t.deepEqual(band!.peers, [charly]);
  t.is(band!.from, 1000);
  t.is(band!.to, undefined, 'never restarted: to the end');

  t.deepEqual(
    data.timeline.lifecycles[charly]!.map((s) => s.state),
    ['running', 'down'],
  );
  t.is(data.timeline.lifecycles[charly]![1]!.from, 1001);

  const {epochs} = data.membership;
  t.deepEqual(epochs.live.at(-1), [0, 1], 'charly is out of the live set after its exit');
  t.deepEqual(epochs.sides.at(-1), [[0, 1]]);

  for (const observer of ['alice', 'bob']) t.is(lastState(data, observer, 'charly'), 'dead', `${observer} holds charly dead`);

  const fault = data.detection.faults.find((f) => f.subject === charly);
  t.truthy(fault);
  t.is(fault!.kind, 'kill');
  t.is(fault!.t, 1000, 'the failure starts at the signal, as the detected checker times it');
  t.deepEqual(
    fault!.observers.map((o) => [data.peers[o.observer], o.suspectAt, o.deadAt]),
    [
      ['alice', 1200, 1500],
      ['bob', 1201, 1700],
    ],
  );
  t.deepEqual(data.detection.falseDeaths, []);

  const kill = data.convergence.find((c) => c.kind === 'kill');
  t.truthy(kill);
  t.is(kill!.subject, charly);
  t.is(kill!.n, 2);
  t.is(kill!.completeAt, 1700, 'when bob, the last observer, held it dead');
  t.deepEqual(kill!.curve.fraction, [0, 0.5, 1]);
  t.deepEqual(kill!.curve.t, [1001, 1500, 1700]);
  t.is(kill!.model, undefined, 'the peers reported no timing');
});

test('a partition: two sides in the epochs and the band, a heal that ends it, and a heal change that completes when each side holds the other live again', (t) => {
  const h = new History();
  h.coordinator('run.begin', {scenario: 'partition', peers: ['alice', 'bob', 'charly', 'dave']});
  h.group('alice', 'bob', 'charly', 'dave');
  h.at(1000).partition(['alice', 'bob'], ['charly', 'dave']);
  h.at(1500).deadAll(['alice', 'bob'], ['charly', 'dave']).deadAll(['charly', 'dave'], ['alice', 'bob']);
  h.at(3000).heal();
  h.at(3200);
  for (const v of ['alice', 'bob']) for (const m of ['charly', 'dave']) h.alive(v, m);
  h.at(3400);
  for (const v of ['charly', 'dave']) for (const m of ['alice', 'bob']) h.alive(v, m);
  const data = buildReport(h.events);

  const split = data.membership.epochs.sides.find((sides) => sides.length === 2);
  t.deepEqual(split, [
    [0, 1],
    [2, 3],
  ]);
  t.deepEqual(data.membership.epochs.sides.at(-1), [[0, 1, 2, 3]], 'one side again after the heal');

  const band = data.timeline.faults.find((f) => f.kind === 'partition');
  t.is(band?.from, 1000);
  t.is(band?.to, 3000);
  t.deepEqual(band?.sides, [
    [0, 1],
    [2, 3],
  ]);
  t.is(band?.label, 'partition [alice, bob] | [charly, dave]');

  const heal = data.convergence.find((c) => c.kind === 'heal');
  t.truthy(heal);
  t.is(heal!.n, 4);
  t.is(heal!.completeAt, 3403, 'when dave, the last, held both of the other side live');
  // Sampled only when it moves: the fraction as each observer holds both newcomers live, the distinct views as any view changes.
  t.deepEqual(heal!.curve.t, [3000, 3200, 3201, 3203, 3400, 3401, 3403]);
  t.deepEqual(heal!.curve.fraction, [0, 0, 0.25, 0.5, 0.5, 0.75, 1]);
  t.deepEqual(heal!.curve.views, [2, 3, 3, 2, 3, 2, 1], 'two sides, a view between, one view when all agree');

  // Each peer on the other side is a failure its observers detect.
  const subjects = data.detection.faults.filter((f) => f.kind === 'partition');
  t.is(subjects.length, 4);
  for (const f of subjects) {
    t.is(f.observers.length, 2);
    for (const o of f.observers) t.truthy(o.deadAt, `${data.peers[o.observer]} declared ${data.peers[f.subject]} dead`);
  }
  t.deepEqual(data.detection.falseDeaths, [], 'deaths across a partition are no false deaths');
});

test('a restarted peer: its observer views are reset to absent, then it holds itself; the restart band lasts until the new process starts', (t) => {
  const h = new History();
  h.group('alice', 'bob');
  h.at(1000).coordinator('peer.kill', {peer: 'bob', signal: 'SIGKILL'}).fault('restart', {peer: 'bob'}).exit('bob').spawn('bob');
  h.at(1500).started('bob');
  const data = buildReport(h.events);
  const bob = data.peers.indexOf('bob');
  const c = data.membership.changes;
  const atRestart = c.t.map((_, i) => i).filter((i) => c.observer[i] === bob && c.t[i] === 1500);
  t.deepEqual(
    atRestart.map((i) => [data.peers[c.subject[i]!], stateName(c.state[i]!)]),
    [
      ['alice', 'absent'],
      ['bob', 'alive'],
    ],
    'alice is gone from the new view, which holds only itself',
  );

  const band = data.timeline.faults.find((f) => f.kind === 'restart');
  t.truthy(band, JSON.stringify(data.timeline.faults));
  t.is(band!.from, 1000);
  t.is(band!.to, 1500);
  t.falsy(data.timeline.faults.find((f) => f.kind === 'kill'), 'the SIGKILL of a restart is no kill band');
  t.deepEqual(
    data.convergence.filter((x) => x.subject === bob).map((x) => x.kind),
    ['join', 'kill', 'restart'],
  );
  t.falsy(data.detection.faults.find((f) => f.subject === bob), 'a restart is no failure to detect');
});

test('messages: deliveries flagged as the chat fold judges them, missing receivers exactly as the delivered checker counts them, unsent ids apart', (t) => {
  const h = new History();
  h.coordinator('run.begin', {scenario: 'chat', peers: ['alice', 'bob', 'charly']});
  h.group('alice', 'bob', 'charly');
  h.at(1000).send('alice', 1).send('alice', 2).send('alice', 3);
  h.at(1010).deliverAll('alice:e1:1', 'alice', 'bob', 'charly');
  h.deliver('bob', 'alice:e1:1');
  h.deliverAll('alice:e1:3', 'alice', 'bob');
  h.deliverAll('alice:e1:2', 'alice', 'bob');
  h.at(1100).deliver('charly', 'nobody:e1:1');
  const history = h.events;
  const data = buildReport(history);
  const m = data.messages;
  t.deepEqual(m.sent.id, ['alice:e1:1', 'alice:e1:2', 'alice:e1:3']);
  t.deepEqual(m.sent.sender, [0, 0, 0]);
  t.deepEqual(m.sent.t, [1000, 1001, 1002]);
  const rows = m.deliveries.t.map((_, i) => [m.sent.id[m.deliveries.message[i]!], data.peers[m.deliveries.peer[i]!], m.deliveries.flag[i]]);
  t.deepEqual(rows, [
    ['alice:e1:1', 'alice', 0],
    ['alice:e1:1', 'bob', 0],
    ['alice:e1:1', 'charly', 0],
    ['alice:e1:1', 'bob', 1],
    ['alice:e1:3', 'alice', 0],
    ['alice:e1:3', 'bob', 0],
    ['alice:e1:2', 'alice', 2],
    ['alice:e1:2', 'bob', 2],
  ]);
  t.deepEqual(m.unsent, [{id: 'nobody:e1:1', peer: 2, t: 1100}]);
  const missing = m.missing.message.map((k, i) => [m.sent.id[k], data.peers[m.missing.peer[i]!]]);
  t.deepEqual(missing, [
    ['alice:e1:2', 'charly'],
    ['alice:e1:3', 'charly'],
  ]);
  const verdict = delivered(history, {from: T0, at: history.at(-1)!.t});
  t.deepEqual({missing: missing.length}, {missing: verdict.figures?.missing}, 'the ✕ ends are the missing deliveries the checker counts');
  const p50 = m.latency.p50.filter((x) => x !== null);
  t.true(p50.length > 0);
  t.true(m.latency.p50.every((x) => x === null || (Number.isFinite(x) && x >= 0)), 'no NaN: an empty bucket is null');
});

test('a delivered await that failed at its deadline marks the receivers it found missing then, though the message came later', (t) => {
  const h = new History();
  h.coordinator('run.begin', {scenario: 'late', peers: ['alice', 'bob', 'charly']});
  h.group('alice', 'bob', 'charly');
  const awaitDelivered = (path: string, line: number, from: number, to: number, status: 'pass' | 'fail', message: string) => {
    h.at(from).coordinator('step.begin', {path, kind: 'await', title: 'await delivered', line});
    h.coordinator('await.begin', {step: path, condition: {kind: 'delivered'}, withinMs: to - from});
    return () => {
      h.at(to).coordinator('await.end', {step: path, condition: {kind: 'delivered'}, status, message});
      h.coordinator('step.end', {path, kind: 'await', title: 'await delivered', line, status, message, durationMs: to - from});
    };
  };
  h.at(1000).send('alice', 1).send('alice', 2);
  const first = awaitDelivered('1', 3, 1100, 1600, 'fail', 'charly: alice:e1:2 missing');
  h.at(1200).deliverAll('alice:e1:1', 'alice', 'bob', 'charly');
  h.deliverAll('alice:e1:2', 'alice', 'bob');
  first();
  // Late: after the await's deadline, before the run's end, where `missing` is judged.
  h.at(1900).deliver('charly', 'alice:e1:2');
  h.at(2000).send('bob', 1);
  const second = awaitDelivered('2', 5, 2000, 2500, 'pass', '');
  h.at(2100).deliverAll('bob:e1:1', 'alice', 'bob', 'charly');
  second();
  h.at(3000).coordinator('run.end', {});
  const data = buildReport(h.events);
  t.deepEqual(evaluate(h.events).steps.map((s) => s.status), ['fail', 'pass']);
  const m = data.messages;
  t.deepEqual(m.missing, {message: [], peer: []}, 'every message arrived by the end');
  const late = m.missingAtAwait.message.map((k, i) => [m.sent.id[k], data.peers[m.missingAtAwait.peer[i]!], m.missingAtAwait.t[i], m.missingAtAwait.step[i]]);
  t.deepEqual(late, [['alice:e1:2', 'charly', 1600, '1']], 'the passing await marks nothing');
  // The checker's own count at the deadline, on the prefix the engine judged.
  const endIndex = h.events.findIndex((e) => e.type === 'await.end');
  t.is(delivered(h.events.slice(0, endIndex), {from: T0 + 1100, at: T0 + 1600}).figures?.missing, late.length);
  const arrived = m.deliveries.t.filter((_, i) => m.sent.id[m.deliveries.message[i]!] === 'alice:e1:2' && data.peers[m.deliveries.peer[i]!] === 'charly');
  t.deepEqual(arrived, [1900], 'the late delivery is still drawn, after the deadline');
});

test('a peer declared dead while live and reachable is a false death, counted as the no-false-dead invariant counts it', (t) => {
  const h = new History();
  h.coordinator('run.begin', {scenario: 'false', peers: ['alice', 'bob', 'charly'], invariants: ['no-false-dead']});
  h.group('alice', 'bob', 'charly');
  h.coordinator('peer.registered', {peer: 'alice', pid: 1, registrations: 1});
  h.at(1000).suspect('bob', 'charly').dead('bob', 'charly');
  h.at(2000).coordinator('run.end', {});
  const data = buildReport(h.events);
  const verdict = noFalseDead(h.events);
  t.is(verdict.status, 'fail');
  t.deepEqual(
    {false_dead: data.detection.falseDeaths.length, false_suspicions: data.detection.falseSuspicions.length},
    {false_dead: verdict.figures?.false_dead, false_suspicions: verdict.figures?.false_suspicions},
  );
  t.deepEqual(data.detection.falseDeaths[0], {t: 1001, observer: 1, subject: 2});
  t.is(data.meta.status, 'fail');
  t.deepEqual(data.meta.firstFailure, {anchor: 'invariant-no-false-dead', t: 1001, message: data.meta.message!});
  t.true(data.meta.message!.startsWith('invariant no-false-dead'));
  t.deepEqual(
    data.timeline.checks.map((c) => [c.anchor, c.status, c.t]),
    [['invariant-no-false-dead', 'fail', 1001]],
  );
});

test('steps: their times and evaluate verdicts, the failed one as a marker, and firstFailure the step evaluate blames', (t) => {
  const h = new History();
  h.coordinator('run.begin', {scenario: 'steps', peers: ['alice']});
  h.coordinator('step.begin', {path: '1', kind: 'start', title: 'start all', line: 3, peers: ['alice']});
  h.up('alice').coordinator('peer.registered', {peer: 'alice', pid: 1001, registrations: 1});
  h.coordinator('step.end', {path: '1', kind: 'start', title: 'start all', line: 3, status: 'pass', message: '1 registered', durationMs: 3});
  h.at(500).coordinator('step.begin', {path: '2', kind: 'parallel', title: 'parallel (1 steps)', line: 4});
  h.coordinator('step.begin', {path: '2.1', kind: 'run', title: 'on alice run "x"', line: 5});
  h.coordinator('command.send', {id: 'c1', step: '2.1', peer: 'alice', name: 'x', args: {}});
  h.at(600).coordinator('command.reply', {id: 'c1', step: '2.1', peer: 'alice', ok: false, error: {message: 'no such command', code: 'unknown-command'}});
  h.coordinator('step.end', {path: '2.1', kind: 'run', title: 'on alice run "x"', line: 5, status: 'fail', message: 'alice: no such command', durationMs: 100});
  h.coordinator('step.end', {path: '2', kind: 'parallel', title: 'parallel (1 steps)', line: 4, status: 'fail', message: '', durationMs: 100});
  h.at(700).coordinator('step.begin', {path: '3', kind: 'wait', title: 'wait 1s', line: 6});
  const data = buildReport(h.events);
  const evaluation = evaluate(h.events);
  t.deepEqual(
    data.timeline.steps.map((s) => [s.anchor, s.depth, s.begin, s.end, s.status]),
    [
      ['step-1', 0, 1, 5, 'pass'],
      ['step-2', 0, 500, 602, 'fail'],
      ['step-2.1', 1, 501, 601, 'fail'],
      ['step-3', 0, 700, undefined, 'unknown'],
    ],
  );
  t.deepEqual(
    data.timeline.steps.map((s) => s.message),
    evaluation.steps.map((s) => s.message),
  );
  t.is(data.meta.status, 'fail');
  t.deepEqual(data.meta.firstFailure, {anchor: 'step-2.1', t: 601, message: evaluation.message!});
  t.deepEqual(
    data.timeline.checks.map((c) => [c.anchor, c.status]),
    [
      ['step-2.1', 'fail'],
      ['step-3', 'unknown'],
    ],
    'leaf steps only: a block fails by its step',
  );
});

test('the event log: every event indexed by time, source and type, its text in chunks of the history as it is', (t) => {
  const h = killHistory();
  const data = buildReport(h.events, {chunkSize: 4, live: true});
  t.true(data.meta.live);
  const log = data.eventLog;
  t.is(log.count, h.events.length);
  t.is(log.chunkSize, 4);
  for (let i = 0; i < log.count; i++) {
    const e = h.events[i]!;
    t.is(log.t[i], e.t - T0);
    t.is(log.sources[log.src[i]!], e.src);
    t.is(log.types[log.type[i]!], e.type);
  }
  t.is(chunkCount(log.count, 4), Math.ceil(h.events.length / 4));
  const chunk = eventChunk(h.events, 1, 4);
  t.is(chunk.index, 1);
  t.deepEqual(
    chunk.events.map((e) => e.type),
    h.events.slice(4, 8).map((e) => e.type),
  );
  t.is(data.timeline.rate.counts.reduce((a, b) => a + b, 0), h.events.length, 'every event in some bucket');
});

test('the model curve comes from the peers\' timing and reaches the epidemic model\'s 99.99% at the model time', (t) => {
  const timing = {probeIntervalMs: 150, suspicionMult: 4, suspicionMaxTimeoutMult: 4, gossipIntervalMs: 50, gossipNodes: 3, retransmitMult: 4, pushPullIntervalMs: 2000, chatSyncIntervalMs: 300};
  const h = new History();
  h.spawn('alice', 'bob', 'charly');
  for (const name of ['alice', 'bob', 'charly']) h.peer(name, 'peer.started', {address: `127.0.0.1:${name.length}`, incarnation: 0, profile: 'local', timing});
  for (const v of ['alice', 'bob', 'charly']) h.joined(v, ...['alice', 'bob', 'charly'].filter((n) => n !== v));
  h.at(1000).coordinator('peer.kill', {peer: 'charly', signal: 'SIGKILL'}).exit('charly');
  const data = buildReport(h.events);
  const kill = data.convergence.find((c) => c.kind === 'kill')!;
  t.truthy(kill.model);
  t.is(kill.model!.t[0], kill.t);
  t.is(kill.model!.t.at(-1), kill.t + kill.model!.ms, 'the curve ends at the model time');
  t.true(kill.model!.fraction.at(-1)! >= 0.9999);
  const fault = data.detection.faults.find((f) => f.kind === 'kill')!;
  t.true(fault.boundMs! > 0);
});

test('an illegal transition is marked where the legality checker finds it', (t) => {
  const h = new History();
  h.coordinator('run.begin', {scenario: 'legality', peers: ['alice', 'bob'], invariants: ['membership-legality']});
  h.group('alice', 'bob');
  h.at(800).member('alice', 'alive', 'bob', 3);
  h.at(900).member('alice', 'suspect', 'bob', 1);
  h.at(1000).coordinator('run.end', {});
  const data = buildReport(h.events);
  t.is(data.meta.status, 'fail');
  t.deepEqual(
    data.timeline.checks.map((c) => [c.anchor, c.t]),
    [['invariant-membership-legality', 900]],
  );
  t.is(data.meta.firstFailure?.t, 900);
});

test('every prefix of a run builds, as the live view rebuilds it while the run goes on', (t) => {
  const h = killHistory();
  h.at(1800).send('alice', 1).deliverAll('alice:e1:1', 'alice', 'bob');
  for (let n = 0; n <= h.events.length; n++) {
    const prefix = h.events.slice(0, n);
    const data = buildReport(prefix, {live: true});
    t.is(data.eventLog.count, n);
    t.true(data.meta.live);
    t.is(data.meta.end, n === 0 ? 0 : Math.max(...prefix.map((e) => e.t)) - prefix[0]!.t);
    t.notThrows(() => JSON.stringify(data));
  }
});
