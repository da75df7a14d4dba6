/**
 * A `delivered` await that failed at its deadline, its message arriving
 * later: in headless Chromium the sequence diagram and the delivery matrix
 * both mark the receiver it found missing then, though by the run's end
 * nothing is missing, so the red step has something to show. And a reader
 * who scrolls to a view while the page is still bringing that failure into
 * view is left there. The tests run one after another: each drives a browser.
 */
import test from 'ava';
import type {ExecutionContext} from 'ava';
import {mkdtemp, rm, writeFile} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {pathToFileURL} from 'node:url';
import {withBrowser} from '../src/probe/browser.js';
import {painted} from '../src/probe/screenshots.js';
import {buildReportFiles} from '../src/write/build-files.js';
import {readReportData} from '../src/probe/screenshots.js';

const lateColor = [0x7f, 0x00, 0x00];

/** Pixels of the late colour in the canvases of a view (anti-aliased edges count when close). */
const countLate = (view: string) => `(() => {
  let n = 0;
  for (const c of document.querySelectorAll('#${view} canvas')) {
    const ctx = c.getContext('2d');
    if (!ctx || c.width === 0 || c.height === 0) continue;
    const px = ctx.getImageData(0, 0, c.width, c.height).data;
    for (let i = 0; i < px.length; i += 4) if (Math.abs(px[i] - ${lateColor[0]}) < 12 && px[i + 1] < 12 && px[i + 2] < 12 && px[i + 3] > 200) n++;
  }
  return n;
})()`;

/** A run whose delivered await failed at its deadline, charly's delivery arriving later: its report, built in a temporary folder. */
async function lateReport(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'peerlab-late-'));
  t.teardown(() => rm(dir, {recursive: true, force: true}));
  const t0 = Date.UTC(2026, 0, 1);
  const peers = ['alice', 'bob', 'charly'];
  const lines: Array<{t: number; src: string; type: string; data: Record<string, unknown>}> = [];
  const add = (t: number, src: string, type: string, data: Record<string, unknown>) => lines.push({t: t0 + t, src, type, data});
  add(0, 'coordinator', 'run.begin', {scenario: 'late', peers});
  for (const p of peers) add(0, 'coordinator', 'peer.spawn', {peer: p, pid: 1});
  for (const p of peers) add(1, `peer:${p}`, 'peer.started', {address: '127.0.0.1:1', incarnation: 0, profile: 'local'});
  for (const p of peers) for (const q of peers) if (p !== q) add(2, `peer:${p}`, 'member.joined', {name: q, incarnation: 0, address: '127.0.0.1:1'});
  add(100, 'peer:alice', 'chat.sent', {id: 'alice:m:1', sender: 'alice', seq: 1, text: 'x'});
  add(110, 'coordinator', 'step.begin', {path: '1', kind: 'await', title: 'await delivered', line: 3});
  add(110, 'coordinator', 'await.begin', {step: '1', condition: {kind: 'delivered'}, withinMs: 400});
  for (const p of ['alice', 'bob']) add(120, `peer:${p}`, 'chat.delivered', {id: 'alice:m:1', sender: 'alice', seq: 1, sentAt: t0 + 100});
  add(510, 'coordinator', 'await.end', {step: '1', condition: {kind: 'delivered'}, status: 'fail', message: 'charly: alice:m:1 missing'});
  add(510, 'coordinator', 'step.end', {path: '1', kind: 'await', title: 'await delivered', line: 3, status: 'fail', message: 'charly: alice:m:1 missing', durationMs: 400});
  add(900, 'peer:charly', 'chat.delivered', {id: 'alice:m:1', sender: 'alice', seq: 1, sentAt: t0 + 100});
  add(1000, 'coordinator', 'run.end', {});
  const file = path.join(dir, 'history.jsonl');
  await writeFile(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  const {index} = await buildReportFiles(file, path.join(dir, 'report'));
  const data = await readReportData(index);
  t.deepEqual(data.messages.missing.message, []);
  t.deepEqual(data.messages.missingAtAwait, {message: [0], peer: [2], t: [510], step: ['1']});
  t.is(data.meta.firstFailure?.anchor, 'step-1');
  return index;

}

test.serial('a receiver a failed delivered await found missing is marked in the sequence diagram and the delivery matrix, its late delivery still drawn', async (t) => {
  const index = await lateReport(t);
  await withBrowser(async (browser) => {
    const probed = await browser.open(index, {timeoutMs: 120_000});
    const {page} = probed;
    await page.waitForSelector('#overview canvas', {timeout: 120_000});
    for (const view of ['sequence', 'delivery']) {
      await page.locator(`#${view}`).scrollIntoViewIfNeeded();
      await page.locator(`#${view} canvas`).first().waitFor({state: 'attached', timeout: 60_000});
      await page.evaluate(painted);
      t.true(((await page.evaluate(countLate(view))) as number) > 0, `${view} marks the late receiver`);
    }
    t.true(((await page.locator('#sequence').textContent()) ?? '').includes("missing at a failed await's deadline"));
    // The late delivery is an arrow of its own beside the mark: three deliveries in all.
    t.is(await page.locator('#sequence [data-mode]').getAttribute('data-arrows'), '3');
  });
});

test.serial('a reader who scrolls away while the page is still bringing its first failure into view stays where they scrolled', async (t) => {
  const index = await lateReport(t);
  await withBrowser(async (browser) => {
    const probed = await browser.open('about:blank');
    const {page} = probed;
    // The page's clock is the test's: its later passes at the first failure run when the test says, not when a loaded machine gets to them.
    await page.clock.install();
    await page.goto(pathToFileURL(index).href, {waitUntil: 'load'});
    // Two frames: the first pass has brought the failed step (at the top) into view.
    await page.clock.runFor(100);
    await page.evaluate(`document.getElementById('delivery').scrollIntoView()`);
    const inView = `(() => { const r = document.getElementById('delivery').getBoundingClientRect(); return r.top < innerHeight && r.bottom > 0; })()`;
    t.true((await page.evaluate(inView)) as boolean, 'scrolled to the delivery view');
    // Past the last pass the page makes at the first failure.
    await page.clock.runFor(2000);
    t.true((await page.evaluate(inView)) as boolean, 'the delivery view is still in view');
    t.deepEqual(probed.errors(), []);
  });
});
