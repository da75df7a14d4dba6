/**
 * Property: whatever a history file holds, reading it back gives events
 * that `peerlab check`'s evaluation judges (pass, fail or unknown), or a
 * HistoryReadError naming the file and a line; never another exception,
 * never slowly. Inputs start from a real recorded run (fixtures/history/
 * mixed.jsonl, every kind of event) and are edited field by field and line
 * by line, plus random text.
 */
import test from 'ava';
import fc from 'fast-check';
import {execa} from 'execa';
import {readFileSync} from 'node:fs';
import {writeFile} from 'node:fs/promises';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {describeEvent} from '../src/checkers/index.js';
import {evaluate} from '../src/engine/evaluate.js';
import {HistoryReadError, parseHistoryText} from '../src/history/read.js';
import {applyEdits, edit, fuzzOptions} from './fuzz-support.js';
import {tempDir} from './support.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const fixture = path.join(root, 'test-server', 'test', 'fixtures', 'history', 'mixed.jsonl');
const lines = readFileSync(fixture, 'utf8').trimEnd().split('\n');
const events = lines.map((l) => JSON.parse(l) as unknown);

const SLOW_MS = 3000;

function readsOrLocates(text: string): boolean {
  const started = Date.now();
  let history;
  try {
    history = parseHistoryText(text, 'fuzz.jsonl');
  } catch (error) {
    if (!(error instanceof HistoryReadError)) throw error;
    if (error.file !== 'fuzz.jsonl' || !(Number.isInteger(error.line) && error.line >= 1) || !error.message.startsWith(`fuzz.jsonl:${error.line}: `)) {
      throw new Error(`a HistoryReadError without a location: ${error.message}`);
    }
    return true;
  }
  const evaluation = evaluate(history);
  if (!['pass', 'fail', 'unknown'].includes(evaluation.status)) throw new Error(`status ${String(evaluation.status)}`);
  // The reporters print events and figures: those must not throw either.
  for (const e of history) describeEvent(e);
  JSON.stringify(evaluation);
  if (Date.now() - started > SLOW_MS) throw new Error(`took ${Date.now() - started} ms`);
  return true;
}

test('field edits of a recorded history: judged or located, never a crash', (t) => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(events.length - 1), edit), {minLength: 1, maxLength: 4}), (edits) => {
      const edited = [...events];
      for (const [line, e] of edits) edited[line] = applyEdits(edited[line], [e]);
      return readsOrLocates(edited.map((e) => JSON.stringify(e) ?? '').join('\n') + '\n');
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

test('line edits of a recorded history (deleted, repeated, swapped, cut, inserted): judged or located', (t) => {
  fc.assert(
    fc.property(fc.array(lineEdit, {minLength: 1, maxLength: 5}), (edits) => {
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
      return readsOrLocates(edited.join('\n'));
    }),
    fuzzOptions(250),
  );
  t.pass();
});

test('random text as a history: located', (t) => {
  fc.assert(fc.property(fc.string({unit: 'binary', maxLength: 200}), (text) => readsOrLocates(text)), fuzzOptions(300));
  fc.assert(fc.property(fc.array(fc.jsonValue({maxDepth: 3}), {maxLength: 5}), (values) => readsOrLocates([lines[0], ...values.map((v) => JSON.stringify(v))].join('\n'))), fuzzOptions(300));
  t.pass();
});

test.serial('through the CLI: peerlab check on edited histories exits with a verdict or 2 with a location', async (t) => {
  t.timeout(180_000);
  const dir = await tempDir(t, 'peerlab-fuzz-');
  const bin = path.join(root, 'test-server', 'bin', 'peerlab.mjs');
  const samples = fc.sample(fc.array(fc.tuple(fc.nat(events.length - 1), edit), {minLength: 1, maxLength: 3}), {...fuzzOptions(2), numRuns: 2});
  for (const [i, edits] of samples.entries()) {
    const edited = [...events];
    for (const [line, e] of edits) edited[line] = applyEdits(edited[line], [e]);
    const file = path.join(dir, `history-${i}.jsonl`);
    await writeFile(file, edited.map((e) => JSON.stringify(e) ?? '').join('\n') + '\n');
    const check = await execa(process.execPath, [bin, 'check', file], {reject: false, all: true, timeout: 60_000});
    t.true([0, 1, 2, 3].includes(check.exitCode ?? -1), check.all);
    if (check.exitCode === 2) t.regex(check.all, new RegExp(`^peerlab check: .*history-${i}\\.jsonl:\\d+: `, 'm'));
    t.notRegex(check.all, /TypeError|RangeError|at .*\.js:\d+/);
  }
});
