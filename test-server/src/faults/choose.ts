/**
 * Which backend makes a scenario's network faults, decided when it loads:
 * `--faults` over the scenario's `faults:` over the config file's, default
 * auto. Auto takes the peers' own net-* commands when the program offers
 * every one the scenario needs, else the kernel when it can run here, else
 * nothing (the steps are refused, located, with both reasons). Pure: what
 * the machine allows comes in as a KernelSupport.
 */
import type {FaultsBackendName, FaultsMode} from './backend.js';
import type {KernelSupport} from './kernel/nft.js';

/** What the command line and the config file say, and what this machine allows (asked only when needed). */
export interface FaultsChoice {
  flag?: FaultsMode;
  config?: {mode: FaultsMode; file: string; line: number; column: number};
  kernel: () => KernelSupport;
}

/** A network fault step of a scenario, and the net-* commands the program lacks to make it itself. */
export interface NetFaultStep<At> {
  at: At;
  kind: string;
  /** Missing from the program's commands; empty when it offers them all (or its commands are unknown). */
  missing: readonly string[];
  /** The problem the peer backend would report (today's message). */
  peerProblem?: string;
}

export type ChoiceProblem<At> = {at: At | 'faults' | 'peers_per_process' | 'config'; message: string};

export interface BackendChoice<At> {
  backend: FaultsBackendName;
  /** Where the mode came from, for messages. */
  source: 'flag' | 'scenario' | 'config' | 'default';
  problems: ChoiceProblem<At>[];
}

const DELAY_UNAVAILABLE = 'delay is not available with kernel faults: holding packets back needs netem, which this backend does not use; run it with --faults peer and a peer that offers net-delay, or leave the step out';

export function chooseBackend<At>(input: {choice: FaultsChoice; scenario?: FaultsMode; steps: readonly NetFaultStep<At>[]; peersPerProcess: number}): BackendChoice<At> {
  const {choice, steps} = input;
  const mode = choice.flag ?? input.scenario ?? choice.config?.mode ?? 'auto';
  const source = choice.flag ? 'flag' : input.scenario ? 'scenario' : choice.config ? 'config' : 'default';
  const problems: ChoiceProblem<At>[] = [];
  const kernelProblems = (): ChoiceProblem<At>[] => {
    const out: ChoiceProblem<At>[] = [];
    if (input.peersPerProcess > 1) {
      out.push({at: 'peers_per_process', message: `kernel faults tell peers apart by their addresses, and ${input.peersPerProcess} peers in one process share one; use 1 (the default), or --faults peer`});
    }
    for (const step of steps) if (step.kind === 'delay') out.push({at: step.at, message: DELAY_UNAVAILABLE});
    return out;
  };
  if (mode === 'peer') {
    for (const step of steps) if (step.peerProblem) problems.push({at: step.at, message: step.peerProblem});
    return {backend: 'peer', source, problems};
  }
  if (mode === 'kernel') {
    const support = choice.kernel();
    if (!support.ok) {
      // A flag's refusal is the command line's to report, once, before any scenario loads.
      if (source === 'scenario') problems.push({at: 'faults', message: support.reason});
      else if (source === 'config') problems.push({at: 'config', message: support.reason});
    }
    problems.push(...kernelProblems());
    return {backend: 'kernel', source, problems};
  }
  const lacking = steps.filter((s) => s.missing.length > 0);
  if (lacking.length === 0) return {backend: 'peer', source, problems};
  const support = choice.kernel();
  const against = kernelProblems();
  if (support.ok && against.length === 0) return {backend: 'kernel', source, problems};
  const why = !support.ok ? support.reason : input.peersPerProcess > 1 ? `kernel faults cannot tell ${input.peersPerProcess} peers of one process apart` : 'kernel faults cannot make the scenario\'s delay steps';
  for (const step of lacking) problems.push({at: step.at, message: `${step.peerProblem ?? `${step.kind} needs ${step.missing.join(', ')}`}, and kernel faults (nftables) cannot stand in: ${why}`});
  return {backend: 'peer', source, problems};
}
