/**
 * One verdict source: a failing run's step messages read the same, word for
 * word, in the list reporter's live output, result.json, results.json,
 * junit.xml and `peerlab check` on the history, for an await that fails, the
 * block it is in, and a start step that cannot start its peers.
 */
import test from 'ava';
import {execa} from 'execa';
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {XMLParser} from 'fast-xml-parser';
import type {RunResult, ScenarioResult} from '../src/engine/results.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = path.join(root, 'test-server', 'bin', 'peerlab.mjs');

function peerlab(args: string[]) {
  return execa(process.execPath, [bin, ...args], {cwd: root, reject: false, all: true, timeout: 120_000, env: {NO_COLOR: '1'}});
}

/** The message after " — " on the list reporter's line for step `stepPath`, with its continuation lines. */
function listMessage(output: string, stepPath: string): string | undefined {
  const lines = output.split('\n');
  const escaped = stepPath.replace(/\./g, '\\.');
  const at = lines.findIndex((l) => new RegExp(`^  [✘?✔] ${escaped} .* — `).test(l));
  if (at < 0) return undefined;
  const parts = [lines[at]!.slice(lines[at]!.indexOf(' — ') + 3)];
  for (let i = at + 1; i < lines.length && lines[i]!.startsWith('      '); i++) parts.push(lines[i]!.slice(6));
  return parts.join('\n');
}

/** The same from junit.xml's system-out, where step lines start with the mark. */
function junitMessage(systemOut: string, stepPath: string): string | undefined {
  const escaped = stepPath.replace(/\./g, '\\.');
  const line = systemOut.split('\n').find((l) => new RegExp(`^[✘?✔] ${escaped} .* — `).test(l));
  return line?.slice(line.indexOf(' — ') + 3);
}

test.serial('a failing run says the same about each step in the list output, result.json, results.json, junit.xml and peerlab check', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'peerlab-verdict-'));
  t.teardown(() => rm(dir, {recursive: true, force: true}));
  const file = path.join(dir, 'broken.yaml');
  await writeFile(file, `- name: a block whose await fails
  peers: [alice, bob, charly]
  peer_args: {charly: [--bug, drop-delivery]}
  steps:
    - start: all
    - await: converged
      within: 15s
    - repeat: 2
      steps:
        - on: alice
          run: send one
        - await: delivered
          within: 1500ms
- name: a start step that cannot start bob
  peers: [alice, bob]
  peer_args: {bob: [--port, "99999"]}
  steps:
    - start: all
`);
  const out = path.join(dir, 'runs');
  const run = await peerlab(['run', file, '--reporter', 'list,json,junit', '--out', out]);
  t.is(run.exitCode, 1, run.all);
  const results = JSON.parse(await readFile(path.join(out, 'results.json'), 'utf8')) as RunResult;
  t.is(results.scenarios.length, 2);
  const xml = new XMLParser({ignoreAttributes: false, attributeNamePrefix: ''}).parse(await readFile(path.join(out, 'junit.xml'), 'utf8')) as {
    testsuites: {testsuite: {testcase: Array<{name: string; 'system-out': string; failure?: {message: string}; error?: {message: string}}>}};
  };
  const cases = xml.testsuites.testsuite.testcase;
  const expected: Array<{scenario: string; paths: string[]; status: 'fail' | 'unknown'}> = [
    {scenario: 'a block whose await fails', paths: ['3.1.2', '3'], status: 'fail'},
    {scenario: 'a start step that cannot start bob', paths: ['1'], status: 'unknown'},
  ];
  for (const {scenario, paths, status} of expected) {
    const summary = results.scenarios.find((s) => s.name === scenario)!;
    t.is(summary.status, status, scenario);
    const own = JSON.parse(await readFile(path.join(summary.runDir, 'result.json'), 'utf8')) as ScenarioResult;
    const check = await peerlab(['check', summary.historyPath]);
    t.is(check.exitCode, status === 'fail' ? 1 : 3, check.all);
    t.regex(check.all, new RegExp(`same verdict as recorded in result\\.json: ${status}`));
    const testcase = cases.find((c) => c.name === scenario)!;
    for (const stepPath of paths) {
      const step = own.steps.find((s) => s.path === stepPath)!;
      t.is(step.status, status, `${scenario}: step ${stepPath}`);
      const message = step.message!;
      t.truthy(message, `${scenario}: step ${stepPath} has a message`);
      t.is(listMessage(run.all, stepPath), message, `${scenario}: step ${stepPath}, the list reporter's live line`);
      t.is(summary.steps.find((s) => s.path === stepPath)?.message, message, `${scenario}: step ${stepPath}, results.json`);
      t.is(junitMessage(testcase['system-out'], stepPath), message, `${scenario}: step ${stepPath}, junit.xml`);
      t.is(listMessage(check.all, stepPath), message, `${scenario}: step ${stepPath}, peerlab check`);
      t.log(`${scenario}: step ${stepPath}: ${message}`);
    }
    // The scenario's explanation names its first failing leaf step, in the same words, in every report.
    const leaf = own.steps.find((s) => s.path === paths[0])!;
    const explanation = `step ${leaf.path} (line ${leaf.line}) ${leaf.title}: ${leaf.message}`;
    t.is(own.message, explanation);
    t.is(summary.message, explanation);
    t.is((testcase.failure ?? testcase.error)?.message, `${explanation} (history: ${summary.historyPath})`);
    t.true(run.all.includes(`\n    ${explanation}\n`), 'the list reporter prints the explanation');
    t.true(check.all.includes(`\n    ${explanation}\n`), 'peerlab check prints the explanation');
  }
  const block = results.scenarios[0]!.steps.find((s) => s.path === '3')!;
  t.regex(block.message ?? '', /^step 3\.1\.2: not within 1500 ms: charly: alice:\w+:1 missing/);
  t.regex(results.scenarios[1]!.steps[0]!.message ?? '', /^bob exited \(code 2\) before it registered; see logs\/bob\.log/);
});
