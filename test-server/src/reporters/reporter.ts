/**
 * Reporters see the run only through these calls, fed from the same event
 * stream the history records; a new reporter never touches the engine.
 * Every method is optional (Playwright's reporter API is the model).
 */
import type {RunResult, ScenarioResult, StepResult} from '../engine/results.js';

export interface RunInfo {
  seed: number;
  outDir: string;
  scenarios: Array<{name: string; file: string}>;
  repeat: number;
}

export interface ScenarioInfo {
  name: string;
  file: string;
  runId: string;
  attempt: number;
  runDir: string;
  /** Set when network faults are nftables rules in the kernel (absent: the peers' own net-* commands). */
  faults?: 'kernel';
}

export interface Reporter {
  onRunBegin?(run: RunInfo): void | Promise<void>;
  onScenarioBegin?(scenario: ScenarioInfo): void | Promise<void>;
  onStepEnd?(scenario: ScenarioInfo, step: StepResult): void | Promise<void>;
  onScenarioEnd?(result: ScenarioResult): void | Promise<void>;
  onRunEnd?(result: RunResult): void | Promise<void>;
}
