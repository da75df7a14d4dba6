/**
 * `peerlab down [run-id]`: asks every runner this build has to remove what a
 * run left behind, and says what went. Nothing to remove is no error: after
 * a clean run there is nothing, and saying so is the answer.
 */
import {availableRunners, configureKubernetes} from '../runners/factory.js';
import type {Reaped} from '../runners/runner.js';

/** A run id as runs are named: a folder name, no path, nothing a process listing could confuse. */
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

export async function down(runId: string | undefined, kubernetes: {kubeconfig?: string; namespace?: string} = {}): Promise<number> {
  if (runId !== undefined && !RUN_ID.test(runId)) {
    process.stderr.write(`peerlab down: ${JSON.stringify(runId)} is not a run id (letters, digits, . _ -; the run folder's name)\n`);
    return 2;
  }
  configureKubernetes({...(kubernetes.kubeconfig ? {kubeconfig: kubernetes.kubeconfig} : {}), ...(kubernetes.namespace ? {namespace: kubernetes.namespace} : {})});
  let failed = false;
  const removed: Reaped[] = [];
  for (const runner of availableRunners()) {
    try {
      removed.push(...(await runner.reap(runId)));
    } catch (error) {
      failed = true;
      process.stderr.write(`peerlab down: the ${runner.kind} runner: ${(error as Error).message}\n`);
    }
  }
  for (const r of removed) process.stdout.write(`removed ${r.kind} ${r.id} of run ${r.runId}${r.detail ? ` (${r.detail})` : ''}\n`);
  const of = runId === undefined ? 'of runs whose coordinator is gone' : `of run ${runId}`;
  process.stdout.write(removed.length === 0 ? `nothing left ${of}\n` : `${removed.length} removed ${of}\n`);
  return failed ? 1 : 0;
}
