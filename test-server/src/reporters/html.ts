/**
 * `--reporter html`: every scenario's HTML report (written by the run into
 * <runDir>/report/, from the history it just recorded, so result.json and the
 * other reporters can name it) and, at the end, `<outDir>/report.html`
 * linking them all.
 */
import {writeRunIndex} from '@peerlab/report';
import type {RunResult} from '../engine/results.js';
import type {OutputStream} from './list.js';
import type {Reporter} from './reporter.js';

export interface HtmlReporterOptions {
  outDir: string;
  /** Where the index's path is printed; nothing is printed without one. */
  stream?: OutputStream;
}

export class HtmlReporter implements Reporter {
  /** Tells the run to write each scenario's report (the engine has its history in memory). */
  readonly writesScenarioReports = true;
  readonly #options: HtmlReporterOptions;

  constructor(options: HtmlReporterOptions) {
    this.#options = options;
  }

  async onRunEnd(result: RunResult): Promise<void> {
    const file = await writeRunIndex(
      this.#options.outDir,
      result.scenarios.map((s) => ({
        name: s.name,
        file: s.file,
        runId: s.runId,
        attempt: s.attempt,
        status: s.status,
        durationMs: s.durationMs,
        ...(s.message ? {message: s.message} : {}),
        ...(s.reportPath ? {report: s.reportPath} : {}),
        ...(s.reportError ? {reportError: s.reportError} : {}),
      })),
    );
    this.#options.stream?.write(`HTML report: ${file}\n`);
  }
}
