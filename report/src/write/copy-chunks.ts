/**
 * The event log's chunks straight from the history file's bytes: every line
 * of a history that was read and validated is a JSON event, and JSON is
 * JavaScript, so each chunk is its lines between a call's parentheses. No
 * string per event and no second JSON.stringify: on a million events,
 * keeping the lines as strings while reading cost more than the whole write.
 *
 * Only the plain case is taken: lines that end in `\n` alone. Anything else
 * (a `\r`, more lines than expected) returns undefined, as a count that does
 * not match the events read should be taken, and the caller writes the
 * chunks from the events instead.
 */
import {createReadStream} from 'node:fs';
import {writeFile} from 'node:fs/promises';
import path from 'node:path';
import {chunkFileName, chunkGlobal} from '../data/types.js';

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const COMMA = Buffer.from(',');
const PROTO_TAIL = Buffer.from('proto__"');
const UNICODE_ESCAPE = Buffer.from('\\u');
const CLOSE = Buffer.from(']});\n');
/** Chunk files written while the next ones are read. */
const PENDING_WRITES = 8;

class NotPlain extends Error {}

function isBlank(line: Buffer): boolean {
  for (const byte of line) if (byte !== 0x20 && byte !== 0x09) return false;
  return true;
}

/** Writes dir/events-NNNN.js from the history's lines and returns how many it copied; undefined (nothing to rely on) if the file is not plain or has more than `expected`. */
export async function copyHistoryChunks(historyFile: string, dir: string, chunkSize: number, expected = Infinity): Promise<number | undefined> {
  let parts: Buffer[] = [];
  let inChunk = 0;
  let index = 0;
  let count = 0;
  const pending = new Set<Promise<void>>();
  /** Starts writing the chunk gathered so far. */
  const flush = () => {
    if (inChunk === 0) return;
    const head = `window[${JSON.stringify(chunkGlobal)}]({"index":${index},"events":`;
    const body = Buffer.concat(parts);
    // An object literal's __proto__ key (also spelled with \u escapes) would set a prototype, not make a key,
    // and twice in one object is a SyntaxError that loses the chunk: JSON.parse keeps it a key.
    const text = body.includes(PROTO_TAIL) || body.includes(UNICODE_ESCAPE) ? Buffer.from(`${head}JSON.parse(${JSON.stringify(`[${body.toString('utf8')}]`)})});\n`) : Buffer.concat([Buffer.from(`${head}[`), body, CLOSE]);
    const write = writeFile(path.join(dir, chunkFileName(index)), text).finally(() => pending.delete(write));
    pending.add(write);
    index++;
    parts = [];
    inChunk = 0;
  };
  // Synchronous per line (a million awaits cost more than the copying); the loop waits only when writes pile up.
  const take = (line: Buffer) => {
    if (line.length === 0 || isBlank(line)) return;
    if (++count > expected) throw new NotPlain();
    if (inChunk > 0) parts.push(COMMA);
    parts.push(line);
    if (++inChunk === chunkSize) flush();
  };
  try {
    // The unfinished line at the end of a read, finished by the next one: only it is copied, never the whole read.
    let carry: Buffer | undefined;
    for await (const chunk of createReadStream(historyFile, {highWaterMark: 1 << 20})) {
      const bytes = chunk as Buffer;
      if (bytes.includes(CARRIAGE_RETURN)) throw new NotPlain();
      let start = 0;
      for (let end = bytes.indexOf(NEWLINE); end >= 0; end = bytes.indexOf(NEWLINE, start)) {
        const line = bytes.subarray(start, end);
        take(carry ? Buffer.concat([carry, line]) : line);
        carry = undefined;
        start = end + 1;
      }
      if (start < bytes.length) carry = carry ? Buffer.concat([carry, bytes.subarray(start)]) : Buffer.from(bytes.subarray(start));
      while (pending.size >= PENDING_WRITES) await Promise.race(pending);
    }
    if (carry) take(carry);
    flush();
  } catch (error) {
    await Promise.allSettled(pending);
    if (error instanceof NotPlain) return undefined;
    throw error;
  }
  await Promise.all(pending);
  return count;
}
