/**
 * copyHistoryChunks on a thread of its own, so the chunks are written while
 * the main thread reads and validates the same history: on a million events
 * the copy then costs next to nothing of the wall time.
 */
import {parentPort, workerData} from 'node:worker_threads';
import {Worker} from 'node:worker_threads';
import {copyHistoryChunks} from './copy-chunks.js';

interface Job {
  historyFile: string;
  dir: string;
  chunkSize: number;
}

export interface CopyInWorker {
  /** How many lines were copied; undefined when the file is not plain or the copy failed (the caller writes the chunks itself). */
  done: Promise<number | undefined>;
  /** Stops the copy (the history turned out bad): resolves once the thread is gone. */
  stop(): Promise<void>;
}

export function copyChunksInWorker(job: Job): CopyInWorker {
  const worker = new Worker(new URL(import.meta.url), {workerData: job});
  const done = new Promise<number | undefined>((resolve) => {
    worker.once('message', (count: number | null) => resolve(count ?? undefined));
    worker.once('error', () => resolve(undefined));
    worker.once('exit', () => resolve(undefined));
  });
  return {
    done,
    stop: async () => {
      await worker.terminate();
    },
  };
}

if (parentPort && (workerData as Job | undefined)?.historyFile) {
  const job = workerData as Job;
  const port = parentPort;
  copyHistoryChunks(job.historyFile, job.dir, job.chunkSize).then(
    (count) => port.postMessage(count ?? null),
    () => port.postMessage(null),
  );
}
