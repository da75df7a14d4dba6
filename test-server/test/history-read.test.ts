/**
 * Reading a history back checks every line at the edge: a damaged file is
 * a HistoryReadError naming the line and the field, never a crash in a
 * checker, and whatever a real run can write still reads.
 */
import test from 'ava';
import {readFile, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {describeEvent} from '@peerlab/checkers/check';
import {evaluate} from '@peerlab/checkers/verdict';
import {HistoryReadError, MAX_LINE_CHARS, parseHistoryText, readHistory} from '@peerlab/checkers/history/read';
import {tempDir} from './support.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const fixture = path.join(root, 'test-server', 'test', 'fixtures', 'history', 'mixed.jsonl');
const fixtureLines = async () => (await readFile(fixture, 'utf8')).trimEnd().split('\n');

/** The fixture with the first event of `type` changed by `change`; returns the text and that event's line number. */
async function mutated(type: string, change: (event: {t: unknown; src: unknown; type: unknown; data: Record<string, unknown>}) => void): Promise<{text: string; line: number}> {
  const lines = await fixtureLines();
  const index = lines.findIndex((l) => JSON.parse(l).type === type);
  const event = JSON.parse(lines[index]!);
  change(event);
  lines[index] = JSON.stringify(event);
  return {text: lines.join('\n') + '\n', line: index + 1};
}

function readError(t: {throws: (fn: () => unknown, e: {instanceOf: typeof HistoryReadError}) => HistoryReadError | undefined}, text: string): HistoryReadError {
  return t.throws(() => parseHistoryText(text, 'h.jsonl'), {instanceOf: HistoryReadError})!;
}

test('the recorded fixture reads and passes, as it did when it ran', async (t) => {
  const events = await readHistory(fixture);
  t.is(events.length, (await fixtureLines()).length);
  t.is(evaluate(events).status, 'pass');
});

const wrongTypes: Array<{type: string; field: string; value: unknown; message: RegExp}> = [
  // Each of these was a TypeError in evaluate() or a checker, exit 1. The messages come from the event contract.
  {type: 'step.begin', field: 'path', value: 7, message: /data\.path: expected a string in a step\.begin event, got 7/},
  {type: 'step.begin', field: 'peers', value: {alice: true}, message: /data\.peers: expected an array in a step\.begin event/},
  {type: 'step.end', field: 'status', value: 'green', message: /data\.status: expected "pass" or "fail" or "unknown" in a step\.end event, got "green"/},
  {type: 'await.begin', field: 'condition', value: {kind: 'state', of: 'bob', is: 'dead', seenBy: 5}, message: /data\.condition\.seenBy: expected one of the shapes the contract allows in an? await\.begin event, got 5/},
  {type: 'await.begin', field: 'condition', value: null, message: /data\.condition: expected an object in an await\.begin event, got null/},
  {type: 'run.begin', field: 'invariants', value: -1, message: /data\.invariants: expected an array in a run\.begin event, got -1/},
  {type: 'command.reply', field: 'ok', value: 'yes', message: /data\.ok: expected a boolean in a command\.reply event, got "yes"/},
  {type: 'peer.spawn', field: 'peer', value: null, message: /data\.peer: expected a string in a peer\.spawn event, got null/},
  {type: 'fault', field: 'kind', value: ['partition'], message: /data\.kind: expected "kill" or .* in a fault event, got \["partition"\]/},
];

for (const c of wrongTypes) {
  test(`a wrongly typed ${c.type}.${c.field} (${JSON.stringify(c.value)}) is a located error`, async (t) => {
    const {text, line} = await mutated(c.type, (e) => {
      e.data[c.field] = c.value;
    });
    const error = readError(t, text);
    t.is(error.line, line);
    t.true(error.field.startsWith(`data.${c.field}`), error.field);
    t.regex(error.message, new RegExp(`^h\\.jsonl:${line}: `));
    t.regex(error.message, c.message);
  });
}

const envelopes: Array<{title: string; change: (e: {t: unknown; src: unknown; type: unknown; data: unknown}) => void; field: string; message: RegExp}> = [
  {title: 'a time that is not a number', change: (e) => void (e.t = '12:00'), field: 't', message: /expected a time in epoch ms, got "12:00"/},
  {title: 'a source that is neither', change: (e) => void (e.src = 'somebody'), field: 'src', message: /expected "coordinator" or "peer:<name>"/},
  {title: 'no type', change: (e) => void (e.type = undefined), field: 'type', message: /expected an event type, 1-64 characters, got nothing/},
  {title: 'data that is not an object', change: (e) => void (e.data = 'x'), field: 'data', message: /expected an object, got "x"/},
];

for (const c of envelopes) {
  test(`envelope: ${c.title}`, async (t) => {
    const {text, line} = await mutated('peer.started', c.change);
    const error = readError(t, text);
    t.like(error, {line, field: c.field});
    t.regex(error.message, c.message);
  });
}

test('a line that is not JSON, or not an object, names its line', (t) => {
  const begin = '{"t":1,"src":"coordinator","type":"run.begin","data":{}}';
  t.like(readError(t, `${begin}\nhello\n`), {line: 2});
  t.regex(readError(t, `${begin}\n[1,2]\n`).message, /^h\.jsonl:2: expected an event \{t, src, type, data\}/);
  t.regex(readError(t, `${begin}\n\n\n42\n`).message, /^h\.jsonl:4: /);
});

test('a last line cut short says so', async (t) => {
  const text = (await fixtureLines()).join('\n');
  const error = readError(t, text.slice(0, -10));
  t.regex(error.message, /the last line is cut short/);
});

test('a history must begin with run.begin: empty, or another first event, is bad input', async (t) => {
  t.regex(readError(t, '').message, /^h\.jsonl:1: an empty history/);
  t.regex(readError(t, '\n\n').message, /an empty history/);
  const lines = await fixtureLines();
  const error = readError(t, lines.slice(1).join('\n'));
  t.is(error.line, 1);
  t.regex(error.message, /expected the history to begin with the coordinator's run\.begin, got coordinator step\.begin/);
});

test('a line longer than the limit is refused, in the file without holding it all', async (t) => {
  const dir = await tempDir(t, 'peerlab-history-');
  const file = path.join(dir, 'history.jsonl');
  const lines = await fixtureLines();
  await writeFile(file, `${lines[0]}\n${'x'.repeat(MAX_LINE_CHARS + 10)}`);
  const error = await t.throwsAsync(readHistory(file), {instanceOf: HistoryReadError});
  t.is(error!.line, 2);
  t.regex(error!.message, /a line longer than 16777216 characters/);
});

test('bytes that are not UTF-8 are refused with their line', async (t) => {
  const dir = await tempDir(t, 'peerlab-history-');
  const file = path.join(dir, 'history.jsonl');
  const lines = await fixtureLines();
  await writeFile(file, Buffer.concat([Buffer.from(`${lines[0]}\n${lines[1]}\n{"t":1,"src":"coordinator","type":"caf`), Buffer.from([0xe9, 0x22]), Buffer.from(',"data":{}}\n')]));
  const error = await t.throwsAsync(readHistory(file), {instanceOf: HistoryReadError});
  t.is(error!.line, 3);
  t.regex(error!.message, /not UTF-8 text: invalid byte 0xe9 at byte 39 of the line/);
});

test('a non-regular file is refused at once', async (t) => {
  const error = await t.throwsAsync(readHistory('/dev/zero'), {instanceOf: HistoryReadError});
  t.regex(error!.message, /not a regular file/);
});

test('a peer event of a type the contract lists is checked as the hub checks it; an extension type only for its envelope', async (t) => {
  const lines = await fixtureLines();
  const last = JSON.parse(lines.at(-1)!);
  const at = (odd: object) => [...lines.slice(0, -1), JSON.stringify(odd), lines.at(-1)!].join('\n');
  // The hub refuses these in a run (recording event.rejected instead), so a history holding one was edited by hand.
  const bad = [
    {event: {t: last.t, src: 'peer:alice', type: 'member.joined', data: {name: 5, incarnation: 0, address: 'a:1'}}, field: 'data.name', message: /data\.name: expected a string in a member\.joined event, got 5/},
    {event: {t: last.t, src: 'peer:bob', type: 'chat.delivered', data: {id: 'x', sender: 'bob', seq: 'one', sentAt: 1}}, field: 'data.seq', message: /expected a number in a chat\.delivered event, got "one"/},
    {event: {t: last.t, src: 'peer:bob', type: 'member.dead', data: {name: 'alice', from: 'bob'}}, field: 'data.incarnation', message: /expected a number in a member\.dead event, got nothing/},
  ];
  for (const b of bad) {
    const error = t.throws(() => parseHistoryText(at(b.event), 'h.jsonl'), {instanceOf: HistoryReadError})!;
    t.is(error.line, lines.length);
    t.is(error.field, b.field);
    t.regex(error.message, b.message);
  }
  // A type the contract does not list is a peer's own: stored, read, and ignored by the checkers.
  const odd = [
    {t: 1e20, src: 'peer:alice', type: 'x.weird', data: {name: 5, incarnation: 'x'}},
    {t: last.t, src: 'peer:alice', type: 'constructor', data: {name: 'bob'}},
  ];
  const events = parseHistoryText([...lines.slice(0, -1), ...odd.map((e) => JSON.stringify(e)), lines.at(-1)!].join('\n'), 'h.jsonl');
  t.is(evaluate(events).status, 'pass');
  // A time past what Date holds was a RangeError in describeEvent.
  t.regex(describeEvent(events.find((e) => e.t === 1e20)!), /^\?\?:\?\?:\?\?\.\?\?\? peer:alice x\.weird/);
});

test('a coordinator event of a type the coordinator does not write is a located error', (t) => {
  const text = '{"t":1,"src":"coordinator","type":"run.begin","data":{}}\n{"t":2,"src":"coordinator","type":"expect.result","data":{}}\n';
  const error = t.throws(() => parseHistoryText(text, 'h.jsonl'), {instanceOf: HistoryReadError})!;
  t.like(error, {line: 2, field: 'type'});
  t.regex(error.message, /type: expected a coordinator event type \(the coordinator writes no other\), got "expect\.result"/);
});

/** The fixture with every successful command.reply's result replaced by `result` (raw JSON text); returns the first such line's number. */
async function withResults(result: string): Promise<{text: string; line: number}> {
  const lines = await fixtureLines();
  let first = 0;
  const edited = lines.map((l, i) => {
    const event = JSON.parse(l) as {type: string; data: {ok?: unknown; result?: unknown}};
    if (event.type !== 'command.reply' || event.data.ok !== true) return l;
    first ||= i + 1;
    event.data.result = '@@';
    return JSON.stringify(event).replace('"@@"', result);
  });
  return {text: edited.join('\n') + '\n', line: first};
}

const nested = (levels: number, open = '[', close = ']') => open.repeat(levels) + close.repeat(levels);

test('a result nested 200,000 levels deep is a located error, not a stack overflow further in', async (t) => {
  // JSON.parse takes it; JSON.stringify in the expect: matcher overflowed the stack, and peerlab check exited 1.
  const {text, line} = await withResults(nested(200_000));
  const dir = await tempDir(t, 'peerlab-history-');
  const file = path.join(dir, 'history.jsonl');
  await writeFile(file, text);
  for (const error of [await t.throwsAsync(readHistory(file), {instanceOf: HistoryReadError}), readError(t, text)]) {
    t.is(error!.line, line);
    t.is(error!.field, 'data.result');
    t.regex(error!.message, new RegExp(`^(.*/)?h(istory)?\\.jsonl:${line}: data\\.result: nested more than 64 levels deep`));
  }
});

test('nesting: 64 levels in a line read (and are judged), 65 do not; objects count as arrays do', async (t) => {
  // The event is level 1, data 2, result 3: a result of 62 levels makes 64.
  const ok = await withResults(nested(62));
  t.true(['pass', 'fail', 'unknown'].includes(evaluate(parseHistoryText(ok.text, 'h.jsonl')).status));
  const deepObject = '{"a":'.repeat(63) + '1' + '}'.repeat(63);
  for (const text of [(await withResults(nested(63))).text, (await withResults(deepObject)).text]) {
    t.regex(readError(t, text).message, /data\.result: nested more than 64 levels deep/);
  }
  // Deep in another field, or in the envelope.
  const begin = '{"t":1,"src":"coordinator","type":"run.begin","data":{}}';
  t.like(readError(t, `${begin}\n{"t":1,"src":"peer:a","type":"x","data":{},"extra":${nested(64)}}\n`), {line: 2, field: 'extra'});
  t.like(readError(t, `${begin}\n{"t":1,"src":"peer:a","type":"x","data":{"a":1,"b":${nested(63)}}}\n`), {line: 2, field: 'data.b'});
  t.is(parseHistoryText(`${begin}\n{"t":1,"src":"peer:a","type":"x","data":{"a":1,"b":${nested(62)}}}\n`, 'h.jsonl').length, 2);
});
