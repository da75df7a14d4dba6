/**
 * The reporters of `peerlab run`, fed hand-made results: a pass, a fail with
 * XML-hostile text, an unknown, and a second attempt. Files go to per-test
 * temp dirs.
 */
import test from 'ava';
import type {ExecutionContext} from 'ava';
import {execFileSync} from 'node:child_process';
import {constants} from 'node:fs';
import {access, mkdtemp, readdir, readFile, rm} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {XMLParser, XMLValidator} from 'fast-xml-parser';
import type {RunResult, ScenarioResult, StepResult} from '../src/engine/results.js';
import {JsonReporter} from '../src/reporters/json.js';
import {JunitReporter, buildJunitXml} from '../src/reporters/junit.js';
import {ListReporter, keyFigures, trafficLine} from '../src/reporters/list.js';
import {ReporterMux} from '../src/reporters/multiplexer.js';
import {createReporters, HtmlReporter, reporterNames} from '../src/reporters/index.js';
import type {Reporter, RunInfo, ScenarioInfo} from '../src/reporters/reporter.js';

// ---------------------------------------------------------------- fixtures

const hostile = `<&>"'\u0001`;
const hostileName = `weird ${hostile} name`;
const hostileMessage = `bob saw alice as <dead> & not "alive" ('suspect' never)\u0001 ]]> twice ]]> end`;

function step(p: string, title: string, status: StepResult['status'], extra: Partial<StepResult> = {}): StepResult {
  return {path: p, kind: 'do', title, line: 1, status, durationMs: 10, ...extra};
}

function scenario(over: Partial<ScenarioResult> & Pick<ScenarioResult, 'name' | 'file' | 'runId' | 'status'>): ScenarioResult {
  const runDir = `/tmp/peerlab-out/${over.runId}`;
  return {
    seed: 42,
    attempt: 1,
    durationMs: 1000,
    steps: [],
    invariants: [],
    figures: {},
    runDir,
    historyPath: `${runDir}/history.jsonl`,
    ...over,
  };
}

const passed = scenario({
  name: 'chat basics',
  file: 'scenarios/chat.yaml',
  runId: 'r1',
  status: 'pass',
  durationMs: 3200,
  steps: [
    step('1', 'spawn alice, bob, carol', 'pass', {durationMs: 420}),
    step('2', 'await converged within 5s', 'pass', {kind: 'await', durationMs: 812, figures: {converge_ms: 812}}),
  ],
  invariants: [{name: 'no-duplicate-delivery', status: 'pass', message: 'no duplicates'}],
  figures: {converge_ms: 812, latency_p99_ms: 9.25},
});

const failed = scenario({
  name: hostileName,
  file: 'scenarios/we<ird>&.yaml',
  runId: 'r2',
  status: 'fail',
  durationMs: 5400,
  message: hostileMessage,
  evidence: ['12:00:01.100 peer:bob member.dead alice <from carol> & co', '12:00:01.300 peer:bob chat.delivered "x"\u0001'],
  steps: [
    step('1', 'spawn alice, bob', 'pass'),
    step('2.1', `expect bob sees alice ${hostile}`, 'fail', {kind: 'expect', message: hostileMessage, durationMs: 5000}),
  ],
  invariants: [{name: 'per-sender-order', status: 'fail', message: 'bob delivered alice:1:2 before alice:1:1'}],
});

const undecided = scenario({
  name: 'partition heal',
  file: 'scenarios/partition.yaml',
  runId: 'r3',
  status: 'unknown',
  durationMs: 2500,
  message: 'peer carol never registered (environment)',
  steps: [step('1', 'spawn carol', 'unknown', {message: 'carol did not register within 10s', durationMs: 2500})],
});

const retried = {...passed, runId: 'r4', attempt: 2, runDir: '/tmp/peerlab-out/r4', historyPath: '/tmp/peerlab-out/r4/history.jsonl'};

const results = [passed, failed, undecided, retried];

