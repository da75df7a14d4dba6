/**
 * `results.json`: the whole RunResult, pretty-printed, for scripts and CI.
 * Written once at the end of the run, atomically, so a reader never sees half
 * a file (and a crash leaves the previous one, not a truncated one).
 */
import {join} from 'node:path';
import {writeFileAtomic} from '@peerlab/node-kit/write-file-atomic';
import type {RunResult} from '../engine/results.js';
import type {Reporter} from './reporter.js';

export interface FileReporterOptions {
  /** The run's output directory; created when missing. */
  outDir: string;
}

export class JsonReporter implements Reporter {
  /** Where the report goes: `<outDir>/results.json`. */
  readonly file: string;

  constructor(options: FileReporterOptions) {
    this.file = join(options.outDir, 'results.json');
  }

  async onRunEnd(result: RunResult): Promise<void> {
    await writeFileAtomic(this.file, `${JSON.stringify(result, null, 2)}\n`);
  }
}


export {writeFileAtomic};
