/** What a run produced, as reporters and `result.json` see it. */
import type {Status, Verdict} from '@peerlab/checkers/history/types';
import type {StepResult} from '@peerlab/checkers/results';

export type {StepResult} from '@peerlab/checkers/results';
export {overallStatus} from '@peerlab/checkers/results';

export interface ScenarioResult {
  name: string;
  file: string;
  runId: string;
  seed: number;
  /** 1-based, when --repeat runs a scenario more than once. */
  attempt: number;
  status: Status;
  /** Why it did not pass: the first failing or undecided step or invariant, explained. */
  message?: string;
  /** The last relevant events for that failure. */
  evidence?: string[];
  durationMs: number;
  steps: StepResult[];
  invariants: Array<{name: string} & Verdict>;
  /** Key figures of the run, e.g. converge_ms, latency_p99_ms. */
  figures: Record<string, number>;
  runDir: string;
  historyPath: string;
  /**
   * The run's HTML report, when one was asked for: its index.html, with the
   * anchor of the first failing or undecided step (`runs/<id>/report/index.html#step-4`).
   */
  reportPath?: string;
  /** Why the HTML report asked for could not be written (the run's verdict stands). */
  reportError?: string;
}

export interface RunResult {
  status: Status;
  seed: number;
  durationMs: number;
  outDir: string;
  scenarios: ScenarioResult[];
  counts: {passed: number; failed: number; unknown: number};
}

/** Exit codes: CI tells a broken product (1) from a broken environment (3) and bad input (2). */
export const exitCodes = {pass: 0, fail: 1, usage: 2, unknown: 3} as const;
