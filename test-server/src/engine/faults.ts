/**
 * Faults, as the engine injects them: process faults through the runner,
 * network faults through the run's backend (each peer's `net-*` commands, or
 * nftables rules in the kernel: test-server/src/faults). The injector keeps the network rules in
 * force, so a peer that restarts or resumes gets them again, and records
 * every fault and heal in the history once it has taken effect.
 */
import type {Coordinator} from '../coordinator.js';
import type {CoordinatorEventData} from '@peerlab/events/contract';
import type {FaultRecord, Link, NetRule, PlannedAction} from './fault-plan.js';
import type {NetworkFaultBackend} from '../faults/backend.js';
import {PeerCommandFaults, cutLinks} from '../faults/peer-commands.js';
import type {SendCommand} from '../faults/peer-commands.js';
import {KernelFaults} from '../faults/kernel/kernel-faults.js';
import {RunnerError} from '../runners/runner.js';

/** A pause of a paused peer (or a resume of a running one) changes nothing, and is recorded as asked. */
function refused(error: unknown): void {
  if (!(error instanceof RunnerError) || (error.code !== 'not-running' && error.code !== 'not-paused')) throw error;
}

export type {Link} from './fault-plan.js';
export {linksBetween, shapeLinks} from './fault-plan.js';

/** Where faults are recorded: the run's history, or nowhere (an interactive `peerlab up`). */
export type RecordFault = <K extends 'fault' | 'peer.kill'>(type: K, data: CoordinatorEventData<K>) => void;

/** How a fault is described in the history beside what it did (see `fault` in the event contract). */
export type FaultDescription = CoordinatorEventData<'fault'>;

export type {SendCommand} from '../faults/peer-commands.js';

export class FaultInjector {
  /** The run's network fault backend: the kernel's rules when the coordinator holds a table, else the peers' net-* commands. */
  readonly #net: NetworkFaultBackend;

  constructor(
    private readonly coordinator: Coordinator,
    private readonly record: RecordFault,
    send: SendCommand,
    /** The network rules in force now (the owner's FaultState): what a restarted, resumed or healed peer gets. */
    private readonly rules: () => readonly NetRule[],
  ) {
    this.#net = coordinator.kernelTable ? new KernelFaults(coordinator.kernelTable, rules) : new PeerCommandFaults(coordinator, send, rules);
  }

  /** Per process (a peer host's name): the last action queued on it, settled. */
  readonly #tails = new Map<string, Promise<unknown>>();

