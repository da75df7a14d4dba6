/**
 * What a runner cannot do, as data: the scenario loader (pure, no process
 * code) reads it to refuse a scenario the chosen runner could not carry out,
 * before any peer starts. Each field present is a reason, in words for the
 * user, why that runner cannot; absent means it can.
 */

export interface RunnerLimits {
  /** It cannot freeze a peer and let it go on (pause/resume steps, a nemesis's pause). */
  readonly pause?: string;
  /** It cannot kill a peer hard, without its goodbye (kill steps: SIGKILL, or what stands for it). */
  readonly signals?: string;
  /** It runs one peer per process only (peers_per_process above 1). */
  readonly peersPerProcess?: string;
  /** Its peers cannot each have their own address on this machine's loopback (faults: kernel). */
  readonly kernelFaults?: string;
}

/** A runner as the loader sees it: its name for messages, and its limits. */
export interface RunnerTraits {
  readonly kind: string;
  readonly limits: RunnerLimits;
}

/** The sentence a located problem ends with: "the swarm runner cannot pause: <reason>". */
export function cannot(runner: RunnerTraits, what: string, reason: string): string {
  return `the ${runner.kind} runner cannot ${what}: ${reason}`;
}
