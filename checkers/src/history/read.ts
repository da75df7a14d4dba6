/**
 * Reads a `history.jsonl` back. Every line is checked (see validate.ts)
 * before a checker sees it; a damaged file is reported with the line, the
 * field and what was expected, never as a crash further in.
 */
import {createReadStream} from 'node:fs';
import {stat} from 'node:fs/promises';
import type {HistoryEvent} from './types.js';
import {decodeUtf8, invalidUtf8At} from '../utf8.js';
import {checkHistory, HistoryReadError, parseEventLine} from './validate.js';

export {HistoryReadError} from './validate.js';

/**
 * The longest line accepted, in characters. The longest real lines are
 * command replies listing a peer's messages, well under a MiB; without a
 * bound, a file with no line break would be held in memory whole.
 */
export const MAX_LINE_CHARS = 16 * 1024 * 1024;

/**
 * Reads the file in big chunks and splits the lines itself: readline's
 * line-by-line async iteration cost almost as much as parsing the JSON, and
 * a history can hold millions of lines. Line breaks count as readline counts
 * them (`\n`, `\r\n`, a lone `\r`), so a damaged line keeps its number.
 */
export async function readHistory(file: string, options: {chunkBytes?: number} = {}): Promise<HistoryEvent[]> {
  // Tests read in small chunks, so lines, \r\n pairs and UTF-8 characters split across chunks as they do in big files.
  const highWaterMark = options.chunkBytes ?? 1 << 20;
  const info = await stat(file);
  // A device (/dev/zero) or a fifo would be read forever.
  if (!info.isFile()) throw new HistoryReadError(file, 1, '', 'not a regular file: a history is a history.jsonl file');
  const lines = new Lines(file);
  const decoder = new TextDecoder('utf-8', {fatal: true});
  let pending = '';
  const decodeOrLocate = async (decode: () => string): Promise<string> => {
    try {
      return decode();
    } catch {
      throw await invalidUtf8Error(file);
    }
  };
  for await (const chunk of createReadStream(file, {highWaterMark})) {
    const text = await decodeOrLocate(() => decoder.decode(chunk as Buffer, {stream: true}));
    pending = takeChunk(pending, text, lines.take);
    if (pending.length > MAX_LINE_CHARS) lines.tooLong();
  }
  pending += await decodeOrLocate(() => decoder.decode());
  takeLines(pending, true, lines.take);
  return lines.done();
}

/**
 * The same checks on a history held in memory: what `readHistory` does after
 * reading. Only tests call it; `peerlab check` reads through `readHistory`.
 */
export function parseHistoryText(text: string, file: string): HistoryEvent[] {
  const lines = new Lines(file);
  takeLines(text, true, lines.take);
  return lines.done();
}

class Lines {
  readonly events: HistoryEvent[] = [];
  readonly numbers: number[] = [];
  n = 0;

  constructor(readonly file: string) {}

  readonly take = (line: string, last: boolean): void => {
    this.n++;
    if (line.length > MAX_LINE_CHARS) this.tooLong(0);
    if (line.trim() === '') return;
    this.events.push(parseEventLine(line, this.file, this.n, last));
    this.numbers.push(this.n);
  };

  tooLong(ahead = 1): never {
    throw new HistoryReadError(this.file, this.n + ahead, '', `a line longer than ${MAX_LINE_CHARS} characters (16 Mi): not a history written by peerlab`);
  }

  done(): HistoryEvent[] {
    checkHistory(this.events, this.numbers, this.file);
    return this.events;
  }
}

/**
 * takeLines over the unfinished line before a chunk and the chunk. Only the
 * chunk's first line is joined to what came before: joining the whole 1 MiB
 * chunk made one long concatenated string, and slicing lines out of it cost
 * more than reading and parsing them (1.5 s of 4.3 s for a million lines).
 */
function takeChunk(pending: string, text: string, take: (line: string, last: boolean) => void): string {
  const firstBreak = text.indexOf('\n');
  if (firstBreak < 0) return takeLines(pending + text, false, take);
  takeLines(pending + text.slice(0, firstBreak + 1), false, take);
  return takeLines(text.slice(firstBreak + 1), false, take);
}

/**
 * Hands every complete line of `text` to `take` and returns the unfinished
 * rest; with `last`, the rest is a line too. A `\r` at the very end is held
 * back until the next chunk says whether a `\n` completes it.
 */
function takeLines(text: string, last: boolean, take: (line: string, last: boolean) => void): string {
  const held = !last && text.endsWith('\r') ? '\r' : '';
  let body = held ? text.slice(0, -1) : text;
  if (body.includes('\r')) body = body.replace(/\r\n?/g, '\n');
  let start = 0;
  for (let end = body.indexOf('\n'); end >= 0; end = body.indexOf('\n', start)) {
    take(body.slice(start, end), false);
    start = end + 1;
  }
  const rest = body.slice(start) + held;
  if (last && rest !== '') take(rest, true);
  return rest;
}

/**
 * Where the first byte that is not UTF-8 is: the slow way, line by line over
 * the raw bytes, only once reading has already failed. Line breaks are ASCII,
 * so they never fall inside a multi-byte character.
 */
async function invalidUtf8Error(file: string): Promise<HistoryReadError> {
  let n = 1;
  let carry = Buffer.alloc(0);
  const check = (line: Buffer): HistoryReadError | undefined => {
    if (decodeUtf8(line) !== undefined) return undefined;
    const at = Math.max(0, invalidUtf8At(line));
    return new HistoryReadError(file, n, '', `not UTF-8 text: invalid byte 0x${(line[at] ?? 0).toString(16).padStart(2, '0')} at byte ${at + 1} of the line`);
  };
  for await (const chunk of createReadStream(file, {highWaterMark: 1 << 20})) {
    let bytes = Buffer.concat([carry, chunk as Buffer]);
    for (let end = bytes.indexOf(0x0a); end >= 0; end = bytes.indexOf(0x0a)) {
      const error = check(bytes.subarray(0, end));
      if (error) return error;
      n++;
      bytes = bytes.subarray(end + 1);
    }
    if (bytes.length > MAX_LINE_CHARS * 4) return new HistoryReadError(file, n, '', 'not UTF-8 text');
    carry = Buffer.from(bytes);
  }
  return check(carry) ?? new HistoryReadError(file, n, '', 'not UTF-8 text');
}
