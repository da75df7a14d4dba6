/**
 * The fault planner, pure (no processes): same seed, same plan; a nemesis
 * recovery undoes only the nemesis's own faults; a heal by one side leaves
 * the other side's network rules; a step's random pool ignores the nemesis,
 * and the nemesis's ignores the steps.
 */
import test from 'ava';
import {initialFaultState, nemesisBegins, nemesisPool, planFault, stepPool, withStarted} from '../src/engine/fault-plan.js';
import type {FaultState, NemesisAction, StepFault} from '../src/engine/fault-plan.js';
import {Random, nemesisRandom} from '../src/engine/random.js';
import type {PlanStep} from '../src/scenario/plan.js';

const peers = ['alice', 'bob', 'charly', 'dave', 'eve'];
const started = (): FaultState => withStarted(initialFaultState(peers), peers);
const base = {path: '1', line: 1};
const killRandom: PlanStep = {...base, title: 'kill random', kind: 'kill', target: {kind: 'random'}};
const pauseRandom: PlanStep = {...base, title: 'pause random', kind: 'pause', target: {kind: 'random'}};
const halves: PlanStep = {...base, title: 'partition halves', kind: 'partition', shape: 'halves'};
const round = (n: number, faults: Array<{step: PlanStep; recoverAfterMs?: number}>): NemesisAction => ({nemesis: 'round', round: n, everyMs: 100, faults});

/** Plans moves one after another, as the engine does: each from the state the previous plan left. */
class Planner {
  constructor(
    public state: FaultState,
    private readonly random: Random,
  ) {}

  apply(move: StepFault | NemesisAction): ReturnType<typeof planFault> {
    const plan = planFault(this.state, move, this.random);
    this.state = plan.next;
    return plan;
  }
}

/** Runs steps and nemesis actions in the order given; returns the victims each drew. */
function play(seed: number, moves: Array<StepFault | NemesisAction>, state = nemesisBegins(started())): {steps: string[][]; nemesis: string[][]; state: FaultState} {
  const stepRandom = new Random(seed);
  const nemesis = nemesisRandom(seed);
  const out = {steps: [] as string[][], nemesis: [] as string[][], state};
  for (const move of moves) {
    const plan = planFault(out.state, move, 'nemesis' in move ? nemesis : stepRandom);
    out.state = plan.next;
    const drawn = (plan.describe.peers as string[] | undefined) ?? (plan.describe.groups as string[][] | undefined)?.flat() ?? [];
    if (!('nemesis' in move)) out.steps.push(drawn);
    else if (move.nemesis === 'round') out.nemesis.push(drawn);
  }
  return out;
}

test('the same seed gives the same plan; another seed another', (t) => {
  const moves: Array<StepFault | NemesisAction> = [killRandom, round(1, [{step: killRandom, recoverAfterMs: 50}, {step: halves, recoverAfterMs: 50}]), halves, round(2, [{step: killRandom}, {step: pauseRandom}])];
  const a = play(42, moves);
  const b = play(42, moves);
  t.deepEqual(b.steps, a.steps);
  t.deepEqual(b.nemesis, a.nemesis);
  t.deepEqual(b.state, a.state);
  const others = [1, 2, 3, 4, 5].map((seed) => JSON.stringify(play(seed, moves).steps));
  t.true(others.some((o) => o !== JSON.stringify(a.steps)), 'some other seed draws other victims');
});

test('a step\'s random pool ignores the nemesis; the nemesis\'s pool ignores the steps', (t) => {
  const kills = [killRandom, killRandom, killRandom];
  const alone = play(7, kills);
  // The same steps with nemesis rounds in between, in two different interleavings.
  const nemesisFaults = [{step: killRandom, recoverAfterMs: 1000}];
  const mixedA = play(7, [round(1, nemesisFaults), killRandom, round(2, nemesisFaults), killRandom, round(3, nemesisFaults), killRandom]);
  const mixedB = play(7, [killRandom, killRandom, round(1, nemesisFaults), killRandom, round(2, nemesisFaults), round(3, nemesisFaults)]);
  t.deepEqual(mixedA.steps, alone.steps);
  t.deepEqual(mixedB.steps, alone.steps);
  // The nemesis draws the same, however many step faults came before.
  const nemesisAlone = play(7, [round(1, nemesisFaults), round(2, nemesisFaults), round(3, nemesisFaults)]);
  t.deepEqual(mixedA.nemesis, nemesisAlone.nemesis);
  t.deepEqual(mixedB.nemesis, nemesisAlone.nemesis);
  // Its own victims stay out of its pool until their logical recovery time (round k at k × 100 ms).
  t.is(new Set(nemesisAlone.nemesis.flat()).size, 3, 'three different victims while each is down for 1 s');
  t.deepEqual(stepPool(mixedA.state), peers.filter((p) => !alone.steps.flat().includes(p)));
  t.deepEqual(nemesisPool(mixedA.state, 400), peers.filter((p) => !nemesisAlone.nemesis.flat().includes(p)));
  t.deepEqual(nemesisPool(mixedA.state, 5000), peers, 'after their recovery time, the victims are back in the nemesis\'s pool whatever really happened');
});

