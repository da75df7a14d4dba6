/**
 * What `peerlab down` does for the kubernetes runner: deletes the pods,
 * services and secrets labelled with a run's id (peerlab.run=<id>). Without a
 * run id, those of every run whose coordinator was on this machine and is
 * gone (the peerlab.coordinator annotation: host/pid); another machine's runs
 * are left alone, as a live coordinator's are. A machine with no kubeconfig
 * has nothing to reap, and says nothing.
 */
import {hostname} from 'node:os';
import {processAlive} from '@peerlab/node-kit/process-alive';
import type {V1ObjectMeta} from '@kubernetes/client-node';
import type {Reaped} from '../runner.js';
import type {KubeApi} from './api.js';
import {connect, hasCluster} from './api.js';
import {COORDINATOR_ANNOTATION, PEER_LABEL, RUN_LABEL, isLabelValue} from './manifests.js';
import type {KubernetesSettings} from './settings.js';

/** Made by a coordinator on this machine that is gone. */
function orphaned(meta: V1ObjectMeta | undefined): boolean {
  const mark = meta?.annotations?.[COORDINATOR_ANNOTATION];
  const slash = mark?.lastIndexOf('/') ?? -1;
  if (!mark || slash < 0 || mark.slice(0, slash) !== hostname()) return false;
  const pid = Number(mark.slice(slash + 1));
  return Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && !processAlive(pid);
}

export async function reapKubernetes(settings: KubernetesSettings, runId?: string, api?: KubeApi): Promise<Reaped[]> {
  if (!api && !hasCluster(settings)) return [];
  // No run of that id could have been labelled with it.
  if (runId !== undefined && !isLabelValue(runId)) return [];
  const k = api ?? connect(settings);
  const selector = runId !== undefined ? `${RUN_LABEL}=${runId}` : RUN_LABEL;
  const take = (meta: V1ObjectMeta | undefined): boolean => runId !== undefined || orphaned(meta);
  const reaped: Reaped[] = [];
  const note = (kind: string, meta: V1ObjectMeta | undefined, detail?: string): void => {
    reaped.push({kind, id: meta?.name ?? '?', runId: meta?.labels?.[RUN_LABEL] ?? runId ?? '?', ...(detail ? {detail} : {})});
  };
  for (const pod of (await k.listPods(selector)).items.filter((p) => take(p.metadata))) {
    await k.deletePod(pod.metadata!.name!, 0);
    note('pod', pod.metadata, `peer ${pod.metadata?.labels?.[PEER_LABEL] ?? '?'}; namespace ${k.namespace}`);
  }
  for (const service of (await k.listServices(selector)).filter((s) => take(s.metadata))) {
    await k.deleteService(service.metadata!.name!);
    note('service', service.metadata, `namespace ${k.namespace}`);
  }
  for (const secret of (await k.listSecrets(selector)).filter((s) => take(s.metadata))) {
    await k.deleteSecret(secret.metadata!.name!);
    note('secret', secret.metadata, `namespace ${k.namespace}`);
  }
  return reaped;
}
