/**
 * judgeStep, the one function that judges a step: live on a prefix (as the
 * engine calls it, before the step.end) and offline through evaluate() on the
 * whole history give the same result; blocks fold their steps' verdicts.
 */
import test from 'ava';
import type {CoordinatorEventType, HistoryEvent} from '../src/history/types.js';
import {coord} from './history-builder.js';
import type {DataOf} from './history-builder.js';
import type {StepResult} from '../src/results.js';
import {evaluate, judgeStep} from '../src/verdict.js';
import type {StepEnding} from '../src/verdict.js';

/** Plays a run the way the engine records it: each step judged on the history so far, then its step.end appended. */
type BeginDetails = Omit<DataOf<'step.begin'>, 'path' | 'kind' | 'title' | 'line'>;

function record(): {history: HistoryEvent[]; live: StepResult[]; begin(path: string, kind: string, title: string, data?: BeginDetails): number; end(begin: number, ending: Omit<StepEnding, 'at'>): StepResult; add<K extends CoordinatorEventType>(type: K, data: DataOf<K>): void} {
  const history: HistoryEvent[] = [];
  const live: StepResult[] = [];
  let t = 1000;
  const add = <K extends CoordinatorEventType>(type: K, data: DataOf<K>) => void history.push(coord((t += 10), type, data));
  return {
    history,
    live,
    add,
    begin(path, kind, title, data = {}) {
      add('step.begin', {path, kind, title, line: 1, ...data});
      return history.length - 1;
    },
    end(begin, ending) {
      const at = (t += 10);
      const {step} = judgeStep(history, begin, history.length, {at, ...ending}, live);
      live.push(step);
      const b = history[begin]!.data;
      history.push({t: at, src: 'coordinator', type: 'step.end', data: {...b, status: step.status, message: step.message, ...(ending.error ? {error: ending.error} : {}), durationMs: step.durationMs}});
      return step;
    },
  };
}

test('a block fails with the message of its first step that did not pass, live and offline alike', (t) => {
  const run = record();
  run.add('run.begin', {scenario: 's', file: 'f', runId: 'r', seed: 1, invariants: []});
  const start = run.begin('1', 'start', 'start all', {peers: ['alice']});
  run.add('peer.registered', {peer: 'alice', pid: 101, registrations: 1});
  run.end(start, {});
  const block = run.begin('2', 'repeat', 'repeat 2 times');
  const sleep = run.begin('2.1.1', 'sleep', 'sleep 1s');
  run.end(sleep, {status: 'pass', message: ''});
  const send = run.begin('2.1.2', 'run', 'alice: send hi', {peers: ['alice']});
  run.add('command.send', {id: 'cmd1', step: '2.1.2', peer: 'alice', name: 'send', args: {}});
  run.add('command.reply', {id: 'cmd1', step: '2.1.2', peer: 'alice', ok: false, error: {message: 'no such room', code: 'failed'}});
  const failed = run.end(send, {});
  const folded = run.end(block, {});
  run.add('run.end', {});
  t.is(failed.message, 'alice: no such room');
  t.is(folded.status, 'fail');
  t.is(folded.message, 'step 2.1.2: alice: no such room');
  const offline = evaluate(run.history);
  t.deepEqual(offline.steps.map((s) => s.path), ['1', '2', '2.1.1', '2.1.2'], 'reported in the order the steps began');
  for (const step of offline.steps) t.deepEqual(step, run.live.find((s) => s.path === step.path), `step ${step.path}`);
  t.is(offline.message, 'step 2.1.2 (line 1) alice: send hi: alice: no such room');
});

test('a start step is judged from the registrations and exits in its window, live and offline alike', (t) => {
  const run = record();
  run.add('run.begin', {scenario: 's', file: 'f', runId: 'r', seed: 1, invariants: []});
  const start = run.begin('1', 'start', 'start all', {peers: ['alice', 'bob']});
  run.add('peer.registered', {peer: 'alice', pid: 101, registrations: 1});
  run.add('peer.exit', {peer: 'bob', pid: 102, code: 2, signal: null, unexpectedly: true});
  const live = run.end(start, {});
  run.add('run.end', {});
  t.is(live.status, 'unknown');
  t.is(live.message, 'bob exited (code 2) before it registered; see logs/bob.log');
  t.deepEqual(evaluate(run.history).steps, [live]);
});

test('a step that never ended is undecided; an error decides with the status recorded', (t) => {
  const run = record();
  run.add('run.begin', {scenario: 's', file: 'f', runId: 'r', seed: 1, invariants: []});
  const sleep = run.begin('1', 'sleep', 'sleep 5s');
  const timedOut = run.end(sleep, {status: 'fail', error: "the scenario's timeout of 1000 ms ran out"});
  run.begin('2', 'sleep', 'sleep 5s');
  const offline = evaluate(run.history);
  t.deepEqual(offline.steps[0], timedOut);
  t.like(offline.steps[1], {status: 'unknown', message: 'the step did not finish (the run ended early)'});
});

test('in a parallel block where two steps fail, the block and the run are explained by the same step: the first to fail', (t) => {
  const run = record();
  run.add('run.begin', {scenario: 's', file: 'f', runId: 'r', seed: 1, invariants: []});
  const block = run.begin('1', 'parallel', 'parallel');
  const slow = run.begin('1.1', 'run', 'alice: send a', {peers: ['alice']});
  const fast = run.begin('1.2', 'run', 'bob: send b', {peers: ['bob']});
  run.add('command.send', {id: 'c2', step: '1.2', peer: 'bob', name: 'send', args: {}});
  run.add('command.reply', {id: 'c2', step: '1.2', peer: 'bob', ok: false, error: {message: 'bob failed first', code: 'failed'}});
  run.end(fast, {});
  run.add('command.send', {id: 'c1', step: '1.1', peer: 'alice', name: 'send', args: {}});
  run.add('command.reply', {id: 'c1', step: '1.1', peer: 'alice', ok: false, error: {message: 'alice failed later', code: 'failed'}});
  run.end(slow, {});
  const folded = run.end(block, {});
  run.add('run.end', {});
  t.is(folded.message, 'step 1.2: bob: bob failed first');
  const offline = evaluate(run.history);
  t.is(offline.steps.find((s) => s.path === '1')?.message, folded.message);
  t.is(offline.message, 'step 1.2 (line 1) bob: send b: bob: bob failed first');
});
