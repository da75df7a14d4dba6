/**
 * Runs one scenario on fresh peers and records everything in its history.
 * The engine talks to peers only through the coordinator's fleet and hub;
 * it decides when an await is satisfied with the same checkers that later
 * judge the run, and the final verdict is computed from the history alone.
 */
import {mkdir, writeFile} from 'node:fs/promises';
import {writeFileAtomic} from '@peerlab/node-kit/write-file-atomic';
import path from 'node:path';
import {Coordinator} from '../coordinator.js';
import {HistoryWriter} from '../history/writer.js';
import type {Condition, Status, Verdict} from '@peerlab/checkers/history/types';
import type {PlanStep, Scenario, Target} from '../scenario/plan.js';
import type {ScenarioInfo} from '../reporters/reporter.js';
import type {ScenarioResult, StepResult} from './results.js';
import {overallStatus} from './results.js';
import {awaitVerdict, evaluate, runVerdict} from '@peerlab/checkers/evaluate';
import {Random} from './random.js';
import {FaultInjector, linksBetween, shapeLinks} from './faults.js';
import type {FaultTag} from './faults.js';

export interface RunScenarioOptions {
  outDir: string;
  seed: number;
  attempt: number;
  peerBin?: string;
  onBegin?(info: ScenarioInfo): void | Promise<void>;
  onStepEnd?(info: ScenarioInfo, step: StepResult): void | Promise<void>;
}

class ScenarioTimeout extends Error {}

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
  const info: ScenarioInfo = {name: scenario.name, file: scenario.file, runId, attempt: options.attempt, runDir};
  const started = Date.now();
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
      ...(options.peerBin ? {peerBin: options.peerBin} : {}),
    });
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
  await writeFileAtomic(path.join(runDir, 'result.json'), JSON.stringify(result, null, 2) + '\n');
  return result;
}

class ScenarioRun {
  readonly #abort = new AbortController();
  /** Aborted when the scenario ends (its steps are done, failed, or timed out): the nemesis ends with it. */
  readonly #nemesisStop = new AbortController();
  /** Peers the nemesis has down now: it picks among the others, and a step that finds one of them down is not at fault. */
  readonly #nemesisHurt = new Set<string>();
  /** Faults the nemesis made without `recover_after`: they stay until the scenario ends. */
  readonly #nemesisLeftBroken: Array<{kind: PlanStep['kind']; victims: string[]; round: number}> = [];
  readonly #started = new Set<string>();
  readonly #faults: FaultInjector;
  readonly #downBySteps = new Set<string>();
  #nemesisDone: Promise<void> | undefined;
  #commandIds = 0;

  constructor(
    private readonly scenario: Scenario,
    private readonly coordinator: Coordinator,
    private readonly history: HistoryWriter,
    private readonly random: Random,
    private readonly info: ScenarioInfo,
    private readonly options: RunScenarioOptions,
  ) {
    const {hub, fleet} = coordinator;
    hub.on('events', (name, events) => {
      const src = `peer:${name}` as const;
      for (const e of events) history.appendPeer(src, e);
    });
    hub.on('registered', (agent) => history.append('peer.registered', {peer: agent.name, pid: agent.pid, registrations: agent.registrations}));
    hub.on('gap', (name, expected, got) => history.append('peer.gap', {peer: name, expected, got}));
    hub.on('protocol-error', (detail) => history.append('protocol.error', {...detail}));
    hub.on('rejected', (detail) => history.append('event.rejected', detail));
    fleet.on('spawned', (host) => {
      for (const peer of host.names) history.append('peer.spawn', {peer, pid: host.pid ?? null});
    });
    fleet.on('exit', (host, exit) => {
      for (const peer of host.names) history.append('peer.exit', {peer, pid: host.pid ?? null, code: exit.code, signal: exit.signal, unexpectedly: exit.unexpectedly});
    });
    this.#faults = new FaultInjector(coordinator, (type, data) => history.append(type, data), (peer, name, args) => this.#command(peer, name, args, 5000, 'fault'));
  }

