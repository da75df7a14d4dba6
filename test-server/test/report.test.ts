/**
 * The HTML report from the command line, on real runs: `peerlab run
 * --reporter html` writes each scenario's report and report.html, and every
 * reporter names the report at the failing step; `peerlab report` builds the
 * same from a history alone and refuses a bad one with its file and line.
 */
import test from 'ava';
import {execa} from 'execa';
import {mkdir, mkdtemp, readFile, readdir, rm, writeFile} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';
import {fileURLToPath} from 'node:url';
import type {RunResult} from '../src/engine/results.js';
import type {EventChunk, ReportData} from '@peerlab/report';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = path.join(root, 'test-server', 'bin', 'peerlab.mjs');

function peerlab(args: string[], timeout = 120_000) {
  return execa(process.execPath, [bin, ...args], {cwd: root, reject: false, all: true, timeout});
}

/** The report's data and chunks as the page gets them: its scripts run in a fresh context. */
async function loadReport(dir: string): Promise<{data: ReportData; events: EventChunk['events']}> {
  const chunks: EventChunk[] = [];
  const window: Record<string, unknown> = {peerlabEvents: (chunk: EventChunk) => chunks.push(chunk)};
  const context = vm.createContext({window, JSON});
  vm.runInContext(await readFile(path.join(dir, 'data.js'), 'utf8'), context);
  const files = (await readdir(dir)).filter((f) => /^events-\d+\.js$/.test(f)).sort();
  for (const f of files) vm.runInContext(await readFile(path.join(dir, f), 'utf8'), context);
  return {data: window['peerlabReport'] as ReportData, events: chunks.sort((a, b) => a.index - b.index).flatMap((c) => c.events)};
}

// One failing run (a peer started with --bug drop-delivery loses alice's message) and one passing run, shared by the tests.
let work: string;
let out: string;
let run: Awaited<ReturnType<typeof peerlab>>;
let results: RunResult;

test.before(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'peerlab-report-'));
  out = path.join(work, 'runs');
  const file = path.join(work, 'broken.yaml');
  await writeFile(file, [
    'name: drops a delivery',
    'peers: [alice, bob, charly]',
    'peer_args: {charly: [--bug, drop-delivery]}',
    'steps:',
    '  - start: all',
    '  - await: converged',
    '    within: 5s',
    '  - on: alice',
    '    run: send one',
    '  - await: delivered',
    '    within: 2s',
  ].join('\n'));
  run = await peerlab(['run', file, path.join(root, 'scenarios', '02-three-peer-chat.yaml'), '--out', out, '--reporter', 'list,html,junit,json']);
  results = JSON.parse(await readFile(path.join(out, 'results.json'), 'utf8')) as RunResult;
});

test.after.always(async () => {
  if (work) await rm(work, {recursive: true, force: true});
});

