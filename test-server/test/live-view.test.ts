/**
 * The live view on real processes and sockets: `peerlab up` serves the page
 * and a socket.io namespace whose reports follow the peers as they register
 * and die (within a second), answers chunk requests, throttles its builds,
 * and gives control only to a viewer that shows the run token (required of
 * every viewer beyond loopback). `peerlab run --watch` serves the running
 * scenario the same way.
 */
import test from 'ava';
import type {ExecutionContext} from 'ava';
import {spawn} from 'node:child_process';
import type {ChildProcess} from 'node:child_process';
import {mkdtemp, readFile, rm} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {createInterface} from 'node:readline';
import {fileURLToPath} from 'node:url';
import {io} from 'socket.io-client';
import type {Socket} from 'socket.io-client';
import {execa} from 'execa';
import type {EventChunk, LiveHello, ReportData} from '@peerlab/report';
import {HistoryWriter} from '../src/history/writer.js';
import {call, pidsAlive, startCoordinator, tempDir} from './support.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = path.join(root, 'test-server', 'bin', 'peerlab.mjs');

/** A viewer of the live view: every hello and report it got, and a way to wait for one. */
class Viewer {
  readonly reports: Array<{at: number; data: ReportData}> = [];
  hello: LiveHello | undefined;
  readonly problems: string[] = [];
  readonly #waiters = new Set<() => void>();

  constructor(readonly socket: Socket) {
    socket.on('hello', (hello: LiveHello) => (this.hello = hello));
    socket.on('problem', (problem: {message: string}) => this.problems.push(problem.message));
    // Acknowledged as the page does: the server sends a viewer its next report only then.
    socket.on('report', (data: ReportData, ack?: () => void) => {
      this.reports.push({at: Date.now(), data});
      for (const w of this.#waiters) w();
      ack?.();
    });
  }

  /** The first report (already received or coming) that satisfies `predicate`. */
  report(predicate: (data: ReportData) => boolean, timeoutMs: number, what: string): Promise<{at: number; data: ReportData}> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.reports.find((r) => predicate(r.data));
        if (!found) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve(found);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`no report with ${what} within ${timeoutMs} ms (got ${this.reports.length})`));
      }, timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }
}

