/**
 * Several reporters behind one. Each call goes to every reporter in order,
 * awaited, inside its own try/catch: a broken reporter costs its own output,
 * never the run or the other reporters. Errors are kept in `errors`; the first
 * one of each reporter and method is written to stderr, later repeats are not
 * (a reporter broken in onStepEnd would otherwise print once per step).
 */
import type {RunResult, ScenarioResult, StepResult} from '../engine/results.js';
import type {Reporter, RunInfo, ScenarioInfo} from './reporter.js';

export type ReporterMethod = keyof Reporter;

export interface ReporterError {
  /** The reporter's class name, or `reporter #N` (1-based) for a plain object. */
  reporter: string;
  method: ReporterMethod;
  error: unknown;
}

export interface ReporterMuxOptions {
  /** Where the first error of each reporter and method is written; default process.stderr. */
  stderr?: {write(chunk: string): unknown};
}

export class ReporterMux implements Reporter {
  readonly reporters: readonly Reporter[];
  readonly errors: ReporterError[] = [];
  readonly #stderr: {write(chunk: string): unknown};
  readonly #written = new Set<string>();

  constructor(reporters: readonly Reporter[], options: ReporterMuxOptions = {}) {
    this.reporters = [...reporters];
    this.#stderr = options.stderr ?? process.stderr;
  }

  async onRunBegin(run: RunInfo): Promise<void> {
    await this.#each('onRunBegin', (r) => r.onRunBegin?.(run));
  }

  async onScenarioBegin(scenario: ScenarioInfo): Promise<void> {
    await this.#each('onScenarioBegin', (r) => r.onScenarioBegin?.(scenario));
  }

  async onStepEnd(scenario: ScenarioInfo, step: StepResult): Promise<void> {
    await this.#each('onStepEnd', (r) => r.onStepEnd?.(scenario, step));
  }

  async onScenarioEnd(result: ScenarioResult): Promise<void> {
    await this.#each('onScenarioEnd', (r) => r.onScenarioEnd?.(result));
  }

  async onRunEnd(result: RunResult): Promise<void> {
    await this.#each('onRunEnd', (r) => r.onRunEnd?.(result));
  }

  async #each(method: ReporterMethod, call: (reporter: Reporter) => void | Promise<void>): Promise<void> {
    for (const [index, reporter] of this.reporters.entries()) {
      try {
        await call(reporter);
      } catch (error) {
        this.#record(reporterName(reporter, index), method, error);
      }
    }
  }

  #record(reporter: string, method: ReporterMethod, error: unknown): void {
    this.errors.push({reporter, method, error});
    const key = `${reporter}\u0000${method}`;
    if (this.#written.has(key)) return;
    this.#written.add(key);
    const text = error instanceof Error ? error.message : String(error);
    try {
      this.#stderr.write(`peerlab: reporter ${reporter} failed in ${method}: ${text}\n`);
    } catch {
      // stderr itself is gone: the error stays in `errors`.
    }
  }
}

function reporterName(reporter: Reporter, index: number): string {
  const name = (reporter as {constructor?: {name?: unknown}}).constructor?.name;
  return typeof name === 'string' && name !== '' && name !== 'Object' ? name : `reporter #${index + 1}`;
}