test('a nemesis recovery undoes only what its round did', (t) => {
  const run = new Planner(nemesisBegins(started()), new Random(1));
  const apply = (move: StepFault | NemesisAction) => run.apply(move);
  apply({...base, title: 'kill bob', kind: 'kill', target: {kind: 'names', names: ['bob']}});
  apply(round(1, [{step: {...base, title: 'kill', kind: 'kill', target: {kind: 'names', names: ['bob', 'charly']}}, recoverAfterMs: 100}]));
  t.deepEqual(run.state.down, {bob: {step: 'kill', nemesis: {how: 'kill', round: 1}}, charly: {nemesis: {how: 'kill', round: 1}}});
  const recovery = apply({nemesis: 'recover', round: 1});
  t.deepEqual(
    recovery.actions.map((a) => ('peer' in a ? [a.kind, a.peer, a.skipped ?? ''] : [a.kind])),
    [['restart', 'bob', 'a step has taken it down'], ['restart', 'charly', '']],
  );
  t.deepEqual(run.state.down, {bob: {step: 'kill'}}, 'bob stays down: a step took him down');
  // A step restarted a nemesis victim: the recovery leaves it running.
  apply(round(2, [{step: {...base, title: 'pause', kind: 'pause', target: {kind: 'names', names: ['dave']}}, recoverAfterMs: 100}]));
  apply({...base, title: 'restart dave', kind: 'restart', target: {kind: 'names', names: ['dave']}});
  t.deepEqual(apply({nemesis: 'recover', round: 2}).actions.map((a) => ('peer' in a ? a.skipped : undefined)), ['it is running again']);
});

test('a nemesis heal leaves the steps\' partitions, and a step heal leaves the nemesis\'s', (t) => {
  const run = new Planner(nemesisBegins(started()), new Random(3));
  const apply = (move: StepFault | NemesisAction) => run.apply(move);
  apply({...base, title: 'partition', kind: 'partition', groups: [['alice', 'bob'], ['charly', 'dave', 'eve']]});
  apply(round(1, [{step: {...base, title: 'loss', kind: 'loss', rate: 0.2}, recoverAfterMs: 100}]));
  apply(round(2, [{step: {...base, title: 'isolate eve', kind: 'isolate', target: {kind: 'names', names: ['eve']}}, recoverAfterMs: 100}]));
  t.deepEqual(run.state.net.map((r) => [r.kind, r.by === 'nemesis' ? r.round : 'step']), [['cut', 'step'], ['loss', 1], ['cut', 2]]);
  const heal1 = apply({nemesis: 'recover', round: 1});
  t.deepEqual(heal1.actions, [{kind: 'heal', record: {nemesis: 1}}]);
  t.deepEqual(run.state.net.map((r) => [r.kind, r.by === 'nemesis' ? r.round : 'step']), [['cut', 'step'], ['cut', 2]], 'round 1 takes away its loss only');
  apply({...base, title: 'heal', kind: 'heal'});
  t.deepEqual(run.state.net.map((r) => [r.kind, r.by === 'nemesis' ? r.round : 'step']), [['cut', 2]], 'a step heal leaves the nemesis\'s isolation to its recovery');
  apply({nemesis: 'recover', round: 2});
  t.deepEqual(run.state.net, []);
});

test('a step that finds its victim down by the nemesis passes and says so', (t) => {
  let state = nemesisBegins(started());
  state = planFault(state, round(1, [{step: {...base, title: 'kill alice', kind: 'kill', target: {kind: 'names', names: ['alice']}}}]), new Random(1)).next;
  const plan = planFault(state, {...base, title: 'kill alice', kind: 'kill', target: {kind: 'names', names: ['alice']}}, new Random(1));
  t.deepEqual(plan.actions, [{kind: 'kill', peer: 'alice', skipped: 'already down by the nemesis', record: {}}]);
  t.is(plan.summary, 'alice: kill (alice already down by the nemesis)');
  t.deepEqual(stepPool(plan.next), ['bob', 'charly', 'dave', 'eve']);
});

