/**
 * The timing model's pure functions, the model-relative bound worked out from
 * a history, and the figures an await's verdict carries beside its own.
 */
import test from 'ava';
import type {HistoryEvent} from '../src/history/types.js';
import {conditionModelMs, groupSize, modelBoundAt, modelFigures, timingAt} from '../src/bound.js';
import {Model} from '../src/model.js';
import type {SwimTiming} from '../src/swim-model.js';
import {
  SERF_MAX_CONVERGE,
  convergeModelMs,
  deliveryModelMs,
  epidemicCurve,
  epidemicFraction,
  epidemicRounds,
  epidemicSpreadMs,
  failureDetectionBoundMs,
  joinSpreadModelMs,
  leaveSpreadModelMs,
  rejoinModelMs,
  serfConvergenceAtRound,
  serfConvergenceRounds,
} from '../src/swim-model.js';
import {awaitVerdict, evaluate} from '../src/verdict.js';
import {History, T0} from './history-builder.js';

/** The reference peer's `local` profile, as `peerlab-peer --print-profile local` prints it. */
const local: SwimTiming = {
  probeIntervalMs: 150,
  suspicionMult: 4,
  suspicionMaxTimeoutMult: 4,
  gossipIntervalMs: 50,
  gossipNodes: 3,
  retransmitMult: 4,
  pushPullIntervalMs: 2000,
  chatSyncIntervalMs: 300,
};

/** The `lan` profile's gossip knobs (memberlist's DefaultLANConfig), as `--print-profile lan` prints them. */
const lan: SwimTiming = {...local, probeIntervalMs: 1000, suspicionMaxTimeoutMult: 6, gossipIntervalMs: 200, pushPullIntervalMs: 30_000, chatSyncIntervalMs: 1000};

/** The simulator's own loop (serf.io's _simulator.js seriesData), restated: rounds are drawn until one reaches 99.99%. */
function simulatorRounds(nodes: number, fanout: number, packetLoss: number, nodeFail: number): number {
  let round = 0;
  let last = 0;
  while (last < SERF_MAX_CONVERGE && round < 1000) {
    last = serfConvergenceAtRound({nodes, fanout, packetLoss, nodeFail}, round);
    round++;
  }
  return round - 1;
}

test("Serf's convergence simulator: its defaults (30 nodes, fan-out 3, 0.2 s) converge in 9 rounds, 1.8 s", (t) => {
  const sim = {nodes: 30, fanout: 3};
  t.is(serfConvergenceAtRound(sim, 0), 1 / 32, 'round 0: nodes / (1 + (nodes + 1)), about one member');
  // contact · nodes = fanout / 2 = 1.5: round 1 is 1 / (1 + 31 e^-1.5).
  t.is(serfConvergenceAtRound(sim, 1), 1 / (1 + 31 * Math.exp(-1.5)));
  t.is(serfConvergenceRounds(sim), 9);
  t.true(serfConvergenceAtRound(sim, 8) < SERF_MAX_CONVERGE && serfConvergenceAtRound(sim, 9) >= SERF_MAX_CONVERGE);
});

test("Serf's model: packet loss and failed nodes slow it by the share of contacts they cost", (t) => {
  t.is(serfConvergenceRounds({nodes: 30, fanout: 3, packetLoss: 0.1}), 10, 'ln(31 · 9999) / 1.35 = 9.4');
  t.is(serfConvergenceRounds({nodes: 30, fanout: 3, nodeFail: 0.5}), 17, 'half the contacts land: ln(31 · 9999) / 0.75 = 16.9');
  t.is(serfConvergenceRounds({nodes: 30, fanout: 3, packetLoss: 0.2, nodeFail: 0.2}), 14);
  t.is(serfConvergenceRounds({nodes: 30, fanout: 6}), 5, 'twice the fan-out, about half the rounds');
  t.throws(() => serfConvergenceRounds({nodes: 30, fanout: 3, packetLoss: 1}), {instanceOf: RangeError});
  t.throws(() => serfConvergenceRounds({nodes: 0, fanout: 3}), {instanceOf: RangeError});
  t.throws(() => serfConvergenceAtRound({nodes: 10, fanout: 0}, 1), {instanceOf: RangeError});
});

