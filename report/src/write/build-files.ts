/**
 * A report from a history file or from the events in memory: build the data
 * with the checkers' own code, then write the folder.
 */
import type {HistoryEvent} from '@peerlab/checkers/history/types';
import {readHistory} from '@peerlab/checkers/history/read';
import type {Evaluation} from '@peerlab/checkers/verdict';
import {buildReport} from '../data/build.js';
import type {ReportData} from '../data/types.js';
import {writeReport} from './write-report.js';
import type {WrittenReport} from './write-report.js';

export interface BuiltReport extends WrittenReport {
  data: ReportData;
  /** index.html#<anchor> of the first failing or undecided step or invariant; index.html when it passed. */
  link: string;
}

/** Reads the history (every line validated, as `peerlab check` does: a bad one throws HistoryReadError), builds, writes. */
export async function buildReportFiles(historyPath: string, dir: string): Promise<BuiltReport> {
  const events = await readHistory(historyPath);
  return writeBuiltReport(dir, events, {historyFile: historyPath});
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
  const anchor = data.meta.firstFailure?.anchor;
  return {...written, data, link: anchor ? `${written.index}#${anchor}` : written.index};
}
