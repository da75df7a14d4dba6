/**
 * `peerlab check <history.jsonl>`: re-derives a run's verdict from its
 * history alone, prints it as `peerlab run` did, and says whether it matches
 * the verdict recorded next to it in result.json.
 */
import {readFile} from 'node:fs/promises';
import path from 'node:path';
import {evaluate} from '../engine/evaluate.js';
import {exitCodes} from '../engine/results.js';
import type {ScenarioResult} from '../engine/results.js';
import {HistoryReadError, readHistory} from '../history/read.js';
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
  try {
    const recorded = JSON.parse(await readFile(path.join(runDir, 'result.json'), 'utf8')) as ScenarioResult;
    const same = recorded.status === result.status && recorded.steps.length === result.steps.length && recorded.steps.every((s, i) => s.status === result.steps[i]!.status);
    process.stdout.write(same ? `same verdict as recorded in result.json: ${recorded.status}\n` : `DIFFERS from result.json: recorded ${recorded.status}, re-checked ${result.status}\n`);
  } catch {
    process.stdout.write('(no result.json next to the history to compare with)\n');
  }
  return exitCodes[result.status];
}
