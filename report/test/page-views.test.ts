/**
 * The overview, the matrix and the event log of a large report, driven in
 * headless Chromium as a person drives them: the log holds only the rows on
 * screen however long the history, its filter keeps exactly the events of the
 * source asked for (counted here from the history itself), a click on a row
 * moves the cursor every view shows, and dragging across the overview chooses
 * the window. The history is written here, in the format a run records, and
 * goes through the same files a run's report does.
 */
import test from 'ava';
import {mkdtemp, rm, writeFile} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {pathToFileURL} from 'node:url';
import {openReport, withBrowser} from '../src/probe/browser.js';
import type {ProbedPage} from '../src/probe/browser.js';
import {buildReportFiles} from '../src/write/build-files.js';

interface Line {
  t: number;
  src: string;
  type: string;
  data?: Record<string, unknown>;
}

const eventCount = 150_000;
let dir: string;
let index: string;
let lines: Line[];

/** A chatty run of 30 peers: every peer joins every other, then messages are sent and delivered everywhere, 1 ms apart. */
function history(events: number): Line[] {
  const peers = Array.from({length: 30}, (_, i) => `p${String(i).padStart(2, '0')}`);
  const out: Line[] = [];
  let t = Date.UTC(2026, 0, 1);
  out.push({t, src: 'coordinator', type: 'run.begin', data: {peers, invariants: []}});
  for (const p of peers) out.push({t, src: 'coordinator', type: 'peer.spawn', data: {peer: p, pid: 1}}, {t, src: `peer:${p}`, type: 'peer.started', data: {address: '127.0.0.1:1', incarnation: 0, profile: 'local'}});
  for (const p of peers) for (const q of peers) if (p !== q) out.push({t: ++t, src: `peer:${p}`, type: 'member.joined', data: {name: q, incarnation: 0, address: '127.0.0.1:1'}});
  for (let seq = 1; out.length < events; seq++) {
    const sender = peers[seq % peers.length]!;
    const id = `${sender}:m:${seq}`;
    t++;
    out.push({t, src: `peer:${sender}`, type: 'chat.sent', data: {id, sender, seq, text: 'x'}});
    for (const p of peers) if (out.length < events) out.push({t: t + 1, src: `peer:${p}`, type: 'chat.delivered', data: {id, sender, seq, sentAt: t}});
  }
  return out;
}

test.before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'peerlab-page-views-'));
  lines = history(eventCount);
  const file = path.join(dir, 'history.jsonl');
  await writeFile(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  index = (await buildReportFiles(file, path.join(dir, 'report'))).index;
});

test.after.always(async () => {
  if (dir) await rm(dir, {recursive: true, force: true});
});

async function showLog(probed: ProbedPage): Promise<void> {
  await probed.page.locator('#log').scrollIntoViewIfNeeded();
  await probed.page.waitForSelector('#log .log-row', {timeout: 30_000});
}

const rowCount = (probed: ProbedPage) => probed.page.locator('#log .log-row').count();

test.serial('the log keeps only the rows on screen in the page, and scrolls to the history\'s last event', async (t) => {
  t.timeout(180_000);
  await withBrowser(async (browser) => {
    const probed = await openReport(browser, index);
    await showLog(probed);
    const rows = await rowCount(probed);
    t.true(rows > 5 && rows < 60, `${rows} rows in the page for ${eventCount} events`);
    await probed.page.evaluate(`(() => { const el = document.querySelector('#log .log-scroll'); el.scrollTop = el.scrollHeight; })()`);
    const last = lines.length - 1;
    const row = probed.page.locator(`#log .log-row:has(> a.c-i[href="#event-${last}"])`);
    await row.waitFor({timeout: 30_000});
    t.true(((await row.textContent()) ?? '').includes(lines[last]!.type));
    // The row's data comes from its chunk: the last delivery's message id.
    const id = String(lines[last]!.data!.id);
    await probed.until(`document.querySelector('#log .log-row:has(> a.c-i[href="#event-${last}"])').textContent.includes(${JSON.stringify(id)})`, 30_000, 'the data of the last row');
    t.true((await rowCount(probed)) < 60);
    t.deepEqual(probed.errors(), []);
    t.deepEqual(probed.foreignRequests(path.dirname(index)), []);
  });
});

test.serial('the log\'s filter keeps exactly the events of the source asked for', async (t) => {
  t.timeout(180_000);
  await withBrowser(async (browser) => {
    const probed = await openReport(browser, index);
    await showLog(probed);
    const source = 'peer:p07';
    const expected = lines.filter((l) => l.src === source).length;
    await probed.page.fill('#log input[type=search] >> nth=0', source);
    await probed.until(`document.querySelector('#log .controls .muted').textContent.startsWith(${JSON.stringify(expected.toLocaleString('en'))} + ' of ')`, 30_000, 'the filtered count');
    const shown = await probed.page.locator('#log .log-row .c-src').allTextContents();
    t.true(shown.length > 0);
    t.deepEqual([...new Set(shown)], [source]);
    t.deepEqual(probed.errors(), []);
  });
});

