/**
 * What `peerlab down` does for the swarm runner: removes the services,
 * containers and networks carrying a run's label; without a run id, those
 * of runs whose coordinator (its pid and host are labels of each service) is
 * gone from this machine. A machine without any engine has nothing to reap.
 */
import {hostname} from 'node:os';
import {processAlive} from '@peerlab/node-kit/process-alive';
import type {Reaped} from '../runner.js';
import {LABEL_COORDINATOR_HOST, LABEL_COORDINATOR_PID, LABEL_PEER, LABEL_RUN, connect, noEngineConfigured, runFilter, statusOf} from './docker.js';

const GONE_WITHIN_MS = 20_000;

function ignoreGone(error: unknown): void {
  // Gone already, or being removed by the engine itself: either way it goes.
  const status = statusOf(error);
  if (status !== 404 && status !== 409) throw error;
}

export async function reapSwarm(runId?: string): Promise<Reaped[]> {
  if (noEngineConfigured()) return [];
  const docker = connect();
  let services;
  try {
    services = await docker.listServices({filters: runFilter(runId)});
  } catch (error) {
    // The default socket with no engine behind it (a stopped system dockerd): nothing of ours is running there.
    const code = (error as NodeJS.ErrnoException).code;
    if (!process.env.DOCKER_HOST && (code === 'ECONNREFUSED' || code === 'ENOENT')) return [];
    // An engine that is not a swarm manager runs no services of ours.
    if (statusOf(error) === 503) return [];
    throw error;
  }
  const runs = new Set<string>();
  const reaped: Reaped[] = [];
  for (const service of services) {
    const labels = service.Spec?.Labels ?? {};
    const run = labels[LABEL_RUN]!;
    if (runId === undefined) {
      const pid = Number(labels[LABEL_COORDINATOR_PID]);
      // Another machine's coordinator cannot be asked from here: its runs are its own (or need a run id).
      if (labels[LABEL_COORDINATOR_HOST] !== hostname() || !Number.isSafeInteger(pid) || processAlive(pid)) continue;
    }
    runs.add(run);
    await docker.getService(service.ID!).remove().catch(ignoreGone);
    reaped.push({kind: 'service', id: service.Spec?.Name ?? service.ID!, runId: run, ...(labels[LABEL_PEER] ? {detail: `peer ${labels[LABEL_PEER]}`} : {})});
  }
  if (runId !== undefined) runs.add(runId);
  for (const run of runs) {
    // The engine removes a removed service's containers itself; force the rest (and any made outside a service).
    const deadline = Date.now() + GONE_WITHIN_MS;
    for (;;) {
      const containers = await docker.listContainers({all: true, filters: runFilter(run)});
      if (containers.length === 0) break;
      if (Date.now() > deadline) {
        for (const c of containers) {
          await docker.getContainer(c.Id).remove({force: true}).catch(ignoreGone);
          reaped.push({kind: 'container', id: c.Id.slice(0, 12), runId: run, detail: `still there ${GONE_WITHIN_MS} ms after its service went; forced`});
        }
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    for (const network of await docker.listNetworks({filters: runFilter(run)})) {
      await docker.getNetwork(network.Id).remove().catch(ignoreGone);
      reaped.push({kind: 'network', id: network.Name, runId: run});
    }
  }
  return reaped;
}
