/**
 * What a history line must be before the checkers see it. The history is
 * read back from a file anyone can edit, so its envelope and the fields the
 * verdict reads are checked here, at the edge, and the checkers can trust
 * what they get. Peer events carry what the peer sent, which the hub checked
 * only for its envelope: the checkers read their data defensively, so only
 * the envelope is checked here too; anything stricter would reject histories
 * a real run can write.
 */
import {describeValue as show, nestsDeeperThan} from '@peerlab/events/values';
import type {HistoryEvent} from './types.js';
import {isValidPeerName} from '@peerlab/events/names';

export class HistoryReadError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly field: string,
    readonly detail: string,
  ) {
    super(`${file}:${line}: ${field ? `${field}: ` : ''}${detail}`);
    this.name = 'HistoryReadError';
  }
}

/** The JSON a line holds, as JSON.parse gives it. */
type Json = unknown;

interface FieldRule {
  check: (value: Json) => boolean;
  expected: string;
}

const isString = (v: Json): boolean => typeof v === 'string';
const isBoolean = (v: Json): boolean => typeof v === 'boolean';
const isStringList = (v: Json): boolean => Array.isArray(v) && v.every(isString);
const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStatus = (v: Json): boolean => v === 'pass' || v === 'fail' || v === 'unknown';
const isMemberState = (v: Json): boolean => v === 'alive' || v === 'suspect' || v === 'dead' || v === 'left';

/** A condition as the engine writes it in await.begin (see Condition in types.ts). */
function isCondition(v: Json): boolean {
  if (!isObject(v)) return false;
  switch (v.kind) {
    case 'converged':
    case 'delivered':
    case 'detected':
      return true;
    case 'rejoined':
      return isString(v.of);
    case 'state':
      return isString(v.of) && isMemberState(v.is) && (v.seenBy === 'all' || isStringList(v.seenBy));
    default:
      return false;
  }
}

/**
 * How deep a line may nest, the event itself counting as the first level
 * (so `data` is the second). JSON.parse takes any depth, but what reads the
 * history afterwards recurses (JSON.stringify in the expect: matcher and in
 * error messages, the checkers, the reporters): a line nested 200,000
 * levels overflowed the stack there, a crash instead of a located error.
 * No event peerlab writes comes near this: the hub refuses a peer's event
 * data or command result nested deeper than MAX_VALUE_DEPTH (32), so every
 * line a run writes can be read back.
 */
export const MAX_LINE_DEPTH = 64;

/**
 * A line nesting deeper than MAX_LINE_DEPTH: the field it is deep in
 * (`data.<key>` for data, the field itself otherwise), for the error.
 */
function tooDeepField(value: Record<string, Json>): string | undefined {
  for (const [key, v] of Object.entries(value)) {
    if (!nestsDeeperThan(v, MAX_LINE_DEPTH - 1)) continue;
    if (key !== 'data' || !isObject(v)) return key;
    for (const [name, x] of Object.entries(v)) if (nestsDeeperThan(x, MAX_LINE_DEPTH - 2)) return `data.${name}`;
    return key;
  }
  return undefined;
}

const rule = (check: (v: Json) => boolean, expected: string): FieldRule => ({check, expected});
const optional = (r: FieldRule): FieldRule => ({check: (v) => v === undefined || r.check(v), expected: r.expected});

const string = rule(isString, 'a string');
const peer = string;
const stepPath = rule((v) => typeof v === 'string' && /^\d+(\.\d+)*$/.test(v), 'a step path like "3" or "5.2.1"');

/**
 * The fields of coordinator events that evaluate() and the checkers read,
 * by event type (the shapes are listed in types.ts). Other fields, and types
 * not listed, pass as they are: only describeEvent reads them, as text.
 */