function runResult(outDir: string, scenarios: ScenarioResult[] = results): RunResult {
  const count = (s: ScenarioResult['status']) => scenarios.filter((r) => r.status === s).length;
  return {
    status: count('fail') > 0 ? 'fail' : count('unknown') > 0 ? 'unknown' : 'pass',
    seed: 42,
    durationMs: 12_300,
    outDir,
    scenarios,
    counts: {passed: count('pass'), failed: count('fail'), unknown: count('unknown')},
  };
}

function runInfo(outDir: string): RunInfo {
  return {seed: 42, outDir, repeat: 2, scenarios: [passed, failed, undecided].map(({name, file}) => ({name, file}))};
}

function infoOf(r: ScenarioResult): ScenarioInfo {
  return {name: r.name, file: r.file, runId: r.runId, attempt: r.attempt, runDir: r.runDir};
}

/** Everything a run would tell a reporter, in order. */
async function feed(reporter: Reporter, outDir: string, scenarios: ScenarioResult[] = results): Promise<void> {
  await reporter.onRunBegin?.(runInfo(outDir));
  for (const r of scenarios) {
    const info = infoOf(r);
    await reporter.onScenarioBegin?.(info);
    for (const s of r.steps) await reporter.onStepEnd?.(info, s);
    await reporter.onScenarioEnd?.(r);
  }
  await reporter.onRunEnd?.(runResult(outDir, scenarios));
}

class Collector {
  chunks: string[] = [];
  constructor(readonly isTTY = false) {}
  write(chunk: string): boolean {
    this.chunks.push(chunk);
    return true;
  }
  get text(): string {
    return this.chunks.join('');
  }
}

async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'peerlab-reporters-'));
  t.teardown(() => rm(dir, {recursive: true, force: true}));
  return dir;
}

async function onPath(command: string): Promise<string | undefined> {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

const xmlParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseAttributeValue: false,
  isArray: (name) => ['testsuite', 'testcase', 'property'].includes(name),
});

interface ParsedCase {
  '@_name': string;
  '@_classname': string;
  '@_time': string;
  failure?: {'@_message': string; '#text'?: string};
  error?: {'@_message': string; '@_type': string; '#text'?: string};
  properties?: {property: Array<{'@_name': string; '@_value': string}>};
  'system-out'?: string;
}

interface ParsedSuite {
  '@_name': string;
  '@_tests': string;
  '@_failures': string;
  '@_errors': string;
  testcase?: ParsedCase[];
}

function parseJunit(xml: string): {root: Record<string, string>; suite: ParsedSuite} {
  const doc = xmlParser.parse(xml) as {testsuites: Record<string, string> & {testsuite: ParsedSuite[]}};
  const suite = doc.testsuites.testsuite[0];
  if (!suite) throw new Error('no testsuite');
  return {root: doc.testsuites, suite};
}

// ---------------------------------------------------------------- list

