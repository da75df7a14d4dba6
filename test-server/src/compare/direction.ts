/**
 * Which way a figure gets worse, read from its name alone, so a figure a
 * checker adds tomorrow is judged without a table to update: a name that
 * says it is a time, a rate, a volume or a count of faults gates; a name
 * that only describes the run (how many messages were sent, how many peers
 * were killed) is shown and never gates, and so is a name no rule knows.
 */

/** `worse-when-higher`: a rise past the threshold is a regression. `info`: shown, never a verdict. */
export type Direction = 'worse-when-higher' | 'info';

/** Counts that describe what the scenario did rather than how well the peers did it. */
const DESCRIPTIVE = new Set(['messages', 'failed', 'incarnation', 'incarnation_before', 'transitions', 'deliveries', 'dead_declarations', 'suspicions']);

/** Counts of things that should not happen: more of them is worse. */
const FAULTS = new Set(['missing', 'duplicates', 'illegal_transitions', 'unsent', 'out_of_order']);

export function figureDirection(name: string): Direction {
  if (DESCRIPTIVE.has(name)) return 'info';
  // How long a run spent in a phase says what happened, not how well: faster recovery means more time at rest.
  if (name.endsWith('_duration_s')) return 'info';
  // The model's own figure is an input (profile timing and N), not a measurement.
  if (name === 'model_ms') return 'info';
  if (FAULTS.has(name) || name.startsWith('false_')) return 'worse-when-higher';
  // Times (converge_ms, latency_p99_ms, model_ms), rates (…_per_s), the measured-over-model ratio.
  if (/_(ms|s|ratio)$/.test(name)) return 'worse-when-higher';
  // Traffic: bytes and packets, in any unit.
  if (/(^|_)(bytes|packets)(_|$)/.test(name)) return 'worse-when-higher';
  return 'info';
}
