/**
 * A scenario file held to a shorter timeout than its own, for the bench: a
 * group not converged by the figure's bound misses the figure whatever it
 * does next, so the bench does not wait out the file's minutes.
 */
import {isMap, isSeq, parseDocument} from 'yaml';
import {defaultScenarioTimeoutMs, parseDuration} from '@peerlab/test-server';

export interface HeldScenario {
  /** The file's own timeout in seconds (the loader's default when it sets none). */
  ownTimeoutS: number;
  /** The file's text held to the bound, or undefined when its own timeout is already within it. */
  text?: string | undefined;
}

export function holdScenario(source: string, boundS: number): HeldScenario {
  const doc = parseDocument(source);
  const own = doc.get('timeout');
  const ownTimeoutS = (typeof own === 'string' ? parseDuration(own) ?? defaultScenarioTimeoutMs : defaultScenarioTimeoutMs) / 1000;
  if (boundS >= ownTimeoutS) return {ownTimeoutS};
  doc.set('timeout', `${boundS}s`);
  // No step may be given longer than its scenario (the loader refuses the file), so longer ones are cut to the bound too.
  const steps = doc.get('steps');
  for (const step of isSeq(steps) ? steps.items.filter(isMap) : []) {
    const within = step.get('within');
    if (typeof within === 'string' && (parseDuration(within) ?? 0) > boundS * 1000) step.set('within', `${boundS}s`);
  }
  return {ownTimeoutS, text: doc.toString()};
}
