/**
 * The one place that knows every runner by kind: `--runner` and the config
 * file's `runner:` name one, and everything else gets it from here. A kind
 * whose module is not built yet is known by name, so a flag or config file
 * naming it gets a plain answer instead of "unknown".
 */
import type {Runner, RunnerKind, RunnerModule, RunnerOptions} from './runner.js';
import {RUNNER_KINDS} from './runner.js';
import {localRunner} from './local/module.js';
import {kubernetesRunner} from './kubernetes/module.js';
import {swarmRunner} from './swarm/module.js';
import type {KubernetesSettings} from './kubernetes/settings.js';
import {settingsProblem} from './kubernetes/settings.js';
import type {ReadySettings} from './kubernetes/plan.js';

const modules: Partial<Record<RunnerKind, RunnerModule>> = {
  local: localRunner,
  swarm: swarmRunner,
  // Until the CLI gives it its flags, it has what the environment says (KUBECONFIG): enough for `peerlab down`.
  kubernetes: kubernetesRunner(),
};

/**
 * The kubernetes runner's settings (its flags), given once by the CLI before
 * the run starts: the coordinator makes runners by kind alone.
 */
export function configureKubernetes(settings: KubernetesSettings): RunnerModule {
  kubernetes = settingsProblem(settings) === undefined ? (settings as ReadySettings) : undefined;
  modules.kubernetes = kubernetesRunner(settings);
  return modules.kubernetes;
}

let kubernetes: ReadySettings | undefined;

/** The kubernetes runner's settings as configured, once they can run peers (for --dry-run). */
export function kubernetesSettings(): ReadySettings | undefined {
  return kubernetes;
}

export function isRunnerKind(value: string): value is RunnerKind {
  return (RUNNER_KINDS as readonly string[]).includes(value);
}

/** The module of a kind, or why it cannot be had. */
export function runnerModule(kind: RunnerKind): RunnerModule | {unavailable: string} {
  return modules[kind] ?? {unavailable: `the ${kind} runner is not available yet; available: ${availableRunners().map((m) => m.kind).join(', ')}`};
}

/** Every runner this build has. */
export function availableRunners(): RunnerModule[] {
  return RUNNER_KINDS.flatMap((kind) => modules[kind] ?? []);
}

/** A runner for one run; throws for a kind this build does not have (the CLI refuses those before anything starts). */
export function createRunner(kind: RunnerKind, options: RunnerOptions): Runner {
  const module = runnerModule(kind);
  if ('unavailable' in module) throw new Error(module.unavailable);
  return module.create(options);
}

/** Synchronous stop of every peer of every runner in this process: the last resort on the way out. */
export function killAllPeersNow(): void {
  for (const module of availableRunners()) module.killAllNow();
}
