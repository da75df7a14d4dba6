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
  const lines: string[] = [];
  const events = await readHistory(historyPath, {lines});
  return writeBuiltReport(dir, events, lines);
}

/** The same from events already in memory (a run that just ended); `lines`, when given, are their text. */
export async function writeBuiltReport(dir: string, events: readonly HistoryEvent[], lines?: readonly string[]): Promise<BuiltReport> {
  const data = buildReport(events);
  const written = await writeReport(dir, data, lines ? {events, lines} : {events});
  const anchor = data.meta.firstFailure?.anchor;
  return {...written, data, link: anchor ? `${written.index}#${anchor}` : written.index};
}
