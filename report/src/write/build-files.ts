/**
 * A report from a history file or from the events in memory: build the data
 * with the checkers' own code, then write the folder.
 */
import type {HistoryEvent} from '@peerlab/checkers/history/types';
import {readHistory} from '@peerlab/checkers/history/read';
import type {Evaluation} from '@peerlab/checkers/verdict';
import {mkdtemp, rm} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {buildReport} from '../data/build.js';
import {defaultChunkSize} from '../data/event-log.js';
import {copyChunksInWorker} from './copy-worker.js';
import type {ReportData} from '../data/types.js';
import {writeReport} from './write-report.js';
import type {WrittenReport} from './write-report.js';

export interface BuiltReport extends WrittenReport {
  data: ReportData;
  /** index.html#<anchor> of the first failing or undecided step or invariant; index.html when it passed. */
  link: string;
}

/**
 * Reads the history (every line validated, as `peerlab check` does: a bad one
 * throws HistoryReadError, and nothing is written), builds, writes. The event
 * chunks are copied from the file on another thread meanwhile.
 */
export async function buildReportFiles(historyPath: string, dir: string): Promise<BuiltReport> {
  const staging = await mkdtemp(path.join(os.tmpdir(), 'peerlab-chunks-'));
  const copy = copyChunksInWorker({historyFile: historyPath, dir: staging, chunkSize: defaultChunkSize});
  try {
    const events = await readHistory(historyPath);
    const data = buildReport(events, {chunkSize: defaultChunkSize});
    const copied = await copy.done;
    const written = await writeReport(dir, data, copied === events.length ? {events, chunkDir: staging} : {events, historyFile: historyPath});
    return {...written, data, link: linkOf(written.index, data)};
  } finally {
    await copy.stop();
    await rm(staging, {recursive: true, force: true});
  }
}

function linkOf(index: string, data: ReportData): string {
  const anchor = data.meta.firstFailure?.anchor;
  return anchor ? `${index}#${anchor}` : index;
}

export interface WriteBuiltOptions {
  /** The file that holds exactly these events: the chunks are copied from its lines. */
  historyFile?: string;
  /** The events' evaluation, when the caller has it (a run that just ended): not computed twice. */
  evaluation?: Evaluation;
}

/** The same from events already in memory (a run that just ended). */
export async function writeBuiltReport(dir: string, events: readonly HistoryEvent[], options: WriteBuiltOptions = {}): Promise<BuiltReport> {
  const data = buildReport(events, options.evaluation ? {evaluation: options.evaluation} : {});
  const written = await writeReport(dir, data, options.historyFile ? {events, historyFile: options.historyFile} : {events});
  return {...written, data, link: linkOf(written.index, data)};
}
