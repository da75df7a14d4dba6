/**
 * `results.json`: the whole RunResult, pretty-printed, for scripts and CI.
 * Written once at the end of the run, atomically, so a reader never sees half
 * a file (and a crash leaves the previous one, not a truncated one).
 */
import {mkdir, open, rename, rm} from 'node:fs/promises';
import {basename, dirname, join} from 'node:path';
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

let tmpCounter = 0;

/**
 * Write `data` to `file` through a temporary file in the same directory and a
 * rename, which is atomic within one file system. Creates the directory.
 */
export async function writeFileAtomic(file: string, data: string): Promise<void> {
  await mkdir(dirname(file), {recursive: true});
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${++tmpCounter}.tmp`);
  try {
    const handle = await open(tmp, 'w');
    try {
      await handle.writeFile(data, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  } catch (error) {
    await rm(tmp, {force: true}).catch(() => undefined);
    throw error;
  }
}
