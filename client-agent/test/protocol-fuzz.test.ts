/**
 * Property-based tests of the message checks, in process: random values and
 * random mutations of valid hello, event-batch and reply messages. Each parser
 * either returns the message it was given, exactly when an independent model of
 * the rules accepts it, or throws a ProtocolError naming a field; nothing else.
 *
 * Bounded to run in a few seconds; PEERLAB_FUZZ_RUNS=<n> raises the number of
 * runs per property for a long session (fast-check prints the seed of a failure).
 */
import test from 'ava';
import fc from 'fast-check';
import {PROTOCOL_VERSION, ProtocolError, parseCommandReply, parseCommandRequest, parseEventBatch, parseHello, parseSnapshotReply} from '../src/protocol.js';

const RUNS = Number(process.env.PEERLAB_FUZZ_RUNS) || 400;
const settings = {numRuns: RUNS, includeErrorInReport: true};

// ---- the rules, written again plainly: the model the parsers are checked against

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const clean = (v: unknown): v is Record<string, unknown> => isObj(v) && !['__proto__', 'constructor', 'prototype'].some((k) => Object.hasOwn(v, k));
const str = (v: unknown, max: number) => typeof v === 'string' && v.length >= 1 && v.length <= max;
const int = (v: unknown, min: number) => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
const name = (v: unknown) => typeof v === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(v);

function helloOk(h: unknown): boolean {
  if (!clean(h) || h.protocol !== PROTOCOL_VERSION || !name(h.peer) || !int(h.pid, 1) || !str(h.version, 100) || !str(h.address, 300)) return false;
  if (h.instance !== undefined && !str(h.instance, 100)) return false;
  if (!Array.isArray(h.commands)) return false;
  // Spread first: every() skips the holes of a sparse array, and a hole is no object.
  return [...h.commands].every(
    (c) =>
      clean(c) &&
      str(c.name, 64) &&
      Array.isArray(c.args) &&
      [...c.args].every(
        (a) =>
          clean(a) &&
          str(a.name, 64) &&
          ['string', 'integer', 'number', 'boolean', 'enum'].includes(a.type as string) &&
          (a.values === undefined || (Array.isArray(a.values) && [...a.values].every((x) => typeof x === 'string'))),
      ),
  );
}

function batchOk(b: unknown): boolean {
  if (!clean(b) || !name(b.peer) || !Array.isArray(b.events) || b.events.length > 100_000) return false;
  return [...b.events].every((e, i) => {
    if (!clean(e) || !int(e.seq, 1)) return false;
    const first = (b.events as Array<{seq: number}>)[0]!.seq;
    return e.seq === first + i && typeof e.time === 'number' && Number.isFinite(e.time) && str(e.type, 64) && clean(e.data);
  });
}

function wireErrorOk(e: unknown): boolean {
  return clean(e) && typeof e.message === 'string' && typeof e.code === 'string';
}

function replyOk(r: unknown): boolean {
  if (!clean(r) || !str(r.id, 100)) return false;
  return r.ok === true || (r.ok === false && wireErrorOk(r.error));
}

// ---- valid messages, and mutations of them

const peerName = fc.stringMatching(/^[A-Za-z0-9._-]{1,64}$/);
const argSpec = fc.record(
  {name: fc.string({minLength: 1, maxLength: 64}), type: fc.constantFrom('string', 'integer', 'number', 'boolean', 'enum'), description: fc.string(), values: fc.array(fc.string(), {maxLength: 3})},
  {requiredKeys: ['name', 'type', 'description']},
);
const validHello = fc.record(
  {
    protocol: fc.constant(PROTOCOL_VERSION),
    peer: peerName,
    pid: fc.integer({min: 1, max: 2 ** 31}),
    version: fc.string({minLength: 1, maxLength: 100}),
    address: fc.string({minLength: 1, maxLength: 300}),
    instance: fc.string({minLength: 1, maxLength: 100}),
    commands: fc.array(fc.record({name: fc.string({minLength: 1, maxLength: 64}), group: fc.string(), summary: fc.string(), args: fc.array(argSpec, {maxLength: 3})}), {maxLength: 4}),
  },
  {requiredKeys: ['protocol', 'peer', 'pid', 'version', 'address', 'commands']},
);
const validBatch = fc
  .tuple(peerName, fc.integer({min: 1, max: 1_000_000}), fc.array(fc.record({time: fc.double({noNaN: true, noDefaultInfinity: true}), type: fc.string({minLength: 1, maxLength: 64}), data: fc.dictionary(fc.string().filter((k) => !['__proto__', 'constructor', 'prototype'].includes(k)), fc.jsonValue(), {maxKeys: 3})}), {maxLength: 6}))
  .map(([peer, first, events]) => ({peer, events: events.map((e, i) => ({seq: first + i, ...e}))}));
const wireError = fc.record({message: fc.string(), code: fc.string()});
const validReply = fc.oneof(
  fc.record({id: fc.string({minLength: 1, maxLength: 100}), ok: fc.constant(true), result: fc.jsonValue(), text: fc.string()}, {requiredKeys: ['id', 'ok', 'result']}),
  fc.record({id: fc.string({minLength: 1, maxLength: 100}), ok: fc.constant(false), error: wireError}),
);

