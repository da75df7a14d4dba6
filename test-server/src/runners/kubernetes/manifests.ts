/**
 * The objects a run is made of on Kubernetes, as plain typed data: one Secret
 * holding the run token, one headless Service selecting the run's pods, and
 * one Pod per peer. Pure: the runner sends them, `--dry-run` prints them, the
 * tests read them. Everything carries the label peerlab.run=<run id>, which
 * `peerlab down` selects on.
 */
import type {V1Pod, V1Secret, V1Service} from '@kubernetes/client-node';
import {DNS_LABEL} from './settings.js';

export const RUN_LABEL = 'peerlab.run';
export const PEER_LABEL = 'peerlab.peer';
/** Who made the object, so that `peerlab down` without a run id can tell a gone coordinator's leftovers. */
export const COORDINATOR_ANNOTATION = 'peerlab.coordinator';
/** The key of the token in the run's Secret. */
export const TOKEN_KEY = 'token';
/** Where a peer's own folder (--data-dir) lives in its pod: an emptyDir, gone with the pod. */
export const DATA_MOUNT = '/peerlab-data';

/** A label value: at most 63 characters of A-Z a-z 0-9 . _ -, starting and ending with a letter or digit. */
const LABEL_VALUE = /^(?=.{1,63}$)[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
export const LABEL_VALUE_RULE = '1-63 characters of A-Z a-z 0-9 . _ -, starting and ending with a letter or digit';

export function isLabelValue(value: string): boolean {
  return LABEL_VALUE.test(value);
}

/** A DNS label from a run id or a peer name: lower case, dots and underscores as dashes. */
function slug(value: string): string {
  return value.toLowerCase().replace(/[._]/g, '-').replace(/^-+|-+$/g, '');
}

export interface RunNames {
  secret: string;
  service: string;
}

/** The run's Secret and Service: `peerlab-<run>`, which is also the subdomain of its pods. */
export function runNames(runId: string): RunNames {
  const base = `peerlab-${slug(runId)}`.slice(0, 63).replace(/-+$/, '');
  return {secret: `${base}-token`, service: base};
}

/**
 * A pod's name: the run, the peer, and its generation (0, then one more at
 * each restart, so that a restarted peer never waits for its old pod's name
 * to be free). Lower case: two peers whose names differ only by case would
 * clash, and the runner refuses the second.
 */
export function podName(runId: string, peer: string, generation: number): string {
  return `peerlab-${slug(runId)}-${slug(peer)}-${generation}`;
}

export interface PodSpecInput {
  runId: string;
  peer: string;
  generation: number;
  image: string;
  /** The container's command; absent: the image's entrypoint. */
  command?: readonly string[];
  /** The peer's flags (the runner's, then the user's). */
  args: readonly string[];
  /** Plain variables for the peer (never the token: that comes from the Secret). */
  env?: Readonly<Record<string, string>>;
  /** With a bootstrap service: the token is also its PEERLAB_BOOTSTRAP_TOKEN. */
  bootstrap: boolean;
  graceSeconds: number;
  coordinator: string;
}

export function secretManifest(runId: string, token: string, coordinator: string): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {name: runNames(runId).secret, labels: {[RUN_LABEL]: runId}, annotations: {[COORDINATOR_ANNOTATION]: coordinator}},
    type: 'Opaque',
    // stringData: the API server encodes it; the token never appears in a pod's spec.
    stringData: {[TOKEN_KEY]: token},
  };
}

/** Headless (no cluster IP): it gives the pods DNS names under the run's subdomain, and balances nothing. */
export function serviceManifest(runId: string, coordinator: string): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {name: runNames(runId).service, labels: {[RUN_LABEL]: runId}, annotations: {[COORDINATOR_ANNOTATION]: coordinator}},
    spec: {
      clusterIP: 'None',
      selector: {[RUN_LABEL]: runId},
      // Peers find each other through the coordinator's bootstrap data, before they are "ready" in Kubernetes' sense.
      publishNotReadyAddresses: true,
    },
  };
}

export function podManifest(input: PodSpecInput): V1Pod {
  const names = runNames(input.runId);
  const tokenFrom = {secretKeyRef: {name: names.secret, key: TOKEN_KEY}};
  const hostname = podName(input.runId, input.peer, input.generation);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: hostname,
      labels: {[RUN_LABEL]: input.runId, [PEER_LABEL]: input.peer},
      annotations: {[COORDINATOR_ANNOTATION]: input.coordinator},
    },
    spec: {
      // A peer that ends stays ended: the coordinator decides about restarts, and sees every exit.
      restartPolicy: 'Never',
      shareProcessNamespace: false,
      terminationGracePeriodSeconds: input.graceSeconds,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      ...(hostname.length <= 63 ? {hostname} : {}),
      subdomain: names.service,
      containers: [
        {
          name: 'peer',
          image: input.image,
          ...(input.command ? {command: [...input.command]} : {}),
          args: [...input.args],
          env: [
            ...Object.entries(input.env ?? {}).map(([name, value]) => ({name, value})),
            {name: 'PEERLAB_TOKEN', valueFrom: tokenFrom},
            ...(input.bootstrap ? [{name: 'PEERLAB_BOOTSTRAP_TOKEN', valueFrom: tokenFrom}] : []),
            {name: 'PEERLAB_RUN_ID', value: input.runId},
            // The address the peer binds and advertises (its --host): the pod's own.
            {name: 'PEERLAB_POD_IP', valueFrom: {fieldRef: {fieldPath: 'status.podIP'}}},
          ],
          volumeMounts: [{name: 'data', mountPath: DATA_MOUNT}],
        },
      ],
      volumes: [{name: 'data', emptyDir: {}}],
    },
  };
}

/** Why this run id or peer name cannot name Kubernetes objects; undefined when it can. */
export function nameProblem(runId: string, peer?: string): string | undefined {
  if (!isLabelValue(runId)) return `run id "${runId}" is not a Kubernetes label value (${LABEL_VALUE_RULE})`;
  if (peer === undefined) return undefined;
  if (!isLabelValue(peer)) return `peer name "${peer}" is not a Kubernetes label value (${LABEL_VALUE_RULE})`;
  const name = podName(runId, peer, 0);
  // The pod name plus room for a few restarts' generations.
  if (name.length > 250 || !DNS_LABEL.test(slug(peer))) return `peer name "${peer}" does not make a pod name (${name})`;
  return undefined;
}
