/**
 * Runs one scenario on fresh peers and records everything in its history.
 * The engine talks to peers only through the coordinator's runner and hub;
 * it decides when an await is satisfied with the same checkers that later
 * judge the run, and the final verdict is computed from the history alone.
 */
import type {CoordinatorEventData} from '@peerlab/events/contract';
import {mkdir, writeFile} from 'node:fs/promises';
import {writeFileAtomic} from '@peerlab/node-kit/write-file-atomic';
import path from 'node:path';
import {Coordinator} from '../coordinator.js';
import type {RunnerKind} from '../runners/runner.js';
import {HistoryWriter} from '../history/writer.js';
import {recordCoordinator} from '../history/record.js';
import {writeBuiltReport} from '@peerlab/report';
import type {Condition, Status, Verdict} from '@peerlab/checkers/history/types';
import type {PlanStep, Scenario, Target, Within} from '../scenario/plan.js';
import type {ScenarioInfo} from '../reporters/reporter.js';
import type {ScenarioResult, StepResult} from './results.js';
import {awaitVerdict, concludeAwait, evaluate, judgeStep} from '@peerlab/checkers/verdict';
import type {StepEnding} from '@peerlab/checkers/verdict';
import {modelBoundAt} from '@peerlab/checkers/bound';
import {ConvergenceTracker, convergedVerdict} from '@peerlab/checkers/converged';
import {Random, nemesisRandom} from './random.js';
import {FaultInjector} from './faults.js';
import {initialFaultState, nemesisBegins, planFault, withStarted} from './fault-plan.js';
import type {FaultState, StepFault} from './fault-plan.js';
import {kernelSupport} from '../faults/kernel/nft.js';

/** The nft binary for a scenario loaded with kernel faults; checked again here, since the machine may have changed since it loaded. */
function kernelNft(): string {
  const support = kernelSupport();
  if (!support.ok) throw new Error(support.reason);
  return support.nft;
}

export interface RunScenarioOptions {
  outDir: string;
  seed: number;
  attempt: number;
  peerBin?: string;
  /** What runs the peers (default: local processes); the scenarios were loaded against its limits. */
  runner?: RunnerKind;
  /** Where the coordinator listens, when the runner's peers cannot reach loopback (default: 127.0.0.1, any port). */
  listen?: {host: string; port?: number; allowedHosts?: readonly string[]};
  /** Also write the HTML report into <runDir>/report/ (before result.json, which then names it). */
  report?: boolean;
  /** The history as it is being written, for a live view of the run. */
  onHistory?(history: HistoryWriter, info: ScenarioInfo): void;
  onBegin?(info: ScenarioInfo): void | Promise<void>;
  onStepEnd?(info: ScenarioInfo, step: StepResult): void | Promise<void>;
}

class ScenarioTimeout extends Error {}

/** How long a model-bounded await waits for a peer's peer.started (and its timing) that registration outran. */
const TIMING_WAIT_MS = 2000;
/** How long the end of a scenario waits for the nemesis to undo what it broke (a restart waits for registration). */
const NEMESIS_STOP_MS = 20_000;

/** Waits `ms`, or less if `stop` fires first; says whether it was cut short. */
function waitOrStop(ms: number, stop: AbortSignal): Promise<boolean> {
  if (stop.aborted) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      stop.removeEventListener('abort', onStop);
      resolve(false);
    }, ms);
    const onStop = () => {
      clearTimeout(timer);
      resolve(true);
    };
    stop.addEventListener('abort', onStop, {once: true});
  });
}

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40) || 'scenario';
}

function stamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace(/\.(\d{3}).*/, '$1');
}