const coordinatorRules = new Map<string, Record<string, FieldRule>>([
  // evaluate() has a default for each of these (a synthetic history may leave them out), not for a wrong type.
  ['run.begin', {
    scenario: optional(string),
    file: optional(string),
    runId: optional(string),
    seed: optional(rule((v) => Number.isSafeInteger(v) && (v as number) >= 0, 'a whole number, 0 or more')),
    invariants: optional(rule(isStringList, 'a list of invariant names')),
  }],
  ['run.end', {error: optional(string)}],
  ['step.begin', {
    path: stepPath,
    kind: string,
    title: string,
    line: rule((v) => Number.isSafeInteger(v) && (v as number) >= 0, 'a line number'),
    peers: optional(rule(isStringList, 'a list of peer names')),
    // Its depth is bounded with the line's (MAX_LINE_DEPTH).
    expect: optional(rule(isObject, 'an object')),
  }],
  ['step.end', {path: stepPath, status: rule(isStatus, 'pass, fail or unknown'), message: optional(string), error: optional(string)}],
  ['await.begin', {
    step: stepPath,
    condition: rule(isCondition, 'a condition: {kind: converged | delivered | detected | state | rejoined, ...}'),
    withinMs: rule((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0, 'a duration in ms'),
  }],
  ['await.end', {step: stepPath}],
  ['command.send', {step: string, peer}],
  ['command.reply', {
    step: string,
    peer,
    ok: rule(isBoolean, 'true or false'),
    error: optional(rule((v) => isObject(v) && isString(v.message) && isString(v.code), 'an error {message, code}')),
  }],
  ['peer.spawn', {peer}],
  ['peer.registered', {peer}],
  ['peer.exit', {peer}],
  ['peer.kill', {peer, signal: string}],
  ['fault', {kind: string}],
]);

/** As the hub accepts them (the one peer-name rule): a peer name after `peer:`. */
const isPeerSource = (src: string): boolean => src.startsWith('peer:') && isValidPeerName(src.slice('peer:'.length));

/** Parses and checks one line; `last` says it is the file's last line and had no line break (it may be cut short). */
export function parseEventLine(line: string, file: string, n: number, last = false): HistoryEvent {
  let value: Json;
  try {
    value = JSON.parse(line);
  } catch (error) {
    const cut = last ? ' (the last line is cut short: was the run stopped while writing?)' : '';
    throw new HistoryReadError(file, n, '', `not a JSON line${cut}: ${(error as Error).message}`);
  }
  if (!isObject(value)) throw new HistoryReadError(file, n, '', 'expected an event {t, src, type, data}');
  // Fewer characters than two brackets per level cannot nest too deep: most lines skip the walk.
  if (line.length > 2 * MAX_LINE_DEPTH) {
    const deep = tooDeepField(value);
    if (deep !== undefined) throw new HistoryReadError(file, n, deep, `nested more than ${MAX_LINE_DEPTH} levels deep (counting the event itself): peerlab reads no deeper values`);
  }
  const {t, src, type, data, seq} = value;
  const fail = (field: string, expected: string, got: Json): never => {
    throw new HistoryReadError(file, n, field, `expected ${expected}, got ${show(got)}`);
  };
  if (typeof t !== 'number' || !Number.isFinite(t)) fail('t', 'a time in epoch ms', t);
  if (src !== 'coordinator' && !(typeof src === 'string' && isPeerSource(src))) fail('src', '"coordinator" or "peer:<name>"', src);
  if (typeof type !== 'string' || type.length === 0 || type.length > 64) fail('type', 'an event type, 1-64 characters', type);
  if (data !== undefined && !isObject(data)) fail('data', 'an object', data);
  if (seq !== undefined && !(Number.isSafeInteger(seq) && (seq as number) >= 1)) fail('seq', 'a sequence number, 1 or more', seq);
  const fields = (data ?? {}) as Record<string, Json>;
  if (src === 'coordinator') {
    const rules = coordinatorRules.get(type as string);
    if (rules) {
      for (const [name, r] of Object.entries(rules)) {
        const v = Object.hasOwn(fields, name) ? fields[name] : undefined;
        if (!r.check(v)) fail(`data.${name}`, `${r.expected} in a ${type as string} event`, v);
      }
    }
  }
  const event = {t, src, type, data: fields} as HistoryEvent;
  if (seq !== undefined) event.seq = seq as number;
  return event;
}

/** Checks what only the whole history shows. `lines[i]` is the line number of `events[i]`. */
export function checkHistory(events: readonly HistoryEvent[], lines: readonly number[], file: string): void {
  const first = events[0];
  if (!first) throw new HistoryReadError(file, 1, '', 'an empty history: no events, not even run.begin');
  if (first.src !== 'coordinator' || first.type !== 'run.begin') {
    throw new HistoryReadError(file, lines[0] ?? 1, '', `expected the history to begin with the coordinator's run.begin, got ${first.src} ${first.type}: is it a history.jsonl, and complete?`);
  }
}
