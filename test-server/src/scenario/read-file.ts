/**
 * Reads a scenario file as text, refusing what cannot be one: a device or a
 * fifo (/dev/zero would be read until memory runs out), a file too big for a
 * scenario, bytes that are not UTF-8. Each refusal names the file and, for
 * bad bytes, the line and byte.
 */
import {constants} from 'node:fs';
import {open} from 'node:fs/promises';
import {bytePosition, decodeUtf8, invalidUtf8At} from '@peerlab/checkers/utf8';
import {fileProblem, ScenarioLoadError} from './problems.js';

/** The biggest scenarios (a thousand peers, long step lists) are tens of KiB; 4 MiB leaves room and bounds the parse. */
export const MAX_SCENARIO_BYTES = 4 * 1024 * 1024;

export async function readScenarioFile(file: string): Promise<string> {
  const refuse = (message: string, line?: number, column?: number): never => {
    throw new ScenarioLoadError([fileProblem(file, message, line, column)]);
  };
  let handle;
  try {
    // O_NONBLOCK: opening a fifo must not wait for a writer; a regular file ignores the flag.
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    return refuse(`cannot read: ${(error as Error).message}`);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) return refuse('not a regular file: a scenario is a .yaml file');
    if (info.size > MAX_SCENARIO_BYTES) return refuse(`too big for a scenario: ${info.size} bytes, at most ${MAX_SCENARIO_BYTES} (4 MiB)`);
    // Read at most one byte past the cap: a file that grows after the stat is still bounded.
    const buffer = Buffer.alloc(MAX_SCENARIO_BYTES + 1);
    let length = 0;
    for (;;) {
      const {bytesRead} = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > MAX_SCENARIO_BYTES) return refuse(`too big for a scenario: more than ${MAX_SCENARIO_BYTES} bytes (4 MiB)`);
    }
    const bytes = buffer.subarray(0, length);
    const text = decodeUtf8(bytes);
    if (text === undefined) {
      const offset = Math.max(0, invalidUtf8At(bytes));
      const {line, column} = bytePosition(bytes, offset);
      return refuse(`not UTF-8 text: invalid byte 0x${(bytes[offset] ?? 0).toString(16).padStart(2, '0')} at byte offset ${offset}`, line, column);
    }
    return text;
  } catch (error) {
    if (error instanceof ScenarioLoadError) throw error;
    return refuse(`cannot read: ${(error as Error).message}`);
  } finally {
    await handle.close();
  }
}
