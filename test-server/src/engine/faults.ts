/**
 * Faults, as the engine injects them: process faults through the fleet,
 * network faults through each peer's `net-*` commands (applied in the peer's
 * transport, so no root is needed). The injector keeps the network rules in
 * force, so a peer that restarts or resumes gets them again, and records
 * every fault and heal in the history once it has taken effect.
 */
import type {Coordinator} from '../coordinator.js';
import type {CoordinatorEventData} from '@peerlab/events/contract';
import type {FaultRecord, Link, NetRule, PlannedAction} from './fault-plan.js';

export type {Link} from './fault-plan.js';
export {linksBetween, shapeLinks} from './fault-plan.js';

/** Where faults are recorded: the run's history, or nowhere (an interactive `peerlab up`). */
export type RecordFault = <K extends 'fault' | 'peer.kill'>(type: K, data: CoordinatorEventData<K>) => void;

/** How a fault is described in the history beside what it did (see `fault` in the event contract). */
export type FaultDescription = CoordinatorEventData<'fault'>;

export type SendCommand = (peer: string, name: string, args: Record<string, unknown>) => Promise<{ok: boolean; error?: {message: string}}>;

export class FaultInjector {
  constructor(
    private readonly coordinator: Coordinator,
    private readonly record: RecordFault,
    private readonly send: SendCommand,
    /** The network rules in force now (the owner's FaultState): what a restarted, resumed or healed peer gets. */
    private readonly rules: () => readonly NetRule[],
  ) {}

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
      const key = 'peer' in action ? (this.coordinator.fleet.get(action.peer)?.name ?? action.peer) : undefined;
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

