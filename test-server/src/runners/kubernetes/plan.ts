/**
 * A run's manifests as the kubernetes runner sends them, from the run's
 * options and the runner's settings: pure, so that `peerlab run --dry-run`
 * prints exactly what a run would create, and every one is checked against
 * Kubernetes' schema on the way.
 */
import {hostname} from 'node:os';
import type {V1Pod, V1Secret, V1Service} from '@kubernetes/client-node';
import type {RunnerOptions} from '../runner.js';
import {REFERENCE_PEER} from '../../peer-program/program.js';
import {DATA_MOUNT, podManifest, secretManifest, serviceManifest} from './manifests.js';
import type {Manifest} from './validate.js';
import {validateManifest} from './validate.js';
import type {KubernetesSettings} from './settings.js';
import {podCoordinatorUrl} from './settings.js';

/** Seconds a terminated peer has to say goodbye before Kubernetes kills it, unless the settings say. */
export const DEFAULT_GRACE_SECONDS = 5;

export type ReadySettings = KubernetesSettings & {image: string; coordinatorAddress: string};

/** Who made the run's objects: `peerlab down` without a run id removes a run's only once this is gone. */
export function coordinatorMark(): string {
  return `${hostname()}/${process.pid}`;
}

/** A ManifestError here is a bug to show, not a request to send. */
function checked<T extends Manifest>(manifest: T): T {
  validateManifest(manifest);
  return manifest;
}

/** A peer's folder in its pod: an emptyDir, gone with it. */
export function podDataDir(name: string): string {
  return `${DATA_MOUNT}/${name}`;
}

/** The run's Secret (holding the token) and its headless Service. */
export function runObjects(options: Pick<RunnerOptions, 'runId' | 'token'>, mark = coordinatorMark()): [V1Secret, V1Service] {
  return [checked(secretManifest(options.runId, options.token, mark)), checked(serviceManifest(options.runId, mark))];
}

export function peerPod(options: RunnerOptions, settings: ReadySettings, name: string, generation: number, extraArgs: readonly string[] = [], mark = coordinatorMark()): V1Pod {
  const o = options;
  const address = podCoordinatorUrl(settings.coordinatorAddress, o.coordinatorUrl);
  const program = o.peer && o.peer.origin !== REFERENCE_PEER ? o.peer : undefined;
  const args = [
    '--name', name,
    '--port', '0',
    // Kubernetes puts the variable's value in: the pod's own address, which the peer binds and advertises.
    '--host', '$(PEERLAB_POD_IP)',
    '--profile', o.profile ?? 'lan',
    '--coordinator', address,
    '--agent-grace', String(o.agentGraceMs ?? 3000),
    ...(o.bootstrapUrl ? ['--bootstrap', `${address}/bootstrap`] : []),
    '--data-dir', podDataDir(name),
    ...(o.extraArgs ?? []),
    ...extraArgs,
  ];
  return checked(
    podManifest({
      runId: o.runId,
      peer: name,
      generation,
      image: settings.image,
      // The reference peer is the image's entrypoint; another program's words are run inside the image.
      ...(program ? {command: program.command} : {}),
      args,
      ...(program ? {env: program.env} : {}),
      bootstrap: o.bootstrapUrl !== undefined,
      graceSeconds: settings.graceSeconds ?? DEFAULT_GRACE_SECONDS,
      coordinator: mark,
    }),
  );
}
