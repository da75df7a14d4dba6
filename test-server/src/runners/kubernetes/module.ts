/** The kubernetes runner as the factory offers it, made with its settings (flags, config file, KUBECONFIG). */
import type {RunnerModule} from '../runner.js';
import {connect} from './api.js';
import {KUBERNETES_LIMITS, KubernetesRunner, killAllKubernetesPeersNow} from './kubernetes-runner.js';
import {reapKubernetes} from './reap.js';
import type {KubernetesSettings} from './settings.js';
import {settingsProblem} from './settings.js';

export function kubernetesRunner(settings: KubernetesSettings = {}): RunnerModule {
  return {
    kind: 'kubernetes',
    limits: KUBERNETES_LIMITS,
    create: (options) => {
      // The CLI has refused these settings already; a program using the module directly hears it here.
      const problem = settingsProblem(settings);
      if (problem) throw new Error(problem);
      return new KubernetesRunner(options, {...settings, image: settings.image!, coordinatorAddress: settings.coordinatorAddress!}, connect(settings));
    },
    reap: (runId) => reapKubernetes(settings, runId),
    killAllNow: killAllKubernetesPeersNow,
  };
}