/**
 * What a process really is after the planned actions, carried out as FaultInjector.process does
 * (a kill or a pause needs it alive, a resume paused; a restart starts it whatever it was).
 */
type Real = 'running' | 'paused' | 'dead';
function carryOut(real: Real, actions: ReturnType<typeof planFault>['actions']): {real: Real; problems: string[]} {
  const problems: string[] = [];
  for (const a of actions) {
    if (!('peer' in a) || a.skipped !== undefined) continue;
    if (a.kind === 'restart') real = 'running';
    else if (a.kind === 'resume') real === 'paused' ? (real = 'running') : problems.push(`${a.peer} is not paused`);
    else if (real === 'dead') problems.push(`${a.peer} is not running`);
    else if (a.kind === 'pause') real = 'paused';
    else real = 'dead';
  }
  return {real, problems};
}

/** What the planner's state says the process is: dead under any kill, paused under any pause, else running. */
function planned(state: FaultState, peer: string): Real {
  const d = state.down[peer] ?? {};
  const holds = [d.step, d.nemesis?.how].filter((h) => h !== undefined);
  return holds.some((h) => h !== 'pause') ? 'dead' : holds.includes('pause') ? 'paused' : 'running';
}

test('after any mix of step and nemesis faults on one peer, the planner\'s state is what the process really is', (t) => {
  const bob = (kind: 'kill' | 'pause' | 'resume' | 'restart' | 'terminate'): StepFault => ({...base, title: `${kind} bob`, kind, target: {kind: 'names', names: ['bob']}});
  const moves = ['step kill', 'step terminate', 'step pause', 'step resume', 'step restart', 'nemesis kill', 'nemesis pause', 'nemesis restart', 'recover'] as const;
  let checked = 0;
  const walk = (state: FaultState, real: Real, open: number[], rounds: number, trail: string[]) => {
    if (trail.length === 5) return;
    for (const move of moves) {
      let action: StepFault | NemesisAction;
      let nextOpen = open;
      let nextRounds = rounds;
      if (move === 'recover') {
        if (open.length === 0) continue;
        action = {nemesis: 'recover', round: open[0]!};
        nextOpen = open.slice(1);
      } else if (move.startsWith('nemesis ')) {
        nextRounds = rounds + 1;
        action = round(nextRounds, [{step: bob(move.slice(8) as 'kill') as PlanStep, recoverAfterMs: 100}]);
        nextOpen = [...open, nextRounds];
      } else action = bob(move.slice(5) as 'kill');
      const plan = planFault(state, action, new Random(1));
      const done = carryOut(real, plan.actions);
      const path = [...trail, move].join(' > ');
      t.is(planned(plan.next, 'bob'), done.real, path);
      // The nemesis never fails; a step fails only when the steps' own hold says it must (resuming what is not paused, killing what a step killed).
      const stepHold = state.down.bob?.step;
      const stepMayFail = move === 'step resume' ? stepHold !== 'pause' && planned(state, 'bob') !== 'paused' : move.startsWith('step ') && move !== 'step restart' && stepHold !== undefined && stepHold !== 'pause';
      if (!stepMayFail) t.deepEqual(done.problems, [], path);
      checked++;
      walk(plan.next, done.real, nextOpen, nextRounds, [...trail, move]);
    }
  };
  walk(nemesisBegins(started()), 'running', [], 0, []);
  t.true(checked > 10_000);
});

test('a nemesis kill of a peer a step paused comes back paused, and a later resume step finds it paused', (t) => {
  let state = nemesisBegins(started());
  const apply = (move: StepFault | NemesisAction) => {
    const plan = planFault(state, move, new Random(1));
    state = plan.next;
    return plan.actions.map((a) => ('peer' in a ? `${a.kind} ${a.peer}${a.skipped ? ` (${a.skipped})` : ''}` : a.kind));
  };
  apply({...base, title: 'pause bob', kind: 'pause', target: {kind: 'names', names: ['bob']}});
  t.deepEqual(apply(round(1, [{step: {...base, title: 'kill bob', kind: 'kill', target: {kind: 'names', names: ['bob']}}, recoverAfterMs: 100}])), ['kill bob']);
  t.deepEqual(apply({nemesis: 'recover', round: 1}), ['restart bob', 'pause bob']);
  t.deepEqual(state.down, {bob: {step: 'pause'}});
  t.deepEqual(apply({...base, title: 'resume bob', kind: 'resume', target: {kind: 'names', names: ['bob']}}), ['resume bob']);
  t.deepEqual(state.down, {});
});
