/** Reads a `history.jsonl` back; a damaged line is reported with its number. */
import {createReadStream} from 'node:fs';
import type {HistoryEvent} from './types.js';

export class HistoryReadError extends Error {}

/**
 * Reads the file in big chunks and splits the lines itself: readline's
 * line-by-line async iteration cost almost as much as parsing the JSON, and
 * a history can hold millions of lines. Line breaks count as readline counts
 * them (`\n`, `\r\n`, a lone `\r`), so a damaged line keeps its number.
 */
export async function readHistory(file: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let n = 0;
  const take = (line: string): void => {
    n++;
    if (line.trim() !== '') events.push(parseEvent(line, file, n));
  };
  let pending = '';
  for await (const chunk of createReadStream(file, {encoding: 'utf8', highWaterMark: 1 << 20})) {
    pending = takeLines(pending + (chunk as string), false, take);
  }
  takeLines(pending, true, take);
  return events;
}

/**
 * Hands every complete line of `text` to `take` and returns the unfinished
 * rest; with `last`, the rest is a line too. A `\r` at the very end is held
 * back until the next chunk says whether a `\n` completes it.
 */
function takeLines(text: string, last: boolean, take: (line: string) => void): string {
  const held = !last && text.endsWith('\r') ? '\r' : '';
  let body = held ? text.slice(0, -1) : text;
  if (body.includes('\r')) body = body.replace(/\r\n?/g, '\n');
  let start = 0;
  for (let end = body.indexOf('\n'); end >= 0; end = body.indexOf('\n', start)) {
    take(body.slice(start, end));
    start = end + 1;
  }
  const rest = body.slice(start) + held;
  if (last && rest !== '') take(rest);
  return rest;
}

function parseEvent(line: string, file: string, n: number): HistoryEvent {
  let event: HistoryEvent;
  try {
    event = JSON.parse(line) as HistoryEvent;
  } catch (error) {
    throw new HistoryReadError(`${file}:${n}: not a JSON line (${(error as Error).message})`);
  }
  if (typeof event !== 'object' || event === null || typeof event.t !== 'number' || typeof event.type !== 'string' || typeof event.src !== 'string') {
    throw new HistoryReadError(`${file}:${n}: expected an event {t, src, type, data}`);
  }
  event.data ??= {};
  return event;
}
