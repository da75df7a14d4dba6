/**
 * The message views of a chatty report, driven in headless Chromium: the
 * sequence diagram draws a whole run of deliveries as a density map and says
 * so with the exact count, a narrow window as arrows (exactly the window's,
 * counted here from the history), one picked message as its own spread; the
 * delivery matrix says when its rows hold several messages. The history is
 * written here in the format a run records and goes through the same files a
 * run's report does.
 */
import test from 'ava';
import {mkdtemp, rm, writeFile} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {openReport, withBrowser} from '../src/probe/browser.js';
import type {ProbedPage} from '../src/probe/browser.js';
import {painted} from '../src/probe/screenshots.js';
import {buildReportFiles} from '../src/write/build-files.js';

interface Line {
  t: number;
  src: string;
  type: string;
  data?: Record<string, unknown>;
}

const peerCount = 20;
const eventCount = 40_000;
let dir: string;
let index: string;
let lines: Line[];
let t0: number;
/** Every chat message: its id, when it was sent, and when each of its deliveries happened (relative ms). */
let messages: Array<{id: string; sent: number; deliveries: number[]}>;

/** Every peer joins every other, then each message goes to all, its deliveries spread over the next few ms. */
function history(events: number): Line[] {
  const peers = Array.from({length: peerCount}, (_, i) => `p${String(i).padStart(2, '0')}`);
  const out: Line[] = [];
  let t = Date.UTC(2026, 0, 1);
  out.push({t, src: 'coordinator', type: 'run.begin', data: {peers, invariants: []}});
  for (const p of peers) out.push({t, src: 'coordinator', type: 'peer.spawn', data: {peer: p, pid: 1}}, {t, src: `peer:${p}`, type: 'peer.started', data: {address: '127.0.0.1:1', incarnation: 0, profile: 'local'}});
  for (const p of peers) for (const q of peers) if (p !== q) out.push({t: ++t, src: `peer:${p}`, type: 'member.joined', data: {name: q, incarnation: 0, address: '127.0.0.1:1'}});
  // Whole messages only: one cut short would have missing receivers, which this file is not about.
  for (let seq = 1; out.length + peers.length + 1 <= events; seq++) {
    const sender = peers[seq % peers.length]!;
    const id = `${sender}:m:${seq}`;
    t += 2;
    out.push({t, src: `peer:${sender}`, type: 'chat.sent', data: {id, sender, seq, text: 'x'}});
    for (const [i, p] of peers.entries()) out.push({t: t + 1 + (i % 3), src: `peer:${p}`, type: 'chat.delivered', data: {id, sender, seq, sentAt: t}});
  }
  // The history is in time order, as a recorder writes it.
  return out.sort((a, b) => a.t - b.t);
}

test.before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'peerlab-report-views-'));
  lines = history(eventCount);
  t0 = lines[0]!.t;
  const byId = new Map<string, {id: string; sent: number; deliveries: number[]}>();
  for (const l of lines) {
    const id = String(l.data?.id ?? '');
    if (l.type === 'chat.sent') byId.set(id, {id, sent: l.t - t0, deliveries: []});
    if (l.type === 'chat.delivered') byId.get(id)!.deliveries.push(l.t - t0);
  }
  messages = [...byId.values()];
  const file = path.join(dir, 'history.jsonl');
  await writeFile(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  index = (await buildReportFiles(file, path.join(dir, 'report'))).index;
});

test.after.always(async () => {
  if (dir) await rm(dir, {recursive: true, force: true});
});

/** What the sequence diagram's canvas says it draws. */
async function diagram(probed: ProbedPage): Promise<{mode: string; arrows: number; from: number; to: number; message: string}> {
  await probed.page.locator('#sequence').scrollIntoViewIfNeeded();
  const el = probed.page.locator('#sequence [data-mode]');
  await el.waitFor({state: 'attached', timeout: 60_000});
  await probed.page.evaluate(painted);
  const get = async (name: string) => (await el.getAttribute(`data-${name}`)) ?? '';
  return {mode: await get('mode'), arrows: Number(await get('arrows')), from: Number(await get('from')), to: Number(await get('to')), message: await get('message')};
}

const deliveryCount = () => messages.reduce((n, m) => n + m.deliveries.length, 0);