test.serial('a click on a log row moves the cursor of every view to its event', async (t) => {
  t.timeout(180_000);
  await withBrowser(async (browser) => {
    const probed = await openReport(browser, index);
    await showLog(probed);
    const href = (await probed.page.locator('#log .log-row').nth(6).locator('a.c-i').getAttribute('href')) ?? '';
    const i = Number(/#event-(\d+)/.exec(href)?.[1]);
    // Found by its event, not its place: the log may still be settling on the cursor when its rows first come.
    const row = probed.page.locator(`#log .log-row:has(> a.c-i[href="${href}"])`);
    await row.click();
    await probed.until(`document.querySelector('#log .log-row.selected > a.c-i[href="${href}"]')`, 10_000, 'the clicked row selected');
    t.regex((await row.getAttribute('class')) ?? '', /\bselected\b/);
    // The matrix, off screen while the log is read, shows the event's instant once it is back in sight.
    const at = lines[i]!.t - lines[0]!.t;
    await probed.page.locator('#matrix').scrollIntoViewIfNeeded();
    await probed.page.waitForSelector(`#matrix canvas[data-cursor="${at}"]`, {state: 'attached', timeout: 30_000});
    t.pass();
    t.deepEqual(probed.errors(), []);
  });
});

test.serial('dragging across the overview chooses the window, a double click gives back the whole run', async (t) => {
  t.timeout(180_000);
  await withBrowser(async (browser) => {
    const probed = await openReport(browser, index);
    const {page} = probed;
    await page.locator('#overview').scrollIntoViewIfNeeded();
    const whole = page.locator('.toolbar button', {hasText: 'whole run'});
    const box = (await page.locator('#overview > .overview > canvas').boundingBox())!;
    const y = box.y + 30;
    await page.mouse.move(box.x + box.width * 0.4, y);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.6, y, {steps: 8});
    await page.mouse.up();
    await probed.until(`!document.querySelector('.toolbar button').disabled`, 10_000, 'a window narrower than the run');
    const text = (await page.locator('.toolbar').textContent()) ?? '';
    t.regex(text, /window\s*[\d.:]+s?\s*–\s*[\d.:]+/);
    await page.mouse.dblclick(box.x + box.width * 0.5, y);
    await probed.until(`document.querySelector('.toolbar button').disabled`, 10_000, 'the whole run again');
    t.true(await whole.isDisabled());
    t.deepEqual(probed.errors(), []);
  });
});

test.serial('a large report paints before its bulk columns have come: the views that need them say they are loading, then draw them; a log permalink waits for the log', async (t) => {
  t.timeout(180_000);
  await withBrowser(async (browser) => {
    const data = (await browser.open(index, {timeoutMs: 120_000})).page;
    // The page as opened: what data.js gave it, before any part has been loaded.
    const deferred = await data.evaluate(`(() => { const d = window.peerlabReport; return {deferred: d.meta.deferred, deliveries: d.messages.deliveries.t.length, log: d.eventLog.t.length}; })()`);
    t.deepEqual(deferred, {deferred: {blocks: ['deliveries', 'eventLog'], parts: 7}, deliveries: 0, log: 0});
    await data.close();

    // Opened at a delivery's permalink, with the views that need the bulk on screen: the first paint cannot have waited for it.
    const last = lines.length - 1;
    const probed = await browser.open(`${pathToFileURL(index).href}#event-${last}`, {timeoutMs: 120_000});
    const loading = await probed.page.locator('.bulk-loading').count();
    const noMessages = await probed.page.locator('#sequence').textContent();
    t.false((noMessages ?? '').includes('No message was sent'), 'an empty column is never taken for a run without messages');
    await probed.page.locator('#delivery').scrollIntoViewIfNeeded();
    await probed.page.waitForSelector('#delivery canvas', {timeout: 60_000});
    t.is(await probed.page.locator('#delivery .bulk-loading').count(), 0);
    const selected = probed.page.locator(`#log .log-row.selected:has(> a.c-i[href="#event-${last}"])`);
    await selected.waitFor({timeout: 60_000});
    t.true(((await selected.textContent()) ?? '').includes(lines[last]!.type));
    t.log(`${loading} loading notices when the page had loaded`);
    t.deepEqual(probed.errors(), []);
    t.deepEqual(probed.foreignRequests(path.dirname(index)), []);
  });
});
