/**
 * The static report of a real run, opened from disk in headless Chromium as a
 * person opens it: no request leaves its folder, nothing logs an error, and
 * what the views show at a given instant is what the history says happened
 * then (read here from history.jsonl itself, not from the report's data): a
 * crashed peer's column turns dead for every observer once they declared it,
 * a partition outlines the cells that cross it, a failing run opens at its
 * first failure, an event's permalink shows that event. Tests in a file run
 * one after another: each drives a browser, and the machine is shared.
 */
import test from 'ava';
import type {ExecutionContext} from 'ava';
import {cp, mkdtemp, readdir, readFile, rm, writeFile} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {execa} from 'execa';
import {runningChromium, withBrowser} from '../src/probe/browser.js';
import type {BrowserProbe, ProbedPage} from '../src/probe/browser.js';
import {painted, pictureMoment} from '../src/probe/screenshots.js';
import {memberStates} from '../src/data/types.js';
import {demoScenario, root, runWithReport} from './run-support.js';
import type {ReportRun} from './run-support.js';

interface Line {
  t: number;
  src: string;
  type: string;
  data?: Record<string, unknown>;
}

let demo: ReportRun;
let history: Line[];

test.before(async (t) => {
  t.timeout(180_000);
  demo = await runWithReport({file: demoScenario});
  // On an overloaded machine peers may not register within the start step's bound: the run is unknown, not failed, and says
  // nothing about the report; one more try. A failed run is never retried.
  if (demo.status === 'unknown') {
    await demo.cleanup();
    demo = await runWithReport({file: demoScenario});
  }
  if (demo.status !== 'pass') throw new Error(`the demo scenario did not pass:\n${demo.output}`);
  history = (await readFile(path.join(demo.runDir, 'history.jsonl'), 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line);
});

test.after.always(async () => {
  await demo?.cleanup();
});

/** ms since the run's first event, the report's clock. */
const rel = (t: number) => t - demo.data.meta.t0;

async function openReport(browser: BrowserProbe, run: ReportRun, hash = ''): Promise<ProbedPage> {
  const probed = await browser.open(`file://${run.index}${hash}`);
  await probed.page.waitForSelector('section#log', {timeout: 60_000});
  await probed.page.evaluate(painted);
  return probed;
}

/** Moves the time cursor as a permalink does, and waits for the matrix to show that instant. */
async function cursorTo(probed: ProbedPage, ms: number): Promise<void> {
  await probed.page.evaluate(`location.hash = '#t=${ms}'`);
  await probed.page.waitForSelector(`#matrix canvas[data-cursor="${ms}"]`, {state: 'attached', timeout: 20_000});
}

interface Cell {
  observer: string;
  subject: string;
  state: string;
  wrong: boolean;
}

/**
 * The matrix as drawn at the cursor, from the text the canvas carries beside
 * its pixels (data-cells: a digit per cell, observer by observer, the state's
 * index in memberStates, plus 5 when outlined).
 */
async function cells(probed: ProbedPage, peers: readonly string[]): Promise<Cell[]> {
  const text = (await probed.page.getAttribute('#matrix canvas[data-cells]', 'data-cells')) ?? '';
  if (text.length !== peers.length * peers.length) throw new Error(`data-cells has ${text.length} cells for ${peers.length} peers`);
  return [...text].map((digit, cell) => ({
    observer: peers[Math.floor(cell / peers.length)]!,
    subject: peers[cell % peers.length]!,
    state: memberStates[Number(digit) % 5]!,
    wrong: Number(digit) >= 5,
  }));
}

/**
 * The colour the canvas painted at the centre of a cell (observer, subject),
 * as rgb(r, g, b), read from its pixels where data-grid says the cells are.
 */
async function cellPixel(probed: ProbedPage, o: number, s: number): Promise<string> {
  return probed.page.evaluate(`(() => {
    const c = document.querySelector('#matrix canvas[data-grid]');
    const [left, top, size] = c.dataset.grid.split(',').map(Number);
    const scale = c.width / c.clientWidth;
    const p = c.getContext('2d').getImageData(Math.round((left + (${s} + 0.5) * size) * scale), Math.round((top + (${o} + 0.5) * size) * scale), 1, 1).data;
    return 'rgb(' + p[0] + ', ' + p[1] + ', ' + p[2] + ')';
  })()`);
}

/** The colour the legend gives a view state (its swatch's background), as rgb(r, g, b). */
async function legendColor(probed: ProbedPage, state: string): Promise<string> {
  return probed.page.evaluate(`getComputedStyle([...document.querySelectorAll('.legend .swatch')].find((s) => s.textContent.trim() === ${JSON.stringify(state)}).querySelector('i')).backgroundColor`);
}

function assertClean(t: ExecutionContext, probed: ProbedPage, run: ReportRun): void {
  t.deepEqual(probed.foreignRequests(path.dirname(run.index)), [], 'no request outside the report folder');
  t.deepEqual(probed.errors(), [], 'no console error, page error or failed request');
}

test.serial('a report opened from disk requests nothing outside its folder, logs no error, and draws every view', async (t) => {
  t.timeout(120_000);
  await withBrowser(async (browser) => {
    const probed = await openReport(browser, demo);
    const {page} = probed;
    t.is((await page.textContent('header h1'))?.trim(), 'chat, a partition and a crash, for the report\'s pictures');
    t.regex((await page.textContent('header .status')) ?? '', /passed/);
    // Every section scrolled into view, so whatever a view loads on demand (the log's event text) is loaded.
    for (const id of ['overview', 'matrix', 'convergence', 'detection', 'sequence', 'delivery', 'log']) {
      await page.locator(`section#${id}`).scrollIntoViewIfNeeded();
      await page.evaluate(painted);
      t.false(await page.locator(`section#${id} .empty`).isVisible(), `${id} is drawn, not a placeholder`);
    }
    // The log's rows show their events' data once its chunk has loaded.
    await probed.until(`[...document.querySelectorAll('#log .log-row .c-data')].some((el) => el.textContent.length > 1)`, 20_000, 'the text of the log rows');
    const own = probed.requests.map((r) => path.basename(new URL(r.url).pathname));
    for (const file of ['index.html', 'data.js', 'app.js', 'app.css', 'events-0000.js']) t.true(own.includes(file), `the probe saw the page load ${file}`);
    assertClean(t, probed, demo);
  });
  t.deepEqual(runningChromium(), []);
});

test.serial('the crashed peer\'s column turns dead for every observer once each declared it, and not before', async (t) => {
  t.timeout(120_000);
  const kill = history.find((e) => e.src === 'coordinator' && e.type === 'peer.kill');
  t.truthy(kill, 'the history has the kill');
  const victim = kill!.data!.peer as string;
  const deaths = new Map<string, number>();
  for (const e of history) {
    if (e.type === 'member.dead' && e.data?.name === victim && e.t >= kill!.t && !deaths.has(e.src)) deaths.set(e.src.replace(/^peer:/, ''), rel(e.t));
  }
  const observers = ['alice', 'bob', 'charly', 'dave'];
  t.deepEqual([...deaths.keys()].sort(), observers, 'every other peer declared it dead');
  await withBrowser(async (browser) => {
    const probed = await openReport(browser, demo);
    const peers = demo.data.peers;
    await cursorTo(probed, rel(kill!.t) - 1);
    for (const c of (await cells(probed, peers)).filter((c) => c.subject === victim && c.observer !== victim)) t.is(c.state, 'alive', `${c.observer} sees ${victim} alive before the kill`);
    const alive = await legendColor(probed, 'alive');
    for (const o of observers) t.is(await cellPixel(probed, peers.indexOf(o), peers.indexOf(victim)), alive, `${o}'s cell of ${victim} is painted alive`);

    const first = Math.min(...deaths.values());
    const last = Math.max(...deaths.values());
    await cursorTo(probed, first);
    const midway = (await cells(probed, demo.data.peers)).filter((c) => c.subject === victim && observers.includes(c.observer));
    for (const c of midway) t.is(c.state === 'dead', deaths.get(c.observer)! <= first, `${c.observer} shows ${victim} ${c.state} at ${first} ms, the first declaration; it declared it at ${deaths.get(c.observer)} ms`);

    await cursorTo(probed, last);
    const after = (await cells(probed, demo.data.peers)).filter((c) => c.subject === victim && observers.includes(c.observer));
    t.is(after.length, observers.length);
    for (const c of after) t.is(c.state, 'dead', `${c.observer} sees ${victim} dead after it declared it`);
    const dead = await legendColor(probed, 'dead');
    t.not(dead, alive);
    for (const o of observers) t.is(await cellPixel(probed, peers.indexOf(o), peers.indexOf(victim)), dead, `${o}'s cell of ${victim} is painted dead, the legend's colour`);
    assertClean(t, probed, demo);
  });
});

test.serial('a partition outlines the cells that cross it, and only those, until the sides have noticed', async (t) => {
  t.timeout(120_000);
  const partition = history.find((e) => e.src === 'coordinator' && e.type === 'fault' && e.data?.kind === 'partition');
  t.truthy(partition, 'the history has the partition');
  const left = ['alice', 'bob'];
  const right = ['charly', 'dave', 'eve'];
  const side = (p: string) => (left.includes(p) ? 0 : 1);
  await withBrowser(async (browser) => {
    const probed = await openReport(browser, demo);
    await cursorTo(probed, rel(partition!.t) - 1);
    t.deepEqual((await cells(probed, demo.data.peers)).filter((c) => c.wrong), [], 'nothing is outlined while the group is whole and converged');

    // Just after the partition every view still holds the other side alive: exactly the cross cells are wrong.
    await cursorTo(probed, rel(partition!.t) + 1);
    const now = await cells(probed, demo.data.peers);
    const cross = now.filter((c) => c.observer !== c.subject && side(c.observer) !== side(c.subject));
    t.is(cross.length, 2 * left.length * right.length);
    for (const c of cross) t.true(c.wrong && c.state === 'alive', `${c.observer} → ${c.subject} is outlined (${c.state})`);
    for (const c of now.filter((c) => side(c.observer) === side(c.subject))) t.false(c.wrong, `${c.observer} → ${c.subject} is on one side`);
    assertClean(t, probed, demo);
  });
});

test.serial('an event\'s permalink opens the log at that event, selected and in view', async (t) => {
  t.timeout(120_000);
  const index = history.findIndex((e) => e.src === 'coordinator' && e.type === 'peer.kill');
  t.true(index > 0);
  await withBrowser(async (browser) => {
    const probed = await openReport(browser, demo, `#event-${index}`);
    const selector = `#log .log-row:has(> a.c-i[href="#event-${index}"])`;
    const row = probed.page.locator(selector);
    await row.waitFor({timeout: 20_000});
    t.regex((await row.getAttribute('class')) ?? '', /\bselected\b/);
    await probed.until(`(() => { const r = document.querySelector('${selector}').getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; })()`, 20_000, 'the row on screen');
    const text = (await row.textContent()) ?? '';
    t.true(text.includes('peer.kill'), text);
    t.true(text.includes('coordinator'), text);
    // The row's own text comes from the event chunk: the victim's name is in the event's data.
    const victim = String(history[index]!.data!.peer ?? '');
    await probed.until(`document.querySelector('${selector}').textContent.includes(${JSON.stringify(victim)})`, 20_000, 'the data of the row');
    assertClean(t, probed, demo);
  });
});

test.serial('a malformed hash is ignored, and an events file that throws shows its error in the log rows', async (t) => {
  t.timeout(120_000);
  const copy = await mkdtemp(path.join(os.tmpdir(), 'peerlab-damaged-'));
  t.teardown(() => rm(copy, {recursive: true, force: true}));
  await cp(path.dirname(demo.index), copy, {recursive: true});
  await writeFile(path.join(copy, 'events-0000.js'), "throw new Error('a damaged events file');\n");
  await withBrowser(async (browser) => {
    const probed = await openReport(browser, {...demo, index: path.join(copy, 'index.html')}, '#%E0%A4');
    await probed.page.locator('section#log').scrollIntoViewIfNeeded();
    await probed.until(`[...document.querySelectorAll('#log .log-row')].some((el) => el.textContent.includes('events-0000.js loaded but did not deliver chunk 0'))`, 20_000, 'the error in the log rows');
    t.deepEqual(probed.errors().filter((e) => !e.includes('a damaged events file')), []);
  });
});

test.serial('a failing run opens at its first failure: the failed step in view, the cursor on it', async (t) => {
  t.timeout(180_000);
  const failing = await runWithReport({
    yaml: [
      'name: a peer that drops what it receives',
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
      '',
    ].join('\n'),
  });
  try {
    t.is(failing.status, 'fail', failing.output);
    t.is(failing.data.meta.firstFailure?.anchor, 'step-4');
    await withBrowser(async (browser) => {
      const probed = await openReport(browser, failing);
      t.regex((await probed.page.textContent('header .status')) ?? '', /failed/);
      await probed.until(`(() => { const el = document.getElementById('step-4'); if (!el) return false; const r = el.getBoundingClientRect(); return r.bottom > 0 && r.top < innerHeight && r.width > 0; })()`, 20_000, 'the failed step on screen');
      t.is(await probed.page.getAttribute('#matrix canvas[data-cursor]', 'data-cursor'), String(failing.data.meta.firstFailure!.t), 'the cursor is at the failure');
      assertClean(t, probed, failing);
    });
  } finally {
    await failing.cleanup();
  }
});

/** Width and height from a PNG's header, or undefined when it is not a PNG. */
function pngSize(bytes: Buffer): {width: number; height: number} | undefined {
  if (bytes.length < 24 || bytes.toString('latin1', 1, 4) !== 'PNG' || bytes.toString('latin1', 12, 16) !== 'IHDR') return undefined;
  return {width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20)};
}

