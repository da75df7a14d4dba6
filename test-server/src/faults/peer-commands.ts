/**
 * Network faults made by the peers themselves, through their `net-*`
 * commands (applied in each peer's transport, so no root is needed). Only
 * peers the coordinator can reach get commands; a peer that restarts or
 * resumes is given the rules in force again.
 */
import type {Coordinator} from '../coordinator.js';
import type {Link, NetRule} from '../engine/fault-plan.js';
import type {NetworkFaultBackend} from './backend.js';

export type SendCommand = (peer: string, name: string, args: Record<string, unknown>) => Promise<{ok: boolean; error?: {message: string}}>;

type Command = [peer: string, name: string, args: Record<string, unknown>];

/** The links cut by the rules in force, each once. */
export function cutLinks(rules: readonly NetRule[]): Link[] {
  const seen = new Set<string>();
  const links: Link[] = [];
  for (const rule of rules) {
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

export class PeerCommandFaults implements NetworkFaultBackend {
  readonly name = 'peer';

  constructor(
    private readonly coordinator: Coordinator,
    private readonly send: SendCommand,
    private readonly rules: () => readonly NetRule[],
  ) {}

  /** Peers the coordinator can send commands to now. */
  #reachablePeers(): string[] {
    return this.coordinator.runner
      .peers()
      .filter(({name, handle}) => handle.state === 'running' && this.coordinator.hub.isConnected(name))
      .map(({name}) => name);
  }

  async #commandAll(commands: Command[]): Promise<string[]> {
    const replies = await Promise.all(commands.map(([peer, name, args]) => this.send(peer, name, args).then((r) => (r.ok ? undefined : `${peer}: ${r.error?.message ?? 'failed'}`))));
    return replies.filter((r): r is string => r !== undefined);
  }

  cut(links: readonly Link[]): Promise<string[]> {
    return this.#commandAll(this.#cutCommands(links, new Set(this.#reachablePeers())));
  }

  #cutCommands(links: readonly Link[], live: ReadonlySet<string>): Command[] {
    const outs = new Map<string, string[]>();
    const ins = new Map<string, string[]>();
    for (const [from, to] of links) {
      if (live.has(from)) outs.set(from, [...(outs.get(from) ?? []), to]);
      if (live.has(to)) ins.set(to, [...(ins.get(to) ?? []), from]);
    }
    return [
      ...[...outs].map(([peer, peers]): Command => [peer, 'net-cut', {peers, direction: 'out'}]),
      ...[...ins].map(([peer, peers]): Command => [peer, 'net-cut', {peers, direction: 'in'}]),
    ];
  }

  loss(percent: number, links: Link[] | 'all'): Promise<string[]> {
    return this.#commandAll(this.#rateCommands('net-loss', {percent}, links, new Set(this.#reachablePeers())));
  }

  delay(ms: number, jitter: number, links: Link[] | 'all'): Promise<string[]> {
    return this.#commandAll(this.#rateCommands('net-delay', {ms, jitter}, links, new Set(this.#reachablePeers())));
  }

  #rateCommands(command: string, args: Record<string, unknown>, links: Link[] | 'all', live: ReadonlySet<string>): Command[] {
    if (links === 'all') return [...live].map((peer) => [peer, command, args]);
    const byPeer = new Map<string, string[]>();
    for (const [from, to] of links) if (live.has(from)) byPeer.set(from, [...(byPeer.get(from) ?? []), to]);
    return [...byPeer].map(([peer, peers]) => [peer, command, {...args, peers}]);
  }

  /** net-heal on every reachable peer, then the rules again (read after the heal's reply, so a rule added meanwhile is not lost). */
  async heal(): Promise<string[]> {
    const peers = this.#reachablePeers();
    return (
      await Promise.all(
        peers.map(async (peer) => {
          const reply = await this.send(peer, 'net-heal', {});
          return reply.ok ? this.reapply(peer) : [`${peer}: ${reply.error?.message ?? 'failed'}`];
        }),
      )
    ).flat();
  }

  reapply(peer: string): Promise<string[]> {
    const live = new Set([peer]);
    const links = cutLinks(this.rules()).filter(([from, to]) => from === peer || to === peer);
    const commands = this.#cutCommands(links, live);
    for (const rule of this.rules()) {
      if (rule.kind === 'loss') commands.push(...this.#rateCommands('net-loss', {percent: rule.percent}, rule.links, live));
      if (rule.kind === 'delay') commands.push(...this.#rateCommands('net-delay', {ms: rule.ms, jitter: rule.jitter}, rule.links, live));
    }
    return this.#commandAll(commands);
  }

  /** A heal while it was paused did not reach it: clear what it holds, then the rules in force now. */
  async refresh(peers: readonly string[]): Promise<string[]> {
    // A peer without net-heal holds no rules and runs every scenario without network faults:
    // its resume is the signal alone.
    const offersHeal = (name: string) => this.coordinator.hub.get(name)?.commands.some((command) => command.name === 'net-heal') ?? true;
    const problems = await this.#commandAll(peers.filter(offersHeal).map((name): Command => [name, 'net-heal', {}]));
    for (const name of peers) problems.push(...(await this.reapply(name)));
    return problems;
  }
}
