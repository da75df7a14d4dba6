/**
 * Faults, as the engine injects them: process faults through the fleet,
 * network faults through each peer's `net-*` commands (applied in the peer's
 * transport, so no root is needed). The injector keeps the network rules in
 * force, so a peer that restarts or resumes gets them again, and records
 * every fault and heal in the history once it has taken effect.
 */
import type {Coordinator} from '../coordinator.js';
import type {Random} from './random.js';
import type {CoordinatorEventData} from '@peerlab/events/contract';

/** Where faults are recorded: the run's history, or nowhere (an interactive `peerlab up`). */
export type RecordFault = <K extends 'fault' | 'peer.kill'>(type: K, data: CoordinatorEventData<K>) => void;

/** How a fault is described in the history beside what it did (see `fault` in the event contract). */
export type FaultDescription = CoordinatorEventData<'fault'>;
/** Only what tags a fault: the nemesis round that made it. */
export type FaultTag = Pick<FaultDescription, 'nemesis'>;

export type Link = [from: string, to: string];

export type SendCommand = (peer: string, name: string, args: Record<string, unknown>) => Promise<{ok: boolean; error?: {message: string}}>;

interface RateRule {
  percent: number;
  links: Link[] | 'all';
}

interface DelayRule {
  ms: number;
  jitter: number;
  links: Link[] | 'all';
}

/** Every link between members of different groups, both ways. */
export function linksBetween(groups: readonly (readonly string[])[]): Link[] {
  const links: Link[] = [];
  groups.forEach((a, i) =>
    groups.forEach((b, j) => {
      if (i === j) return;
      for (const from of a) for (const to of b) links.push([from, to]);
    }),
  );
  return links;
}

function shuffled<T>(items: readonly T[], random: Random): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random.next() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * Jepsen's partition shapes over the given peers, members drawn from the seed.
 * Returns the links to cut and the groups as a person would describe them.
 */
export function shapeLinks(shape: string, peers: readonly string[], random: Random): {links: Link[]; groups: string[][]} {
  const ring = shuffled([...peers].sort(), random);
  const n = ring.length;
  switch (shape) {
    case 'halves': {
      const groups = [ring.slice(0, Math.floor(n / 2)), ring.slice(Math.floor(n / 2))];
      return {links: linksBetween(groups), groups};
    }
    case 'random-node': {
      const groups = [ring.slice(0, 1), ring.slice(1)];
      return {links: linksBetween(groups), groups};
    }
    case 'bridge': {
      // The first peer sees both halves; the halves do not see each other.
      const [bridge, ...rest] = ring;
      const halves = [rest.slice(0, Math.floor(rest.length / 2)), rest.slice(Math.floor(rest.length / 2))];
      return {links: linksBetween(halves), groups: [...halves.map((h) => [...h]), [bridge!]]};
    }
    case 'majorities-ring': {
      // Each peer sees the r nearest on each side of a ring: a majority, and no two the same one.
      const majority = Math.floor(n / 2) + 1;
      const r = Math.ceil((majority - 1) / 2);
      const links: Link[] = [];
      const groups: string[][] = [];
      ring.forEach((from, i) => {
        const sees = [from];
        ring.forEach((to, j) => {
          const distance = Math.min(Math.abs(i - j), n - Math.abs(i - j));
          if (i === j) return;
          if (distance > r) links.push([from, to]);
          else sees.push(to);
        });
        groups.push(sees);
      });
      return {links, groups};
    }
    default:
      throw new Error(`unknown partition shape ${shape}`);
  }
}

export class FaultInjector {
  readonly #cut = new Set<string>();
  #loss: RateRule[] = [];
  #delay: DelayRule[] = [];

  constructor(
    private readonly coordinator: Coordinator,
    private readonly record: RecordFault,
    private readonly send: SendCommand,
  ) {}

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
  async cut(links: readonly Link[], description: FaultDescription): Promise<string[]> {
    for (const [from, to] of links) this.#cut.add(`${from}\u0000${to}`);
    const live = new Set(this.#reachablePeers());
    const problems = await this.#commandAll(this.#cutCommands(links, live));
    this.record('fault', {...description, blocked: [...links]});
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

  async loss(percent: number, links: Link[] | 'all', description: FaultDescription): Promise<string[]> {
    this.#loss.push({percent, links});
    const problems = await this.#commandAll(this.#rateCommands('net-loss', {percent}, links, new Set(this.#reachablePeers())));
    this.record('fault', {...description, rate: percent / 100, links});
    return problems;
  }

  async delay(ms: number, jitter: number, links: Link[] | 'all', description: FaultDescription): Promise<string[]> {
    this.#delay.push({ms, jitter, links});
    const problems = await this.#commandAll(this.#rateCommands('net-delay', {ms, jitter}, links, new Set(this.#reachablePeers())));
    this.record('fault', {...description, ms, jitter, links});
    return problems;
  }

  #rateCommands(command: string, args: Record<string, unknown>, links: Link[] | 'all', live: ReadonlySet<string>): Array<[string, string, Record<string, unknown>]> {
    if (links === 'all') return [...live].map((peer) => [peer, command, args]);
    const byPeer = new Map<string, string[]>();
    for (const [from, to] of links) if (live.has(from)) byPeer.set(from, [...(byPeer.get(from) ?? []), to]);
    return [...byPeer].map(([peer, peers]) => [peer, command, {...args, peers}]);
  }

  async heal(description: FaultTag = {}): Promise<string[]> {
    this.#cut.clear();
    this.#loss = [];
    this.#delay = [];
    const problems = await this.#commandAll(this.#reachablePeers().map((peer) => [peer, 'net-heal', {}]));
    this.record('fault', {kind: 'heal', ...description});
    return problems;
  }

  /** Gives a peer back the network rules in force, after it restarted or resumed. */
  async reapply(peer: string): Promise<string[]> {
    const live = new Set([peer]);
    const links = [...this.#cut].map((key) => key.split('\u0000') as Link).filter(([from, to]) => from === peer || to === peer);
    const commands = this.#cutCommands(links, live);
    for (const rule of this.#loss) commands.push(...this.#rateCommands('net-loss', {percent: rule.percent}, rule.links, live));
    for (const rule of this.#delay) commands.push(...this.#rateCommands('net-delay', {ms: rule.ms, jitter: rule.jitter}, rule.links, live));
    return this.#commandAll(commands);
  }

  /** Process faults. Each is recorded as a `fault` once done; the fleet records the exit itself. */
  async process(kind: 'kill' | 'terminate' | 'pause' | 'resume' | 'restart', peer: string, description: FaultTag = {}): Promise<string | undefined> {
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
      case 'resume':
        host.resume();
        this.record('fault', {kind, peer, ...description});
        await this.reapply(peer);
        return undefined;
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
