/**
 * Writes a report folder: index.html, the page's app.js and app.css, the
 * data as data.js (a large run's bulk columns apart, as data-bulk-<n>.js:
 * ../data/bulk.ts), and the event log's text as events-NNNN.js chunks, each a
 * classic script (what a page opened from file:// can load).
 *
 * A history can hold a million events: given the history file the events
 * were read from, the chunks are copied from its lines (copy-chunks.ts), not
 * stringified again, a few files at a time.
 */
import {copyFile, mkdir, readdir, rename, rm, writeFile} from 'node:fs/promises';
import path from 'node:path';
import type {HistoryEvent} from '@peerlab/checkers/history/types';
import type {ReportData} from '../data/types.js';
import {bulkFileName, bulkGlobal, chunkFileName, chunkGlobal, reportGlobal} from '../data/types.js';
import {splitBulk} from '../data/bulk.js';
import {assignmentScript, callScript} from './script-text.js';
import {staticIndexHtml} from './html.js';
import {pageAssets, pageAssetsProblem} from './assets.js';
import {copyHistoryChunks} from './copy-chunks.js';

/**
 * The events behind the report, as read; `historyFile`, when given, the file
 * they were read (and validated) from; `chunkDir`, a folder where their
 * chunks were already written (copy-chunks.ts, beside the reading).
 */
export interface ReportEvents {
  events: readonly HistoryEvent[];
  historyFile?: string;
  chunkDir?: string;
}

export interface WrittenReport {
  dir: string;
  /** dir/index.html */
  index: string;
  chunks: number;
}

/** How many chunk files are written at once: enough to keep the disk busy, few enough to bound memory. */
const PARALLEL_WRITES = 8;

export async function writeReport(dir: string, data: ReportData, source: ReportEvents | readonly HistoryEvent[]): Promise<WrittenReport> {
  const {events, historyFile, chunkDir} = Array.isArray(source) ? ({events: source} as ReportEvents) : (source as ReportEvents);
  if (data.eventLog.count !== events.length) {
    throw new RangeError(`the report's event log indexes ${data.eventLog.count} events, the history has ${events.length}: they must be the same events`);
  }
  const problem = await pageAssetsProblem();
  if (problem) throw new Error(problem);

  await mkdir(dir, {recursive: true});
  await removeOldChunks(dir);
  const split = splitBulk(data);
  const chunkSize = Math.max(1, data.eventLog.chunkSize);
  const chunks = Math.ceil(events.length / chunkSize);
  const writeChunks = async () => {
    if (chunkDir) return moveChunks(chunkDir, dir, chunks);
    if (historyFile && (await copyHistoryChunks(historyFile, dir, chunkSize, events.length)) === events.length) return;
    let next = 0;
    const worker = async () => {
      for (let index = next++; index < chunks; index = next++) {
        const body = events.slice(index * chunkSize, (index + 1) * chunkSize).map((e) => JSON.stringify(e)).join(',');
        await writeFile(path.join(dir, chunkFileName(index)), callScript(chunkGlobal, `{"index":${index},"events":[${body}]}`));
      }
    };
    await Promise.all(Array.from({length: Math.min(PARALLEL_WRITES, chunks)}, worker));
  };
  await Promise.all([
    writeChunks(),
    writeFile(path.join(dir, 'data.js'), assignmentScript(reportGlobal, JSON.stringify(split.data))),
    ...split.parts.map((part) => writeFile(path.join(dir, bulkFileName(part.index)), callScript(bulkGlobal, JSON.stringify(part)))),
    copyFile(pageAssets.js, path.join(dir, 'app.js')),
    copyFile(pageAssets.css, path.join(dir, 'app.css')),
  ]);
  // Last: a folder with an index.html is a complete report.
  const index = path.join(dir, 'index.html');
  await writeFile(index, staticIndexHtml(data));
  return {dir, index, chunks};
}

/** Moves chunks 0..count-1 written elsewhere into the report (copied when the folders are on different file systems). */
async function moveChunks(from: string, to: string, count: number): Promise<void> {
  for (let index = 0; index < count; index++) {
    const name = chunkFileName(index);
    await rename(path.join(from, name), path.join(to, name)).catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EXDEV') throw error;
      await copyFile(path.join(from, name), path.join(to, name));
    });
  }
}

/** Chunks (and bulk parts) of an earlier report in the same folder would be served for events this one does not have. */
async function removeOldChunks(dir: string): Promise<void> {
  const old = (await readdir(dir)).filter((name) => /^(events-\d{4,}|data-bulk-\d+)\.js$/.test(name));
  await Promise.all(old.map((name) => rm(path.join(dir, name), {force: true})));
}