  #argsFor(name: string): string[] {
    return [...(this.scenario.peerArgs.all ?? []), ...(this.scenario.peerArgs[name] ?? [])];
  }

  /** Peers that are paused now. */
  #paused(): string[] {
    return this.coordinator.fleet.peers().filter(({host}) => host.state === 'paused').map(({name}) => name).sort();
  }

  /** Turns a fault step into what to record at its start and a function that injects it. */
  #planFault(step: PlanStep, random: Random, pool: () => string[], tag: FaultTag = {}): {describe: Record<string, unknown>; summary: string; apply(): Promise<string[]>} {
    const live = pool;
    const pick = (target: Target, pool: string[]) => (target.kind === 'names' ? target.names : target.kind === 'all' ? pool : [random.pick(pool)].filter((x): x is string => x !== undefined));
    switch (step.kind) {
      case 'kill':
      case 'stop':
      case 'terminate':
      case 'restart':
      case 'pause':
      case 'resume': {
        const kind = step.kind === 'stop' ? 'terminate' : step.kind;
        const names = pick(step.target, kind === 'resume' ? this.#paused() : live());
        return {
          describe: {peers: names},
          summary: `${names.join(', ') || 'nobody'}: ${kind}`,
          // One peer after another: the history then shows the same faults in the same order for the same seed.
          apply: async () => {
            const problems: string[] = [];
            for (const name of names) {
              const problem = await this.#faults.process(kind, name, tag);
              if (problem) problems.push(problem);
            }
            return problems;
          },
        };
      }
      case 'partition': {
        const {links, groups} = step.groups ? {links: linksBetween(step.groups), groups: step.groups} : shapeLinks(step.shape!, live(), random);
        return {describe: {groups}, summary: `partitioned ${groups.map((g) => `[${g.join(', ')}]`).join(' ')}`, apply: () => this.#faults.cut(links, {kind: 'partition', groups, ...(step.shape ? {shape: step.shape} : {}), ...tag})};
      }
      case 'isolate': {
        const names = pick(step.target, live());
        const others = this.scenario.peers.filter((p) => !names.includes(p));
        const links = linksBetween([names, others]);
        return {describe: {peers: names}, summary: `isolated ${names.join(', ')}`, apply: () => this.#faults.cut(links, {kind: 'isolate', targets: names, ...tag})};
      }
      case 'cut': {
        const from = pick(step.from, live());
        const to = pick(step.to, live());
        const links = from.flatMap((f) => to.filter((t) => t !== f).map((t): [string, string] => [f, t]));
        return {describe: {from, to}, summary: `cut ${from.join(', ')} -> ${to.join(', ')}`, apply: () => this.#faults.cut(links, {kind: 'cut', from, to, ...tag})};
      }
      case 'heal':
        return {describe: {}, summary: 'healed', apply: () => this.#faults.heal(tag)};
      case 'loss': {
        const links = step.between ? linksBetween(step.between) : 'all';
        const percent = step.rate * 100;
        return {describe: {rate: step.rate}, summary: `loss ${percent}%`, apply: () => this.#faults.loss(percent, links, {kind: 'loss', ...(step.between ? {between: step.between} : {}), ...tag})};
      }
      case 'delay': {
        const links = step.between ? linksBetween(step.between) : 'all';
        return {describe: {ms: step.ms, jitter: step.jitter}, summary: `delay ${step.ms}ms`, apply: () => this.#faults.delay(step.ms, step.jitter, links, {kind: 'delay', ...(step.between ? {between: step.between} : {}), ...tag})};
      }
      default:
        throw new Error(`${step.kind} is not a fault`);
    }
  }

  /**
   * The nemesis: every `everyMs`, one fault drawn from its own seeded stream,
   * undone after `recoverAfterMs`. It picks victims among the peers it has
   * not hurt itself, so its choices depend on the seed alone, not on timing.
   * It ends with its scenario: `#stopNemesis` stops the rounds and undoes at
   * once what is still broken, so nothing it does outlives the run's history.
   */
  async #runNemesis(plan: NonNullable<Scenario['nemesis']>): Promise<void> {
    const random = new Random((this.random.seed ^ 0x9e3779b9) >>> 0);
    const hurt = this.#nemesisHurt;
    const recoveries: Promise<unknown>[] = [];
    const rounds = Math.floor(plan.forMs / plan.everyMs);
    const stop = this.#nemesisStop.signal;
    let round = 0;
    while (!stop.aborted && round < rounds) {
      await waitOrStop(plan.everyMs, stop);
      if (stop.aborted) break;
      round++;
      const choice = plan.faults[Math.floor(random.next() * plan.faults.length)]!;
      const pool = this.scenario.peers.filter((p) => this.#started.has(p) && !hurt.has(p));
      const step = choice.step;
      const target = 'target' in step && step.target.kind !== 'names' ? {kind: 'names' as const, names: step.target.kind === 'all' ? pool : [random.pick(pool)].filter((x): x is string => x !== undefined)} : undefined;
      const concrete = (target ? {...step, target} : step) as PlanStep;
      const fault = this.#planFault(concrete, random, () => pool, {nemesis: round});
      const victims = (fault.describe.peers as string[] | undefined) ?? [];
      victims.forEach((v) => hurt.add(v));
      this.history.append('nemesis', {round, fault: step.title, ...fault.describe});
      const problems = await fault.apply();
      if (problems.length > 0) this.history.append('nemesis', {round, problems});
      const thisRound = round;
      // Left broken for the rest of the scenario, as asked; undone when it ends (#stopNemesis).
      if (choice.recoverAfterMs === undefined) {
        this.#nemesisLeftBroken.push({kind: step.kind, victims, round: thisRound});
        continue;
      }
      recoveries.push(
        waitOrStop(choice.recoverAfterMs, stop)
          .then((early) => this.#recover(step.kind, victims, thisRound, early))
          .catch((error: unknown) => this.history.append('nemesis', {round: thisRound, problems: [`recovery failed: ${(error as Error).message}`]}))
          .finally(() => victims.forEach((v) => hurt.delete(v))),
      );
    }
    await Promise.all(recoveries);
    this.history.append('nemesis', {done: true, rounds: round, ...(stop.aborted && round < rounds ? {stopped: 'the scenario ended'} : {})});
  }

  async #recover(kind: PlanStep['kind'], victims: string[], round: number, early: boolean): Promise<void> {
    if (early) this.history.append('nemesis', {round, recover: kind, peers: victims, early: true});
    const description = {nemesis: round};
    if (kind === 'kill' || kind === 'pause') {
      // Steps come first: a victim a step has taken down since stays down, and one a step restarted
      // is running again (restarting it would kill a healthy peer).
      const skipped = victims.filter((v) => this.#downBySteps.has(v) || (kind === 'kill' && this.coordinator.fleet.get(v)?.alive));
      const undo = kind === 'kill' ? 'restart' : 'resume';
      // Recorded as the fault it would have been, as faults.process records one it cannot do: the
      // nemesis's sequence of faults stays the same for the same seed, whatever the timing.
      for (const v of skipped) this.history.append('fault', {kind: undo, peer: v, skipped: this.#downBySteps.has(v) ? 'a step has taken it down' : 'it is running again', ...description});
      await Promise.all(victims.filter((v) => !skipped.includes(v)).map((v) => this.#faults.process(undo, v, description)));
    }
    else await this.#faults.heal(description);
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
      for (const {kind, victims, round} of this.#nemesisLeftBroken.splice(0)) {
        await this.#recover(kind, victims, round, true).catch((error: unknown) => this.history.append('nemesis', {round, problems: [`recovery failed: ${(error as Error).message}`]}));
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
    const timer = setTimeout(() => this.#abort.abort(new ScenarioTimeout(`the scenario's timeout of ${this.scenario.timeoutMs} ms ran out`)), this.scenario.timeoutMs);
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
    return this.coordinator.fleet.peers().filter(({name, host}) => host.state === 'running' && this.coordinator.hub.isConnected(name)).map(({name}) => name).sort();
  }

  #resolve(target: Target, forStart = false): string[] {
    if (target.kind === 'names') return target.names;
    if (target.kind === 'all') return forStart ? this.scenario.peers.filter((p) => !this.#started.has(p)) : this.#live();
    const pool = forStart ? this.scenario.peers.filter((p) => !this.#started.has(p)) : this.#live();
    const pick = this.random.pick(pool);
    return pick ? [pick] : [];
  }

  async #step(step: PlanStep, stepPath: string): Promise<Status> {
    const begin = Date.now();
    const beginData = {path: stepPath, kind: step.kind, title: step.title, line: step.line};
    let verdict: Verdict;
    let error: string | undefined;
    try {
      this.#abort.signal.throwIfAborted();
      switch (step.kind) {
        case 'start': {
          const names = this.#resolve(step.target, true);
          this.history.append('step.begin', {...beginData, peers: names});
          names.forEach((n) => this.#started.add(n));
          try {
            await this.coordinator.spawn(names, {signal: this.#abort.signal, argsFor: (n) => this.#argsFor(n), perProcess: this.scenario.peersPerProcess});
            verdict = {status: 'pass', message: `${names.length} registered`};
            // The nemesis starts once there are peers to hurt: after the first start step.
            if (this.scenario.nemesis && !this.#nemesisDone) this.#nemesisDone = this.#runNemesis(this.scenario.nemesis);
          } catch (e) {
            if (this.#abort.signal.aborted) throw e;
            verdict = {status: 'unknown', message: (e as Error).message};
          }
          break;
        }
        case 'await': {
          this.history.append('step.begin', beginData);
          verdict = await this.#await(step.condition, step.withinMs, stepPath);
          break;
        }
        case 'run': {
          const names = this.#resolve(step.target);
          this.history.append('step.begin', {...beginData, peers: names, command: step.command, args: step.args, ...(step.expect ? {expect: step.expect} : {})});
          if (names.length === 0) {
            error = 'no live peer to run the command on';
            verdict = {status: 'fail', message: error};
            break;
          }
          const replies = await Promise.all(names.map((peer) => this.#command(peer, step.command, step.args, step.timeoutMs, stepPath)));
          verdict = runVerdict(replies, step.expect, names.length);
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
          // Random victims come from what the steps know, not from timing: the same seed, the same victims.
          const fault = this.#planFault(step, this.random, () => this.scenario.peers.filter((p) => this.#started.has(p) && !this.#downBySteps.has(p)));
          // What the steps themselves took down: the pool random fault steps draw from. Only steps change it;
          // were the nemesis's victims in it, the same seed could pick different peers depending on timing.
          const victims = (fault.describe.peers as string[] | undefined) ?? [];
          if (step.kind === 'kill' || step.kind === 'stop' || step.kind === 'terminate' || step.kind === 'pause') victims.forEach((n) => this.#downBySteps.add(n));
          else if (step.kind === 'restart' || step.kind === 'resume') victims.forEach((n) => this.#downBySteps.delete(n));
          this.history.append('step.begin', {...beginData, ...fault.describe});
          // A victim the nemesis has down already is down as the step asked: when that happens
          // depends on timing, so it must not decide the verdict. (faults.process says so as "X is not ...".)
          const downByNemesis = victims.filter((v) => this.#nemesisHurt.has(v));
          const problems = (await fault.apply()).filter((p) => !downByNemesis.some((v) => p.startsWith(`${v} is not `)));
          if (problems.length > 0) error = problems.join('; ');
          const note = downByNemesis.length > 0 ? ` (${downByNemesis.join(', ')} already down by the nemesis)` : '';
          verdict = error ? {status: 'fail', message: error} : {status: 'pass', message: fault.summary + note};
          break;
        }
        case 'wait-nemesis':
          this.history.append('step.begin', beginData);
          await Promise.race([this.#nemesisDone ?? Promise.resolve(), new Promise((_, reject) => this.#abort.signal.addEventListener('abort', () => reject(this.#abort.signal.reason), {once: true}))]);
          verdict = {status: 'pass', message: this.#nemesisDone ? 'the nemesis has finished' : 'no nemesis was running'};
          break;
        case 'sleep':
          this.history.append('step.begin', beginData);
          await this.#sleep(step.ms);
          verdict = {status: 'pass', message: ''};
          break;
        case 'parallel': {
          this.history.append('step.begin', beginData);
          const statuses = await Promise.all(step.steps.map((child, i) => this.#step(child, `${stepPath}.${i + 1}`)));
          const status = overallStatus(statuses);
          verdict = {status, message: status === 'pass' ? `${statuses.length} steps passed` : 'a step in the block did not pass'};
          break;
        }
        case 'repeat': {
          this.history.append('step.begin', beginData);
          let status: Status = 'pass';
          outer: for (let k = 1; k <= step.times; k++) {
            for (const [i, child] of step.steps.entries()) {
              status = await this.#step(child, `${stepPath}.${k}.${i + 1}`);
              if (status !== 'pass') break outer;
            }
          }
          verdict = {status, message: status === 'pass' ? `${step.times} rounds passed` : 'a step in the block did not pass'};
          break;
        }
      }
    } catch (e) {
      if (!this.history.events.some((x) => x.type === 'step.begin' && x.data.path === stepPath)) this.history.append('step.begin', beginData);
      const message = this.#abort.signal.aborted ? String((this.#abort.signal.reason as Error)?.message ?? 'aborted') : (e as Error).message;
      error = message;
      verdict = {status: this.#abort.signal.aborted ? 'fail' : 'unknown', message};
    }
    const end = this.history.append('step.end', {
      ...beginData,
      status: verdict.status,
      message: verdict.message,
      ...(verdict.figures ? {figures: verdict.figures} : {}),
      ...(error ? {error} : {}),
      durationMs: Date.now() - begin,
    });
    const result: StepResult = {
      path: stepPath,
      kind: step.kind,
      title: step.title,
      line: step.line,
      status: verdict.status,
      message: verdict.message,
      ...(verdict.figures ? {figures: verdict.figures} : {}),
      durationMs: end.t - begin,
    };
    await this.options.onStepEnd?.(this.info, result);
    return verdict.status;
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
  async #await(condition: Condition, withinMs: number, step: string): Promise<Verdict> {
    const begin = this.history.append('await.begin', {step, condition, withinMs});
    const deadline = begin.t + withinMs;
    const signal = this.#abort.signal;
    for (;;) {
      const now = Date.now();
      // No event can be appended while the check runs: it is synchronous.
      const prefix = this.history.events;
      const checkStarted = performance.now();
      const verdict = awaitVerdict(condition, prefix, begin.t, now, withinMs);
      const checkMs = performance.now() - checkStarted;
      if (verdict.status === 'pass' || now >= deadline || signal.aborted) {
        // Stamped with the time of the check, right after the prefix it saw, so `peerlab check` re-derives this verdict.
        this.history.append('await.end', {step, condition, status: verdict.status, message: verdict.message, ...(verdict.figures ? {figures: verdict.figures} : {})}, {t: now});
        signal.throwIfAborted();
        return verdict;
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