export async function runScenario(scenario: Scenario, options: RunScenarioOptions): Promise<ScenarioResult> {
  const runId = `${stamp()}-${slug(scenario.name)}${options.attempt > 1 ? `-${options.attempt}` : ''}`;
  const runDir = path.join(options.outDir, runId);
  await mkdir(runDir, {recursive: true});
  await writeFile(path.join(runDir, 'scenario.yaml'), scenario.source);
  await writeFile(path.join(runDir, 'seed'), `${options.seed}\n`);
  const history = new HistoryWriter(path.join(runDir, 'history.jsonl'));
  const info: ScenarioInfo = {name: scenario.name, file: scenario.file, runId, attempt: options.attempt, runDir, ...(scenario.faults === 'kernel' ? {faults: 'kernel' as const} : {})};
  const started = Date.now();
  options.onHistory?.(history, info);
  await options.onBegin?.(info);
  history.append('run.begin', {
    scenario: scenario.name,
    file: scenario.file,
    runId,
    seed: options.seed,
    attempt: options.attempt,
    peers: scenario.peers,
    profile: scenario.profile,
    invariants: scenario.invariants,
    timeoutMs: scenario.timeoutMs,
    ...(scenario.ownTimeoutMs !== undefined ? {ownTimeoutMs: scenario.ownTimeoutMs} : {}),
    ...(scenario.traffic ? {traffic: scenario.traffic} : {}),
    faults: scenario.faults,
  });

  let coordinator: Coordinator | undefined;
  let runError: string | undefined;
  try {
    coordinator = await Coordinator.start({
      runId,
      logDir: path.join(runDir, 'logs'),
      dataDir: path.join(runDir, 'peers'),
      profile: scenario.profile,
      // Hundreds of peers take longer to start on a small machine than a handful.
      registerTimeoutMs: Math.max(15_000, scenario.peers.length * 150),
      expectedPeers: scenario.peers.length,
      // The scenario's program, chosen at load time (--peer, its peer: key, the config file), else the reference peer.
      ...(scenario.peer ? {peer: scenario.peer} : {}),
      ...(options.peerBin ? {peerBin: options.peerBin} : {}),
      ...(options.runner ? {runner: options.runner} : {}),
      ...(options.listen ? {host: options.listen.host, ...(options.listen.port ? {port: options.listen.port} : {}), ...(options.listen.allowedHosts ? {allowedHosts: options.listen.allowedHosts} : {})} : {}),
      ...(scenario.faults === 'kernel' ? {kernelFaults: {nft: kernelNft(), peers: scenario.peers}} : {}),
    });
    coordinator.liveView.setSource(history);
    const run = new ScenarioRun(scenario, coordinator, history, new Random(options.seed), info, options);
    await run.execute();
  } catch (error) {
    runError = error instanceof Error ? error.message : String(error);
  } finally {
    await coordinator?.close().catch((error: unknown) => (runError ??= `stopping peers: ${String(error)}`));
    history.append('run.end', runError ? {error: runError} : {});
    await history.close();
  }

  const evaluation = evaluate(history.events);
  const result: ScenarioResult = {
    ...evaluation,
    name: scenario.name,
    file: scenario.file,
    runId,
    seed: options.seed,
    attempt: options.attempt,
    durationMs: Date.now() - started,
    runDir,
    historyPath: path.join(runDir, 'history.jsonl'),
  };
  if (options.report) {
    // From the events in memory, the very ones the file holds (no second parse of a long history); the chunks copy its lines.
    try {
      result.reportPath = (await writeBuiltReport(path.join(runDir, 'report'), history.events, {historyFile: result.historyPath, evaluation: result})).link;
    } catch (error) {
      result.reportError = (error as Error).message;
    }
  }
  await writeFileAtomic(path.join(runDir, 'result.json'), JSON.stringify(result, null, 2) + '\n');
  return result;
}

class ScenarioRun {
  readonly #abort = new AbortController();
  /** Aborted when the scenario ends (its steps are done, failed, or timed out): the nemesis ends with it. */
  readonly #nemesisStop = new AbortController();
  /** Rounds the nemesis made without `recover_after`: they stay until the scenario ends. */
  readonly #nemesisLeftBroken: number[] = [];
  /** What is down and cut, and who did it: every fault is planned from it (fault-plan.ts). */
  #faultState: FaultState;
  /** Peers that have registered at least once: only they count as started (fault-plan's pools). */
  readonly #registered = new Set<string>();
  /** The steps judged so far, in the order they ended: a block's verdict folds its steps'. */
  readonly #judged: StepResult[] = [];
  readonly #faults: FaultInjector;
  /** The nemesis's own stream, split from the run's seed: its choices never shift the steps' (or the reverse). */
  readonly #nemesisRandom: Random;
  #nemesisDone: Promise<void> | undefined;
  #commandIds = 0;
  /**
   * The run's model and whether it has converged, folded one event at a time as the history grows. An await
   * that replayed the whole history at its start held the event loop for tens of seconds at 2,000 peers
   * (millions of events), long enough for agents to drop; folded as events arrive, the cost is spread
   * across the hub's slices.
   */
  readonly #tracker = new ConvergenceTracker();

