/**
 * A large report's bulk columns (every delivery, every event's time, source
 * and type) go in scripts of their own, loaded by the page after its first
 * paint: parsing them first made the first view of a million-event report
 * wait about a second. Small reports keep everything in data.js.
 */
import {bulkCharBias, type BulkPart, type DeferredBlock, type ReportData} from '../data/types.js';

/** Bulk values (deliveries × 4 + events × 3) above which a report defers them. */
export const deferBulkAbove = 200_000;

export interface SplitReport {
  /** The data for data.js: deferred columns empty, `meta.deferred` naming their blocks. */
  data: ReportData;
  parts: BulkPart[];
}

type Column = {block: DeferredBlock; column: string; encoding: BulkPart['encoding']; values: number[]};

export function splitBulk(data: ReportData, threshold = deferBulkAbove): SplitReport {
  const {deliveries} = data.messages;
  const log = data.eventLog;
  if (deliveries.t.length * 4 + log.t.length * 3 <= threshold) return {data, parts: []};
  const columns: Column[] = [
    {block: 'deliveries', column: 'message', encoding: 'delta', values: deliveries.message},
    {block: 'deliveries', column: 'peer', encoding: 'plain', values: deliveries.peer},
    {block: 'deliveries', column: 't', encoding: 'delta', values: deliveries.t},
    {block: 'deliveries', column: 'flag', encoding: 'plain', values: deliveries.flag},
    {block: 'eventLog', column: 't', encoding: 'delta', values: log.t},
    {block: 'eventLog', column: 'src', encoding: 'plain', values: log.src},
    {block: 'eventLog', column: 'type', encoding: 'plain', values: log.type},
  ];
  const parts = columns.map((c, index): BulkPart => {
    const values = c.encoding === 'delta' ? deltas(c.values) : c.values;
    const chars = asChars(values);
    return chars === undefined ? {index, block: c.block, column: c.column, encoding: c.encoding, values} : {index, block: c.block, column: c.column, encoding: c.encoding, chars};
  });
  return {
    data: {
      ...data,
      meta: {...data.meta, deferred: {blocks: ['deliveries', 'eventLog'], parts: parts.length}},
      messages: {...data.messages, deliveries: {message: [], peer: [], t: [], flag: []}},
      eventLog: {...log, t: [], src: [], type: []},
    },
    parts,
  };
}

function deltas(values: readonly number[]): number[] {
  const out = new Array<number>(values.length);
  let previous = 0;
  for (let i = 0; i < values.length; i++) {
    out[i] = values[i]! - previous;
    previous = values[i]!;
  }
  return out;
}

/** Integers that each fit one UTF-16 unit above ASCII (nothing to escape) and below the surrogates, as those units; else undefined. */
function asChars(values: readonly number[]): string | undefined {
  const codes = new Array<string>();
  const units: number[] = [];
  for (const v of values) {
    const code = v + bulkCharBias;
    if (!Number.isInteger(v) || code < 0x80 || code >= 0xd800) return undefined;
    units.push(code);
    // fromCharCode takes its arguments on the stack: a slice at a time.
    if (units.length === 8192) codes.push(String.fromCharCode(...units.splice(0)));
  }
  codes.push(String.fromCharCode(...units));
  return codes.join('');
}

/** The column's values, for the page (and tests): the inverse of the encoding. */
export function decodePart(part: Pick<BulkPart, 'encoding' | 'values' | 'chars'>): number[] {
  const n = part.chars !== undefined ? part.chars.length : part.values!.length;
  const out = new Array<number>(n);
  const chars = part.chars;
  const values = part.values;
  let sum = 0;
  const delta = part.encoding === 'delta';
  for (let i = 0; i < n; i++) {
    const v = chars !== undefined ? chars.charCodeAt(i) - bulkCharBias : values![i]!;
    out[i] = delta ? (sum += v) : v;
  }
  return out;
}

/** The data with every part put back: what `splitBulk` was given. */
export function mergeBulk(data: ReportData, parts: readonly BulkPart[]): ReportData {
  const deliveries = {...data.messages.deliveries};
  const log = {...data.eventLog};
  for (const part of parts) {
    const values = decodePart(part);
    if (part.block === 'deliveries') (deliveries as Record<string, number[]>)[part.column] = values;
    else (log as unknown as Record<string, number[]>)[part.column] = values;
  }
  const {deferred: _, ...meta} = data.meta;
  return {...data, meta, messages: {...data.messages, deliveries}, eventLog: log};
}
