/**
 * Shared pieces of the property-based tests (fuzz-*.test.ts): how many runs,
 * edge values, and random edits of a parsed document. `npm test` runs a few
 * hundred cases per property; PEERLAB_FUZZ_RUNS=20000 runs more on demand,
 * and PEERLAB_FUZZ_SEED replays a failure fast-check reported.
 */
import fc from 'fast-check';

/** Options for fc.assert: `runs` by default, or PEERLAB_FUZZ_RUNS; the seed from PEERLAB_FUZZ_SEED if set. */
export function fuzzOptions(runs: number): {numRuns: number; seed?: number} {
  const wanted = Number(process.env.PEERLAB_FUZZ_RUNS);
  const seed = Number(process.env.PEERLAB_FUZZ_SEED);
  return {numRuns: Number.isSafeInteger(wanted) && wanted > 0 ? wanted : runs, ...(process.env.PEERLAB_FUZZ_SEED && Number.isSafeInteger(seed) ? {seed} : {})};
}

/**
 * How many cases a property that starts a process per case runs: `runs` by
 * default; with PEERLAB_FUZZ_RUNS set, one per 100 of those (a process start
 * costs what a hundred in-process cases do), and never fewer than `runs`.
 */
export function cliRuns(runs: number): {numRuns: number; seed?: number} {
  const options = fuzzOptions(runs);
  const wanted = Number(process.env.PEERLAB_FUZZ_RUNS);
  return {...options, numRuns: Number.isSafeInteger(wanted) && wanted > 0 ? Math.max(runs, Math.round(wanted / 100)) : runs};
}

/** A deadline for `runs` process starts, each allowed `perRunMs` on a busy machine. */
export function cliTimeout(runs: number, perRunMs = 30_000): number {
  return 60_000 + runs * perRunMs;
}

/** Values that break code assuming a type: wrong types, limits, names that live on Object.prototype. */
export const edgeValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    null, true, false, 0, -1, 1, 2 ** 31, 2 ** 53, -(2 ** 53), 1e308, -1e308, 0.5, '', ' ', '0', 'all', 'random',
    '__proto__', 'constructor', 'toString', 'hasOwnProperty', '${constructor}', '${nope}', 'peer:alice', 'coordinator',
    '0ms', '0s', '40000m', '0.0001ms', '1.5s', '99999999999999999999m', '100.5%', '50%', '1e3', 'NaN',
    [], {}, [[]], [['alice'], ['alice']], [['alice', 'bob']], ['alice', 'bob'], {kind: 'state'}, {kind: 'converged'},
    {state: {of: 'alice', is: 'dead'}}, {rejoined: 'bob'}, {repeat: 10_000, steps: [{sleep: '1ms'}]}, [1, 2], {a: {b: {c: {}}}},
  ),
  fc.string({maxLength: 12}),
  fc.integer(),
  fc.double(),
  fc.jsonValue({maxDepth: 2}),
);

type Key = string | number;

/** Every path into a JSON-like value (the value itself is []). */
export function pathsOf(value: unknown, prefix: Key[] = [], out: Key[][] = []): Key[][] {
  out.push(prefix);
  if (Array.isArray(value)) value.forEach((v, i) => pathsOf(v, [...prefix, i], out));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) pathsOf(v, [...prefix, k], out);
  return out;
}

/** One edit of a document: delete a key or item, replace a value, or add a key. */
export interface Edit {
  /** Picks the path, modulo how many there are. */
  at: number;
  op: 'delete' | 'replace' | 'add';
  key: string;
  value: unknown;
}

export const edit: fc.Arbitrary<Edit> = fc.record({
  at: fc.nat(),
  op: fc.constantFrom<Edit['op']>('delete', 'replace', 'replace', 'add'),
  key: fc.oneof(fc.constantFrom('name', 'peers', 'steps', 'within', 'timeout', 'run', 'on', 'every', 'for', 'faults', 'expect', 'vars', 'data', 'kind', 'path', 'peer', 'step', 'condition', '__proto__'), fc.string({maxLength: 8})),
  value: edgeValue,
});

/** Applies edits to a copy of `doc` (a JSON-like value); the whole document may be replaced. */
export function applyEdits(doc: unknown, edits: readonly Edit[]): unknown {
  const holder: {doc: unknown} = {doc: structuredClone(doc)};
  for (const e of edits) {
    const paths = pathsOf(holder.doc).map((p) => ['doc', ...p]);
    const at = paths[e.at % paths.length]!;
    let parent: any = holder;
    for (const k of at.slice(0, -1)) parent = parent[k];
    const last = at.at(-1)!;
    // A fresh copy each time: a shared edge value edited later would become a cycle.
    const value = structuredClone(e.value);
    if (e.op === 'delete' && last !== 'doc') {
      if (Array.isArray(parent)) parent.splice(last as number, 1);
      else delete parent[last];
    } else if (e.op === 'add' && parent[last] !== null && typeof parent[last] === 'object' && !Array.isArray(parent[last])) {
      Object.defineProperty(parent[last], e.key, {value, enumerable: true, writable: true, configurable: true});
    } else {
      parent[last] = value;
    }
  }
  return holder.doc;
}
