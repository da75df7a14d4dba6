/**
 * Property: whatever a history file holds, reading it back as `peerlab
 * check` does (readHistory: streamed in chunks, decoded as UTF-8) gives
 * events that the evaluation judges (pass, fail or unknown), or a
 * HistoryReadError naming the file and a line; never another exception,
 * never slowly. Chunks are made small and random, so lines, \r\n pairs and
 * characters split across them as they do in a big file; and the streamed
 * read must agree with the in-memory one (parseHistoryText). Inputs start
 * from a real recorded run (fixtures/history/mixed.jsonl, every kind of
 * event) and are edited field by field, line by line and byte by byte, plus
 * random text and bytes.
 */
import test from 'ava';
import fc from 'fast-check';
import {execa} from 'execa';
import {readFileSync} from 'node:fs';
import {mkdtemp, rm, writeFile} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {describeEvent} from '@peerlab/checkers/check';
import {evaluate} from '@peerlab/checkers/verdict';
import type {HistoryEvent} from '@peerlab/checkers/history/types';
import {HistoryReadError, parseHistoryText, readHistory} from '@peerlab/checkers/history/read';
import {applyEdits, cliRuns, cliTimeout, edit, fuzzOptions} from './fuzz-support.js';
import type {Edit} from './fuzz-support.js';
import {tempDir} from './support.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const fixture = path.join(root, 'test-server', 'test', 'fixtures', 'history', 'mixed.jsonl');
const lines = readFileSync(fixture, 'utf8').trimEnd().split('\n');
const events = lines.map((l) => JSON.parse(l) as unknown);

/**
 * A case that takes longer has hung (a loop that never ends on some input): no honest read of these
 * few kilobytes comes near it, even a byte at a time on a loaded 2-core machine. 3 s did, once, under
 * the whole suite's load; how fast the reader is, is the bench's business, not this test's.
 */
const SLOW_MS = 20_000;

/** Arrays nested past what a history line may hold (64 levels): what overflowed the stack in the expect: matcher. */
const deepValue: unknown = Array.from({length: 70}).reduce<unknown>((inner) => [inner], 1);
/** Field edits, now and then with a value nested too deep. */
const historyEdit: fc.Arbitrary<Edit> = fc.oneof({weight: 9, arbitrary: edit}, {weight: 1, arbitrary: edit.map((e) => ({...e, value: deepValue}))});

/** One folder for every case's file; the tests of this file run at the same time, so each case has its own. */
const dir = await mkdtemp(path.join(os.tmpdir(), 'peerlab-fuzz-history-'));
let cases = 0;
test.after.always(() => rm(dir, {recursive: true, force: true}));

/** Chunk sizes: the real one, or small enough to split lines (the fixture is 45 kB: a few chunks of it), or tiny for short inputs. */
const chunkBytes = fc.oneof(fc.constant(1 << 20), fc.integer({min: 4096, max: 16384}));
const tinyChunkBytes = fc.oneof(fc.constant(1 << 20), fc.integer({min: 1, max: 16}));

function located(error: unknown, name: string): HistoryReadError {
  if (!(error instanceof HistoryReadError)) throw error;
  if (error.file !== name || !(Number.isInteger(error.line) && error.line >= 1) || !error.message.startsWith(`${name}:${error.line}: `)) {
    throw new Error(`a HistoryReadError without a location: ${error.message}`);
  }
  return error;
}

/** What the in-memory read of `text` gives: the events, or the error's message without the file name. */
function inMemory(text: string): HistoryEvent[] | string {
  try {
    return parseHistoryText(text, 'fuzz.jsonl');
  } catch (error) {
    return located(error, 'fuzz.jsonl').message.slice('fuzz.jsonl'.length);
  }
}

async function readsOrLocates(content: string | Uint8Array, chunk: number): Promise<boolean> {
  const file = path.join(dir, `history-${++cases}.jsonl`);
  await writeFile(file, content);
  try {
    return await readsOrLocatesFile(file, content, chunk);
  } finally {
    await rm(file, {force: true});
  }
}

async function readsOrLocatesFile(file: string, content: string | Uint8Array, chunk: number): Promise<boolean> {
  const started = Date.now();
  let history;
  try {
    history = await readHistory(file, {chunkBytes: chunk});
  } catch (error) {
    const message = located(error, file).message.slice(file.length);
    // A string is UTF-8 when written: the streamed read must refuse it where the in-memory one does.
    if (typeof content === 'string' && inMemory(content) !== message) throw new Error(`streamed: ${message}; in memory: ${JSON.stringify(inMemory(content)).slice(0, 300)}`);
    return true;
  }
  if (typeof content === 'string') {
    const same = inMemory(content);
    if (typeof same === 'string' || JSON.stringify(same) !== JSON.stringify(history)) throw new Error(`streamed read ${history.length} events; in memory: ${typeof same === 'string' ? same : `${same.length} events, or different ones`}`);
  }
  const evaluation = evaluate(history);
  if (!['pass', 'fail', 'unknown'].includes(evaluation.status)) throw new Error(`status ${String(evaluation.status)}`);
  // The reporters print events and figures: those must not throw either.
  for (const e of history) describeEvent(e);
  JSON.stringify(evaluation);
  if (Date.now() - started > SLOW_MS) throw new Error(`took ${Date.now() - started} ms`);
  return true;
}

test('field edits of a recorded history: judged or located, never a crash', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(fc.nat(events.length - 1), historyEdit), {minLength: 1, maxLength: 4}), chunkBytes, async (edits, chunk) => {
      const edited = [...events];
      for (const [line, e] of edits) edited[line] = applyEdits(edited[line], [e]);
      return readsOrLocates(edited.map((e) => JSON.stringify(e) ?? '').join('\n') + '\n', chunk);
    }),
    fuzzOptions(250),
  );
  t.pass();
});