  /** Peers the coordinator can send commands to now. */
  #reachablePeers(): string[] {
    return this.coordinator.fleet
      .peers()
      .filter(({name, host}) => host.state === 'running' && this.coordinator.hub.isConnected(name))
      .map(({name}) => name);
  }

  async #commandAll(commands: Array<[peer: string, name: string, args: Record<string, unknown>]>): Promise<string[]> {
    const replies = await Promise.all(commands.map(([peer, name, args]) => this.send(peer, name, args).then((r) => (r.ok ? undefined : `${peer}: ${r.error?.message ?? 'failed'}`))));
    return replies.filter((r): r is string => r !== undefined);
  }

  /** Cuts directed links (added to those already cut) and records them; returns problems, if any. */
  async cut(links: readonly Link[], description: FaultRecord): Promise<string[]> {
    const live = new Set(this.#reachablePeers());
    const problems = await this.#commandAll(this.#cutCommands(links, live));
    this.record('fault', {kind: 'cut', ...description, blocked: [...links]});
    return problems;
  }

  #cutCommands(links: readonly Link[], live: ReadonlySet<string>): Array<[string, string, Record<string, unknown>]> {
    const outs = new Map<string, string[]>();
    const ins = new Map<string, string[]>();
    for (const [from, to] of links) {
      if (live.has(from)) outs.set(from, [...(outs.get(from) ?? []), to]);
      if (live.has(to)) ins.set(to, [...(ins.get(to) ?? []), from]);
    }
    return [
      ...[...outs].map(([peer, peers]): [string, string, Record<string, unknown>] => [peer, 'net-cut', {peers, direction: 'out'}]),
      ...[...ins].map(([peer, peers]): [string, string, Record<string, unknown>] => [peer, 'net-cut', {peers, direction: 'in'}]),
    ];
  }

  async loss(percent: number, links: Link[] | 'all', description: FaultRecord): Promise<string[]> {
    const problems = await this.#commandAll(this.#rateCommands('net-loss', {percent}, links, new Set(this.#reachablePeers())));
    this.record('fault', {kind: 'loss', ...description, rate: percent / 100, links});
    return problems;
  }

  async delay(ms: number, jitter: number, links: Link[] | 'all', description: FaultRecord): Promise<string[]> {
    const problems = await this.#commandAll(this.#rateCommands('net-delay', {ms, jitter}, links, new Set(this.#reachablePeers())));
    this.record('fault', {kind: 'delay', ...description, ms, jitter, links});
    return problems;
  }

  #rateCommands(command: string, args: Record<string, unknown>, links: Link[] | 'all', live: ReadonlySet<string>): Array<[string, string, Record<string, unknown>]> {
    if (links === 'all') return [...live].map((peer) => [peer, command, args]);
    const byPeer = new Map<string, string[]>();
    for (const [from, to] of links) if (live.has(from)) byPeer.set(from, [...(byPeer.get(from) ?? []), to]);
    return [...byPeer].map(([peer, peers]) => [peer, command, {...args, peers}]);
  }

  /**
   * Every reachable peer's network rules back to those in force: net-heal, then the rules again
   * (read after the heal's reply, so a rule added meanwhile is not lost). Recorded as a heal and,
   * when links stay cut, a cut of those links, so the history's reachability stays right.
   */
  async heal(description: FaultRecord = {}): Promise<string[]> {
    const peers = this.#reachablePeers();
    const problems = (
      await Promise.all(
        peers.map(async (peer) => {
          const reply = await this.send(peer, 'net-heal', {});
          return reply.ok ? this.reapply(peer) : [`${peer}: ${reply.error?.message ?? 'failed'}`];
        }),
      )
    ).flat();
    const kept = this.#cutLinks();
    // Loss or delay someone else made (the nemesis's, or the steps') outlives this heal: readers must know.
    const keptRates = this.rules().some((rule) => rule.kind === 'loss' || rule.kind === 'delay');
    this.record('fault', {kind: 'heal', ...description, ...(kept.length > 0 ? {kept} : {}), ...(keptRates ? {kept_rates: true} : {})});
    return problems;
  }

  #cutLinks(): Link[] {
    const seen = new Set<string>();
    const links: Link[] = [];
    for (const rule of this.rules()) {
      if (rule.kind !== 'cut') continue;
      for (const link of rule.links) {
        const key = `${link[0]}\u0000${link[1]}`;
        if (seen.has(key)) continue;
        seen.add(key);
        links.push(link);
      }
    }
    return links;
  }

  /** Gives a peer back the network rules in force, after it restarted, resumed (and was healed) or healed. */
  async reapply(peer: string): Promise<string[]> {
    const live = new Set([peer]);
    const links = this.#cutLinks().filter(([from, to]) => from === peer || to === peer);
    const commands = this.#cutCommands(links, live);
    for (const rule of this.rules()) {
      if (rule.kind === 'loss') commands.push(...this.#rateCommands('net-loss', {percent: rule.percent}, rule.links, live));
      if (rule.kind === 'delay') commands.push(...this.#rateCommands('net-delay', {ms: rule.ms, jitter: rule.jitter}, rule.links, live));
    }
    return this.#commandAll(commands);
  }

  /** Process faults. Each is recorded as a `fault` once done; the fleet records the exit itself. */
  async process(kind: 'kill' | 'terminate' | 'pause' | 'resume' | 'restart', peer: string, description: FaultRecord = {}): Promise<string | undefined> {
    const {fleet, hub} = this.coordinator;
    const host = fleet.get(peer);
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
        host.kill('SIGKILL');
        await host.exited;
        break;
      case 'terminate':
        await host.terminate();
        break;
      case 'pause':
        host.pause();
        break;
      case 'resume': {
        host.resume();
        this.record('fault', {kind, peer, ...description});
        // A heal while it was paused did not reach it: clear what it holds, then the rules in force now.
        // (A restarted process starts clean and needs only the reapply.) A peer without net-heal holds
        // no rules of its own (its faults, if any, come from outside), so there is nothing to clear.
        const holders = host.names.filter((name) => hub.get(name)?.commands.some((c) => c.name === 'net-heal') ?? true);
        const problems = await this.#commandAll(holders.map((name): [string, string, Record<string, unknown>] => [name, 'net-heal', {}]));
        for (const name of host.names) problems.push(...(await this.reapply(name)));
        return problems.length > 0 ? problems.join('; ') : undefined;
      }
      case 'restart': {
        this.record('fault', {kind, peer, ...description});
        // The fleet restarts the whole process: with peer hosts, every peer it carries.
        const fresh = await fleet.restart(peer);
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
