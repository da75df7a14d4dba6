#!/usr/bin/env node
// `npm run screenshots`: pictures of every view of a real run's report, for
// the docs. Runs docs/screenshots/scenario.yaml with the html reporter (or
// takes an existing report with --report <index.html>) and photographs it in
// headless Chromium. The pictures go to docs/screenshots/ only with
// PEERLAB_UPDATE_SCREENSHOTS=1 (or --out <dir>); otherwise to a temporary
// folder, so trying it leaves the tree as it was.
import {execFileSync} from 'node:child_process';
import {mkdtempSync, readdirSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';
import {pictureMoment, readReportData, screenshotReport} from '@peerlab/report/probe/screenshots';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const {values} = parseArgs({options: {report: {type: 'string'}, out: {type: 'string'}, scenario: {type: 'string'}}});
const out = values.out ?? (process.env.PEERLAB_UPDATE_SCREENSHOTS === '1' ? path.join(root, 'docs', 'screenshots') : mkdtempSync(path.join(os.tmpdir(), 'peerlab-screenshots-')));

let index = values.report;
let runs;
if (!index) {
  runs = mkdtempSync(path.join(os.tmpdir(), 'peerlab-screenshots-run-'));
  const scenario = values.scenario ?? path.join(root, 'docs', 'screenshots', 'scenario.yaml');
  process.stderr.write(`# running ${path.relative(root, scenario)}\n`);
  try {
    // Relative to the repository, as the report then names it in its header.
    execFileSync(process.execPath, [path.join(root, 'test-server', 'bin', 'peerlab.mjs'), 'run', path.relative(root, path.resolve(scenario)), '--out', runs, '--reporter', 'list,html'], {stdio: ['ignore', 'inherit', 'inherit'], cwd: root});
  } catch {
    // A failing run has a report too, and its pictures show the failure: photograph it all the same.
  }
  const runId = readdirSync(runs, {withFileTypes: true}).find((e) => e.isDirectory())?.name;
  if (!runId) {
    process.stderr.write(`peerlab run wrote no run folder in ${runs}\n`);
    process.exit(1);
  }
  index = path.join(runs, runId, 'report', 'index.html');
}
// Without a #hash the pictures show the report at its most telling instant, not at its first millisecond.
if (!index.includes('#')) index = `${index}#t=${pictureMoment(await readReportData(index))}`;
process.stderr.write(`# photographing ${index}\n`);
try {
  const shots = await screenshotReport(index, out);
  for (const s of shots) process.stdout.write(`${s.file}\n`);
} finally {
  if (runs) rmSync(runs, {recursive: true, force: true});
}
