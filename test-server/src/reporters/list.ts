/**
 * The console reporter of `peerlab run` (Playwright's list reporter is the
 * model): a line when a scenario begins, one per finished step, a verdict per
 * scenario with its explanation, and a summary table at the end.
 *
 * Colours only on a terminal (and never with NO_COLOR); the text is the same
 * either way, so logs and terminals read alike.
 */
import {renderTable} from '@peerlab/node-kit/table';
import type {RunResult, ScenarioResult, StepResult} from '../engine/results.js';
import type {Status} from '@peerlab/checkers/history/types';
import type {Reporter, RunInfo, ScenarioInfo} from './reporter.js';

/** What the reporter needs of a stream: process.stdout, a file stream, a test's collector. */
export interface OutputStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

export interface ListReporterOptions {
  /** Force colours on or off; by default on when the stream is a TTY and NO_COLOR is unset. */
  colors?: boolean;
}

export const statusMarks: Record<Status, string> = {pass: '✔', fail: '✘', unknown: '?'};
const verdictWords: Record<Status, string> = {pass: 'passed', fail: 'failed', unknown: 'unknown'};

type Style = 'green' | 'red' | 'yellow' | 'dim' | 'bold';
const ansi: Record<Style, [number, number]> = {green: [32, 39], red: [31, 39], yellow: [33, 39], dim: [2, 22], bold: [1, 22]};
const statusStyles: Record<Status, Style> = {pass: 'green', fail: 'red', unknown: 'yellow'};

export class ListReporter implements Reporter {
  readonly #stream: OutputStream;
  readonly #colors: boolean;

  constructor(stream: OutputStream = process.stdout, options: ListReporterOptions = {}) {
    this.#stream = stream;
    this.#colors = options.colors ?? (Boolean(stream.isTTY) && !process.env['NO_COLOR']);
  }

  onRunBegin(run: RunInfo): void {
    const n = run.scenarios.length;
    const repeat = run.repeat > 1 ? `, each ${run.repeat} times` : '';
    this.#line(`Running ${n} scenario${n === 1 ? '' : 's'}${repeat} (seed ${run.seed})`);
  }

  onScenarioBegin(scenario: ScenarioInfo): void {
    const attempt = scenario.attempt > 1 ? `, attempt ${scenario.attempt}` : '';
    this.#line(`${this.#style('bold', '▶')} ${printable(scenario.name)} (${printable(scenario.file)}) run ${printable(scenario.runId)}${attempt}${scenario.faults === 'kernel' ? ' [kernel faults]' : ''}`);
  }

  onStepEnd(_scenario: ScenarioInfo, step: StepResult): void {
    const figures = formatFigures(step.figures);
    let line = `  ${this.#mark(step.status)} ${printable(step.path)} ${printable(step.title)} ${this.#style('dim', `(${formatDuration(step.durationMs)})`)}`;
    if (figures) line += ` ${figures}`;
    if (step.status !== 'pass' && step.message) line += ` — ${indentContinuation(printable(step.message), '      ')}`;
    this.#line(line);
  }

  onScenarioEnd(result: ScenarioResult): void {
    const traffic = trafficLine(result.figures);
    if (traffic) this.#line(`  ${this.#style('dim', traffic)}`);
    for (const invariant of result.invariants) {
      let line = `  ${this.#mark(invariant.status)} invariant ${printable(invariant.name)}`;
      if (invariant.status !== 'pass' && invariant.message) line += ` — ${indentContinuation(printable(invariant.message), '      ')}`;
      this.#line(line);
    }
    const verdict = this.#style(statusStyles[result.status], verdictWords[result.status]);
    this.#line(`${this.#mark(result.status)} ${printable(scenarioLabel(result))}: ${verdict} (${formatDuration(result.durationMs)})`);
    if (result.status === 'pass') return;
    if (result.message) this.#line(indentAll(printable(result.message), '    '));
    if (result.evidence && result.evidence.length > 0) {
      this.#line('    evidence:');
      for (const entry of result.evidence) this.#line(indentAll(printable(entry), '      '));
    }
    this.#line(`    history: ${printable(result.historyPath)}`);
    if (result.reportPath) this.#line(`    report: ${printable(result.reportPath)}`);
    if (result.reportError) this.#line(`    report not written: ${printable(result.reportError)}`);
  }

