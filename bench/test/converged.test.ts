import test from 'ava';
import {timeToConverged} from '../src/converged.js';
import type {ScenarioResult} from '../src/converged.js';

const scenario = (steps: ScenarioResult['steps'], status = 'pass'): ScenarioResult => ({name: '2000 peers', file: 'scenarios/scale/2000-peers.yaml', status, durationMs: 0, steps});
const start = (status: string, durationMs: number) => ({kind: 'start', title: 'start all', status, durationMs});
const converged = (status: string, durationMs: number) => ({kind: 'await', title: 'await converged within 10m', status, durationMs});

test('the steps up to the converged await, when all of them passed', (t) => {
  const s = scenario([start('pass', 40_000), converged('pass', 60_000), {kind: 'await', title: 'await delivered', status: 'pass', durationMs: 5000}]);
  t.deepEqual(timeToConverged(s), {ms: 100_000, status: 'pass', passed: true});
});

test('an await cut by the run bound is no time to converge, however long the steps ran', (t) => {
  const r = timeToConverged(scenario([start('pass', 105_000), converged('fail', 75_000)], 'fail'));
  t.false(r.passed);
  t.true(Number.isNaN(r.ms));
  t.is(r.status, 'fail');
});

test('a start that never registered everyone is no time to converge either', (t) => {
  const r = timeToConverged(scenario([start('fail', 151_000)], 'fail'));
  t.true(Number.isNaN(r.ms));
  t.false(r.passed);
});

test('a scenario that did not run, or has no converged await, has no time', (t) => {
  const none = timeToConverged(undefined);
  t.true(Number.isNaN(none.ms));
  t.is(none.status, 'not run');
  t.false(none.passed);
  t.true(Number.isNaN(timeToConverged(scenario([start('pass', 1000)])).ms));
});
