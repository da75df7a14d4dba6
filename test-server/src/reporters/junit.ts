/**
 * `junit.xml` for CI: one testsuite "peerlab", one testcase per scenario
 * result (per attempt with --repeat).
 *
 * - pass: an empty testcase;
 * - fail: a `<failure>` whose message and body carry the explanation, the
 *   evidence and the history path;
 * - unknown: an `<error>`, neither failure nor pass: the environment, not the
 *   product, kept the run from deciding (exit code 3, see engine/results.ts).
 *
 * Every testcase carries its run id, seed, attempt, run dir, history path and
 * figures as properties, and its steps in system-out.
 */
import {createRequire} from 'node:module';
import {join} from 'node:path';
import type {Builder} from 'junit-report-builder';
import type {RunResult, ScenarioResult} from '../engine/results.js';
import type {Status} from '@peerlab/checkers/history/types';
import {writeFileAtomic} from './json.js';
import type {FileReporterOptions} from './json.js';
import {formatDuration, formatFigures, scenarioLabel, statusMarks} from './list.js';
import type {Reporter} from './reporter.js';

// junit-report-builder is CommonJS (`module.exports = builder`) while its
// types declare `export default`; under nodenext a default import would be
// typed as the wrong shape, so load it through require with the right type.
const junitBuilder = createRequire(import.meta.url)('junit-report-builder') as Builder;

export class JunitReporter implements Reporter {
  /** Where the report goes: `<outDir>/junit.xml`. */
  readonly file: string;

  constructor(options: FileReporterOptions) {
    this.file = join(options.outDir, 'junit.xml');
  }

  async onRunEnd(result: RunResult): Promise<void> {
    await writeFileAtomic(this.file, buildJunitXml(result));
  }
}

/** The report as a string (exported for tests and for `peerlab check`). */
export function buildJunitXml(result: RunResult): string {
  // A fresh builder: the package's default export is a shared instance that accumulates.
  const builder = junitBuilder.newBuilder();
  const suite = builder
    .testSuite()
    .name('peerlab')
    .time(seconds(result.durationMs))
    .timestamp(new Date(Date.now() - result.durationMs))
    .property('seed', String(result.seed))
    .property('outDir', xmlText(result.outDir));

  for (const scenario of result.scenarios) {
    const testCase = suite
      .testCase()
      .className(xmlText(scenario.file))
      .name(xmlText(scenarioLabel(scenario)))
      .file(xmlText(scenario.file))
      .time(seconds(scenario.durationMs))
      .property('runId', xmlText(scenario.runId))
      .property('seed', String(scenario.seed))
      .property('attempt', String(scenario.attempt))
      .property('status', scenario.status)
      .property('runDir', xmlText(scenario.runDir))
      .property('historyPath', xmlText(scenario.historyPath));
    if (scenario.reportPath) testCase.property('reportPath', xmlText(scenario.reportPath));
    for (const [key, value] of Object.entries(scenario.figures)) testCase.property(`figure.${xmlText(key)}`, String(value));

    if (scenario.status === 'fail') {
      const message = scenario.message || 'the scenario failed';
      testCase.failure(xmlText(`${message} (${where(scenario)})`), 'fail');
      testCase.stacktrace(cdataText(details(scenario, message)));
    } else if (scenario.status === 'unknown') {
      const message = scenario.message || 'the run could not decide this scenario';
      testCase.error(xmlText(`${message} (${where(scenario)})`), 'unknown', cdataText(details(scenario, message)));
    }
    testCase.standardOutput(cdataText(systemOut(scenario)));
  }
  return builder.build();
}

/** The body of a failure or error: explanation, evidence, where to look. */
function details(scenario: ScenarioResult, message: string): string {
  const lines = [message];
  if (scenario.evidence && scenario.evidence.length > 0) {
    lines.push('', 'evidence:', ...scenario.evidence.map((e) => `  ${e}`));
  }
  lines.push('', `history: ${scenario.historyPath}`);
  if (scenario.reportPath) lines.push(`report: ${scenario.reportPath}`);
  lines.push(`run dir: ${scenario.runDir}`);
  return lines.join('\n');
}

/** Where to look: the history, and the report opened at the failure when one was written. */
function where(scenario: ScenarioResult): string {
  return `history: ${scenario.historyPath}${scenario.reportPath ? `, report: ${scenario.reportPath}` : ''}`;
}

/** What the console showed for this scenario: its steps, invariants and figures. */
function systemOut(scenario: ScenarioResult): string {
  const lines = [`run ${scenario.runId}, seed ${scenario.seed}, attempt ${scenario.attempt}: ${scenario.status}`];
  for (const step of scenario.steps) {
    const figures = formatFigures(step.figures);
    let line = `${mark(step.status)} ${step.path} ${step.title} (${formatDuration(step.durationMs)})`;
    if (figures) line += ` ${figures}`;
    if (step.status !== 'pass' && step.message) line += ` — ${step.message}`;
    lines.push(line);
  }
  for (const invariant of scenario.invariants) {
    let line = `${mark(invariant.status)} invariant ${invariant.name}`;
    if (invariant.status !== 'pass' && invariant.message) line += ` — ${invariant.message}`;
    lines.push(line);
  }
  const figures = formatFigures(scenario.figures);
  if (figures) lines.push(`figures: ${figures}`);
  lines.push(`history: ${scenario.historyPath}`, `run dir: ${scenario.runDir}`);
  return lines.join('\n');
}

function mark(status: Status): string {
  return statusMarks[status];
}

function seconds(ms: number): number {
  return Math.round(ms) / 1000;
}

// Terminal colour sequences (ESC [ ... letter) mean nothing in a CI page.
const ansiSequence = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;
// Characters XML 1.0 does not allow at all, escaped or not: C0 controls other
// than tab, LF and CR; U+FFFE and U+FFFF; unpaired surrogates.
const xmlInvalid = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Text that XML can carry: colour sequences dropped, characters XML cannot
 * represent shown as `\uXXXX`. (`<&>"'` need nothing here: the builder
 * escapes them.)
 */
export function xmlText(text: string): string {
  return text.replace(ansiSequence, '').replace(xmlInvalid, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Text for a CDATA section. The builder splits only the first `]]>` it finds
 * (xmlbuilder replaces one occurrence), so every occurrence is broken up here
 * with a space, which keeps the document well-formed whatever the text.
 */
function cdataText(text: string): string {
  return xmlText(text).replace(/]]>/g, ']] >');
}