type LineEdit = {op: 'delete' | 'duplicate' | 'swap' | 'truncate' | 'insert' | 'crlf'; at: number; other: number; text: string};
const lineEdit: fc.Arbitrary<LineEdit> = fc.record({
  op: fc.constantFrom<LineEdit['op']>('delete', 'duplicate', 'swap', 'truncate', 'insert', 'crlf'),
  at: fc.nat(),
  other: fc.nat(),
  text: fc.oneof(fc.string({maxLength: 30}), fc.constantFrom('{}', '[]', 'null', '{"t":1,"src":"coordinator","type":"run.end","data":{}}', '{"t":1,"src":"peer:x","type":"member.dead","data":{"name":"alice"}}', '\r', '\u2028')),
});

test('line edits of a recorded history (deleted, repeated, swapped, cut, inserted): judged or located', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.array(lineEdit, {minLength: 1, maxLength: 5}), chunkBytes, async (edits, chunk) => {
      const edited = [...lines];
      for (const e of edits) {
        const i = e.at % Math.max(1, edited.length);
        const j = e.other % Math.max(1, edited.length);
        if (e.op === 'delete') edited.splice(i, 1);
        else if (e.op === 'duplicate') edited.splice(j, 0, edited[i] ?? '');
        else if (e.op === 'swap') [edited[i], edited[j]] = [edited[j] ?? '', edited[i] ?? ''];
        else if (e.op === 'truncate') edited[i] = (edited[i] ?? '').slice(0, e.other % ((edited[i]?.length ?? 0) + 1));
        else if (e.op === 'insert') edited.splice(i, 0, e.text);
        else edited[i] = `${edited[i] ?? ''}\r`;
      }
      return readsOrLocates(edited.join('\n'), chunk);
    }),
    fuzzOptions(250),
  );
  t.pass();
});

test('random text and bytes as a history: located', async (t) => {
  await fc.assert(fc.asyncProperty(fc.string({unit: 'binary', maxLength: 200}), tinyChunkBytes, (text, chunk) => readsOrLocates(text, chunk)), fuzzOptions(200));
  await fc.assert(fc.asyncProperty(fc.uint8Array({maxLength: 200}), tinyChunkBytes, (bytes, chunk) => readsOrLocates(bytes, chunk)), fuzzOptions(200));
  await fc.assert(
    fc.asyncProperty(fc.array(fc.jsonValue({maxDepth: 3}), {maxLength: 5}), tinyChunkBytes, (values, chunk) => readsOrLocates([lines[0], ...values.map((v) => JSON.stringify(v))].join('\n'), chunk)),
    fuzzOptions(200),
  );
  t.pass();
});

test('byte edits of a recorded history (bytes that are not UTF-8, cut characters, line breaks): judged or located', async (t) => {
  // The first lines and a peer event with a non-ASCII character: short, so tiny chunks stay fast.
  const base = Buffer.from([...lines.slice(0, 6), '{"t":1796139442500,"src":"peer:alice","type":"chat.sent","data":{"text":"caf\u00e9 \u2603 \ud83d\ude00"}}'].join('\n') + '\n');
  const byteEdit = fc.tuple(fc.nat(), fc.nat(3), fc.oneof(fc.uint8Array({maxLength: 3}), fc.constantFrom(Uint8Array.of(0x0a), Uint8Array.of(0x0d), Uint8Array.of(0x0d, 0x0a), Uint8Array.of(0xc3), Uint8Array.of(0xe2, 0x98), Uint8Array.of(0xff), Uint8Array.of(0xf0, 0x9f, 0x98))));
  await fc.assert(
    fc.asyncProperty(fc.array(byteEdit, {minLength: 1, maxLength: 4}), tinyChunkBytes, async (edits, chunk) => {
      let bytes: Buffer = base;
      for (const [at, cut, insert] of edits) {
        const i = at % (bytes.length + 1);
        bytes = Buffer.concat([bytes.subarray(0, i), insert, bytes.subarray(i + cut)]);
      }
      return readsOrLocates(bytes, chunk);
    }),
    fuzzOptions(200),
  );
  t.pass();
});

test.serial('through the CLI: peerlab check on edited histories exits with a verdict or 2 with a location', async (t) => {
  const runs = cliRuns(2);
  t.timeout(cliTimeout(runs.numRuns));
  const out = await tempDir(t, 'peerlab-fuzz-');
  const bin = path.join(root, 'test-server', 'bin', 'peerlab.mjs');
  const samples = fc.sample(fc.array(fc.tuple(fc.nat(events.length - 1), historyEdit), {minLength: 1, maxLength: 3}), runs);
  for (const [i, edits] of samples.entries()) {
    const edited = [...events];
    for (const [line, e] of edits) edited[line] = applyEdits(edited[line], [e]);
    const file = path.join(out, `history-${i}.jsonl`);
    await writeFile(file, edited.map((e) => JSON.stringify(e) ?? '').join('\n') + '\n');
    const check = await execa(process.execPath, [bin, 'check', file], {reject: false, all: true, timeout: 60_000});
    t.true([0, 1, 2, 3].includes(check.exitCode ?? -1), check.all);
    if (check.exitCode === 2) t.regex(check.all, new RegExp(`^peerlab check: .*history-${i}\\.jsonl:\\d+: `, 'm'));
    t.notRegex(check.all, /TypeError|RangeError|call stack|at .*\.js:\d+/);
  }
});
