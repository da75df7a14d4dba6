/**
 * `peerlab check <history.jsonl>`: re-derives a run's verdict from its
 * history alone, prints it as `peerlab run` did, and says whether it matches
 * the verdict recorded next to it in result.json.
 */
import {readFile} from 'node:fs/promises';
import path from 'node:path';
import {evaluate} from '@peerlab/checkers/verdict';
import {exitCodes} from '../engine/results.js';
import type {ScenarioResult} from '../engine/results.js';
import {HistoryReadError, readHistory} from '@peerlab/checkers/history/read';
import {ListReporter} from '../reporters/index.js';

export async function check(file: string): Promise<number> {
  let history;
  try {
    history = await readHistory(file);
  } catch (error) {
    const message = error instanceof HistoryReadError ? error.message : `${file}: ${(error as Error).message}`;
    process.stderr.write(`peerlab check: ${message}\n`);
    return exitCodes.usage;
  }
  const evaluation = evaluate(history);
  const runDir = path.dirname(file);
  const result: ScenarioResult = {...evaluation, attempt: 1, runDir, historyPath: file};
  const reporter = new ListReporter(process.stdout);
  const info = {name: result.name, file: result.file, runId: result.runId, attempt: 1, runDir};
  await reporter.onScenarioBegin?.(info);
  for (const step of result.steps) await reporter.onStepEnd?.(info, step);
  await reporter.onScenarioEnd?.(result);
  process.stdout.write(`${await compareWithRecorded(path.join(runDir, 'result.json'), result)}\n`);
  return exitCodes[result.status];
}

/** One line on how the re-checked verdict compares with result.json, which is only read, so a damaged one is only mentioned. */
async function compareWithRecorded(file: string, result: ScenarioResult): Promise<string> {
  let text;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return '(no result.json next to the history to compare with)';
  }
  let recorded: {status?: unknown; steps?: unknown};
  try {
    recorded = JSON.parse(text) as typeof recorded;
  } catch {
    return '(result.json next to the history is not JSON: nothing to compare with)';
  }
  const steps = Array.isArray(recorded?.steps) ? (recorded.steps as Array<{status?: unknown; message?: unknown} | null>) : undefined;
  if (typeof recorded?.status !== 'string' || !steps) return '(result.json next to the history is not a scenario result: nothing to compare with)';
  // One function judged both (judgeStep), so every step's status and message must match, word for word.
  const same = recorded.status === result.status && steps.length === result.steps.length && steps.every((s, i) => s?.status === result.steps[i]!.status && s?.message === result.steps[i]!.message);
  return same ? `same verdict as recorded in result.json: ${recorded.status}` : `DIFFERS from result.json: recorded ${recorded.status}, re-checked ${result.status}`;
}
