/**
 * A report page opened in a real headless Chromium (Debian's, at
 * /usr/bin/chromium) with everything a test or the bench asks of it
 * recorded: every request (a report opened from `file://` must make none but
 * its own files), every console error and page error, the longest long task
 * and the paint timings. The browser runs on a fresh profile with its
 * background traffic off, so a request seen is one the page made; and it is
 * always closed, its processes waited for, so no Chromium outlives the probe.
 */
import {mkdtemp, rm} from 'node:fs/promises';
import {existsSync, readFileSync, readdirSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath, pathToFileURL} from 'node:url';
import {chromium} from 'playwright-core';
import type {BrowserContext, Page} from 'playwright-core';

export const chromiumPath = '/usr/bin/chromium';

/** Background work off, so every request the probe sees comes from the page. */
const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--no-default-browser-check', '--disable-extensions'];

/**
 * Installed before any script of the page: long tasks (>= 50 ms of main
 * thread) as they happen, buffered ones included, and paint entries. A
 * string, as it runs in the page, not in Node.
 */
const initScript = `(() => {
  const probe = {longTasks: [], paints: {}};
  Object.defineProperty(window, '__peerlabProbe', {value: probe});
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) probe.longTasks.push({start: e.startTime, duration: e.duration});
    }).observe({type: 'longtask', buffered: true});
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) probe.paints[e.name] = e.startTime;
    }).observe({type: 'paint', buffered: true});
  } catch (error) {
    probe.error = String(error);
  }
})();`;

export interface ProbeRequest {
  url: string;
  method: string;
  resourceType: string;
}

export interface PaintTimings {
  /** ms from navigation start; undefined when the page has not painted (yet). */
  firstPaint?: number;
  firstContentfulPaint?: number;
}

export interface ProbeOptions {
  viewport?: {width: number; height: number};
  /** Bound on launching and on closing, ms. */
  timeoutMs?: number;
}

/** One headless Chromium with a fresh profile. `close()` must be called: use `withBrowser`. */
export class BrowserProbe {
  readonly #context: BrowserContext;
  readonly #profile: string;
  /** The browser's main process(es): its renderers and helpers are found below them when it closes. */
  readonly #mains: number[];

  private constructor(context: BrowserContext, profile: string, mains: number[]) {
    this.#context = context;
    this.#profile = profile;
    this.#mains = mains;
  }

  static async launch(options: ProbeOptions = {}): Promise<BrowserProbe> {
    if (!existsSync(chromiumPath)) throw new Error(`${chromiumPath} is missing: install Debian's chromium (\`apt-get install -y chromium\`; \`npm test\` does it when it can)`);
    const profile = await mkdtemp(path.join(os.tmpdir(), 'peerlab-chromium-'));
    const before = new Set(chromiumChildren());
    let context: BrowserContext;
    try {
      // A persistent context is how playwright takes a profile folder (it refuses --user-data-dir among the args).
      context = await chromium.launchPersistentContext(profile, {
        executablePath: chromiumPath,
        headless: true,
        args: chromiumArgs,
        viewport: options.viewport ?? {width: 1400, height: 900},
        timeout: options.timeoutMs ?? 60_000,
      });
    } catch (error) {
      await reap(chromiumChildren().filter((pid) => !before.has(pid)), 5000);
      await rm(profile, {recursive: true, force: true});
      throw error;
    }
    const mains = chromiumChildren().filter((pid) => !before.has(pid));
    for (const pid of mains) launched.add(pid);
    await context.addInitScript(initScript);
    return new BrowserProbe(context, profile, mains);
  }

  /** Opens a page with the recorders on; `url` may be a file path. Resolves once the document has loaded. */
  async open(url: string, options: {timeoutMs?: number} = {}): Promise<ProbedPage> {
    const href = /^[a-z]+:/i.test(url) ? url : pathToFileURL(url).href;
    const page = await this.#context.newPage();
    const probed = new ProbedPage(page);
    await page.goto(href, {waitUntil: 'load', timeout: options.timeoutMs ?? 60_000});
    return probed;
  }

