/**
 * Runs a suite: each scenario on fresh peers, `repeat` times over, feeding
 * reporters as it goes. Scenario order is the load order; `--bail` stops at
 * the first scenario that does not pass.
 */
import type {Scenario} from '../scenario/plan.js';
import type {Reporter} from '../reporters/reporter.js';
import type {RunResult, ScenarioResult} from './results.js';
import {overallStatus} from './results.js';
import {runScenario} from './engine.js';
import type {RunScenarioOptions} from './engine.js';
import {randomSeed} from './random.js';

export interface SuiteOptions {
  outDir: string;
  /** Fixed seed for every scenario; otherwise the scenario's own, else a fresh one per run. */
  seed?: number;
  repeat: number;
  bail: boolean;
  reporter: Reporter;
  peerBin?: string;
  /** What runs the peers (default: local processes). */
  runner?: RunScenarioOptions['runner'];
  listen?: RunScenarioOptions['listen'];
  /** Write each scenario's HTML report into its run folder. */
  report?: boolean;
  /** Each scenario's history as it is written (the live view of `peerlab run --watch`). */
  onHistory?: RunScenarioOptions['onHistory'];
  /** Set to stop between scenarios (Ctrl-C). */
  signal?: AbortSignal;
}

export async function runSuite(scenarios: readonly Scenario[], options: SuiteOptions): Promise<RunResult> {
  const started = Date.now();
  const suiteSeed = options.seed ?? randomSeed();
  const {reporter} = options;
  await reporter.onRunBegin?.({seed: suiteSeed, outDir: options.outDir, repeat: options.repeat, scenarios: scenarios.map((s) => ({name: s.name, file: s.file}))});
  const results: ScenarioResult[] = [];
  outer: for (let attempt = 1; attempt <= options.repeat; attempt++) {
    for (const scenario of scenarios) {
      if (options.signal?.aborted) break outer;
      const seed = options.seed ?? scenario.seed ?? (attempt === 1 && scenarios.length === 1 ? suiteSeed : randomSeed());
      const result = await runScenario(scenario, {
        outDir: options.outDir,
        seed,
        attempt,
        ...(options.peerBin ? {peerBin: options.peerBin} : {}),
        ...(options.runner ? {runner: options.runner} : {}),
        ...(options.listen ? {listen: options.listen} : {}),
        ...(options.report ? {report: true} : {}),
        ...(options.onHistory ? {onHistory: options.onHistory} : {}),
        onBegin: (info) => reporter.onScenarioBegin?.(info),
        onStepEnd: (info, step) => reporter.onStepEnd?.(info, step),
      });
      results.push(result);
      await reporter.onScenarioEnd?.(result);
      if (options.bail && result.status !== 'pass') break outer;
    }
  }
  const counts = {
    passed: results.filter((r) => r.status === 'pass').length,
    failed: results.filter((r) => r.status === 'fail').length,
    unknown: results.filter((r) => r.status === 'unknown').length,
  };
  const run: RunResult = {
    status: results.length === 0 ? 'unknown' : overallStatus(results.map((r) => r.status)),
    seed: suiteSeed,
    durationMs: Date.now() - started,
    outDir: options.outDir,
    scenarios: results,
    counts,
  };
  await reporter.onRunEnd?.(run);
  return run;
}