  /**
   * Carries out planned actions one after another (the history then shows them in the plan's order);
   * returns the problems. A process action also waits for every action queued earlier on the same
   * process, by any caller (the steps, the nemesis, its recoveries): queued at once, in the order
   * planned, so the actions on a peer happen in the order the planner's state assumes. A step's kill
   * that lands while a recovery restarts the peer then kills the restarted process, not nothing.
   */
  async apply(actions: readonly PlannedAction[]): Promise<string[]> {
    let previous: Promise<unknown> = Promise.resolve();
    const results: Promise<string[]>[] = [];
    for (const action of actions) {
      const key = 'peer' in action ? (this.coordinator.runner.get(action.peer)?.name ?? action.peer) : undefined;
      const after = key === undefined ? previous : Promise.all([previous, this.#tails.get(key)]);
      const result = after.then(() => this.#one(action));
      const settled = result.catch(() => undefined);
      if (key !== undefined) {
        this.#tails.set(key, settled);
        void settled.then(() => {
          if (this.#tails.get(key) === settled) this.#tails.delete(key);
        });
      }
      previous = settled;
      results.push(result);
    }
    return (await Promise.all(results)).flat();
  }

  async #one(action: PlannedAction): Promise<string[]> {
    switch (action.kind) {
      case 'cut':
        return this.cut(action.links, action.record);
      case 'loss':
        return this.loss(action.percent, action.links, action.record);
      case 'delay':
        return this.delay(action.ms, action.jitter, action.links, action.record);
      case 'heal':
        return this.heal(action.record);
      default: {
        if (action.skipped !== undefined) {
          // Recorded all the same: the history shows every fault planned, in order.
          this.record('fault', {kind: action.kind, peer: action.peer, skipped: action.skipped, ...action.record});
          return [];
        }
        const problem = await this.process(action.kind, action.peer, action.record);
        return problem ? [problem] : [];
      }
    }
  }

  /** Cuts directed links (added to those already cut) and records them; returns problems, if any. */
  async cut(links: readonly Link[], description: FaultRecord): Promise<string[]> {
    const problems = await this.#net.cut(links);
    this.record('fault', {kind: 'cut', ...description, blocked: [...links]});
    return problems;
  }

  async loss(percent: number, links: Link[] | 'all', description: FaultRecord): Promise<string[]> {
    const problems = await this.#net.loss(percent, links);
    this.record('fault', {kind: 'loss', ...description, rate: percent / 100, links});
    return problems;
  }

  async delay(ms: number, jitter: number, links: Link[] | 'all', description: FaultRecord): Promise<string[]> {
    // The loader refuses a delay the run's backend cannot make; this is the last word if one gets through.
    const problems = this.#net.delay ? await this.#net.delay(ms, jitter, links) : [`delay is not available with ${this.#net.name} faults`];
    this.record('fault', {kind: 'delay', ...description, ms, jitter, links});
    return problems;
  }

  /**
   * The network back to the rules in force. Recorded as a heal and, when links
   * stay cut, a cut of those links, so the history's reachability stays right.
   */
  async heal(description: FaultRecord = {}): Promise<string[]> {
    const problems = await this.#net.heal();
    const kept = cutLinks(this.rules());
    // Loss or delay someone else made (the nemesis's, or the steps') outlives this heal: readers must know.
    const keptRates = this.rules().some((rule) => rule.kind === 'loss' || rule.kind === 'delay');
    this.record('fault', {kind: 'heal', ...description, ...(kept.length > 0 ? {kept} : {}), ...(keptRates ? {kept_rates: true} : {})});
    return problems;
  }

  /** Gives a peer back the network rules in force, after it restarted, resumed (and was healed) or healed. */
  reapply(peer: string): Promise<string[]> {
    return this.#net.reapply(peer);
  }

  /** Process faults. Each is recorded as a `fault` once done; the runner's exit event records the exit itself. */
  async process(kind: 'kill' | 'terminate' | 'pause' | 'resume' | 'restart', peer: string, description: FaultRecord = {}): Promise<string | undefined> {
    const {runner, hub} = this.coordinator;
    const host = runner.get(peer);
    if (!host) return `${peer} was never started`;
    const signal = {kill: 'SIGKILL', terminate: 'SIGTERM', pause: 'SIGSTOP', resume: 'SIGCONT', restart: 'SIGKILL'}[kind];
    if (kind === 'resume' ? host.state !== 'paused' : !host.alive && kind !== 'restart') {
      // Recorded all the same: a nemesis's recovery can find its victim already restarted by a step,
      // and the history should still show every fault it attempted, in order.
      const problem = `${peer} is not ${kind === 'resume' ? 'paused' : 'running'}`;
      this.record('fault', {kind, peer, skipped: problem, ...description});
      return problem;
    }
    if (host.alive) this.record('peer.kill', {peer, signal});
    switch (kind) {
      case 'kill':
        await runner.kill(peer);
        break;
      case 'terminate':
        await runner.terminate(peer);
        break;
      case 'pause':
        await runner.pause(peer).catch(refused);
        break;
      case 'resume': {
        await runner.resume(peer).catch(refused);
        this.record('fault', {kind, peer, ...description});
        // A heal while it was paused may not have reached it. (A restarted process starts clean and needs only the reapply.)
        const problems = await this.#net.refresh(host.names);
        return problems.length > 0 ? problems.join('; ') : undefined;
      }
      case 'restart': {
        this.record('fault', {kind, peer, ...description});
        // The runner restarts the whole process: with peer hosts, every peer it carries.
        const fresh = await runner.restart(peer);
        try {
          await hub.waitForRegistered(fresh.names, this.coordinator.registerTimeoutMs);
        } catch (error) {
          return (error as Error).message;
        }
        for (const name of fresh.names) await this.reapply(name);
        return undefined;
      }
    }
    this.record('fault', {kind, peer, ...description});
    return undefined;
  }
}
