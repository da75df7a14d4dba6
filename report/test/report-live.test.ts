/**
 * The live view of `peerlab up` in headless Chromium: it fills in as peers
 * register (one spawned while the page is open joins every view), shows a
 * killed peer as down within a second of the kill and as dead once the
 * others declared it, talks to nothing but the coordinator that served it,
 * and logs no error.
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
async function matrix(probed: ProbedPage, peers: readonly string[]): Promise<{cells: string[][]; live: boolean[]} | undefined> {
  const got = await probed.page.evaluate(`(() => { const c = document.querySelector('#matrix canvas[data-cells]'); return c ? {cells: c.dataset.cells, live: c.dataset.live} : null; })()`);
  if (!got) return undefined;
  const {cells, live} = got as {cells: string; live: string};
  const n = live.length;
  if (n !== peers.length) return undefined;
  const rows = Array.from({length: n}, (_, o) => [...cells.slice(o * n, o * n + n)].map((d) => memberStates[Number(d) % 5]!));
  return {cells: rows, live: [...live].map((d) => d === '1')};
}

test.serial('the live view fills in as peers register, shows a kill at once and the death once declared', async (t) => {
  t.timeout(180_000);
  const logs = await mkdtemp(path.join(os.tmpdir(), 'peerlab-live-'));
  const run = await up(logs);
  t.teardown(async () => {
    // SIGTERM first: peerlab up stops its peers on it; SIGKILL would leave them to their grace timeout.
    if (run.child.exitCode === null && run.child.signalCode === null) {
      run.child.kill('SIGTERM');
      const timer = setTimeout(() => run.child.kill('SIGKILL'), 15_000);
      await run.exited;
      clearTimeout(timer);
    }
    await rm(logs, {recursive: true, force: true});
  });
  const line = (prefix: string) => waitFor(() => run.lines.some((l) => l.startsWith(prefix)), 60_000, `peerlab up's "${prefix}" line`).then(() => run.lines.find((l) => l.startsWith(prefix))!);
  const url = /^live view: (\S+)/.exec(await line('live view: '))![1]!;
  const api = /^REST API: (\S+)/.exec(await line('REST API: '))![1]!;
  const origin = new URL(url).origin;
  /** Every peer of `peers` live, and every view holding every one of them alive. */
  const complete = (peers: readonly string[]) =>
    `(() => { const c = document.querySelector('#matrix canvas[data-cells]'); return !!c && c.dataset.live === '${'1'.repeat(peers.length)}' && c.dataset.cells === '${'0'.repeat(peers.length ** 2)}'; })()`;

  await withBrowser(async (browser) => {
    // The cursor far past the end: the matrix shows the latest views as the run goes on.
    const probed = await browser.open(`${url}#t=100000000`);
    await probed.page.waitForSelector('#matrix canvas[data-cells]', {timeout: 60_000});
    await probed.until(complete(names), 90_000, 'every peer registered, every view complete');

    // A peer registering while the page is open: it shows up, joins every view.
    const peers = [...names, 'eve'];
    const spawned = await fetch(api, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({names: ['eve']})});
    t.is(spawned.status, 201, await spawned.clone().text());
    await probed.until(complete(peers), 60_000, 'eve registered and in every view');

    const victim = peers.indexOf('charly');
    const killed = await fetch(`${api}/charly?signal=SIGKILL`, {method: 'DELETE'});
    t.is(killed.status, 200, await killed.clone().text());
    const at = Date.now();
    await probed.until(`document.querySelector('#matrix canvas[data-live]').dataset.live[${victim}] === '0'`, 30_000, 'charly down in the view');
    const shownAfter = Date.now() - at;
    // Under 1 s on an idle machine; the bound leaves room for a loaded CI runner, the figure is logged.
    t.log(`kill shown in the live view ${shownAfter} ms after the process exited`);
    t.true(shownAfter <= 5000, `the kill showed ${shownAfter} ms after it happened`);

    const others = peers.map((_, o) => o).filter((o) => o !== victim);
    await probed.until(`(() => { const c = document.querySelector('#matrix canvas[data-cells]').dataset.cells; return ${JSON.stringify(others)}.every((o) => c[o * ${peers.length} + ${victim}] === '2'); })()`, 30_000, 'charly dead to every other view');
    const shown = await matrix(probed, peers);
    t.deepEqual(shown?.live, peers.map((p) => p !== 'charly'));
    for (const o of others) t.is(shown?.cells[o]![victim], 'dead', `${peers[o]} sees charly dead`);

    const foreign = [...probed.requests.map((r) => r.url), ...probed.websockets].filter((u) => !u.startsWith(origin) && !u.startsWith(origin.replace(/^http/, 'ws')));
    t.deepEqual(foreign, [], 'the live view talks only to its coordinator');
    t.deepEqual(probed.errors(), []);
  });
  t.deepEqual(runningChromium(), []);
  run.child.kill('SIGTERM');
  t.is(await run.exited, 143);
});
