/**
 * Pictures of a report, view by view, as a person sees it in Chromium: what
 * the README and docs show, and what a reviewer looks at. A page that logs an
 * error or reaches the network while being photographed is refused, so a
 * picture is never taken of a broken report.
 */
import {mkdir, readFile} from 'node:fs/promises';
import path from 'node:path';
import {reportGlobal} from '../data/types.js';
import type {ReportData} from '../data/types.js';
import {painted, withBrowser} from './browser.js';

export {painted};

/** The page's sections, by their element ids (their anchors), top to bottom. */
export const viewIds = ['overview', 'matrix', 'convergence', 'detection', 'sequence', 'delivery', 'log'] as const;

export interface Screenshot {
  /** `report` (the top of the page, as it opens) or a view's id. */
  name: string;
  file: string;
}

/** The ReportData a static report's data.js hands the page, evaluated as the page does. */
export async function readReportData(index: string): Promise<ReportData> {
  const text = await readFile(path.join(path.dirname(index.split('#')[0]!), 'data.js'), 'utf8');
  const window: Record<string, unknown> = {};
  new Function('window', text)(window);
  const data = window[reportGlobal] as ReportData | undefined;
  if (!data) throw new Error(`${index}: data.js did not set window.${reportGlobal}`);
  return data;
}

/**
 * The instant a picture of the report shows best: the first death declared
 * after a fault, when the matrix has cells alive, suspect, dead and outlined
 * at once; else the first failure; else the start.
 */
export function pictureMoment(data: ReportData): number {
  for (const fault of data.detection.faults) {
    const deaths = fault.observers.map((o) => o.deadAt).filter((t): t is number => t !== undefined);
    if (deaths.length > 0) return Math.min(...deaths);
  }
  return data.meta.firstFailure?.t ?? 0;
}


/**
 * Screenshots `<index>` (a report's index.html, optionally with `#hash`) into
 * `outDir`: `report.png` (the first screen) and `<view>.png` for each view.
 */
export async function screenshotReport(index: string, outDir: string, options: {width?: number; height?: number; timeoutMs?: number} = {}): Promise<Screenshot[]> {
  await mkdir(outDir, {recursive: true});
  const [file, hash] = index.split('#');
  const folder = path.dirname(path.resolve(file!));
  return withBrowser(
    async (browser) => {
      const timeout = options.timeoutMs ?? 60_000;
      const probed = await browser.open(`file://${path.resolve(file!)}${hash ? `#${hash}` : ''}`, {timeoutMs: timeout});
      const {page} = probed;
      await page.waitForSelector(`section#${viewIds.at(-1)}`, {timeout});
      await page.evaluate('document.fonts.ready');
      await page.evaluate(painted);
      const shots: Screenshot[] = [];
      const top = path.join(outDir, 'report.png');
      await page.screenshot({path: top});
      shots.push({name: 'report', file: top});
      // The toolbar stays on screen as the page scrolls: in a picture of one view it would cover the view's head.
      await page.addStyleTag({content: '.toolbar { position: static !important; }'});
      for (const id of viewIds) {
        const section = page.locator(`section#${id}`);
        await section.scrollIntoViewIfNeeded({timeout});
        await page.evaluate(painted);
        const shot = path.join(outDir, `${id}.png`);
        await section.screenshot({path: shot, timeout});
        shots.push({name: id, file: shot});
      }
      const problems = [...probed.errors(), ...probed.foreignRequests(folder).map((url) => `request outside the report: ${url}`)];
      if (problems.length > 0) throw new Error(`the report at ${index} is broken, no screenshots taken of it:\n${problems.join('\n')}`);
      return shots;
    },
    {viewport: {width: options.width ?? 1400, height: options.height ?? 900}},
  );
}
