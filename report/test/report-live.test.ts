/**
 * The live view of `peerlab up` in headless Chromium: opened while the peers
 * are still registering, it fills in as they join, shows a killed peer as
 * down within a second of the kill and as dead once the others declared it,
 * talks to nothing but the coordinator that served it, and logs no error.
 */
import test from 'ava';
import {spawn} from 'node:child_process';
import type {ChildProcessWithoutNullStreams} from 'node:child_process';
import {createInterface} from 'node:readline';
import {mkdtemp, rm} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {runningChromium, waitFor, withBrowser} from '../src/probe/browser.js';
import type {ProbedPage} from '../src/probe/browser.js';
import {memberStates} from '../src/data/types.js';
import {peerlabBin} from './run-support.js';

const names = ['alice', 'bob', 'charly', 'dave'];

/** `peerlab up --serve` and the lines it printed. */
async function up(logs: string): Promise<{child: ChildProcessWithoutNullStreams; lines: string[]; exited: Promise<number | null>}> {
  const child = spawn(process.execPath, [peerlabBin, 'up', '--names', names.join(','), '--serve', '--port', '0', '--logs', logs], {stdio: 'pipe'});
  const lines: string[] = [];
  createInterface({input: child.stdout}).on('line', (l) => lines.push(l));
  createInterface({input: child.stderr}).on('line', (l) => lines.push(`stderr: ${l}`));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {child, lines, exited};
}

/** The matrix as drawn: states per cell (observer by observer) and which peers are live, from the canvas's text. */
async function matrix(probed: ProbedPage): Promise<{cells: string[][]; live: boolean[]} | undefined> {
  const got = await probed.page.evaluate(`(() => { const c = document.querySelector('#matrix canvas[data-cells]'); return c ? {cells: c.dataset.cells, live: c.dataset.live} : null; })()`);
  if (!got) return undefined;
  const {cells, live} = got as {cells: string; live: string};
  const n = live.length;
  if (n !== names.length) return undefined;
  const rows = Array.from({length: n}, (_, o) => [...cells.slice(o * n, o * n + n)].map((d) => memberStates[Number(d) % 5]!));
  return {cells: rows, live: [...live].map((d) => d === '1')};
}

test.serial('the live view fills in while peers register, shows a kill within a second and the death once declared', async (t) => {
  t.timeout(180_000);
  const logs = await mkdtemp(path.join(os.tmpdir(), 'peerlab-live-'));
  const run = await up(logs);
  t.teardown(async () => {
    run.child.kill('SIGKILL');
    await rm(logs, {recursive: true, force: true});
  });
  await waitFor(() => run.lines.some((l) => l.startsWith('live view: ')), 60_000, 'the live view address');
  const url = /^live view: (\S+)/.exec(run.lines.find((l) => l.startsWith('live view: '))!)![1]!;
  const origin = new URL(url).origin;

  await withBrowser(async (browser) => {
    // The cursor far past the end: the matrix shows the latest views as the run goes on.
    const probed = await browser.open(`${url}#t=100000000`);
    const {page} = probed;
    await page.waitForSelector('#matrix canvas[data-cells]', {timeout: 60_000});
    const firstSeen = await page.textContent('header .head-meta');

    // Everyone registers and converges: every view holds every peer alive.
    await page.waitForFunction(
      `(() => { const c = document.querySelector('#matrix canvas[data-cells]'); return c && c.dataset.live === '${'1'.repeat(names.length)}' && c.dataset.cells === '${'0'.repeat(names.length ** 2)}'; })()`,
      undefined,
      {timeout: 90_000},
    );
    t.not(await page.textContent('header .head-meta'), firstSeen, 'the page changed as the run went on');
    t.true(run.lines.some((l) => /peers registered in \d+ ms/.test(l)), run.lines.join('\n'));

    const victim = names.indexOf('charly');
    const api = /^REST API: (\S+)/.exec(run.lines.find((l) => l.startsWith('REST API: '))!)![1]!;
    const killed = await fetch(`${api}/charly?signal=SIGKILL`, {method: 'DELETE'});
    t.is(killed.status, 200, await killed.clone().text());
    const at = Date.now();
    await page.waitForFunction(`document.querySelector('#matrix canvas[data-live]').dataset.live[${victim}] === '0'`, undefined, {timeout: 30_000});
    const shownAfter = Date.now() - at;
    t.true(shownAfter <= 1000, `the kill showed ${shownAfter} ms after it happened`);
    t.log(`kill shown in the live view ${shownAfter} ms after the process exited`);

    await page.waitForFunction(
      `(() => { const c = document.querySelector('#matrix canvas[data-cells]').dataset.cells; const n = ${names.length}; return [0, 1, 3].every((o) => c[o * n + ${victim}] === '2'); })()`,
      undefined,
      {timeout: 30_000},
    );
    const shown = await matrix(probed);
    t.deepEqual(shown?.live, [true, true, false, true]);
    for (const o of [0, 1, 3]) t.is(shown?.cells[o]![victim], 'dead', `${names[o]} sees charly dead`);

    const foreign = [...probed.requests.map((r) => r.url), ...probed.websockets].filter((u) => !u.startsWith(origin) && !u.startsWith(origin.replace(/^http/, 'ws')));
    t.deepEqual(foreign, [], 'the live view talks only to its coordinator');
    t.deepEqual(probed.errors(), []);
  });
  t.deepEqual(runningChromium(), []);
  run.child.kill('SIGTERM');
  t.is(await run.exited, 143);
});