test("Serf's rounds are exactly where the simulator's loop stops, over a grid of settings", (t) => {
  for (const nodes of [1, 2, 3, 10, 30, 99, 100, 101, 1000, 5000]) {
    for (const fanout of [1, 2, 3, 4, 7]) {
      for (const [loss, fail] of [[0, 0], [0.05, 0], [0, 0.3], [0.5, 0.5]] as const) {
        t.is(serfConvergenceRounds({nodes, fanout, packetLoss: loss, nodeFail: fail}), simulatorRounds(nodes, fanout, loss, fail), `${nodes} nodes, fan-out ${fanout}, loss ${loss}, failed ${fail}`);
      }
    }
  }
});

test('the join and leave spread models of the local and lan profiles: Serf\'s rounds for the group and the one that comes or goes', (t) => {
  t.is(joinSpreadModelMs(local, 10), epidemicRounds(11, 3) * 50, 'the group and the newcomer, 50 ms rounds');
  t.is(joinSpreadModelMs(local, 10), 400);
  t.is(joinSpreadModelMs(local, 50), 450);
  t.is(joinSpreadModelMs(local, 100), 500);
  t.is(joinSpreadModelMs(lan, 200), 2000, '10 rounds of 200 ms');
  t.is(joinSpreadModelMs(lan, 1000), 2200);
  t.is(leaveSpreadModelMs(local, 10), joinSpreadModelMs(local, 10), 'a leave is gossiped like any broadcast in Serf');
  t.is(leaveSpreadModelMs(local, 100), 500);
  t.is(leaveSpreadModelMs(lan, 1000), 2200, '11 rounds of 200 ms');
  // Like log N: each tenfold N adds ln(10) / (fanout / 2) = 1.5 rounds, give or take the rounding up.
  for (const n of [10, 30, 100, 300]) {
    const added = (joinSpreadModelMs(local, 10 * n) - joinSpreadModelMs(local, n)) / local.gossipIntervalMs;
    t.true(added >= 1 && added <= 2, `N=${n} to ${10 * n}: ${added} rounds more`);
  }
});

test('the epidemic curve reaches 99.99% exactly at the rounds epidemicRounds counts, rising all the way', (t) => {
  for (const [n, fanout] of [[3, 3], [10, 3], [100, 3], [1000, 3], [10, 1], [50, 4]] as const) {
    const rounds = epidemicRounds(n, fanout);
    t.true(epidemicFraction(n, fanout, rounds) >= 0.9999, `n=${n} fanout=${fanout} at ${rounds} rounds`);
    t.true(epidemicFraction(n, fanout, rounds - 1) < 0.9999, `n=${n} fanout=${fanout} not yet at ${rounds - 1}`);
    const curve = epidemicCurve(n, fanout, 50);
    t.is(curve.t.length, rounds + 1);
    t.is(curve.t.at(-1), epidemicSpreadMs(n, fanout, 50));
    t.true(curve.fraction[0]! < 0.5 && curve.fraction[0]! > 0, 'few know at first');
    for (let i = 1; i < curve.fraction.length; i++) t.true(curve.fraction[i]! > curve.fraction[i - 1]!, `rising at round ${i}`);
  }
});

test('the epidemic model: rounds grow with log N and shrink with the fan-out, at one gossip interval each', (t) => {
  // Serf's figures: ln((N+1)/(1/0.9999-1)) / (fanout/2), rounded up.
  t.is(epidemicRounds(3, 3), 8);
  t.is(epidemicRounds(10, 3), 8);
  t.is(epidemicRounds(100, 3), 10);
  t.is(epidemicRounds(1000, 3), 11);
  t.is(epidemicRounds(10, 1), 24, 'fan-out 1 needs three times the rounds of fan-out 3');
  t.is(epidemicSpreadMs(100, 3, 50), 500);
  for (const n of [1, 2, 5, 20, 200]) t.true(epidemicRounds(2 * n, 3) >= epidemicRounds(n, 3), `monotone at ${n}`);
});