  constructor(
    private readonly scenario: Scenario,
    private readonly coordinator: Coordinator,
    private readonly history: HistoryWriter,
    private readonly random: Random,
    private readonly info: ScenarioInfo,
    private readonly options: RunScenarioOptions,
  ) {
    for (const e of history.events) this.#tracker.apply(e);
    history.on('event', (e) => this.#tracker.apply(e));
    recordCoordinator(coordinator, history);
    coordinator.hub.on('registered', (agent) => this.#registered.add(agent.name));
    this.#faultState = initialFaultState(scenario.peers);
    this.#nemesisRandom = nemesisRandom(random.seed);
    this.#faults = new FaultInjector(
      coordinator,
      (type, data) => history.append(type, data),
      (peer, name, args) => this.#command(peer, name, args, 5000, 'fault'),
      () => this.#faultState.net,
    );
  }

  #argsFor(name: string): string[] {
    return [...(this.scenario.peerArgs.all ?? []), ...(this.scenario.peerArgs[name] ?? [])];
  }

  /** Plans a fault step from the fault state and the steps' stream, records its begin, and carries it out. */
  async #stepFault(step: PlanStep, begin: (describe: Record<string, unknown>) => void): Promise<{summary: string; problems: string[]}> {
    const plan = planFault(this.#faultState, step as StepFault, this.random);
    this.#faultState = plan.next;
    begin(plan.describe);
    // The injector carries out each peer's actions in the order planned: a victim the nemesis is bringing back is back first.
    return {summary: plan.summary, problems: await this.#faults.apply(plan.actions)};
  }

  /**
   * The nemesis: every `everyMs`, one fault drawn from its own seeded stream,
   * undone after `recoverAfterMs`. planFault draws its victims from the peers
   * started when it began, less those its rounds keep down on their logical
   * schedule, so its choices depend on the seed alone: not on timing, not on
   * the steps. It ends with its scenario: `#stopNemesis` stops the rounds and
   * undoes at once what is still broken, so nothing it does outlives the
   * run's history.
   */
  async #runNemesis(plan: NonNullable<Scenario['nemesis']>): Promise<void> {
    this.#faultState = nemesisBegins(this.#faultState);
    const recoveries: Promise<unknown>[] = [];
    const rounds = Math.floor(plan.forMs / plan.everyMs);
    const stop = this.#nemesisStop.signal;
    let round = 0;
    while (!stop.aborted && round < rounds) {
      await waitOrStop(plan.everyMs, stop);
      if (stop.aborted) break;
      round++;
      const fault = planFault(this.#faultState, {nemesis: 'round', round, everyMs: plan.everyMs, faults: plan.faults}, this.#nemesisRandom);
      this.#faultState = fault.next;
      const chosen = fault.chosen!;
      this.history.append('nemesis', {round, fault: chosen.title, ...fault.describe});
      const problems = await this.#faults.apply(fault.actions);
      if (problems.length > 0) this.history.append('nemesis', {round, problems});
      const thisRound = round;
      // Left broken for the rest of the scenario, as asked; undone when it ends (#stopNemesis).
      if (chosen.recoverAfterMs === undefined) {
        this.#nemesisLeftBroken.push(thisRound);
        continue;
      }
      recoveries.push(
        waitOrStop(chosen.recoverAfterMs, stop)
          .then((early) => this.#recover(thisRound, early))
          .catch((error: unknown) => this.history.append('nemesis', {round: thisRound, problems: [`recovery failed: ${(error as Error).message}`]})),
      );
    }
    await Promise.all(recoveries);
    this.history.append('nemesis', {done: true, rounds: round, ...(stop.aborted && round < rounds ? {stopped: 'the scenario ended'} : {})});
  }

  /** Undoes what round `round` did, and only that (planFault says what). */
  async #recover(round: number, early: boolean): Promise<void> {
    const did = this.#faultState.nemesis.rounds[round];
    if (early && did) this.history.append('nemesis', {round, recover: did.kind, peers: did.victims, early: true});
    const plan = planFault(this.#faultState, {nemesis: 'recover', round}, this.#nemesisRandom);
    this.#faultState = plan.next;
    const problems = await this.#faults.apply(plan.actions);
    if (problems.length > 0) this.history.append('nemesis', {round, problems});
  }

  /**
   * Ends the nemesis with its scenario, while the coordinator is still open:
   * no new round, and what it broke is recovered now and recorded. A recovery
   * that hangs cannot hold the run: after `NEMESIS_STOP_MS` the run goes on
   * and says so; closing the coordinator then stops every peer anyway.
   */
  async #stopNemesis(): Promise<void> {
    if (!this.#nemesisDone) return;
    this.#nemesisStop.abort();
    const recoverAll = async () => {
      await this.#nemesisDone;
      for (const round of this.#nemesisLeftBroken.splice(0)) {
        await this.#recover(round, true).catch((error: unknown) => this.history.append('nemesis', {round, problems: [`recovery failed: ${(error as Error).message}`]}));
      }
    };
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      recoverAll().then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), NEMESIS_STOP_MS))),
    ]);
    clearTimeout(timer);
    if (!finished) this.history.append('nemesis', {done: false, problems: [`recoveries still running ${NEMESIS_STOP_MS} ms after the scenario ended`]});
  }

  async execute(): Promise<void> {
    const {timeoutMs, ownTimeoutMs} = this.scenario;
    const which = ownTimeoutMs === undefined ? `the scenario's timeout of ${timeoutMs} ms` : `the run's --timeout of ${timeoutMs} ms (the scenario's own is ${ownTimeoutMs} ms)`;
    const timer = setTimeout(() => this.#abort.abort(new ScenarioTimeout(`${which} ran out`)), timeoutMs);
    try {
      for (const [i, step] of this.scenario.steps.entries()) {
        // A step that did not pass ends the scenario: later steps would only add noise to the explanation.
        if ((await this.#step(step, String(i + 1))) !== 'pass') break;
      }
    } finally {
      clearTimeout(timer);
      await this.#stopNemesis();
    }
  }

  /** Live peers the coordinator can drive now: running and registered. */
  #live(): string[] {
    return this.coordinator.runner.peers().filter(({name, handle}) => handle.state === 'running' && this.coordinator.hub.isConnected(name)).map(({name}) => name).sort();
  }

  #resolve(target: Target, forStart = false): string[] {
    if (target.kind === 'names') return target.names;
    const pool = forStart ? this.scenario.peers.filter((p) => !this.#faultState.started.includes(p)) : this.#live();
    if (target.kind === 'all') return pool;
    const pick = this.random.pick(pool);
    return pick ? [pick] : [];
  }

  /**
   * Runs one step and judges it. The verdict is `judgeStep`'s, the function `peerlab check` uses
   * on the history file: it is computed from the history so far and how the step ended, just
   * before the step.end is appended, so the history, the reporters and the re-check all agree.
   */
  async #step(step: PlanStep, stepPath: string): Promise<Status> {
    const beginData: CoordinatorEventData<'step.begin'> = {path: stepPath, kind: step.kind, title: step.title, line: step.line};
    let beginIndex = -1;
    const begin = (data: CoordinatorEventData<'step.begin'> = beginData) => {
      this.history.append('step.begin', data);
      beginIndex = this.history.events.length - 1;
    };
    /** What only the engine knows of how the step ended; the rest of its verdict is in the history. */
    let ending: Omit<StepEnding, 'at'> = {};
    try {
      this.#abort.signal.throwIfAborted();
      switch (step.kind) {
        case 'start': {
          const names = this.#resolve(step.target, true);
          begin({...beginData, peers: names});
          // Started, for the fault pools, once registered: a peer that never registered is no victim for
          // a later `kill: random` (nor one still starting, for a fault step beside this one).
          const registered = () => (this.#faultState = withStarted(this.#faultState, names.filter((n) => this.#registered.has(n))));
          try {
            await this.coordinator.spawn(names, {signal: this.#abort.signal, argsFor: (n) => this.#argsFor(n), perProcess: this.scenario.peersPerProcess});
            registered();
            // The nemesis starts once there are peers to hurt: after the first start step.
            if (this.scenario.nemesis && !this.#nemesisDone) this.#nemesisDone = this.#runNemesis(this.scenario.nemesis);
          } catch (e) {
            registered();
            // Which peers registered, and why the others did not, is in the history: the verdict reads it there.
            if (this.#abort.signal.aborted) throw e;
          }
          break;
        }
        case 'await': {
          begin();
          await this.#await(step.condition, step.within, stepPath, step.title);
          break;
        }
        case 'run': {
          const names = this.#resolve(step.target);
          begin({...beginData, peers: names, command: step.command, args: step.args, ...(step.expect ? {expect: step.expect} : {})});
          if (names.length === 0) {
            ending = {status: 'fail', error: 'no live peer to run the command on'};
            break;
          }
          await Promise.all(names.map((peer) => this.#command(peer, step.command, step.args, step.timeoutMs, stepPath)));
          break;
        }
        case 'kill':
        case 'stop':
        case 'terminate':
        case 'restart':
        case 'pause':
        case 'resume':
        case 'partition':
        case 'isolate':
        case 'cut':
        case 'heal':
        case 'loss':
        case 'delay': {
          const {summary, problems} = await this.#stepFault(step, (describe) => begin({...beginData, ...describe}));
          ending = problems.length > 0 ? {status: 'fail', error: problems.join('; ')} : {status: 'pass', message: summary};
          break;
        }
        case 'wait-nemesis':
          begin();
          await Promise.race([this.#nemesisDone ?? Promise.resolve(), new Promise((_, reject) => this.#abort.signal.addEventListener('abort', () => reject(this.#abort.signal.reason), {once: true}))]);
          ending = {status: 'pass', message: this.#nemesisDone ? 'the nemesis has finished' : 'no nemesis was running'};
          break;
        case 'sleep':
          begin();
          await this.#sleep(step.ms);
          ending = {status: 'pass', message: ''};
          break;
        case 'parallel': {
          begin();
          await Promise.all(step.steps.map((child, i) => this.#step(child, `${stepPath}.${i + 1}`)));
          break;
        }
        case 'repeat': {
          begin();
          outer: for (let k = 1; k <= step.times; k++) {
            for (const [i, child] of step.steps.entries()) {
              if ((await this.#step(child, `${stepPath}.${k}.${i + 1}`)) !== 'pass') break outer;
            }
          }
          break;
        }
      }
    } catch (e) {
      if (beginIndex < 0) begin();
      const aborted = this.#abort.signal.aborted;
      ending = {status: aborted ? 'fail' : 'unknown', error: aborted ? String((this.#abort.signal.reason as Error)?.message ?? 'aborted') : (e as Error).message};
    }
    // Judged and recorded in one synchronous stretch: the prefix judged is exactly the history before this step.end.
    const at = Date.now();
    const {step: result} = judgeStep(this.history.events, beginIndex, this.history.events.length, {at, ...ending}, this.#judged);
    this.#judged.push(result);
    this.history.append(
      'step.end',
      {
        ...beginData,
        status: result.status,
        message: result.message ?? '',
        ...(result.figures ? {figures: result.figures} : {}),
        ...(ending.error !== undefined ? {error: ending.error} : {}),
        durationMs: result.durationMs,
      },
      {t: at},
    );
    // The step that ends the scenario ends the nemesis's rounds in the same synchronous stretch:
    // a reporter awaited below must not leave room for a round after the last step.end.
    const topLevel = !stepPath.includes('.');
    if (topLevel && (result.status !== 'pass' || stepPath === String(this.scenario.steps.length))) this.#nemesisStop.abort();
    await this.options.onStepEnd?.(this.info, result);
    return result.status;
  }

  async #command(peer: string, name: string, args: Record<string, unknown>, timeoutMs: number, step: string): Promise<{id: string; step: string; peer: string; ok: boolean; result?: unknown; error?: {message: string; code: string}}> {
    const id = `cmd${++this.#commandIds}`;
    this.history.append('command.send', {id, step, peer, name, args});
    const reply = await this.coordinator.hub.command(peer, name, args, timeoutMs);
    // Causality: what the command made the peer do (e.g. chat.sent) is in the history before the step ends.
    if (reply.seq !== undefined) await this.coordinator.hub.waitForSeq(peer, reply.seq, 2000);
    const data = reply.ok ? {id, step, peer, ok: true, result: reply.result} : {id, step, peer, ok: false, error: reply.error};
    this.history.append('command.reply', data);
    return data;
  }

  /** Re-checks the condition whenever the history grows, until it holds or the bound passes. */
  async #await(condition: Condition, within: Within, step: string, title: string): Promise<Verdict> {
    // The model's figure from the history as it stands (the peers' reported timing, N live), recorded with the
    // bound, so the re-check of `peerlab check` uses this very number.
    let found = modelBoundAt(condition, this.history.events, Infinity, this.#tracker.model);
    // A start step ends at registration, and a peer's peer.started may still be on its way: give it a moment.
    const timingDeadline = Date.now() + TIMING_WAIT_MS;
    while (within.kind === 'model' && found && 'problem' in found && Date.now() < timingDeadline && !this.#abort.signal.aborted) {
      await this.#nextEventOr(timingDeadline - Date.now());
      found = modelBoundAt(condition, this.history.events, Infinity, this.#tracker.model);
    }
    if (within.kind === 'model' && found && 'problem' in found) {
      throw new Error(`step ${step} (${title}): ${found.problem}, so the model bound cannot be worked out`);
    }
    const model = found && !('problem' in found) ? found : undefined;
    const withinMs = within.kind === 'ms' ? within.ms : Math.round(within.multiple * model!.ms);
    const modelData = model ? {model: {...model, ...(within.kind === 'model' ? {multiple: within.multiple} : {})}} : {};
    const begin = this.history.append('await.begin', {step, condition, withinMs, ...modelData});
    const deadline = begin.t + withinMs;
    const signal = this.#abort.signal;
    // For `converged`, the full check, which replays the whole history, runs only when the tracker says the
    // condition may hold (and at the deadline): the verdict is still the full check's.
    const watch = condition.kind === 'converged' ? this.#tracker : undefined;
    for (;;) {
      const now = Date.now();
      // No event can be appended while the check runs: it is synchronous.
      const prefix = this.history.events;
      let checkMs = 0;
      if (!watch || watch.holds || now >= deadline || signal.aborted) {
        const checkStarted = performance.now();
        // Cut by the scenario's timeout before the tracker saw it hold: the step's verdict is the cut's, and no
        // re-check reads this await.end, so it records the state the tracker folded (the same as a replay's, but
        // for a peer whose clock runs ahead: a replay leaves out events stamped after the check). The replay took
        // 28 s at 2,000 peers (3 million events, the peers still running) before the teardown could begin.
        const cut = watch && signal.aborted && !watch.holds;
        const verdict = cut
          ? concludeAwait(condition.kind, convergedVerdict(watch, NaN, prefix, {from: begin.t, at: now}), begin.t, now, withinMs, begin.data.model)
          : awaitVerdict(condition, prefix, begin.t, now, withinMs, begin.data.model);
        checkMs = performance.now() - checkStarted;
        if (verdict.status === 'pass' || now >= deadline || signal.aborted) {
          // Stamped with the time of the check, right after the prefix it saw, so `peerlab check` re-derives this verdict.
          this.history.append('await.end', {step, condition, status: verdict.status, message: verdict.message, ...(verdict.figures ? {figures: verdict.figures} : {})}, {t: now});
          signal.throwIfAborted();
          return verdict;
        }
      }
      await this.#nextEventOr(Math.min(100, deadline - now));
      // Every check reads the whole history: under a flood of events, check at most every 25 ms, not per
      // event, and never spend more than a fifth of the time checking (a check of a million-event history
      // takes a tenth of a second, and the same event loop takes in the events).
      const gap = Math.max(25, 4 * checkMs);
      const sinceCheck = Date.now() - now;
      if (sinceCheck < gap && Date.now() + gap < deadline) await this.#sleep(gap - sinceCheck).catch(() => undefined);
    }
  }

  #nextEventOr(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.history.off('event', done);
        this.#abort.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(1, ms));
      this.history.on('event', done);
      this.#abort.signal.addEventListener('abort', done);
    });
  }

  /** Waits `ms`; rejects with the abort's reason if the scenario is aborted first. */
  async #sleep(ms: number): Promise<void> {
    if (await waitOrStop(ms, this.#abort.signal)) throw this.#abort.signal.reason;
  }
}