test.serial('the whole run is a density map that says how many arrows it stands for, and the matrix says what a row holds', async (t) => {
  t.timeout(180_000);
  await withBrowser(async (browser) => {
    const probed = await openReport(browser, index);
    const whole = probed.page.locator('.toolbar button', {hasText: 'whole run'});
    if (!(await whole.isDisabled())) await whole.click();
    const d = await diagram(probed);
    t.is(d.mode, 'density');
    t.is(d.arrows, deliveryCount());
    const notice = (await probed.page.locator('#sequence').textContent()) ?? '';
    t.true(notice.includes(`density view: ${deliveryCount().toLocaleString('en-US')} arrows in this window`), notice.slice(0, 300));

    await probed.page.locator('#delivery').scrollIntoViewIfNeeded();
    const matrix = probed.page.locator('#delivery [data-per-row]');
    await matrix.waitFor({state: 'attached', timeout: 60_000});
    const perRow = Number(await matrix.getAttribute('data-per-row'));
    t.is(Number(await matrix.getAttribute('data-messages')), messages.length);
    t.is(perRow, Math.ceil(messages.length / 600));
    t.true(((await probed.page.locator('#delivery').textContent()) ?? '').includes(`each row holds ${perRow} consecutive messages`));
    t.deepEqual(probed.errors(), []);
  });
});

test.serial('a narrow window draws exactly its arrows: deliveries in it, and those of messages sent in it', async (t) => {
  t.timeout(180_000);
  await withBrowser(async (browser) => {
    const probed = await openReport(browser, index);
    const {page} = probed;
    await page.locator('#overview').scrollIntoViewIfNeeded();
    const box = (await page.locator('#overview > .overview > canvas').boundingBox())!;
    const y = box.y + 30;
    await page.mouse.move(box.x + box.width * 0.5, y);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.52, y, {steps: 6});
    await page.mouse.up();
    await probed.until(`!document.querySelector('.toolbar button').disabled`, 10_000, 'a window chosen');
    const d = await diagram(probed);
    let expected = 0;
    for (const m of messages) {
      for (const at of m.deliveries) if ((at >= d.from && at <= d.to) || (m.sent >= d.from && m.sent <= d.to && at > d.to)) expected++;
    }
    t.true(expected > 0 && expected <= 3000, `${expected} arrows in ${d.from}–${d.to}`);
    t.is(d.mode, 'arrows');
    t.is(d.arrows, expected);
    // Dragging across the diagram narrows the window further, to the part dragged over.
    const canvas = (await page.locator('#sequence [data-mode]').boundingBox())!;
    await page.mouse.move(canvas.x + canvas.width * 0.4, canvas.y + canvas.height / 2);
    await page.mouse.down();
    await page.mouse.move(canvas.x + canvas.width * 0.7, canvas.y + canvas.height / 2, {steps: 6});
    await page.mouse.up();
    await probed.until(`document.querySelector('#sequence [data-mode]').dataset.from !== ${JSON.stringify(String(d.from))}`, 10_000, 'the window narrowed');
    const narrower = await diagram(probed);
    t.true(narrower.from > d.from && narrower.to < d.to, `${narrower.from}–${narrower.to} inside ${d.from}–${d.to}`);
    t.deepEqual(probed.errors(), []);
  });
});

test.serial('a message picked by id is drawn alone, over its whole spread', async (t) => {
  t.timeout(180_000);
  await withBrowser(async (browser) => {
    const probed = await openReport(browser, index);
    const m = messages[Math.floor(messages.length / 3)]!;
    await probed.page.locator('#sequence').scrollIntoViewIfNeeded();
    await probed.page.locator('#sequence input').fill(m.id);
    await probed.page.locator('#sequence input').press('Enter');
    await probed.page.waitForSelector(`#sequence [data-message="${m.id}"]`, {state: 'attached', timeout: 30_000});
    const d = await diagram(probed);
    t.is(d.mode, 'arrows');
    t.is(d.arrows, m.deliveries.length);
    t.true(d.from <= m.sent && d.to >= Math.max(...m.deliveries), `${d.from}–${d.to} holds ${m.sent}–${Math.max(...m.deliveries)}`);
    t.true(((await probed.page.locator('#sequence').textContent()) ?? '').includes(`Only message ${m.id}`));
    // An id nobody sent is refused in words, and the diagram stays on the message.
    await probed.page.locator('#sequence input').fill('nobody:m:0');
    await probed.page.locator('#sequence input').press('Enter');
    await probed.until(`document.querySelector('#sequence').textContent.includes('no message "nobody:m:0" was sent')`, 10_000, 'the unknown id refused');
    t.is((await diagram(probed)).message, m.id);
    t.deepEqual(probed.errors(), []);
  });
});
