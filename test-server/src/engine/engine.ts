/**
 * Runs one scenario on fresh peers and records everything in its history.
 * The engine talks to peers only through the coordinator's fleet and hub;
 * it decides when an await is satisfied with the same checkers that later
 * judge the run, and the final verdict is computed from the history alone.
 */
import {mkdir, writeFile, rename} from 'node:fs/promises';
import path from 'node:path';
import {Coordinator} from '../coordinator.js';
import {HistoryWriter} from '../history/writer.js';
import type {Condition, Status, Verdict} from '../history/types.js';
import type {PlanStep, Scenario, Target} from '../scenario/plan.js';
import type {ScenarioInfo} from '../reporters/reporter.js';
import type {ScenarioResult, StepResult} from './results.js';
import {overallStatus} from './results.js';
import {awaitVerdict, evaluate, runVerdict} from './evaluate.js';
import {Random} from './random.js';

export interface RunScenarioOptions {
  outDir: string;
  seed: number;
  attempt: number;
  peerBin?: string;
  onBegin?(info: ScenarioInfo): void | Promise<void>;
  onStepEnd?(info: ScenarioInfo, step: StepResult): void | Promise<void>;
}

class ScenarioTimeout extends Error {}

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
    coordinator = await Coordinator.start({runId, logDir: path.join(runDir, 'logs'), profile: scenario.profile, ...(options.peerBin ? {peerBin: options.peerBin} : {})});
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
  const tmp = path.join(runDir, 'result.json.tmp');
  await writeFile(tmp, JSON.stringify(result, null, 2) + '\n');
  await rename(tmp, path.join(runDir, 'result.json'));
  return result;
}

class ScenarioRun {
  readonly #abort = new AbortController();
  readonly #started = new Set<string>();
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
      for (const e of events) history.append(e.type, e.data, {src: `peer:${name}`, t: e.time, seq: e.seq});
    });
    hub.on('registered', (agent) => history.append('peer.registered', {peer: agent.name, pid: agent.pid, registrations: agent.registrations}));
    hub.on('gap', (name, expected, got) => history.append('peer.gap', {peer: name, expected, got}));
    fleet.on('spawned', (host) => history.append('peer.spawn', {peer: host.name, pid: host.pid ?? null}));
    fleet.on('exit', (host, exit) => history.append('peer.exit', {peer: host.name, pid: host.pid ?? null, code: exit.code, signal: exit.signal, unexpectedly: exit.unexpectedly}));
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
    }
  }

  /** Live peers the coordinator can drive now: running and registered. */
  #live(): string[] {
    return this.coordinator.fleet.hosts().filter((h) => h.state === 'running' && this.coordinator.hub.isConnected(h.name)).map((h) => h.name).sort();
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
    const beginData: Record<string, unknown> = {path: stepPath, kind: step.kind, title: step.title, line: step.line};
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
            await this.coordinator.spawn(names, {signal: this.#abort.signal, argsFor: (n) => [...(this.scenario.peerArgs.all ?? []), ...(this.scenario.peerArgs[n] ?? [])]});
            verdict = {status: 'pass', message: `${names.length} registered`};
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
        case 'stop': {
          const names = this.#resolve(step.target);
          this.history.append('step.begin', {...beginData, peers: names});
          const problems: string[] = [];
          await Promise.all(names.map(async (name) => {
            const host = this.coordinator.fleet.get(name);
            if (!host?.alive) return void problems.push(`${name} is not running`);
            const signal = step.kind === 'kill' ? 'SIGKILL' : 'SIGTERM';
            this.history.append('peer.kill', {peer: name, signal});
            if (step.kind === 'kill') {
              host.kill('SIGKILL');
              await host.exited;
            } else {
              await host.terminate();
            }
          }));
          if (problems.length > 0) error = problems.join('; ');
          verdict = error ? {status: 'fail', message: error} : {status: 'pass', message: `${names.join(', ')} ${step.kind === 'kill' ? 'killed' : 'stopped'}`};
          break;
        }
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

  async #command(peer: string, name: string, args: Record<string, unknown>, timeoutMs: number, step: string) {
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
      const verdict = awaitVerdict(condition, prefix, begin.t, now, withinMs);
      if (verdict.status === 'pass' || now >= deadline || signal.aborted) {
        // Stamped with the time of the check, right after the prefix it saw, so `peerlab check` re-derives this verdict.
        this.history.append('await.end', {step, condition, status: verdict.status, message: verdict.message, ...(verdict.figures ? {figures: verdict.figures} : {})}, {t: now});
        signal.throwIfAborted();
        return verdict;
      }
      await this.#nextEventOr(Math.min(100, deadline - now));
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

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#abort.signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(this.#abort.signal.reason);
      };
      this.#abort.signal.addEventListener('abort', onAbort, {once: true});
    });
  }
}
