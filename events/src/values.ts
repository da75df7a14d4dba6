/** Helpers for JSON values that cross a boundary: describe them in errors, bound their nesting, refuse prototype keys. */

/**
 * A value as a person reads it in an error message: its JSON, cut to `max`
 * characters. Used wherever a refusal shows what it got (this protocol, the
 * history reader, the coordinator's expect: matcher), so they read alike.
 */
export function describeValue(value: unknown, max = 60): string {
  if (value === undefined) return 'nothing';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    // A BigInt, a cycle or nesting deeper than the stack, from a caller in process: describing the value must not replace the refusal.
    text = Object.prototype.toString.call(value);
  }
  return text.length > max ? text.slice(0, max - 3) + '...' : text;
}

/**
 * Keys that JSON.parse makes ordinary own properties but that anything copying
 * by assignment (Object.assign, obj[key] = ...) turns into a prototype change,
 * or that shadow one. No message needs them, so they are refused, not dropped.
 */
const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype'] as const;

export function prototypeKey(v: object): string | undefined {
  for (const key of PROTOTYPE_KEYS) if (Object.hasOwn(v, key)) return key;
  return undefined;
}

/**
 * The path to the first prototype key anywhere in a JSON value, or undefined.
 * Iterative, so no nesting depth can overflow the stack.
 */
export function findPrototypeKey(value: unknown): Array<string | number> | undefined {
  const stack: Array<{value: unknown; path: Array<string | number>}> = [{value, path: []}];
  while (stack.length > 0) {
    const {value: v, path} = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({value: v[i], path: [...path, i]});
      continue;
    }
    const key = prototypeKey(v);
    if (key !== undefined) return [...path, key];
    const entries = Object.entries(v);
    for (let i = entries.length - 1; i >= 0; i--) stack.push({value: entries[i]![1], path: [...path, entries[i]![0]]});
  }
  return undefined;
}

/**
 * How deep a peer's event data or command result may nest. The coordinator
 * writes them into the history a level or two down, and what reads the
 * history recurses (JSON.stringify, the checkers): a value 200,000 levels
 * deep, which JSON takes, overflowed the stack there. 32 is far beyond any
 * honest value and well inside the 64 levels the history reader accepts.
 */
export const MAX_VALUE_DEPTH = 32;

/**
 * Whether `v` nests more than `max` levels (a scalar is 0 levels, `{}` and
 * `[]` are 1). Iterative, so no depth overflows the stack; stops at the
 * first level too many.
 */
export function nestsDeeperThan(v: unknown, max: number): boolean {
  if (typeof v !== 'object' || v === null) return false;
  const values: object[] = [v];
  const depths: number[] = [1];
  while (values.length > 0) {
    const value = values.pop()!;
    const depth = depths.pop()!;
    if (depth > max) return true;
    // Index loops over arrays: Object.values on a long list allocates a copy.
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const x: unknown = value[i];
        if (typeof x === 'object' && x !== null) values.push(x), depths.push(depth + 1);
      }
    } else {
      for (const key in value) {
        const x = (value as Record<string, unknown>)[key];
        if (typeof x === 'object' && x !== null) values.push(x), depths.push(depth + 1);
      }
    }
  }
  return false;
}
