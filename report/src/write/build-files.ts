/**
 * A report from a history file or from the events in memory: build the data
 * with the checkers' own code, then write the folder.
 */
import type {HistoryEvent} from '@peerlab/checkers/history/types';
import {readHistory} from '@peerlab/checkers/history/read';
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
  return writeBuiltReport(dir, events, historyPath);
}

/** The same from events already in memory (a run that just ended); `historyFile`, when given, is the file that holds exactly them. */
export async function writeBuiltReport(dir: string, events: readonly HistoryEvent[], historyFile?: string): Promise<BuiltReport> {
  const data = buildReport(events);
  const written = await writeReport(dir, data, historyFile ? {events, historyFile} : {events});
  const anchor = data.meta.firstFailure?.anchor;
  return {...written, data, link: anchor ? `${written.index}#${anchor}` : written.index};
}
