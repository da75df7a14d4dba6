/**
 * The few calls the runner makes to an API server, over @kubernetes/client-node's
 * CoreV1Api and Watch. The library, not plain fetch, because a real cluster's
 * kubeconfig brings its own authentication (client certificates, a CA, bearer
 * tokens, exec and OIDC plugins), which it already speaks; it works as well
 * against a plain-HTTP server (the tests' recording fake), which a kubeconfig
 * names with insecure-skip-tls-verify.
 */
import {ApiException, CoreV1Api, KubeConfig, Watch} from '@kubernetes/client-node';
import type {V1Pod, V1Secret, V1Service} from '@kubernetes/client-node';
import {existsSync} from 'node:fs';
import {homedir} from 'node:os';
import path from 'node:path';
import type {KubernetesSettings} from './settings.js';

export type WatchEvent = {type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'; object: V1Pod};

export interface KubeApi {
  readonly namespace: string;
  /** Where the API server is, for messages. */
  readonly server: string;
  createSecret(body: V1Secret): Promise<void>;
  createService(body: V1Service): Promise<void>;
  createPod(body: V1Pod): Promise<void>;
  /** Resolves false when it was already gone. */
  deletePod(name: string, graceSeconds?: number): Promise<boolean>;
  deleteService(name: string): Promise<boolean>;
  deleteSecret(name: string): Promise<boolean>;
  listPods(labelSelector: string): Promise<{items: V1Pod[]; resourceVersion: string | undefined}>;
  listServices(labelSelector: string): Promise<V1Service[]>;
  listSecrets(labelSelector: string): Promise<V1Secret[]>;
  /** The container's log so far; undefined when the pod is gone. */
  podLog(name: string): Promise<string | undefined>;
  /** Pod events from resourceVersion on; `done` once the stream ends, however it ends. Resolves with its stop. */
  watchPods(labelSelector: string, resourceVersion: string | undefined, onEvent: (event: WatchEvent) => void, done: (error: unknown) => void): Promise<() => void>;
}

/** The API server's words, and what it refused, instead of the library's "Unknown API Status Code!". */
export class KubeApiError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

function explain(action: string, error: unknown): KubeApiError {
  if (error instanceof ApiException) {
    let reason = '';
    try {
      const body = typeof error.body === 'string' ? JSON.parse(error.body) : error.body;
      reason = body?.message ? `: ${body.message}` : '';
    } catch {
      // Not a Status object: the code says enough.
    }
    return new KubeApiError(`${action}: the API server answered ${error.code}${reason}`, error.code);
  }
  return new KubeApiError(`${action}: ${(error as Error)?.message ?? String(error)}`, undefined);
}

function status(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}

/** A kubeconfig to read, or a cluster around us: otherwise there is no cluster to ask. */
export function hasCluster(settings: Pick<KubernetesSettings, 'kubeconfig'>): boolean {
  return Boolean(settings.kubeconfig || process.env['KUBECONFIG'] || process.env['KUBERNETES_SERVICE_HOST'] || existsSync(path.join(homedir(), '.kube', 'config')));
}

/** The kubeconfig, or an error that says which file and why, instead of the library's default of localhost:8080. */
export function loadKubeConfig(settings: Pick<KubernetesSettings, 'kubeconfig'>): KubeConfig {
  if (!hasCluster(settings)) throw new Error('the kubernetes runner has no kubeconfig: give --kubeconfig, set KUBECONFIG, or write ~/.kube/config');
  const config = new KubeConfig();
  const which = settings.kubeconfig ?? process.env['KUBECONFIG'] ?? '~/.kube/config';
  try {
    if (settings.kubeconfig) config.loadFromFile(settings.kubeconfig);
    else config.loadFromDefault();
  } catch (error) {
    throw new Error(`the kubernetes runner cannot read the kubeconfig ${which}: ${(error as Error).message}`);
  }
  if (!config.getCurrentCluster()) throw new Error(`the kubeconfig ${which} names no cluster for its current context ("${config.getCurrentContext()}")`);
  return config;
}

export function connect(settings: Pick<KubernetesSettings, 'kubeconfig' | 'namespace'>): KubeApi {
  const config = loadKubeConfig(settings);
  const context = config.getContextObject(config.getCurrentContext());
  const namespace = settings.namespace ?? context?.namespace ?? 'default';
  const server = config.getCurrentCluster()?.server ?? '(no cluster in the kubeconfig)';
  const core = config.makeApiClient(CoreV1Api);
  const watch = new Watch(config);

  const act = async <T>(action: string, call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      throw explain(action, error);
    }
  };
  const remove = async (action: string, call: () => Promise<unknown>): Promise<boolean> => {
    try {
      await call();
      return true;
    } catch (error) {
      if (status(error) === 404) return false;
      throw explain(action, error);
    }
  };

  return {
    namespace,
    server,
    createSecret: (body) => act(`create secret ${body.metadata?.name}`, async () => void (await core.createNamespacedSecret({namespace, body}))),
    createService: (body) => act(`create service ${body.metadata?.name}`, async () => void (await core.createNamespacedService({namespace, body}))),
    createPod: (body) => act(`create pod ${body.metadata?.name}`, async () => void (await core.createNamespacedPod({namespace, body}))),
    deletePod: (name, graceSeconds) => remove(`delete pod ${name}`, () => core.deleteNamespacedPod({namespace, name, ...(graceSeconds !== undefined ? {gracePeriodSeconds: graceSeconds} : {})})),
    deleteService: (name) => remove(`delete service ${name}`, () => core.deleteNamespacedService({namespace, name})),
    deleteSecret: (name) => remove(`delete secret ${name}`, () => core.deleteNamespacedSecret({namespace, name})),
    listPods: (labelSelector) =>
      act('list pods', async () => {
        const list = await core.listNamespacedPod({namespace, labelSelector});
        return {items: list.items, resourceVersion: list.metadata?.resourceVersion};
      }),
    listServices: (labelSelector) => act('list services', async () => (await core.listNamespacedService({namespace, labelSelector})).items),
    listSecrets: (labelSelector) => act('list secrets', async () => (await core.listNamespacedSecret({namespace, labelSelector})).items),
    podLog: async (name) => {
      try {
        return await core.readNamespacedPodLog({namespace, name, container: 'peer'});
      } catch (error) {
        if (status(error) === 404) return undefined;
        throw explain(`log of pod ${name}`, error);
      }
    },
    watchPods: async (labelSelector, resourceVersion, onEvent, done) => {
      const controller = await watch.watch(
        `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`,
        {labelSelector, allowWatchBookmarks: true, ...(resourceVersion ? {resourceVersion} : {})},
        (type, object) => onEvent({type, object} as WatchEvent),
        done,
      );
      return () => controller.abort();
    },
  };
}
