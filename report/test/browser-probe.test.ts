/**
 * The browser probe the report's page tests stand on: it must see what it
 * claims to see, or a test that finds "zero requests, zero errors" proves
 * nothing. A page that reaches the network, logs an error, throws and blocks
 * its main thread must be caught on each count; a quiet page on neither
 * request nor error; and no Chromium process may outlive the probe.
 */
import test from 'ava';
import {createServer} from 'node:http';
import type {AddressInfo} from 'node:net';
import {mkdtemp, rm, writeFile} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {runningChromium, waitFor, withBrowser} from '../src/probe/browser.js';

test.serial('the probe records foreign requests, console and page errors, long tasks and paints; a quiet page has no foreign request and no error', async (t) => {
  t.timeout(120_000);
  let hits = 0;
  const server = createServer((_req, res) => {
    hits++;
    res.setHeader('access-control-allow-origin', '*');
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'peerlab-probe-'));
  const outside = await mkdtemp(path.join(os.tmpdir(), 'peerlab-probe-outside-'));
  try {
    await writeFile(path.join(outside, 'other.js'), 'window.other = 1;');
    await writeFile(path.join(dir, 'local.js'), 'window.local = 1;');
    await writeFile(
      path.join(dir, 'noisy.html'),
      `<!doctype html><meta charset="utf-8"><p>noisy</p>
<script src="local.js"></script>
<script src="${path.join(outside, 'other.js')}"></script>
<script>
  console.error('something broke');
  fetch('http://127.0.0.1:${port}/beacon').then((r) => r.text()).then((text) => { window.fetched = text; });
  const until = performance.now() + 150; while (performance.now() < until) {}
  setTimeout(() => { throw new Error('thrown later'); }, 0);
</script>`,
    );
    await writeFile(path.join(dir, 'quiet.html'), '<!doctype html><meta charset="utf-8"><p>quiet</p><script src="local.js"></script>');

    await withBrowser(async (browser) => {
      const noisy = await browser.open(path.join(dir, 'noisy.html'));
      await noisy.until('window.fetched === "ok"', 30_000, 'the fetch');
      await noisy.until('window.__peerlabProbe.longTasks.length > 0', 30_000, 'a long task');
      t.deepEqual(noisy.foreignRequests(dir).sort(), [`file://${path.join(outside, 'other.js')}`, `http://127.0.0.1:${port}/beacon`].sort());
      t.is(hits, 1);
      t.true(noisy.consoleErrors.some((e) => e.includes('something broke')), noisy.consoleErrors.join('\n'));
      await waitFor(() => noisy.pageErrors.length > 0, 30_000, 'the uncaught error');
      t.true(noisy.pageErrors.some((e) => e.includes('thrown later')), noisy.pageErrors.join('\n'));
      t.true((await noisy.longestLongTask()) >= 140);
      const paints = await noisy.waitForFirstContentfulPaint();
      t.true(paints.firstContentfulPaint > 0 && paints.firstPaint <= paints.firstContentfulPaint);

      const quiet = await browser.open(path.join(dir, 'quiet.html'));
      await quiet.waitForFirstContentfulPaint();
      t.deepEqual(quiet.foreignRequests(dir), []);
      t.deepEqual(quiet.errors(), []);
      // No long-task check here: on a loaded machine even parsing this page can take 50 ms of wall time.
      t.true(runningChromium().length > 0, 'the browser runs while the probe is open');
    });
    t.deepEqual(runningChromium(), [], 'no Chromium process outlives the probe');
  } finally {
    server.close();
    await rm(dir, {recursive: true, force: true});
    await rm(outside, {recursive: true, force: true});
  }
});
