/** A step's verdict as every report shows it, and how verdicts fold into one. */
import type {Status} from './history/types.js';

export interface StepResult {
  /** Position in the scenario: "3", or "5.2" inside a block. */
  path: string;
  kind: string;
  /** The step as a person would say it, e.g. "await converged within 5s". */
  title: string;
  line: number;
  status: Status;
  message?: string;
  figures?: Record<string, number>;
  durationMs: number;
}

export function overallStatus(statuses: readonly Status[]): Status {
  if (statuses.includes('fail')) return 'fail';
  if (statuses.includes('unknown')) return 'unknown';
  return 'pass';
}