test.serial('npm run screenshots photographs every view of a report, into a temporary folder unless asked for docs/', async (t) => {
  t.timeout(120_000);
  const out = await mkdtemp(path.join(os.tmpdir(), 'peerlab-shots-'));
  t.teardown(() => rm(out, {recursive: true, force: true}));
  const env = {...process.env};
  delete env.PEERLAB_UPDATE_SCREENSHOTS;
  const run = await execa(process.execPath, [path.join(root, 'scripts', 'screenshots.mjs'), '--report', demo.index, '--out', out], {cwd: root, env, reject: false, all: true, timeout: 110_000});
  t.is(run.exitCode, 0, run.all);
  const names = ['report', 'overview', 'matrix', 'convergence', 'detection', 'sequence', 'delivery', 'log'];
  t.deepEqual((await readdir(out)).sort(), names.map((n) => `${n}.png`).sort());
  for (const name of names) {
    const bytes = await readFile(path.join(out, `${name}.png`));
    const size = pngSize(bytes);
    t.truthy(size, `${name}.png is a PNG`);
    t.true(size!.width >= 600 && size!.height >= 100, `${name}.png is ${size!.width}x${size!.height}`);
    // A blank or placeholder picture compresses to almost nothing.
    t.true(bytes.length > 8000, `${name}.png has ${bytes.length} bytes`);
  }
  // Without a #hash it shows the report at the first death a fault caused: the matrix mid-detection.
  const moment = pictureMoment(demo.data);
  t.true(moment > 0);
  t.true(run.all!.includes(`photographing ${demo.index}#t=${moment}`), run.all);
  t.deepEqual(runningChromium(), []);
});