/** Connects to `<origin>/view`; rejects with the server's refusal. */
async function connect(t: ExecutionContext, origin: string, token?: string): Promise<Viewer> {
  const socket = io(`${origin}/view`, {transports: ['websocket'], reconnection: false, forceNew: true, ...(token !== undefined ? {auth: {token}} : {})});
  t.teardown(() => void socket.disconnect());
  const viewer = new Viewer(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return viewer;
}

/** Stops a `peerlab` command as a user would (SIGTERM, so it stops its peers), SIGKILL only past a deadline. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** How many events of this type the report's log holds. */
function countOf(data: ReportData, type: string): number {
  const index = data.eventLog.types.indexOf(type);
  return index < 0 ? 0 : data.eventLog.type.filter((x) => x === index).length;
}

test.serial('peerlab up: the live view shows peers as they register and a kill promptly, offers control on loopback; chunks carry the events', async (t) => {
  t.timeout(120_000);
  const logs = await mkdtemp(path.join(os.tmpdir(), 'peerlab-live-'));
  const child = spawn(process.execPath, [bin, 'up', '--serve', '--peers', '3', '--logs', logs], {stdio: 'pipe'});
  t.teardown(async () => {
    await stop(child);
    await rm(logs, {recursive: true, force: true});
  });
  const lines: string[] = [];
  const address = new Promise<{url: string; control: string}>((resolve, reject) => {
    let url: string | undefined;
    createInterface({input: child.stdout}).on('line', (line) => {
      lines.push(line);
      const m = /^live view: (http:\/\/127\.0\.0\.1:\d+\/view\/)\s+history: (\S+)$/.exec(line);
      if (m) url = m[1]!;
      const c = /^live view with control: (\S+)$/.exec(line);
      if (c && url) resolve({url, control: c[1]!});
    });
    child.on('exit', () => reject(new Error(`peerlab up exited: ${lines.join(' | ')}`)));
  });
  const {url, control} = await address;
  const origin = new URL(url).origin;
  // On loopback the read-only address and the one with the token, which gives a viewer control.
  const controlUrl = new URL(control);
  t.is(controlUrl.origin + controlUrl.pathname, url);
  const token = controlUrl.searchParams.get('token');
  t.truthy(token);
  const controller = await connect(t, origin, token!);
  await controller.report(() => true, 30_000, 'a report for the controller');
  t.is(controller.hello?.access, 'control');

  const page = await fetch(url);
  t.is(page.status, 200);
  t.regex(page.headers.get('content-type') ?? '', /text\/html/);
  const html = await page.text();
  t.regex(html, /<script src="app\.js"><\/script>/);
  t.notRegex(html, /data\.js/);
  t.regex(html, /connect-src 'self'/);
  t.is((await fetch(`${url}app.js`)).status, 200);
  t.is((await fetch(`${url}app.css`)).status, 200);
  t.is((await fetch(`${origin}/view`, {redirect: 'manual'})).headers.get('location'), '/view/');

  const viewer = await connect(t, origin);
  const registered = await viewer.report((d) => countOf(d, 'peer.registered') === 3, 30_000, 'three registrations');
  t.deepEqual(viewer.hello, {access: 'read', runId: registered.data.meta.runId});
  t.true(registered.data.meta.live);
  t.deepEqual(registered.data.peers, ['alice', 'bob', 'charly']);

  const killed = await call(origin, 'DELETE', '/api/peers/bob?signal=SIGKILL');
  t.is(killed.status, 200);
  const after = Date.now();
  const seen = await viewer.report((d) => countOf(d, 'peer.exit') === 1, 10_000, 'the kill');
  // Under 1 s on an idle machine; the bound leaves room for a loaded CI runner.
  t.log(`the kill showed ${seen.at - after} ms after it happened`);
  t.true(seen.at - after <= 5000, `the kill showed ${seen.at - after} ms after it happened`);

  const first = (await viewer.socket.timeout(5000).emitWithAck('chunk', 0)) as EventChunk;
  t.is(first.index, 0);
  t.like(first.events[0], {src: 'coordinator', type: 'run.begin'});
  t.true(first.events.some((e) => e.type === 'peer.exit' && (e.data as {peer?: string}).peer === 'bob'));
  t.deepEqual(await viewer.socket.timeout(5000).emitWithAck('chunk', -1), {error: 'chunk: expected an index, a whole number >= 0'});
  t.deepEqual(await viewer.socket.timeout(5000).emitWithAck('chunk', 'x'), {error: 'chunk: expected an index, a whole number >= 0'});

  // The history it recorded is a history like a run's: peerlab report builds from it after.
  const pids = JSON.parse(JSON.stringify((await call(origin, 'GET', '/api/peers')).body)) as {peers: Array<{pid?: number}>};
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  t.deepEqual(await pidsAlive(pids.peers.map((p) => p.pid).filter((p): p is number => typeof p === 'number'), 5000), []);
  const history = (await readFile(path.join(logs, 'history.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as {type: string});
  t.is(history[0]!.type, 'run.begin');
  t.is(history.at(-1)!.type, 'run.end');
  const report = await execa(process.execPath, [bin, 'report', logs], {reject: false, all: true});
  t.is(report.exitCode, 0, report.all);
  t.is(report.stdout.trim(), path.join(logs, 'report', 'index.html'));
});

test.serial('on loopback anyone may watch; only the run token gives control, and a wrong one is refused', async (t) => {
  const token = 'a-live-view-token-0123456789abcdef';
  const coordinator = await startCoordinator(t, {token});
  const dir = await tempDir(t, 'peerlab-live-');
  const history = new HistoryWriter(path.join(dir, 'history.jsonl'));
  t.teardown(() => history.close());
  history.append('run.begin', {scenario: 'watched', runId: coordinator.runId, peers: []});
  coordinator.liveView.setSource(history);
  const origin = new URL(coordinator.url).origin;

  const reader = await connect(t, origin);
  await reader.report((d) => d.meta.scenario === 'watched', 10_000, 'the scenario');
  t.deepEqual(reader.hello, {access: 'read', runId: coordinator.runId});
  const controller = await connect(t, origin, token);
  await controller.report(() => true, 10_000, 'anything');
  t.is(controller.hello?.access, 'control');
  await t.throwsAsync(connect(t, origin, 'not-the-token'), {message: /unauthorized/});
  // The agents' namespace is not the view's: a viewer's token check does not open it.
  t.is((await fetch(`${origin}/view/`)).status, 200);
});

test.serial('beyond loopback every viewer must show the token, as every REST request must', async (t) => {
  const coordinator = await startCoordinator(t, {host: '0.0.0.0'});
  const origin = `http://127.0.0.1:${new URL(coordinator.url).port}`;
  t.is((await fetch(`${origin}/view/`)).status, 401);
  t.is((await fetch(`${origin}/view/app.js`)).status, 401);
  t.is((await fetch(`${origin}/view/?token=wrong`)).status, 401);
  const page = await fetch(`${origin}/view/?token=${coordinator.token}`);
  t.is(page.status, 200);
  t.regex(await page.text(), new RegExp(`<script src="app\\.js\\?token=${coordinator.token}"></script>`));
  t.is((await fetch(`${origin}/view/app.js?token=${coordinator.token}`)).status, 200);
  t.is((await fetch(`${origin}/view/app.css`, {headers: {authorization: `Bearer ${coordinator.token}`}})).status, 200);
  await t.throwsAsync(connect(t, origin), {message: /unauthorized: this coordinator listens beyond loopback/});
  const viewer = await connect(t, origin, coordinator.token);
  t.is(viewer.hello?.access ?? (await new Promise<LiveHello>((resolve) => viewer.socket.once('hello', resolve))).access, 'control');
});

test.serial('reports are throttled under a stream of events, and the last one follows the last event promptly; a slow viewer gets only the latest', async (t) => {
  const coordinator = await startCoordinator(t);
  const dir = await tempDir(t, 'peerlab-live-');
  const history = new HistoryWriter(path.join(dir, 'history.jsonl'));
  t.teardown(() => history.close());
  history.append('run.begin', {scenario: 'busy', runId: coordinator.runId, peers: []});
  coordinator.liveView.setSource(history);
  const origin = new URL(coordinator.url).origin;
  const viewer = await connect(t, origin);
  await viewer.report(() => true, 10_000, 'a first report');
  // A viewer that keeps up slowly: it holds its acknowledgement, and gets nothing more meanwhile.
  const slow = io(`${origin}/view`, {transports: ['websocket'], reconnection: false, forceNew: true});
  t.teardown(() => void slow.disconnect());
  const slowReports: ReportData[] = [];
  let held: (() => void) | undefined;
  let onSlowReport = () => {};
  slow.on('report', (data: ReportData, ack: () => void) => {
    slowReports.push(data);
    held = ack;
    onSlowReport();
  });
  await new Promise<void>((resolve) => (onSlowReport = resolve));
  const started = Date.now();
  // 150 events over ~1.5 s, one every 10 ms.
  for (let i = 0; i < 150; i++) {
    history.append('peer.gap', {peer: 'alice', expected: i + 1, got: i + 2});
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const last = Date.now();
  const final = await viewer.report((d) => d.eventLog.count === 151, 5000, 'every event');
  // Under 1 s on an idle machine; the bound leaves room for a loaded CI runner.
  t.log(`the last event showed ${final.at - last} ms after it was written`);
  t.true(final.at - last <= 5000, `the last event showed after ${final.at - last} ms`);
  const during = viewer.reports.filter((r) => r.at >= started).length;
  const allowed = Math.ceil((final.at - started) / 300) + 1;
  t.true(during <= allowed, `${during} reports in ${final.at - started} ms: more than one per 300 ms`);
  t.true(during >= 2, 'reports kept coming while events did');

  t.is(slowReports.length, 1, 'a viewer that has not acknowledged is sent nothing more');
  const caughtUp = new Promise<void>((resolve) => (onSlowReport = resolve));
  held!();
  await Promise.race([caughtUp, new Promise((_, reject) => setTimeout(() => reject(new Error('no report after the acknowledgement within 5 s')), 5000))]);
  t.is(slowReports.length, 2);
  t.is(slowReports[1]!.eventLog.count, 151, 'once it acknowledges it gets the latest report, not the ones in between');
});

test.serial('a history the report cannot be built from is reported to viewers once, not on every event', async (t) => {
  const coordinator = await startCoordinator(t);
  const dir = await tempDir(t, 'peerlab-live-');
  const broken = new HistoryWriter(path.join(dir, 'broken.jsonl'));
  t.teardown(() => broken.close());
  // peers must be a list of names: the build throws on every attempt.
  broken.append('run.begin', {scenario: 'broken', runId: coordinator.runId, peers: 5 as unknown as string[]});
  coordinator.liveView.setSource(broken);
  const viewer = await connect(t, new URL(coordinator.url).origin);
  const {problems} = viewer;
  const deadline = Date.now() + 10_000;
  while (problems.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  for (let i = 0; i < 50; i++) {
    broken.append('peer.gap', {peer: 'alice', expected: i + 1, got: i + 2});
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  // Long enough for several backed-off attempts.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  t.is(problems.length, 1, problems.join(' | '));
  t.regex(problems[0]!, /the report could not be built/);
  t.is(viewer.reports.length, 0);

  // The next history starts afresh.
  const good = new HistoryWriter(path.join(dir, 'good.jsonl'));
  t.teardown(() => good.close());
  good.append('run.begin', {scenario: 'good', runId: coordinator.runId, peers: []});
  coordinator.liveView.setSource(good);
  await viewer.report((d) => d.meta.scenario === 'good', 10_000, 'the good history');
});

test.serial('peerlab run --watch serves each running scenario in turn at the address it prints', async (t) => {
  t.timeout(180_000);
  const out = await tempDir(t, 'peerlab-watch-');
  const scenarios = ['01-join-and-converge.yaml', '02-three-peer-chat.yaml'].map((f) => path.join(root, 'scenarios', f));
  const child = spawn(process.execPath, [bin, 'run', ...scenarios, '--watch', '--out', out], {stdio: 'pipe'});
  t.teardown(() => stop(child));
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({input: child.stdout}).on('line', (line) => {
      const m = /^live view: (http:\/\/127\.0\.0\.1:\d+\/view\/)$/.exec(line);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`peerlab run exited (${code}) before printing the live view's address`)));
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const viewer = await connect(t, new URL(url).origin);
  const first = await viewer.report((d) => d.meta.scenario === 'three peers join and converge', 60_000, 'the first scenario');
  const seen = await viewer.report((d) => d.meta.scenario === 'the original three-peer chat' && countOf(d, 'peer.registered') === 3, 90_000, 'the second scenario with its peers');
  t.is(viewer.hello?.access, 'read');
  t.true(seen.data.meta.live);
  // Each scenario its own run: the page starts afresh when the run id changes.
  t.not(seen.data.meta.runId, first.data.meta.runId);
  t.true(viewer.reports.filter((r) => r.data.meta.runId === seen.data.meta.runId).every((r) => r.data.meta.scenario === 'the original three-peer chat'));
  const chunk = (await viewer.socket.timeout(5000).emitWithAck('chunk', 0)) as EventChunk;
  t.like(chunk.events[0]?.data, {runId: seen.data.meta.runId});
  t.is(await exited, 0);
});

test.serial("peerlab up records its console's faults in its history, as a scenario run records its steps' faults", async (t) => {
  t.timeout(120_000);
  const logs = await tempDir(t, 'peerlab-up-history-');
  const up = await execa(process.execPath, [bin, 'up', '--peers', '3', '--logs', logs], {input: 'kill charly\npause bob\nresume bob\nexit\n', reject: false, all: true, timeout: 90_000});
  t.is(up.exitCode, 0, up.all);
  const history = (await readFile(path.join(logs, 'history.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as {type: string; data: {peer?: string; signal?: string}});
  const kills = history.filter((e) => e.type === 'peer.kill').map((e) => [e.data.peer, e.data.signal]);
  t.deepEqual(kills, [['charly', 'SIGKILL'], ['bob', 'SIGSTOP'], ['bob', 'SIGCONT']]);
  t.true(history.some((e) => e.type === 'peer.exit' && e.data.peer === 'charly'));
});