test('the converge, rejoin, delivery and detection models of the local profile', (t) => {
  t.is(convergeModelMs(local, 3), 150 + 8 * 50, 'a probe interval for the join, then the epidemic');
  t.is(convergeModelMs(local, 100), 150 + 10 * 50);
  t.is(rejoinModelMs(local, 5), convergeModelMs(local, 5), 'a rejoin is a join whose alive must beat the old incarnation');
  t.is(deliveryModelMs(local, 3), 600, 'two anti-entropy intervals');
  t.is(deliveryModelMs(local, 300), 600, 'a direct send does not grow with N');
  t.is(failureDetectionBoundMs(local, 5), 6 * 150 + 4 * 4 * 150 + 10 * 50 + 150);
  t.is(conditionModelMs('detected', local, 5), failureDetectionBoundMs(local, 5));
  t.is(conditionModelMs('converged', local, 5), convergeModelMs(local, 5));
  t.is(conditionModelMs('rejoined', local, 5), rejoinModelMs(local, 5));
  t.is(conditionModelMs('delivered', local, 5), deliveryModelMs(local, 5));
});

/** A group whose peers report the local profile's timing in their peer.started. */
function timedGroup(names: string[], timing: SwimTiming | null = local): History {
  const h = new History();
  h.spawn(...names);
  for (const name of names) h.peer(name, 'peer.started', {address: `127.0.0.1:${7000 + name.length}`, incarnation: 0, profile: 'local', ...(timing ? {timing: {...timing}} : {})});
  for (const viewer of names) h.joined(viewer, ...names.filter((n) => n !== viewer));
  return h;
}

test('the bound is worked out from the timing the peers reported and the live N; detected counts the failed peers too', (t) => {
  const h = timedGroup(['alice', 'bob', 'charly', 'dave']).kill('dave');
  t.deepEqual(timingAt(h.events), {timing: local});
  // dave is down and nobody has noticed: the group converges only after detecting him.
  t.deepEqual(modelBoundAt({kind: 'converged'}, h.events, Infinity), {ms: convergeModelMs(local, 3) + failureDetectionBoundMs(local, 4), n: 3});
  for (const viewer of ['alice', 'bob', 'charly']) h.peer(viewer, 'member.dead', {name: 'dave', incarnation: 0, from: viewer});
  t.deepEqual(modelBoundAt({kind: 'converged'}, h.events, Infinity), {ms: convergeModelMs(local, 3), n: 3}, 'once every live peer holds him dead, only the join model');
  t.deepEqual(modelBoundAt({kind: 'detected'}, h.events, Infinity), {ms: failureDetectionBoundMs(local, 4), n: 4});
  t.deepEqual(modelBoundAt({kind: 'delivered'}, h.events, Infinity), {ms: 600, n: 3});
  t.is(modelBoundAt({kind: 'state', of: 'bob', is: 'alive', seenBy: 'all'}, h.events, Infinity), undefined, 'the model says nothing of a state');
  const model = new Model();
  for (const e of h.events) model.apply(e);
  t.is(groupSize('rejoined', model), 3);
});

test('the latest timing reported counts; without one there is no bound', (t) => {
  const slow = {...local, gossipIntervalMs: 500};
  const h = timedGroup(['alice', 'bob']);
  h.peer('bob', 'peer.started', {address: '127.0.0.1:7003', incarnation: 1, profile: 'local', timing: slow});
  t.deepEqual(timingAt(h.events), {timing: slow});
  t.deepEqual(timingAt(h.events, T0 + 1), {problem: 'no peer reported its timing in its peer.started'}, 'nothing reported by then (two spawns, no peer.started yet)');
  t.deepEqual(modelBoundAt({kind: 'converged'}, timedGroup(['alice', 'bob'], null).events, Infinity), {problem: 'no peer reported its timing in its peer.started'});
});