test.serial('run --reporter html: each scenario has a report of its whole history, and the failure names it at the failing step everywhere', async (t) => {
  t.is(run.exitCode, 1, run.all);
  const [failed, passed] = results.scenarios;
  t.is(failed!.status, 'fail');
  t.is(passed!.status, 'pass');
  t.is(failed!.reportPath, `${path.join(failed!.runDir, 'report', 'index.html')}#step-4`);
  t.is(passed!.reportPath, path.join(passed!.runDir, 'report', 'index.html'));

  // The anchor is a step the report shows, the one that failed.
  const {data, events} = await loadReport(path.join(failed!.runDir, 'report'));
  const step = data.timeline.steps.find((s) => s.anchor === 'step-4');
  t.like(step, {path: '4', status: 'fail'});
  t.is(data.meta.firstFailure?.anchor, 'step-4');
  t.is(data.meta.status, 'fail');
  t.is(data.meta.runId, failed!.runId);
  // Every event of the history, in order, in the chunks.
  const history = (await readFile(failed!.historyPath, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as unknown);
  t.is(events.length, history.length);
  t.deepEqual(events, history);
  t.is(data.eventLog.count, history.length);

  // Console, JUnit and result.json all carry the path with its anchor.
  t.true(run.all!.includes(`report: ${failed!.reportPath}`), run.all);
  const junit = await readFile(path.join(out, 'junit.xml'), 'utf8');
  t.true(junit.includes(`report: ${failed!.reportPath}`));
  const recorded = JSON.parse(await readFile(path.join(failed!.runDir, 'result.json'), 'utf8')) as {reportPath?: string};
  t.is(recorded.reportPath, failed!.reportPath);
});

test.serial('run --reporter html: report.html links both reports relatively, coloured by verdict, and needs no script', async (t) => {
  const html = await readFile(path.join(out, 'report.html'), 'utf8');
  t.regex(run.all!, new RegExp(`HTML report: ${path.join(out, 'report.html').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  const [failed, passed] = results.scenarios;
  t.true(html.includes(`<tr class="fail"><td class="verdict">failed</td><td><a href="${path.basename(failed!.runDir)}/report/index.html#step-4">drops a delivery</a>`), html);
  t.true(html.includes(`<tr class="pass"><td class="verdict">passed</td><td><a href="${path.basename(passed!.runDir)}/report/index.html">the original three-peer chat</a>`), html);
  t.notRegex(html, /<script/);
});

test.serial('peerlab report builds the same report from a run folder or its history alone, where asked', async (t) => {
  const [failed] = results.scenarios;
  const original = await loadReport(path.join(failed!.runDir, 'report'));
  const elsewhere = path.join(work, 'again');
  const fromHistory = await peerlab(['report', failed!.historyPath, '--out', elsewhere]);
  t.is(fromHistory.exitCode, 0, fromHistory.all);
  t.is(fromHistory.stdout.trim(), `${path.join(elsewhere, 'index.html')}#step-4`);
  const rebuilt = await loadReport(elsewhere);
  t.deepEqual(rebuilt.events, original.events);
  t.deepEqual(rebuilt.data, original.data);

  const fromFolder = await peerlab(['report', failed!.runDir]);
  t.is(fromFolder.exitCode, 0, fromFolder.all);
  t.is(fromFolder.stdout.trim(), failed!.reportPath!);
});

test.serial('peerlab report refuses bad input with exit 2, naming the file and the line', async (t) => {
  const [failed] = results.scenarios;
  const lines = (await readFile(failed!.historyPath, 'utf8')).split('\n');
  const damaged = path.join(work, 'damaged.jsonl');
  await writeFile(damaged, [...lines.slice(0, 2), '{"t": 1, "src": "coordinator"', ...lines.slice(3)].join('\n'));
  const bad = await peerlab(['report', damaged, '--out', path.join(work, 'never')]);
  t.is(bad.exitCode, 2, bad.all);
  t.regex(bad.stderr, new RegExp(`^peerlab report: ${damaged.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3: not a JSON line`));
  await t.throwsAsync(readdir(path.join(work, 'never')));

  const missing = await peerlab(['report', path.join(work, 'nothing-here')]);
  t.is(missing.exitCode, 2);
  t.regex(missing.stderr, /nothing-here: no such file or folder/);
  const emptyFolder = path.join(work, 'empty');
  await mkdir(emptyFolder);
  const noHistory = await peerlab(['report', emptyFolder]);
  t.is(noHistory.exitCode, 2);
  t.regex(noHistory.stderr, /empty: no history\.jsonl in this folder/);
});

test.serial('peerlab report on a peerlab up session: stopping the peers at exit is the run ending, not faults or changes to converge on', async (t) => {
  const dir = path.join(work, 'up-session');
  const up = execa(process.execPath, [bin, 'up', '--peers', '3', '--logs', dir], {cwd: root, reject: false, all: true, timeout: 120_000, input: 'all members\nexit\n'});
  const session = await up;
  t.is(session.exitCode, 0, session.all);
  const history = (await readFile(path.join(dir, 'history.jsonl'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as {type: string; src: string});
  const stop = history.findIndex((e) => e.type === 'run.stop');
  t.true(stop > 0, 'up records where it began stopping the peers');
  // The peers did leave and exit after it: the report must not take that for faults.
  t.true(history.slice(stop).some((e) => e.type === 'member.left'));
  t.is(history.slice(stop).filter((e) => e.type === 'peer.exit').length, 3);

  const made = await peerlab(['report', dir]);
  t.is(made.exitCode, 0, made.all);
  const {data} = await loadReport(path.join(dir, 'report'));
  t.is(data.peers.length, 3);
  t.deepEqual(data.timeline.faults, []);
  t.deepEqual(data.detection.faults, []);
  t.deepEqual(data.convergence.map((c) => c.kind), ['join', 'join', 'join']);
});
