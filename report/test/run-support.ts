/**
 * Real runs for the report's browser tests: a scenario run by `peerlab run`
 * with the html reporter, as a user runs it, and where its report landed.
 */
import {execa} from 'execa';
import {mkdtemp, readdir, readFile, rm, writeFile} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import type {ReportData} from '../src/data/types.js';
import {readReportData} from '../src/probe/screenshots.js';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const peerlabBin = path.join(root, 'test-server', 'bin', 'peerlab.mjs');
/** The scenario the screenshots are taken from: chat, a partition and its heal, a crash. */
export const demoScenario = path.join(root, 'docs', 'screenshots', 'scenario.yaml');

export interface ReportRun {
  dir: string;
  runDir: string;
  /** <runDir>/report/index.html */
  index: string;
  status: string;
  output: string;
  /** The data the page was given, read back from data.js. */
  data: ReportData;
  cleanup(): Promise<void>;
}

/** Runs a scenario (a file, or YAML text) with `--reporter list,json,html` and returns its report. */
export async function runWithReport(scenario: {file: string} | {yaml: string}): Promise<ReportRun> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'peerlab-report-run-'));
  let file: string;
  if ('file' in scenario) file = scenario.file;
  else {
    file = path.join(dir, 'scenario.yaml');
    await writeFile(file, scenario.yaml);
  }
  const out = path.join(dir, 'runs');
  const run = await execa(process.execPath, [peerlabBin, 'run', file, '--out', out, '--reporter', 'list,json,html'], {cwd: root, reject: false, all: true, timeout: 180_000});
  const cleanup = () => rm(dir, {recursive: true, force: true});
  try {
    const [runId] = (await readdir(out, {withFileTypes: true})).filter((e) => e.isDirectory()).map((e) => e.name);
    if (!runId) throw new Error(`peerlab run wrote no run folder (exit ${run.exitCode}):\n${run.all}`);
    const runDir = path.join(out, runId);
    const result = JSON.parse(await readFile(path.join(runDir, 'result.json'), 'utf8')) as {status: string};
    const index = path.join(runDir, 'report', 'index.html');
    return {dir, runDir, index, status: result.status, output: run.all ?? '', data: await readReportData(index), cleanup};
  } catch (error) {
    await cleanup();
    throw new Error(`${(error as Error).message}\npeerlab run output:\n${run.all}`);
  }
}