test('a timing that is not a usable set of knobs makes only the bound unknown: an older usable report still counts, else the problem names the peer and knob', (t) => {
  const h = timedGroup(['alice', 'bob']);
  h.peer('bob', 'peer.started', {address: '127.0.0.1:7003', incarnation: 1, profile: 'local', timing: {...local, gossipNodes: 0}});
  t.deepEqual(timingAt(h.events), {timing: local}, "alice's report still stands");
  const only = timedGroup(['alice'], null);
  only.peer('alice', 'peer.started', {address: '127.0.0.1:7003', incarnation: 1, profile: 'local', timing: {probeIntervalMs: 100}});
  const found = timingAt(only.events);
  t.true('problem' in found && /^alice's peer\.started timing\.suspicionMult: expected a positive number, got nothing/.test(found.problem), JSON.stringify(found));
});

test("Lifeguard's local health multiplier, when a peer reports it, stretches the probes' share of the detection bound; a bad one is named", (t) => {
  const h = timedGroup(['alice'], null);
  h.peer('alice', 'peer.started', {address: '127.0.0.1:7003', incarnation: 1, profile: 'local', timing: {...local, awarenessMaxMultiplier: 8}});
  const found = timingAt(h.events);
  t.deepEqual(found, {timing: {...local, awarenessMaxMultiplier: 8}});
  const stretched = (found as {timing: SwimTiming}).timing;
  t.is(failureDetectionBoundMs(stretched, 5), 6 * 8 * 150 + 4 * 4 * 150 + 10 * 50 + 8 * 150);
  t.is(failureDetectionBoundMs({...local, awarenessMaxMultiplier: 1}, 5), failureDetectionBoundMs(local, 5), 'a multiplier of 1 is none');
  const bad = timedGroup(['alice'], null);
  bad.peer('alice', 'peer.started', {address: '127.0.0.1:7003', incarnation: 1, profile: 'local', timing: {...local, awarenessMaxMultiplier: 0.5}});
  const problem = timingAt(bad.events);
  t.true('problem' in problem && /timing\.awarenessMaxMultiplier: expected a number of at least 1, got 0\.5/.test(problem.problem), JSON.stringify(problem));
});

test('model_ms and model_ratio: the model figure, and the condition figure over it', (t) => {
  t.deepEqual(modelFigures('converged', {converge_ms: 1100}, 550), {model_ms: 550, model_ratio: 2});
  t.deepEqual(modelFigures('detected', {failed: 1, detect_max_ms: 760}, 4400), {model_ms: 4400, model_ratio: 0.17});
  t.deepEqual(modelFigures('rejoined', {rejoin_ms: 259}, 550), {model_ms: 550, model_ratio: 0.47});
  t.deepEqual(modelFigures('delivered', {latency_max_ms: 6}, 600), {model_ms: 600, model_ratio: 0.01});
  t.deepEqual(modelFigures('delivered', {messages: 0}, 600), {model_ms: 600}, 'no figure, no ratio');
});

/** alice and bob up; charly starts later and is seen by both at `seenAt` ms after the await began at 100 ms. */
function lateJoin(seenAt: number): {events: HistoryEvent[]; from: number} {
  const h = timedGroup(['alice', 'bob']);
  h.at(100);
  const from = h.now;
  h.spawn('charly').peer('charly', 'peer.started', {address: '127.0.0.1:7006', incarnation: 0, profile: 'local', timing: {...local}}).joined('charly', 'alice', 'bob');
  h.at(100 + seenAt).joined('alice', 'charly').joined('bob', 'charly');
  return {events: h.events, from};
}

test('an await carries the model figures whether its bound is a duration or a multiple of the model', (t) => {
  const {events, from} = lateJoin(1100);
  const model = {ms: 550, n: 3};
  const wallClock = awaitVerdict({kind: 'converged'}, events, from, from + 1200, 5000, model);
  t.is(wallClock.status, 'pass');
  t.is(wallClock.figures?.model_ms, 550);
  t.is(wallClock.figures?.model_ratio, 2);
  t.is(awaitVerdict({kind: 'converged'}, events, from, from + 1200, 5000).figures?.model_ms, undefined, 'no timing known, no model figures');
});

test('a peer ten times slower than the model fails a model bound that a wall-clock bound lets pass', (t) => {
  const {events, from} = lateJoin(5500);
  const model = {ms: 550, n: 3, multiple: 3};
  const failed = awaitVerdict({kind: 'converged'}, events.filter((e) => e.t <= from + 1650), from, from + 1650, 1650, model);
  t.is(failed.status, 'fail');
  t.regex(failed.message ?? '', /^not within 1650 ms \(3x the model's 550 ms at N=3\): alice sees/);
  t.is(failed.figures?.model_ms, 550);
  t.is(awaitVerdict({kind: 'converged'}, events, from, from + 5600, 8000).status, 'pass', 'within 8s it converged');
});

test('peerlab check judges a model-bounded await with the bound its await.begin recorded', (t) => {
  const {events, from} = lateJoin(2000);
  const h: HistoryEvent[] = [{t: T0, src: 'coordinator', type: 'run.begin', data: {runId: 'r', scenario: 's', file: 'f', seed: 1, invariants: []}}, ...events.filter((e) => e.t < from)];
  const add = (e: HistoryEvent) => h.push(e);
  add({t: from, src: 'coordinator', type: 'step.begin', data: {path: '1', kind: 'await', title: 'await converged within 3x model', line: 1}});
  add({t: from, src: 'coordinator', type: 'await.begin', data: {step: '1', condition: {kind: 'converged'}, withinMs: 1650, model: {ms: 550, n: 3, multiple: 3}}});
  for (const e of events.filter((x) => x.t >= from && x.t <= from + 1650)) add(e);
  const verdict = awaitVerdict({kind: 'converged'}, h, from, from + 1650, 1650, {ms: 550, n: 3, multiple: 3});
  add({t: from + 1650, src: 'coordinator', type: 'await.end', data: {step: '1', condition: {kind: 'converged'}, status: verdict.status, message: verdict.message ?? ''}});
  add({t: from + 1651, src: 'coordinator', type: 'step.end', data: {path: '1', kind: 'await', title: 'await converged within 3x model', line: 1, status: verdict.status, message: verdict.message ?? '', durationMs: 1651}});
  add({t: from + 1652, src: 'coordinator', type: 'run.end', data: {}});
  const evaluation = evaluate(h);
  t.is(evaluation.status, 'fail');
  t.is(evaluation.steps[0]?.message, verdict.message);
  t.regex(evaluation.steps[0]?.message ?? '', /3x the model's 550 ms/);
  t.is(evaluation.steps[0]?.figures?.model_ms, 550);
});

test('an await judged on a history that then grows is judged again on the longer one, and the step judged on the prefix it saw gives what a fresh copy gives', (t) => {
  const {events, from} = lateJoin(1000);
  const h: HistoryEvent[] = [{t: T0, src: 'coordinator', type: 'run.begin', data: {runId: 'r', scenario: 's', file: 'f', seed: 1, invariants: []}}, ...events.filter((e) => e.t < from)];
  h.push({t: from, src: 'coordinator', type: 'step.begin', data: {path: '1', kind: 'await', title: 'await converged within 5s', line: 1}});
  h.push({t: from, src: 'coordinator', type: 'await.begin', data: {step: '1', condition: {kind: 'converged'}, withinMs: 5000}});
  // Checked the engine's way, on its own growing array: before the last member saw charly, then after.
  const late = events.filter((e) => e.t >= from);
  for (const e of late.slice(0, -1)) h.push(e);
  const early = awaitVerdict({kind: 'converged'}, h, from, from + 1200, 5000);
  t.is(early.status, 'fail', 'bob has not seen charly yet');
  h.push(late.at(-1)!);
  const verdict = awaitVerdict({kind: 'converged'}, h, from, from + 1200, 5000);
  t.is(verdict.status, 'pass', 'the same array, grown by one event, is judged on all of it');
  h.push({t: from + 1200, src: 'coordinator', type: 'await.end', data: {step: '1', condition: {kind: 'converged'}, status: verdict.status, message: verdict.message ?? ''}});
  h.push({t: from + 1201, src: 'coordinator', type: 'step.end', data: {path: '1', kind: 'await', title: 'await converged within 5s', line: 1, status: verdict.status, message: verdict.message ?? '', durationMs: 1201}});
  h.push({t: from + 1202, src: 'coordinator', type: 'run.end', data: {}});
  const live = evaluate(h);
  const fresh = evaluate([...h]);
  t.is(live.steps[0]?.status, 'pass');
  t.deepEqual(live.steps, fresh.steps, 'a copy of the history, judged with nothing remembered, gives the same steps');
  t.is(fresh.steps[0]?.message, verdict.message);
});