test('list: steps, verdicts, evidence, summary table and counts, without colours off a terminal', async (t) => {
  const out = new Collector(false);
  await feed(new ListReporter(out), '/tmp/peerlab-out');
  const text = out.text;
  const lines = text.split('\n');

  t.false(text.includes('\u001b['), 'no colour codes when the stream is not a TTY');
  t.false(text.includes('\u0001'), 'control characters never reach the terminal raw');

  t.true(lines.includes('▶ chat basics (scenarios/chat.yaml) run r1'));
  t.true(lines.includes('▶ chat basics (scenarios/chat.yaml) run r4, attempt 2'));
  t.true(lines.includes('  ✔ 2 await converged within 5s (812 ms) converge_ms=812'));
  t.true(lines.some((l) => l.startsWith('  ✘ 2.1 expect bob sees alice <&>"\'\\u0001 (5.0 s) — bob saw alice as <dead>')));
  t.true(lines.includes('  ? 1 spawn carol (2.5 s) — carol did not register within 10s'));
  t.true(lines.includes('  ✘ invariant per-sender-order — bob delivered alice:1:2 before alice:1:1'));

  t.true(lines.includes('✔ chat basics: passed (3.2 s)'));
  t.true(lines.includes('✔ chat basics (attempt 2): passed (3.2 s)'));
  t.true(lines.includes(`✘ weird <&>"'\\u0001 name: failed (5.4 s)`));
  t.true(lines.includes('? partition heal: unknown (2.5 s)'));

  // the failure explained: message, evidence indented, history path
  const verdictAt = lines.indexOf(`✘ weird <&>"'\\u0001 name: failed (5.4 s)`);
  t.deepEqual(lines.slice(verdictAt + 1, verdictAt + 6), [
    `    bob saw alice as <dead> & not "alive" ('suspect' never)\\u0001 ]]> twice ]]> end`,
    '    evidence:',
    '      12:00:01.100 peer:bob member.dead alice <from carol> & co',
    '      12:00:01.300 peer:bob chat.delivered "x"\\u0001',
    '    history: /tmp/peerlab-out/r2/history.jsonl',
  ]);
  t.true(lines.includes('    peer carol never registered (environment)'));
  t.true(lines.includes('    history: /tmp/peerlab-out/r3/history.jsonl'));
  t.false(lines.includes('    history: /tmp/peerlab-out/r1/history.jsonl'), 'a pass needs no pointer to its history');

  // summary table, then the count line last
  const header = lines.findIndex((l) => /^scenario\s+verdict\s+duration\s+key figures$/.test(l));
  t.true(header >= 0, 'summary table header');
  const rows = lines.slice(header + 1, header + 5);
  t.regex(rows[0] ?? '', /^chat basics\s+passed\s+3\.2 s\s+converge_ms=812 latency_p99_ms=9\.25$/);
  t.regex(rows[1] ?? '', /^weird <&>"'\\u0001 name\s+failed\s+5\.4 s$/);
  t.regex(rows[2] ?? '', /^partition heal\s+unknown\s+2\.5 s$/);
  t.regex(rows[3] ?? '', /^chat basics \(attempt 2\)\s+passed\s+3\.2 s\s+converge_ms=812/);
  t.is(lines.filter((l) => l !== '').at(-1), '2 passed, 1 failed, 1 unknown (12.3 s)');
});

test('list: colours when asked for (a terminal), same text underneath', async (t) => {
  const plain = new Collector(false);
  const coloured = new Collector(true);
  await feed(new ListReporter(plain), '/tmp/x');
  await feed(new ListReporter(coloured, {colors: true}), '/tmp/x');
  t.true(coloured.text.includes('\u001b[31m✘\u001b[39m'));
  t.is(coloured.text.replace(/\u001b\[\d+m/g, ''), plain.text);
});

// ---------------------------------------------------------------- json

test('json: results.json round-trips the RunResult, written atomically into a new directory', async (t) => {
  const dir = path.join(await tempDir(t), 'nested', 'out');
  const reporter = new JsonReporter({outDir: dir});
  await feed(reporter, dir);
  t.is(reporter.file, path.join(dir, 'results.json'));
  const text = await readFile(reporter.file, 'utf8');
  t.true(text.startsWith('{\n  "status": "fail",'), 'pretty JSON');
  t.deepEqual(JSON.parse(text), runResult(dir));
  t.deepEqual(await readdir(dir), ['results.json'], 'no temp file left behind');

  // a second run replaces the file
  await reporter.onRunEnd(runResult(dir, [passed]));
  t.deepEqual((JSON.parse(await readFile(reporter.file, 'utf8')) as RunResult).scenarios, [passed]);
  t.deepEqual(await readdir(dir), ['results.json']);
});

// ---------------------------------------------------------------- junit

test('junit: counts, names, failure and error details, and XML that stays valid', async (t) => {
  const dir = await tempDir(t);
  const reporter = new JunitReporter({outDir: dir});
  await feed(reporter, dir);
  t.is(reporter.file, path.join(dir, 'junit.xml'));
  t.deepEqual(await readdir(dir), ['junit.xml'], 'no temp file left behind');
  const xml = await readFile(reporter.file, 'utf8');

  t.is(XMLValidator.validate(xml), true);
  t.false(xml.includes('\u0001'), 'characters XML cannot carry are gone');

  const {root, suite} = parseJunit(xml);
  t.is(root['@_tests'], '4');
  t.is(suite['@_name'], 'peerlab');
  t.is(suite['@_tests'], '4');
  t.is(suite['@_failures'], '1');
  t.is(suite['@_errors'], '1');

  const cases = suite.testcase ?? [];
  t.deepEqual(
    cases.map((c) => c['@_name']),
    ['chat basics', `weird <&>"'\\u0001 name`, 'partition heal', 'chat basics (attempt 2)'],
  );
  t.deepEqual(
    cases.map((c) => c['@_classname']),
    ['scenarios/chat.yaml', 'scenarios/we<ird>&.yaml', 'scenarios/partition.yaml', 'scenarios/chat.yaml'],
  );
  t.deepEqual(
    cases.map((c) => c['@_time']),
    ['3.2', '5.4', '2.5', '3.2'],
  );

  const [pass, fail, unknown, retry] = cases;
  t.is(pass?.failure, undefined);
  t.is(pass?.error, undefined);
  t.is(retry?.failure, undefined);
  t.is(retry?.error, undefined);

  // fail: <failure> with the message, the evidence and the history path
  t.is(fail?.error, undefined);
  const failure = fail?.failure;
  t.truthy(failure);
  t.true(failure?.['@_message'].startsWith(`bob saw alice as <dead> & not "alive" ('suspect' never)\\u0001`));
  t.true(failure?.['@_message'].includes('/tmp/peerlab-out/r2/history.jsonl'));
  const body = failure?.['#text'] ?? '';
  t.true(body.includes('evidence:'));
  t.true(body.includes('12:00:01.100 peer:bob member.dead alice <from carol> & co'));
  t.true(body.includes('history: /tmp/peerlab-out/r2/history.jsonl'));
  t.true(body.includes('run dir: /tmp/peerlab-out/r2'));
  t.true(body.includes('twice ]] > end'), 'every "]]>" is broken up, not only the first');

  // unknown: <error>, not a failure
  t.is(unknown?.failure, undefined);
  t.is(unknown?.error?.['@_type'], 'unknown');
  t.true(unknown?.error?.['@_message'].startsWith('peer carol never registered (environment)'));

  // where to look, as properties and in system-out
  const props = Object.fromEntries((fail?.properties?.property ?? []).map((p) => [p['@_name'], p['@_value']]));
  t.is(props['historyPath'], '/tmp/peerlab-out/r2/history.jsonl');
  t.is(props['runDir'], '/tmp/peerlab-out/r2');
  t.is(props['runId'], 'r2');
  const retryProps = Object.fromEntries((retry?.properties?.property ?? []).map((p) => [p['@_name'], p['@_value']]));
  t.is(retryProps['attempt'], '2');
  t.is(retryProps['figure.converge_ms'], '812');
  t.true((pass?.['system-out'] ?? '').includes('history: /tmp/peerlab-out/r1/history.jsonl'));
  t.true((pass?.['system-out'] ?? '').includes('✔ 2 await converged within 5s (812 ms) converge_ms=812'));

  const xmllint = await onPath('xmllint');
  if (xmllint) {
    t.notThrows(() => execFileSync(xmllint, ['--noout', reporter.file], {stdio: 'pipe'}), 'xmllint --noout accepts it');
  } else {
    t.log('xmllint not on PATH: skipped that check');
  }
});

test('junit: a run without scenarios is still a valid report, and a pass-only run counts no failures', (t) => {
  const empty = parseJunit(buildJunitXml(runResult('/tmp/x', [])));
  t.is(empty.suite['@_tests'], '0');
  t.is(empty.suite['@_failures'], '0');
  t.is(empty.suite['@_errors'], '0');
  const green = buildJunitXml(runResult('/tmp/x', [passed, retried]));
  t.is(XMLValidator.validate(green), true);
  const {suite} = parseJunit(green);
  t.deepEqual([suite['@_tests'], suite['@_failures'], suite['@_errors']], ['2', '0', '0']);
});

test('junit: builds are independent (the package default is a shared instance)', (t) => {
  buildJunitXml(runResult('/tmp/x'));
  const {suite, root} = parseJunit(buildJunitXml(runResult('/tmp/x', [undecided])));
  t.is(root['@_tests'], '1');
  t.deepEqual([suite['@_tests'], suite['@_failures'], suite['@_errors']], ['1', '0', '1']);
});

// ---------------------------------------------------------------- multiplexer

class Broken implements Reporter {
  onRunBegin(): void {
    throw new Error('broken onRunBegin');
  }
  onScenarioBegin(): void {
    throw new Error('broken onScenarioBegin');
  }
  async onStepEnd(): Promise<void> {
    await new Promise((r) => setTimeout(r, 1));
    throw new Error('broken onStepEnd');
  }
  onScenarioEnd(): Promise<void> {
    return Promise.reject(new Error('broken onScenarioEnd'));
  }
  onRunEnd(): void {
    throw 'not even an Error';
  }
}

test('mux: a reporter that throws everywhere breaks nothing; the others are called, in order, awaited', async (t) => {
  const calls: string[] = [];
  const slow: Reporter = {
    async onRunBegin() {
      calls.push('slow:begin:start');
      await new Promise((r) => setTimeout(r, 20));
      calls.push('slow:begin:end');
    },
  };
  const recorder: Reporter = {
    onRunBegin: () => void calls.push('rec:onRunBegin'),
    onScenarioBegin: (s) => void calls.push(`rec:onScenarioBegin:${s.runId}`),
    onStepEnd: async (_s, st) => void calls.push(`rec:onStepEnd:${st.path}`),
    onScenarioEnd: (r) => void calls.push(`rec:onScenarioEnd:${r.runId}`),
    onRunEnd: (r) => void calls.push(`rec:onRunEnd:${r.counts.failed}`),
  };
  const stderr = new Collector();
  const mux = new ReporterMux([new Broken(), slow, recorder], {stderr});

  await t.notThrowsAsync(feed(mux, '/tmp/x', [passed, failed]));

  t.deepEqual(calls, [
    'slow:begin:start',
    'slow:begin:end',
    'rec:onRunBegin',
    'rec:onScenarioBegin:r1',
    'rec:onStepEnd:1',
    'rec:onStepEnd:2',
    'rec:onScenarioEnd:r1',
    'rec:onScenarioBegin:r2',
    'rec:onStepEnd:1',
    'rec:onStepEnd:2.1',
    'rec:onScenarioEnd:r2',
    'rec:onRunEnd:1',
  ]);
  // 1 onRunBegin + 2 onScenarioBegin + 4 onStepEnd + 2 onScenarioEnd + 1 onRunEnd
  t.is(mux.errors.length, 10);
  t.true(mux.errors.every((e) => e.reporter === 'Broken'));
  t.deepEqual([...new Set(mux.errors.map((e) => e.method))], ['onRunBegin', 'onScenarioBegin', 'onStepEnd', 'onScenarioEnd', 'onRunEnd']);
  t.is(mux.errors.at(-1)?.error, 'not even an Error');

  // stderr: once per reporter and method, not once per call
  const lines = stderr.text.split('\n').filter((l) => l !== '');
  t.is(lines.length, 5);
  t.is(lines[0], 'peerlab: reporter Broken failed in onRunBegin: broken onRunBegin');
  t.true(lines.includes('peerlab: reporter Broken failed in onStepEnd: broken onStepEnd'));
  t.true(lines.includes('peerlab: reporter Broken failed in onRunEnd: not even an Error'));
});

test('mux: a plain object reporter is named by its position', async (t) => {
  const stderr = new Collector();
  const mux = new ReporterMux([{}, {onRunEnd: () => { throw new Error('boom'); }}], {stderr});
  await mux.onRunEnd(runResult('/tmp/x'));
  t.deepEqual(mux.errors.map((e) => e.reporter), ['reporter #2']);
  t.is(stderr.text, 'peerlab: reporter reporter #2 failed in onRunEnd: boom\n');
});

// ---------------------------------------------------------------- createReporters

test('createReporters: names to instances, comma lists, repeats ignored, unknown names refused', async (t) => {
  t.deepEqual([...reporterNames], ['list', 'json', 'junit', 'html']);
  const dir = await tempDir(t);
  const stream = new Collector();

  const all = createReporters(['list', 'json', 'junit'], {outDir: dir, stream});
  t.true(all[0] instanceof ListReporter);
  t.true(all[1] instanceof JsonReporter);
  t.true(all[2] instanceof JunitReporter);
  t.is(all.length, 3);

  const fromList = createReporters(['junit,list', 'list'], {outDir: dir});
  t.is(fromList.length, 2);
  t.true(fromList[0] instanceof JunitReporter);
  t.true(fromList[1] instanceof ListReporter);

  const error = t.throws(() => createReporters(['list', 'pdf'], {outDir: dir}));
  t.is(error?.message, 'unknown reporter "pdf" (known reporters: list, json, junit, html)');
  const html = createReporters(['html'], {outDir: dir, stream});
  t.true(html[0] instanceof HtmlReporter);

  // all three behind a mux, end to end
  const mux = new ReporterMux(all, {stderr: new Collector()});
  await feed(mux, dir);
  t.deepEqual(mux.errors, []);
  t.deepEqual((await readdir(dir)).sort(), ['junit.xml', 'results.json']);
  t.true(stream.text.includes('2 passed, 1 failed, 1 unknown (12.3 s)'));
});

test('the list shows the traffic figures on one line per scenario, mean/busiest per phase, and leaves them out of the summary column', (t) => {
  const figures = {
    converge_ms: 12,
    forming_packets_per_peer_s: 15.7,
    forming_max_packets_per_peer_s: 19,
    forming_bytes_per_peer_s: 1870,
    forming_max_bytes_per_peer_s: 2109,
    forming_duration_s: 1.9,
    rest_packets_per_peer_s: 64.2,
    rest_max_packets_per_peer_s: 68.3,
    rest_bytes_per_peer_s: 16_040,
    rest_max_bytes_per_peer_s: 17_211,
    rest_duration_s: 7.2,
  };
  t.is(trafficLine(figures), 'traffic per peer, mean/max: forming 15.7/19 pkt/s 1.9k/2.1k B/s (1.9 s) · rest 64.2/68.3 pkt/s 16k/17k B/s (7.2 s)');
  t.is(trafficLine({converge_ms: 12}), undefined, 'a run whose peers reported no counters has no traffic line');
  t.deepEqual(keyFigures(figures), {converge_ms: 12});
  t.is(keyFigures({rest_packets_per_peer_s: 1, rest_duration_s: 2}), undefined, 'traffic figures alone make no summary column');
});

test('with an HTML report, the list, JUnit and JSON name it at the failing step; a report that could not be written is said so', async (t) => {
  const reportPath = '/tmp/peerlab-out/r2/report/index.html#step-2';
  const withReport = {...failed, reportPath};
  const stream = new Collector();
  new ListReporter(stream, {colors: false}).onScenarioEnd(withReport);
  t.true(stream.text.split('\n').includes(`    report: ${reportPath}`), stream.text);
  const xml = buildJunitXml(runResult('/tmp/x', [withReport]));
  t.true(xml.includes(`(history: /tmp/peerlab-out/r2/history.jsonl, report: ${reportPath})`), xml);
  t.true(xml.includes(`<property name="reportPath" value="${reportPath}"/>`), xml);
  const dir = await tempDir(t);
  await new JsonReporter({outDir: dir}).onRunEnd(runResult(dir, [withReport]));
  t.is((JSON.parse(await readFile(path.join(dir, 'results.json'), 'utf8')) as RunResult).scenarios[0]!.reportPath, reportPath);

  const notWritten = new Collector();
  new ListReporter(notWritten, {colors: false}).onScenarioEnd({...failed, reportError: 'disk full'});
  t.true(notWritten.text.split('\n').includes('    report not written: disk full'), notWritten.text);
  t.false(notWritten.text.includes('    report: '));
});
