/**
 * A hosted group's time from the start to converged, read from what
 * `peerlab run --reporter json` wrote of its scenario.
 */

/** One scenario of a `peerlab run` results.json, as far as the bench reads it. */
export interface ScenarioResult {
  name: string;
  file: string;
  status: string;
  durationMs: number;
  message?: string;
  figures?: Record<string, number>;
  steps: Array<{kind: string; title: string; status: string; durationMs: number}>;
}

/**
 * The steps' time up to and including the first `await: converged`:
 * registration, joins and gossip, as a user waits for them. NaN unless every
 * one of those steps passed: the time until a bound cut the run short is not
 * a time to converge.
 */
export function timeToConverged(scenario: ScenarioResult | undefined): {ms: number; status: string; passed: boolean} {
  const upTo = scenario?.steps.findIndex((step) => step.kind === 'await' && /converged/.test(step.title)) ?? -1;
  if (!scenario || upTo < 0) return {ms: NaN, status: scenario?.status ?? 'not run', passed: false};
  const steps = scenario.steps.slice(0, upTo + 1);
  const passed = steps.every((step) => step.status === 'pass');
  return {ms: passed ? steps.reduce((sum, step) => sum + step.durationMs, 0) : NaN, status: scenario.status, passed};
}
