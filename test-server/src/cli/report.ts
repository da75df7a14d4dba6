/**
 * `peerlab report <run-dir | history.jsonl> [--out dir]`: the HTML report of
 * a run from its history alone, as `peerlab run --reporter html` writes it.
 * Every history line is validated as `peerlab check` does; a bad one is named
 * with its file and line (exit 2).
 */
import {stat} from 'node:fs/promises';
import path from 'node:path';
import {buildReportFiles} from '@peerlab/report';
import {HistoryReadError} from '@peerlab/checkers/history/read';
import {exitCodes} from '../engine/results.js';

export async function report(target: string, options: {out?: string}): Promise<number> {
  const fail = (message: string) => {
    process.stderr.write(`peerlab report: ${message}\n`);
    return exitCodes.usage;
  };
  let historyPath = target;
  try {
    if ((await stat(target)).isDirectory()) historyPath = path.join(target, 'history.jsonl');
  } catch (error) {
    return fail(`${target}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or folder' : (error as Error).message}`);
  }
  try {
    await stat(historyPath);
  } catch {
    return fail(`${target}: no history.jsonl in this folder (expected a run folder or a history.jsonl file)`);
  }
  const out = options.out ?? path.join(path.dirname(historyPath), 'report');
  let written;
  try {
    written = await buildReportFiles(historyPath, out);
  } catch (error) {
    if (error instanceof HistoryReadError) return fail(error.message);
    const e = error as NodeJS.ErrnoException;
    // A file system error names its path; anything else is about the history, so name that.
    return fail(e.path ? `${e.path}: ${e.message}` : `${historyPath}: ${e.message}`);
  }
  process.stdout.write(`${written.link}\n`);
  return exitCodes.pass;
}
