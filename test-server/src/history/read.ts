/** Reads a `history.jsonl` back; a damaged line is reported with its number. */
import {createReadStream} from 'node:fs';
import {createInterface} from 'node:readline';
import type {HistoryEvent} from './types.js';

export class HistoryReadError extends Error {}

export async function readHistory(file: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  const lines = createInterface({input: createReadStream(file, 'utf8'), crlfDelay: Infinity});
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line.trim() === '') continue;
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
    events.push(event);
  }
  return events;
}