  onRunEnd(result: RunResult): void {
    if (result.scenarios.length > 0) {
      const rows = result.scenarios.map((s) => [
        printable(scenarioLabel(s)),
        verdictWords[s.status],
        formatDuration(s.durationMs),
        formatFigures(keyFigures(s.figures)),
      ]);
      this.#line('');
      this.#line(renderTable(['scenario', 'verdict', 'duration', 'key figures'], rows));
    }
    this.#line('');
    const {passed, failed, unknown} = result.counts;
    const parts = [
      this.#style(passed > 0 ? 'green' : 'dim', `${passed} passed`),
      this.#style(failed > 0 ? 'red' : 'dim', `${failed} failed`),
      this.#style(unknown > 0 ? 'yellow' : 'dim', `${unknown} unknown`),
    ];
    this.#line(`${parts.join(', ')} (${formatDuration(result.durationMs)})`);
  }

  #line(text: string): void {
    this.#stream.write(`${text}\n`);
  }

  #mark(status: Status): string {
    return this.#style(statusStyles[status], statusMarks[status]);
  }

  #style(style: Style, text: string): string {
    if (!this.#colors) return text;
    const [open, close] = ansi[style];
    return `\u001b[${open}m${text}\u001b[${close}m`;
  }
}

/** The scenario's name, with the attempt when --repeat ran it more than once. */
export function scenarioLabel(s: {name: string; attempt: number}): string {
  return s.attempt > 1 ? `${s.name} (attempt ${s.attempt})` : s.name;
}

/** 812 ms, 12.3 s, 2 min 05 s. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '? ms';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
}

/** `converge_ms=812 latency_p99_ms=9.25`, or '' when there are none. */
/** The figures worth a column in the summary; the step lines show them all. */
const keyFigureNames = ['converge_ms', 'seen_ms', 'detect_median_ms', 'detect_max_ms', 'messages', 'latency_p50_ms', 'latency_p99_ms', 'false_suspicions'];

export function keyFigures(figures: Record<string, number> | undefined): Record<string, number> | undefined {
  if (!figures) return undefined;
  const entries = Object.entries(figures).filter(([name]) => keyFigureNames.includes(name));
  if (entries.length > 0) return Object.fromEntries(entries);
  // The traffic figures have their own line (trafficLine): a dozen of them would swamp the column.
  const rest = Object.entries(figures).filter(([name]) => !/^(forming|rest|churn)_/.test(name));
  return rest.length > 0 ? Object.fromEntries(rest) : undefined;
}

export function formatFigures(figures: Record<string, number> | undefined): string {
  if (!figures) return '';
  return Object.entries(figures)
    .map(([key, value]) => `${key}=${Number.isInteger(value) ? value : Number(value.toFixed(3))}`)
    .join(' ');
}

/** 950, 12.3k, 4.1M: byte rates at a glance. */
function compact(value: number): string {
  if (value >= 1e6) return `${Number((value / 1e6).toFixed(1))}M`;
  if (value >= 1e4) return `${Math.round(value / 1e3)}k`;
  if (value >= 1e3) return `${Number((value / 1e3).toFixed(1))}k`;
  return String(Math.round(value));
}

/**
 * One line of the run's traffic figures (checkers/src/traffic.ts), mean and
 * busiest peer per phase: `traffic per peer, mean/max: forming 40.2/52.1 pkt/s
 * 9.1k/12k B/s · rest ...`; undefined when the peers reported none.
 */
export function trafficLine(figures: Record<string, number> | undefined): string | undefined {
  if (!figures) return undefined;
  const phases = ['forming', 'rest', 'churn'].flatMap((phase) => {
    const f = (name: string) => figures[`${phase}_${name}`];
    const [packets, maxPackets, bytes, maxBytes, seconds] = [f('packets_per_peer_s'), f('max_packets_per_peer_s'), f('bytes_per_peer_s'), f('max_bytes_per_peer_s'), f('duration_s')];
    if (packets === undefined || maxPackets === undefined || bytes === undefined || maxBytes === undefined) return [];
    return [`${phase} ${packets}/${maxPackets} pkt/s ${compact(bytes)}/${compact(maxBytes)} B/s${seconds !== undefined ? ` (${seconds} s)` : ''}`];
  });
  return phases.length > 0 ? `traffic per peer, mean/max: ${phases.join(' · ')}` : undefined;
}

/**
 * Text from peers and scenarios goes to a terminal: control characters (an
 * escape sequence could move the cursor or recolour the screen) are shown as
 * `\uXXXX` instead; newlines and tabs stay.
 */
export function printable(text: string): string {
  return text.replace(/\r\n/g, '\n').replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function indentAll(text: string, indent: string): string {
  return text
    .split('\n')
    .map((l) => indent + l)
    .join('\n');
}

function indentContinuation(text: string, indent: string): string {
  return text.split('\n').join(`\n${indent}`);
}
