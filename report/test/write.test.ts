/**
 * The report's files as a browser would run them: each script evaluated in a
 * fresh context must hand over exactly the data and events that went in,
 * whatever their text (`</script>`, U+2028, a `__proto__` key), and the
 * chunks copied from a history file must equal the ones written from the
 * events.
 */
import test from 'ava';
import {mkdir, mkdtemp, readFile, readdir, rm, writeFile} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';
import type {HistoryEvent} from '@peerlab/checkers/history/types';
import {readHistory} from '@peerlab/checkers/history/read';
import {buildReport, buildReportFiles, bulkFileName, chunkFileName, deferBulkAbove, mergeBulk, runIndexHtml, splitBulk, writeReport, writeRunIndex} from '../src/index.js';
import type {BulkPart, EventChunk, ReportData} from '../src/index.js';
import {assignmentScript, callScript, jsStringLiteral} from '../src/write/script-text.js';
import {copyChunksInWorker} from '../src/write/copy-worker.js';

async function workDir(t: {teardown(fn: () => Promise<void>): void}): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'peerlab-report-'));
  t.teardown(() => rm(dir, {recursive: true, force: true}));
  return dir;
}

/** Runs classic scripts as a page would, in order, and returns what they set and called. */
function runScripts(...scripts: string[]): {report?: ReportData; chunks: EventChunk[]; parts: BulkPart[]} {
  const chunks: EventChunk[] = [];
  const parts: BulkPart[] = [];
  const window: Record<string, unknown> = {peerlabEvents: (chunk: EventChunk) => chunks.push(chunk), peerlabBulk: (part: BulkPart) => parts.push(part)};
  const context = vm.createContext({window, JSON});
  for (const script of scripts) vm.runInContext(script, context);
  return {report: window['peerlabReport'] as ReportData | undefined, chunks, parts};
}

const awkward = ['</script><script>alert(1)</script>', '<!-- x', 'line\u2028sep\u2029para', 'quote " backslash \\ tab \t', 'ünïcødé 🎉'];

test('a string literal carries any text back unchanged, with nothing that could end or confuse a script', (t) => {
  for (const text of awkward) {
    const literal = jsStringLiteral(text);
    t.is(vm.runInNewContext(literal), text);
    t.false(/<\/|<!|\u2028|\u2029/.test(literal), literal);
  }
});

test('data.js and chunk scripts hand over exactly the JSON they were given, __proto__ keys included', (t) => {
  const json = `{"texts":${JSON.stringify(awkward)},"nested":{"__proto__":{"x":1}}}`;
  const {report} = runScripts(assignmentScript('peerlabReport', json));
  t.deepEqual(JSON.stringify(report), JSON.stringify(JSON.parse(json)));
  t.true(Object.hasOwn((report as unknown as {nested: object}).nested, '__proto__'));
  const {chunks} = runScripts(callScript('peerlabEvents', `{"index":0,"events":[${json}]}`));
  t.true(Object.hasOwn((chunks[0]!.events[0] as unknown as {nested: object}).nested, '__proto__'));
});

/** A small history as a run writes it, with awkward texts in chat messages. */
function history(n: number): HistoryEvent[] {
  const t0 = 1_700_000_000_000;
  const events: HistoryEvent[] = [{t: t0, src: 'coordinator', type: 'run.begin', data: {scenario: 'chunks', runId: 'r1', peers: ['alice', 'bob']}} as HistoryEvent];
  for (let i = 1; i < n; i++) {
    const text = awkward[i % awkward.length]!;
    events.push({t: t0 + i, src: 'peer:alice', type: 'chat.sent', data: {id: `alice:x:${i}`, sender: 'alice', seq: i, text}, seq: i} as HistoryEvent);
  }
  // A peer's own event type (an extension) may carry any key, even one an object literal would take as a prototype.
  events.splice(n >> 1, 0, JSON.parse(`{"t":${t0 + (n >> 1)},"src":"peer:bob","type":"x.custom","data":{"__proto__":{"a":1}}}`) as HistoryEvent);
  events.push({t: t0 + n, src: 'coordinator', type: 'run.end', data: {}} as HistoryEvent);
  return events;
}

