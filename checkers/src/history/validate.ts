/**
 * What a history line must be before the checkers see it. The history is
 * read back from a file anyone can edit, so each line is checked here, at
 * the edge, against the event contract (@peerlab/events/contract): its
 * envelope, and the data of every type the contract lists, coordinator and
 * peer events alike (the hub refuses a peer event that breaks it, so a run
 * writes none). The checkers then read typed data. A peer event of a type the
 * contract does not list is an extension: stored as it came, and ignored.
 */
import {describeValue as show, nestsDeeperThan} from '@peerlab/events/values';
import {checkCoordinatorEvent, checkPeerEvent, eventPhrase} from '@peerlab/events/contract';
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

const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

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

/** Whether `line` has at least `n` opening brackets (in strings too: a false alarm only costs the walk). */
function opensAtLeast(line: string, n: number): boolean {
  // indexOf is a native scan: a few calls on a line with a few brackets, against a loop over every character.
  let count = 0;
  for (const bracket of ['{', '[']) {
    for (let i = line.indexOf(bracket); i >= 0; i = line.indexOf(bracket, i + 1)) if (++count >= n) return true;
  }
  return false;
}

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
  // A line cannot nest deeper than it has opening brackets: nearly every line has a handful, and a scan of its
  // characters costs a fraction of walking the parsed value (a third of reading a million-line history, measured).
  if (line.length > 2 * MAX_LINE_DEPTH && opensAtLeast(line, MAX_LINE_DEPTH + 1)) {
    const deep = tooDeepField(value);
    if (deep !== undefined) throw new HistoryReadError(file, n, deep, `nested more than ${MAX_LINE_DEPTH} levels deep (counting the event itself): peerlab reads no deeper values`);
  }
  const {t, src, type, data, seq} = value;
  const fail = (field: string, expected: string, got: Json): never => {
    throw new HistoryReadError(file, n, field, `expected ${expected}, got ${show(got)}`);
  };
  if (typeof t !== 'number' || !Number.isFinite(t)) fail('t', 'a time in epoch ms', t);
  if (src !== 'coordinator' && !(typeof src === 'string' && src.startsWith('peer:') && isValidPeerName(src.slice(5)))) fail('src', '"coordinator" or "peer:<name>"', src);
  if (typeof type !== 'string' || type.length === 0 || type.length > 64) fail('type', 'an event type, 1-64 characters', type);
  if (data !== undefined && !isObject(data)) fail('data', 'an object', data);
  if (seq !== undefined && !(Number.isSafeInteger(seq) && (seq as number) >= 1)) fail('seq', 'a sequence number, 1 or more', seq);
  const fields = (data ?? {}) as Record<string, Json>;
  // The contract, for every type it lists: the hub let no other data through, the engine writes no other.
  const problem = src === 'coordinator' ? checkCoordinatorEvent(type as string, fields) : checkPeerEvent(type as string, fields);
  if (problem) fail(problem.field, problem.field === 'type' ? `${problem.expected} (the coordinator writes no other)` : `${problem.expected} in ${eventPhrase(type as string)}`, problem.value);
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
