import {describeValue as show} from '@peerlab/events/values';

/**
 * `expect:` on a command's result: every field given must match. Objects
 * match partially (fields not named are ignored), everything else exactly.
 */
export function matchExpect(actual: unknown, expected: unknown, field = ''): string | undefined {
  if (expected !== null && typeof expected === 'object' && !Array.isArray(expected)) {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) {
      return `${field || 'result'}: expected an object, got ${show(actual)}`;
    }
    for (const [key, value] of Object.entries(expected)) {
      const problem = matchExpect((actual as Record<string, unknown>)[key], value, field ? `${field}.${key}` : key);
      if (problem) return problem;
    }
    return undefined;
  }
  return JSON.stringify(actual) === JSON.stringify(expected) ? undefined : `${field || 'result'}: expected ${show(expected)}, got ${show(actual)}`;
}