async function chunksIn(dir: string): Promise<EventChunk[]> {
  const files = (await readdir(dir)).filter((f) => /^events-\d+\.js$/.test(f)).sort();
  const scripts = await Promise.all(files.map((f) => readFile(path.join(dir, f), 'utf8')));
  return runScripts(...scripts).chunks;
}

test('the chunks copied from the history file are the chunks written from its events, in files named by index', async (t) => {
  const dir = await workDir(t);
  const file = path.join(dir, 'history.jsonl');
  // A space JSON.stringify would not write shows which way a chunk was made.
  await writeFile(file, history(45).map((e) => JSON.stringify(e).replace('{"t":', '{"t": ')).join('\n') + '\n');
  const events = await readHistory(file);
  const data = {...buildReport(events)};
  data.eventLog = {...data.eventLog, chunkSize: 10};

  const copied = await writeReport(path.join(dir, 'copied'), data, {events, historyFile: file});
  await writeReport(path.join(dir, 'written'), data, events);
  t.is(copied.chunks, 5);
  t.regex(await readFile(path.join(dir, 'copied', chunkFileName(4)), 'utf8'), /^window\["peerlabEvents"\]\(\{"index":4,"events":\[\{"t": \d+,/);
  const fromFile = await chunksIn(path.join(dir, 'copied'));
  t.deepEqual(fromFile, await chunksIn(path.join(dir, 'written')));
  t.deepEqual(fromFile.map((c) => c.index), [0, 1, 2, 3, 4]);
  t.deepEqual(fromFile.flatMap((c) => c.events), JSON.parse(JSON.stringify(events)));
  t.true(fromFile.flatMap((c) => c.events).some((e) => e.data !== null && typeof e.data === 'object' && Object.hasOwn(e.data, '__proto__')));
  t.deepEqual((await readdir(path.join(dir, 'copied'))).filter((f) => f.startsWith('events-')).sort(), [0, 1, 2, 3, 4].map(chunkFileName));

  // A file with \r\n line ends is not copied byte for byte: the events are written instead, the same.
  await writeFile(file, history(45).map((e) => JSON.stringify(e)).join('\r\n') + '\r\n');
  await writeReport(path.join(dir, 'crlf'), data, {events, historyFile: file});
  t.deepEqual(await chunksIn(path.join(dir, 'crlf')), fromFile);
  // A file that is not the events given: the same.
  await writeFile(file, history(44).map((e) => JSON.stringify(e)).join('\n') + '\n');
  await writeReport(path.join(dir, 'other'), data, {events, historyFile: file});
  t.deepEqual(await chunksIn(path.join(dir, 'other')), fromFile);
});

test('a __proto__ key spelled with \\u escapes, even twice in one object, stays a key in a copied chunk and in a chunk script', async (t) => {
  const dir = await workDir(t);
  const file = path.join(dir, 'history.jsonl');
  const events = history(6);
  // As an object literal the first would set the prototype and the second would be a SyntaxError losing the whole chunk.
  const escaped = `{"t":${events[2]!.t},"src":"peer:bob","type":"x.custom","data":{"\\u005f_proto__":{"a":1},"_\\u005fproto__":{"b":2}}}`;
  const lines = events.map((e) => JSON.stringify(e));
  lines.splice(3, 0, escaped);
  await writeFile(file, lines.join('\n') + '\n');
  const read = await readHistory(file);
  const data = {...buildReport(read)};
  data.eventLog = {...data.eventLog, chunkSize: 100};
  await writeReport(path.join(dir, 'copied'), data, {events: read, historyFile: file});
  const loaded = (await chunksIn(path.join(dir, 'copied'))).flatMap((c) => c.events);
  t.is(loaded.length, lines.length);
  const custom = loaded[3]!.data as Record<string, unknown>;
  t.true(Object.hasOwn(custom, '__proto__'));
  t.deepEqual(custom['__proto__'], {b: 2});
  t.is(Object.getPrototypeOf(custom), Object.prototype);

  const {chunks} = runScripts(callScript('peerlabEvents', `{"index":0,"events":[${escaped}]}`));
  const data2 = chunks[0]!.events[0]!.data as Record<string, unknown>;
  t.true(Object.hasOwn(data2, '__proto__'));
  t.deepEqual(data2['__proto__'], {b: 2});
});

test('the chunks are copied on a thread of their own, which says how many lines it copied, or nothing when it cannot', async (t) => {
  const dir = await workDir(t);
  const file = path.join(dir, 'history.jsonl');
  const events = history(25);
  await writeFile(file, events.map((e) => JSON.stringify(e)).join('\n') + '\n');
  await mkdir(path.join(dir, 'plain'));
  const plain = copyChunksInWorker({historyFile: file, dir: path.join(dir, 'plain'), chunkSize: 10});
  t.is(await plain.done, events.length);
  await plain.stop();
  t.deepEqual((await chunksIn(path.join(dir, 'plain'))).flatMap((c) => c.events), JSON.parse(JSON.stringify(events)));

  await writeFile(file, events.map((e) => JSON.stringify(e)).join('\r\n'));
  await mkdir(path.join(dir, 'crlf'));
  const crlf = copyChunksInWorker({historyFile: file, dir: path.join(dir, 'crlf'), chunkSize: 10});
  t.is(await crlf.done, undefined);
  await crlf.stop();
});

test('a report folder: index.html loads data.js before app.js under a policy that allows no network; the data is what was built', async (t) => {
  const dir = await workDir(t);
  const file = path.join(dir, 'history.jsonl');
  await writeFile(file, history(12).map((e) => JSON.stringify(e)).join('\n') + '\n');
  const built = await buildReportFiles(file, path.join(dir, 'report'));
  t.is(built.index, path.join(dir, 'report', 'index.html'));
  const html = await readFile(built.index, 'utf8');
  t.regex(html, /<meta charset="utf-8">/);
  t.regex(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'self';/);
  t.notRegex(html, /connect-src/);
  t.true(html.indexOf('src="data.js"') < html.indexOf('src="app.js"'));
  t.regex(html, /<title>chunks [a-z]+ — peerlab report<\/title>/);
  const {report} = runScripts(await readFile(path.join(dir, 'report', 'data.js'), 'utf8'));
  t.deepEqual(report, JSON.parse(JSON.stringify(built.data)));
  for (const asset of ['app.js', 'app.css']) t.truthy(await readFile(path.join(dir, 'report', asset), 'utf8'));
});

/** Chat among 20 peers, every message delivered everywhere: enough deliveries and events for the bulk to be deferred. */
function chat(events: number): HistoryEvent[] {
  const peers = Array.from({length: 20}, (_, i) => `p${i}`);
  const t0 = 1_700_000_000_000;
  let t = t0;
  const out: HistoryEvent[] = [{t, src: 'coordinator', type: 'run.begin', data: {peers, invariants: []}} as HistoryEvent];
  for (const p of peers) out.push({t, src: `peer:${p}`, type: 'peer.started', data: {address: '127.0.0.1:1', incarnation: 0, profile: 'local'}} as HistoryEvent);
  for (let seq = 1; out.length < events; seq++) {
    const sender = peers[seq % peers.length]!;
    const id = `${sender}:m:${seq}`;
    t += seq % 3;
    out.push({t, src: `peer:${sender}`, type: 'chat.sent', data: {id, sender, seq, text: 'x'}} as HistoryEvent);
    // Some deliveries come out of time order (a late line): the delta encoding must carry negative steps.
    for (const p of peers) if (out.length < events) out.push({t: t + 1 + (seq % 7 === 0 ? -1 : (seq % 5)), src: `peer:${p}`, type: 'chat.delivered', data: {id, sender, seq, sentAt: t}} as HistoryEvent);
  }
  return out;
}

test('a large report defers its bulk columns to data-bulk-<n>.js: data.js holds none of them, the parts put them back exactly', async (t) => {
  const dir = await workDir(t);
  const events = chat(40_000);
  const data = buildReport(events);
  t.true(data.messages.deliveries.t.length * 4 + data.eventLog.t.length * 3 > deferBulkAbove, 'the history is large enough to defer');
  await writeReport(dir, data, events);
  const files = await readdir(dir);
  const {report} = runScripts(await readFile(path.join(dir, 'data.js'), 'utf8'));
  t.deepEqual(report!.meta.deferred, {blocks: ['deliveries', 'eventLog'], parts: 7});
  t.deepEqual(report!.messages.deliveries, {message: [], peer: [], t: [], flag: []});
  t.deepEqual([report!.eventLog.t, report!.eventLog.src, report!.eventLog.type], [[], [], []]);
  t.is(report!.eventLog.count, events.length, 'the count stays: the header and the log size come from it');
  const bulk = files.filter((f) => /^data-bulk-\d+\.js$/.test(f)).sort();
  t.deepEqual(bulk, Array.from({length: 7}, (_, i) => bulkFileName(i)).sort());
  const {parts} = runScripts(...(await Promise.all(bulk.map((f) => readFile(path.join(dir, f), 'utf8')))));
  t.deepEqual(mergeBulk(report!, parts), JSON.parse(JSON.stringify(data)));
  // Half the size or less: the delta-encoded times are one or two characters.
  const dataJs = (await readFile(path.join(dir, 'data.js'), 'utf8')).length;
  t.true(dataJs * 5 < JSON.stringify(data).length, `data.js is ${dataJs} characters`);

  // A small report written over it in the same folder: everything in data.js, no stale parts left.
  const small = history(50);
  await writeReport(dir, buildReport(small), small);
  t.deepEqual((await readdir(dir)).filter((f) => f.startsWith('data-bulk-')), []);
  t.is(runScripts(await readFile(path.join(dir, 'data.js'), 'utf8')).report!.meta.deferred, undefined);
});

test('splitting and merging the bulk is the identity, whatever the threshold', (t) => {
  const data = buildReport(chat(500));
  const whole = JSON.parse(JSON.stringify(data)) as ReportData;
  t.is(splitBulk(data).data, data, 'a small report is left whole');
  const split = splitBulk(data, 0);
  t.deepEqual(mergeBulk(split.data, JSON.parse(JSON.stringify(split.parts)) as BulkPart[]), whole);
  t.deepEqual(data, whole, 'the data given is not changed');
  t.true(split.parts.every((p) => typeof p.chars === 'string' && p.values === undefined), 'small numbers travel as one character each');
  // A step too large for one character (a pause of a minute between events): that column goes as numbers, and still round-trips.
  const times = data.eventLog.t.map((x, i) => (i > data.eventLog.t.length / 2 ? x + 60_000 : x));
  const gapped = {...data, eventLog: {...data.eventLog, t: times}};
  const parts = splitBulk(gapped, 0).parts;
  t.deepEqual(parts.filter((p) => p.values !== undefined).map((p) => `${p.block}.${p.column}`), ['eventLog.t']);
  t.deepEqual(mergeBulk(splitBulk(gapped, 0).data, JSON.parse(JSON.stringify(parts)) as BulkPart[]).eventLog.t, times);
});

test('report.html links every report relatively, with its anchor, coloured by verdict, escaping what it shows', async (t) => {
  const dir = await workDir(t);
  const entries = [
    {name: 'a <b>', file: 's/a.yaml', runId: 'r 1', attempt: 1, status: 'fail' as const, message: 'step 4 failed: <x> & "y"', durationMs: 1500, report: path.join(dir, 'r 1', 'report', 'index.html#step-4')},
    {name: 'b', file: 's/b.yaml', runId: 'r2', attempt: 2, status: 'pass' as const, durationMs: 80, report: path.join(dir, 'r2', 'report', 'index.html')},
    {name: 'c', file: 's/c.yaml', runId: 'r3', attempt: 1, status: 'unknown' as const, durationMs: 61_000, reportError: 'disk full'},
  ];
  const written = await writeRunIndex(dir, entries);
  t.is(written, path.join(dir, 'report.html'));
  const html = await readFile(written, 'utf8');
  t.is(html, runIndexHtml(dir, entries));
  t.regex(html, /<tr class="fail"><td class="verdict">failed<\/td><td><a href="r%201\/report\/index.html#step-4">a &#60;b&#62;<\/a>/);
  t.regex(html, /<tr class="pass"><td class="verdict">passed<\/td><td><a href="r2\/report\/index.html">b \(attempt 2\)<\/a>/);
  t.regex(html, /<tr class="unknown"><td class="verdict">unknown<\/td><td>c<div/);
  t.regex(html, /step 4 failed: &#60;x&#62; &#38; &#34;y&#34;/);
  t.regex(html, /no report: disk full/);
  t.regex(html, /<td class="num">1\.5 s<\/td>/);
  t.regex(html, /<td class="num">1 min 01 s<\/td>/);
  t.regex(html, /<title>peerlab: 1 passed, 1 failed, 1 unknown<\/title>/);
  t.notRegex(html, /<script/);
});