/** Values a hostile or broken sender might put anywhere, the awkward ones made likely. */
const oddValue = fc.oneof(
  fc.constantFrom(undefined, null, 0, -0, -1, 1.5, Number.NaN, Infinity, 2 ** 53, '', 'x'.repeat(1001), [], {}, true, '__proto__'),
  fc.anything({withNullPrototype: true, withBoxedValues: true, withSparseArray: true, maxDepth: 2}),
  fc.jsonValue({maxDepth: 2}),
);
const oddKey = fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'seq', 'peer', 'ok', 'error', 'args', 'type', 'length'), fc.string({maxLength: 8}));

type Mutation = {op: 'set'; at: number; key: string; value: unknown} | {op: 'delete'; at: number; key: number} | {op: 'replace'; at: number; value: unknown};
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({op: fc.constant('set' as const), at: fc.nat(), key: oddKey, value: oddValue}),
  fc.record({op: fc.constant('delete' as const), at: fc.nat(), key: fc.nat()}),
  fc.record({op: fc.constant('replace' as const), at: fc.nat(), value: oddValue}),
);

function copy(value: unknown): unknown {
  try {
    return structuredClone(value);
  } catch {
    return value;
  }
}

/** Arrays and plain objects: what JSON can carry, and what a mutation may reach into (not a boxed string's characters). */
function isContainer(v: unknown): v is object {
  if (Array.isArray(v)) return true;
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Applies mutations to a deep copy: each picks one object or array inside the message by index. */
function mutate(message: unknown, mutations: readonly Mutation[]): unknown {
  // Copies throughout: fast-check replays the same generated values while it shrinks.
  const root = {message: structuredClone(message)};
  for (const m of mutations.map((m) => ('value' in m ? {...m, value: copy(m.value)} : m))) {
    const slots: Array<[Record<string | number, unknown>, string | number]> = [];
    const walk = (holder: Record<string | number, unknown>, key: string | number) => {
      slots.push([holder, key]);
      const v = holder[key];
      if (isContainer(v)) for (const k of Object.keys(v)) walk(v as Record<string, unknown>, Array.isArray(v) ? Number(k) : k);
    };
    walk(root, 'message');
    const [holder, key] = slots[m.at % slots.length]!;
    const target = holder[key];
    if (m.op === 'replace') holder[key] = m.value;
    else if (isContainer(target) && !(m.op === 'set' && Array.isArray(target))) {
      // defineProperty, as JSON.parse does: "__proto__" becomes an own key, not a new prototype.
      if (m.op === 'set') Object.defineProperty(target, m.key, {value: m.value, enumerable: true, writable: true, configurable: true});
      else {
        const keys = Object.keys(target);
        if (keys.length > 0) delete (target as Record<string, unknown>)[keys[m.key % keys.length]!];
      }
    }
  }
  return root.message;
}

/** Accepts exactly what the model accepts, returning the same object; refuses only with a ProtocolError naming a field. */
function agrees(parse: (v: unknown) => unknown, model: (v: unknown) => boolean, root: string, value: unknown): void {
  let accepted: unknown;
  try {
    accepted = parse(value);
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw new Error(`${root}: threw ${String(error)} instead of a ProtocolError`);
    if (!error.field.startsWith(root) || !error.message.startsWith(`${error.field}: expected `)) throw new Error(`${root}: badly named refusal: ${error.message}`);
    if (model(value)) throw new Error(`${root}: refused a valid message: ${error.message}`);
    return;
  }
  if (accepted !== value) throw new Error(`${root}: returned something else than it was given`);
  if (!model(value)) throw new Error(`${root}: accepted an invalid message`);
}

const cases = [
  {what: 'hello', parse: parseHello, model: helloOk, root: 'hello', valid: validHello as fc.Arbitrary<unknown>},
  {what: 'event batch', parse: parseEventBatch, model: batchOk, root: 'events', valid: validBatch as fc.Arbitrary<unknown>},
  {what: 'command reply', parse: parseCommandReply, model: replyOk, root: 'command reply', valid: validReply as fc.Arbitrary<unknown>},
];

for (const {what, parse, model, root, valid} of cases) {
  test(`${what}: every valid message is accepted as is`, (t) => {
    fc.assert(fc.property(valid, (message) => parse(message) === message), settings);
    t.pass();
  });

  test(`${what}: a mutated message is accepted exactly when the rules allow it, else refused naming a field`, (t) => {
    fc.assert(
      fc.property(valid, fc.array(mutation, {minLength: 1, maxLength: 3}), (message, mutations) => agrees(parse, model, root, mutate(message, mutations))),
      settings,
    );
    t.pass();
  });

  test(`${what}: any value at all is refused or accepted, never thrown on otherwise`, (t) => {
    fc.assert(fc.property(oddValue, (value) => agrees(parse, model, root, value)), settings);
    t.pass();
  });
}

test('command requests and snapshot replies: any value gets a result or a ProtocolError', (t) => {
  for (const parse of [parseCommandRequest, parseSnapshotReply]) {
    fc.assert(
      fc.property(oddValue, (value) => {
        try {
          parse(value);
        } catch (error) {
          if (!(error instanceof ProtocolError)) throw error;
        }
      }),
      settings,
    );
  }
  t.is(({} as Record<string, unknown>).polluted, undefined);
});
