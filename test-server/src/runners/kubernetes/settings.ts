/**
 * What the kubernetes runner needs besides a run: which cluster and namespace,
 * which image the pods run, and the coordinator's address as a pod reaches it.
 * From flags (--kubeconfig, --namespace, --image, --coordinator-address) or
 * the environment (KUBECONFIG), checked before anything starts.
 */
import {isIP} from 'node:net';
import {networkInterfaces} from 'node:os';
import {isLoopback} from '@peerlab/node-kit/loopback';

export interface KubernetesSettings {
  /** The kubeconfig file; default: KUBECONFIG, else ~/.kube/config. */
  kubeconfig?: string;
  /** Default: the kubeconfig context's namespace, else "default". */
  namespace?: string;
  /** The image every pod runs: it holds the peer (its entrypoint, unless the peer program names a command). */
  image?: string;
  /**
   * The coordinator's URL as a pod reaches it, e.g. http://10.0.0.5 (the
   * coordinator's port is added) or http://10.0.0.5:7400 (it listens there).
   */
  coordinatorAddress?: string;
  /** Seconds a terminated pod has to leave before Kubernetes kills it (terminationGracePeriodSeconds). */
  graceSeconds?: number;
}

/** Why these settings cannot run peers, in words for the user; undefined when they can. */
export function settingsProblem(settings: KubernetesSettings): string | undefined {
  if (!settings.image) return 'the kubernetes runner needs --image (or image: under kubernetes: in the config file): the image that holds the peer (the cluster pulls it; it cannot run files of this machine)';
  const address = settings.coordinatorAddress;
  if (!address) {
    return "the kubernetes runner needs --coordinator-address (or coordinator_address: under kubernetes: in the config file): the coordinator's URL as a pod reaches it (127.0.0.1 inside a pod is the pod itself, so the coordinator must listen on an address the pods can reach)";
  }
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    return `--coordinator-address ${address}: expected a URL such as http://10.0.0.5:7400`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `--coordinator-address ${address}: expected an http or https URL`;
  if (isLoopback(url.hostname.replace(/^\[|\]$/g, '')) || url.hostname === 'localhost') {
    return `--coordinator-address ${address}: a loopback address reaches the pod itself, not the coordinator; give an address of this machine that the pods can reach`;
  }
  if (settings.namespace !== undefined && !DNS_LABEL.test(settings.namespace)) return `--namespace ${settings.namespace}: expected a Kubernetes namespace name (${DNS_LABEL_RULE})`;
  return undefined;
}

export const DNS_LABEL = /^(?=.{1,63}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS_LABEL_RULE = '1-63 characters of a-z 0-9 -, starting and ending with a letter or digit';

/** Where the coordinator listens so that pods reach it at the coordinator address. */
export interface CoordinatorListen {
  host: string;
  /** The address's own port; absent: any, and the runner tells the pods which. */
  port?: number;
  /** The address's name, when it is not the listen address: requests from pods carry it in Host. */
  allowedHosts: string[];
}

/**
 * An address of this machine is listened on alone; a name, or an address in
 * front of this machine (a load balancer, a NAT), on every interface. Either
 * way beyond loopback, so every request needs the run token.
 */
export function coordinatorListen(coordinatorAddress: string): CoordinatorListen {
  const url = new URL(coordinatorAddress);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const own = Object.values(networkInterfaces()).some((addresses) => addresses?.some((a) => a.address === host));
  return {
    host: own ? host : isIP(host) === 6 ? '::' : '0.0.0.0',
    ...(url.port ? {port: Number(url.port)} : {}),
    allowedHosts: own ? [] : [host],
  };
}

/** The coordinator address with the coordinator's own port when it gives none. */
export function podCoordinatorUrl(coordinatorAddress: string, coordinatorUrl: string): string {
  const url = new URL(coordinatorAddress);
  if (!url.port) url.port = new URL(coordinatorUrl).port;
  return url.toString().replace(/\/+$/, '');
}