  /** Closes the browser and waits for its processes to end (SIGKILL after a bound): no Chromium outlives the probe. */
  async close(): Promise<void> {
    const pids = [...this.#mains, ...this.#mains.flatMap((pid) => chromiumBelow(pid))];
    try {
      await Promise.race([this.#context.close(), new Promise((resolve) => setTimeout(resolve, 20_000).unref())]);
    } finally {
      await reap(pids, 10_000);
      for (const pid of this.#mains) launched.delete(pid);
      await rm(this.#profile, {recursive: true, force: true});
    }
  }
}

/** Runs `body` with a fresh browser and closes it, whatever `body` does. */
export async function withBrowser<T>(body: (browser: BrowserProbe) => Promise<T>, options?: ProbeOptions): Promise<T> {
  const browser = await BrowserProbe.launch(options);
  try {
    return await body(browser);
  } finally {
    await browser.close();
  }
}

/** A page and what it did since it was opened. */
export class ProbedPage {
  readonly page: Page;
  readonly requests: ProbeRequest[] = [];
  readonly failedRequests: Array<ProbeRequest & {failure: string}> = [];
  readonly websockets: string[] = [];
  readonly consoleErrors: string[] = [];
  readonly pageErrors: string[] = [];

  constructor(page: Page) {
    this.page = page;
    page.on('request', (r) => this.requests.push({url: r.url(), method: r.method(), resourceType: r.resourceType()}));
    page.on('requestfailed', (r) => this.failedRequests.push({url: r.url(), method: r.method(), resourceType: r.resourceType(), failure: r.failure()?.errorText ?? 'failed'}));
    page.on('websocket', (ws) => this.websockets.push(ws.url()));
    page.on('console', (m) => {
      if (m.type() === 'error') this.consoleErrors.push(`${m.text()} (${m.location().url}:${m.location().lineNumber})`);
    });
    page.on('pageerror', (e) => this.pageErrors.push(e.stack ?? e.message));
  }

  /**
   * Requests that left the folder: anything not `file://` (http, https, ws,
   * data URLs are kept out of this count: they carry no traffic) and `file://`
   * outside `folder`. A report opened from disk must have none.
   */
  foreignRequests(folder: string): string[] {
    const root = path.resolve(folder) + path.sep;
    const urls = [...this.requests.map((r) => r.url), ...this.websockets];
    return urls.filter((url) => {
      if (url.startsWith('data:') || url.startsWith('blob:') || url === 'about:blank') return false;
      if (!url.startsWith('file:')) return true;
      return !fileURLToPath(url).startsWith(root);
    });
  }

  /** Everything that went wrong in the page, one line each: console errors, uncaught errors, failed requests. */
  errors(): string[] {
    return [...this.consoleErrors.map((e) => `console: ${e}`), ...this.pageErrors.map((e) => `page: ${e}`), ...this.failedRequests.map((r) => `request: ${r.url} ${r.failure}`)];
  }

  async paintTimings(): Promise<PaintTimings> {
    return this.page.evaluate(`(() => {
      const out = {};
      for (const e of performance.getEntriesByType('paint')) {
        if (e.name === 'first-paint') out.firstPaint = e.startTime;
        if (e.name === 'first-contentful-paint') out.firstContentfulPaint = e.startTime;
      }
      return out;
    })()`);
  }

  /**
   * Polls a JavaScript expression in the page until it is truthy; throws
   * naming `what` (and the expression) after `timeoutMs`. Playwright's
   * waitForFunction evaluates a string with eval inside the page, which a
   * page's Content-Security-Policy forbids (the report's does); evaluate
   * does not go through the page's own eval.
   */
  async until(expression: string, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await this.page.evaluate(expression))) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${expression})`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Resolves with the paint timings once the page has painted content, or throws after `timeoutMs`. */
  async waitForFirstContentfulPaint(timeoutMs = 30_000): Promise<Required<PaintTimings>> {
    await this.until(`performance.getEntriesByType('paint').some((e) => e.name === 'first-contentful-paint')`, timeoutMs, 'the first contentful paint');
    const timings = await this.paintTimings();
    return {firstPaint: timings.firstPaint ?? timings.firstContentfulPaint!, firstContentfulPaint: timings.firstContentfulPaint!};
  }

  /** The longest long task (ms) since the page opened or since `since` (a `performance.now()` of the page); 0 if none. */
  async longestLongTask(since = 0): Promise<number> {
    return this.page.evaluate(`(() => {
      const p = window.__peerlabProbe;
      if (!p) throw new Error('the probe script did not run in this page');
      if (p.error) throw new Error('long tasks cannot be observed: ' + p.error);
      return p.longTasks.filter((t) => t.start + t.duration >= ${Number(since)}).reduce((m, t) => Math.max(m, t.duration), 0);
    })()`);
  }

  /**
   * Drags the mouse across an element from its left edge to its right, as a
   * person scrubs a slider, in `steps` moves, each awaited until the page has
   * painted what it did. Resolves with the ms the drag took.
   */
  async dragAcross(selector: string, steps: number, timeoutMs = 60_000): Promise<number> {
    const element = this.page.locator(selector);
    await element.scrollIntoViewIfNeeded({timeout: timeoutMs});
    const box = await element.boundingBox({timeout: timeoutMs});
    if (!box) throw new Error(`${selector} is not on screen`);
    const y = box.y + box.height / 2;
    const started = Date.now();
    await this.page.mouse.move(box.x + 1, y);
    await this.page.mouse.down();
    for (let i = 1; i <= steps; i++) {
      await this.page.mouse.move(box.x + 1 + ((box.width - 2) * i) / steps, y);
      await this.page.evaluate(painted);
    }
    await this.page.mouse.up();
    return Date.now() - started;
  }

  /** The page's clock, to bound `longestLongTask` to what happens after now. */
  async now(): Promise<number> {
    return this.page.evaluate('performance.now()');
  }
}

/** Polls `condition` until it holds; throws naming `what` after `timeoutMs`. For what happens in Node (events recorded), not in the page. */
export async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Resolves after the browser has laid out and painted twice: what the page drew on its last render is on screen. */
export const painted = 'new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))';

// ------------------------------------------------------------------ processes

/** Chromium processes started by playwright for this process: killed at exit if a probe was never closed. */
const launched = new Set<number>();
process.on('exit', () => {
  for (const pid of launched) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

interface ProcStat {
  pid: number;
  ppid: number;
  state: string;
  comm: string;
}

function stat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm is in parentheses and may hold spaces: the fields after it are split from its closing one.
    const close = text.lastIndexOf(')');
    const rest = text.slice(close + 2).split(' ');
    return {pid, comm: text.slice(text.indexOf('(') + 1, close), state: rest[0]!, ppid: Number(rest[1])};
  } catch {
    return undefined;
  }
}

/** Live Chromium processes below `root` (its children, theirs, ...). */
function chromiumBelow(root: number): number[] {
  if (process.platform !== 'linux') return [];
  const all = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map((d) => stat(Number(d))).filter((s): s is ProcStat => s !== undefined);
  const children = new Map<number, ProcStat[]>();
  for (const s of all) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s]);
  const out: number[] = [];
  const walk = (pid: number) => {
    for (const child of children.get(pid) ?? []) {
      if (/chrom/i.test(child.comm) && child.state !== 'Z') out.push(child.pid);
      walk(child.pid);
    }
  };
  walk(root);
  return out;
}

/** Chromium processes this process started directly: the browsers' main processes. */
function chromiumChildren(): number[] {
  return chromiumBelow(process.pid).filter((pid) => stat(pid)?.ppid === process.pid);
}

function alive(pid: number): boolean {
  const s = stat(pid);
  return s !== undefined && s.state !== 'Z' && /chrom/i.test(s.comm);
}

/** Waits for the processes to end; SIGKILLs those still running at the bound. */
async function reap(pids: readonly number[], boundMs: number): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  for (const pid of pids.filter(alive)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // ended meanwhile
    }
  }
}

/** Chromium processes this process started that still run: a test asserts it is empty after closing. */
export function runningChromium(): number[] {
  return chromiumBelow(process.pid);
}

/** Opens a report and waits until its first view (the overview) is drawn and on screen. */
export async function openReport(browser: BrowserProbe, index: string): Promise<ProbedPage> {
  const probed = await browser.open(index, {timeoutMs: 120_000});
  await probed.page.waitForSelector('#overview canvas', {timeout: 120_000});
  await probed.page.evaluate(painted);
  return probed;
}
