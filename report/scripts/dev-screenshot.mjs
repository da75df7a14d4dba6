// Opens a report folder in headless Chromium, prints the console's errors and
// the time to first paint, and saves a full-page screenshot, to see what a
// person sees.   node scripts/dev-screenshot.mjs <dir/index.html[#hash]> <out.png> [width] [selector]
import {chromium} from 'playwright-core';
import {resolve} from 'node:path';

const [target, png, width = '1400', selector] = process.argv.slice(2);
if (!target || !png) {
  console.error('usage: dev-screenshot.mjs <index.html[#hash]> <out.png> [width] [css selector of the part to shoot]');
  process.exit(2);
}
const [file, hash] = target.split('#');
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
try {
  const page = await browser.newPage({viewport: {width: Number(width), height: 900}});
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') console.log(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => console.log(`page error: ${e.message}`));
  await page.addInitScript(() => {
    window.__longTasks = [];
    new PerformanceObserver((l) => l.getEntries().forEach((e) => window.__longTasks.push(Math.round(e.duration)))).observe({type: 'longtask', buffered: true});
  });
  const started = Date.now();
  await page.goto(`file://${resolve(file)}${hash ? `#${hash}` : ''}`);
  await page.waitForSelector('.view', {timeout: 60_000});
  console.log(`views on screen after ${Date.now() - started} ms`);
  await page.waitForTimeout(800);
  console.log(`long tasks: ${JSON.stringify(await page.evaluate(() => window.__longTasks))}`);
  if (selector === 'viewport') await page.screenshot({path: png});
  else if (selector) await page.locator(selector).screenshot({path: png});
  else await page.screenshot({path: png, fullPage: true});
} finally {
  await browser.close();
}
