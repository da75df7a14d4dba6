/**
 * Connects a running peer to the coordinator through the client agent: the
 * agent gets the peer's command registry, a snapshot function, and every
 * membership and chat event. The agent itself knows nothing of chat or SWIM.
 */
import {Agent} from '@peerlab/client-agent';
import type {Capabilities, Capability, EventDataFor, HelloAck, Registry, Snapshot} from '@peerlab/client-agent';
import {declares} from '@peerlab/client-agent';
import type {CommandContext, ScriptNesting} from './commands.js';
import {agentFileAccess} from './file-access.js';
import {SHELL, SHELL_WITHHELD, createRegistry, parseCommandLine} from './commands.js';
import {formatAddress} from './membership/types.js';
import {MAX_CHAT_DEPS} from './membership/messages.js';
import type {Peer} from './peer.js';
import type {Chat} from './chat/chat.js';

export const PEER_VERSION = '0.1.0';

/**
 * Everything this peer reports, declared in its hello and its
 * --describe-commands answer: the checkers judge only what a peer declares,
 * so leaving one out would turn its checks into unknowns.
 */
export const PEER_CAPABILITIES: Capabilities = {
  events: ['membership', 'chat', 'causal-chat', 'traffic'],
  fields: ['incarnation', 'suspicion-source'],
};

export interface AgentLinkOptions {
  url: string;
  token: string;
  graceMs: number;
  /** The peer's own folder, the only place the agent's file commands reach; none without it. */
  dataDir?: string | undefined;
  /** What the agent declares and reports (default: everything, PEER_CAPABILITIES); see limitCapabilities. */
  capabilities?: Capabilities | undefined;
  exit(code: number, reason: string): void;
}

/**
 * `--capabilities a,b,...`: this peer declaring, and reporting, only these
 * of PEER_CAPABILITIES, as a simpler implementation would; so the harness's
 * handling of a peer that reports less is tested against a real process. An
 * undeclared event family is not sent at all; an undeclared field, which the
 * contract still requires, is sent as a value that says nothing (incarnation
 * 0, the observer itself as `from`).
 */
export function limitCapabilities(names: readonly string[]): Capabilities {
  const known: readonly string[] = [...PEER_CAPABILITIES.events, ...PEER_CAPABILITIES.fields];
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length > 0) throw new Error(`unknown capability ${unknown.join(', ')}; expected some of ${known.join(', ')}`);
  return {events: PEER_CAPABILITIES.events.filter((n) => names.includes(n)), fields: PEER_CAPABILITIES.fields.filter((n) => names.includes(n))};
}

export function snapshotOf(peer: Peer): Snapshot {
  const messages = peer.chat.messages();
  return {
    peer: peer.membership.name,
    time: Date.now(),
    members: peer.membership.all().map((m) => ({name: m.name, address: formatAddress(m.address), state: m.state, incarnation: m.incarnation})),
    messages: {count: messages.length, ids: messages.map((m) => m.id)},
    extra: {checksum: peer.membership.checksum(), duplicates: peer.chat.duplicates, malformed: peer.transport.stats.malformed},
  };
}

/**
 * The commands the coordinator may send, as `hello` lists them. The shell is
 * not among them at all (only the prompt's registry has it); it is withheld by
 * name, so asking for it says why instead of "unknown command".
 */
export function agentRegistry(): Registry<CommandContext> {
  return createRegistry().withhold(SHELL, SHELL_WITHHELD);
}

/**
 * Subscribes the agent to the peer's events and starts connecting. Call it
 * before the peer joins, so the coordinator sees the join itself.
 */
export function linkAgent(peer: Peer, options: AgentLinkOptions): {agent: Agent<CommandContext>; registered: Promise<HelloAck>} {
  const registry = agentRegistry();
  const capabilities = options.capabilities ?? PEER_CAPABILITIES;
  const files = agentFileAccess(options.dataDir);
  // A fresh context per script line, carrying the nesting `run` counted: the one shared
  // context used to start every line at the top again, so a script running itself never stopped.
  const contextFor = (script: ScriptNesting | undefined): CommandContext => ({
    peer,
    script,
    files,
    runLine: async (line, nested) => {
      const parsed = parseCommandLine(registry, line);
      if (parsed) await parsed.command.run(parsed.args, contextFor(nested), nested.call);
    },
    // Let the reply reach the coordinator before the process goes.
    exit: (code) => void setTimeout(() => options.exit(code, 'exit command'), 20),
  });
  const context = contextFor(undefined);
  const agent = new Agent<CommandContext>({
    url: options.url,
    token: options.token,
    name: peer.membership.name,
    version: PEER_VERSION,
    address: peer.address,
    registry,
    capabilities,
    context,
    snapshot: () => snapshotOf(peer),
    graceMs: options.graceMs,
    onGiveUp: (reason) => options.exit(3, reason),
    log: (message) => peer.log.debug('agent', message),
  });
  // Each event as the contract (@peerlab/events/contract) has it: a renamed field fails the build here.
  const {membership} = peer;
  const reports = (what: Capability) => declares(capabilities, what);
  const inc = (n: number) => (reports('incarnation') ? n : 0);
  const from = (name: string) => (reports('suspicion-source') ? name : membership.name);
  if (reports('membership')) {
    membership.on('joined', (e) => agent.emit('member.joined', {name: e.name, address: formatAddress(e.address), incarnation: inc(e.incarnation)}));
    membership.on('alive', (e) => agent.emit('member.alive', {name: e.name, address: formatAddress(e.address), incarnation: inc(e.incarnation), previous: e.previous}));
    membership.on('suspect', (e) => agent.emit('member.suspect', {name: e.name, incarnation: inc(e.incarnation), from: from(e.from)}));
    membership.on('dead', (e) => agent.emit('member.dead', {name: e.name, incarnation: inc(e.incarnation), from: from(e.from)}));
    membership.on('left', (e) => agent.emit('member.left', {name: e.name, incarnation: inc(e.incarnation)}));
    membership.on('updated', (e) => agent.emit('member.updated', {name: e.name, address: formatAddress(e.address), incarnation: inc(e.incarnation), reason: e.reason}));
    membership.on('reaped', (e) => agent.emit('member.reaped', {name: e.name, state: e.state, incarnation: inc(e.incarnation)}));
    // When this peer became part of the group: the instant convergence is timed from.
    membership.on('contacted', ({via, seeds}) => agent.emit('peer.joined', {via, seeds}));
  }
  if (reports('chat')) reportChat(peer.chat, (type, data) => agent.emit(type, data), reports('causal-chat'));
  const c = peer.config;
  // The knobs the harness's timing model reads: it learns them from the peer, so a peer in any language is judged by its own settings.
  const timing = {
    probeIntervalMs: c.probeIntervalMs,
    suspicionMult: c.suspicionMult,
    suspicionMaxTimeoutMult: c.suspicionMaxTimeoutMult,
    gossipIntervalMs: c.gossipIntervalMs,
    gossipNodes: c.gossipNodes,
    retransmitMult: c.retransmitMult,
    pushPullIntervalMs: c.pushPullIntervalMs,
    chatSyncIntervalMs: c.chatSyncIntervalMs,
    awarenessMaxMultiplier: c.awarenessMaxMultiplier,
  };
  agent.emit('peer.started', {address: peer.address, incarnation: inc(membership.self.incarnation), profile: c.profile, timing});
  if (reports('traffic')) reportCounters(peer, agent);
  return {agent, registered: agent.start()};
}

/** Where a peer's events go: the agent, or a test's list. */
export type EventSink = <T extends 'chat.sent' | 'chat.delivered' | 'chat.held'>(type: T, data: EventDataFor<T>) => void;

/**
 * The chat's events as the contract (@peerlab/events/contract) has them: sent, delivered and held, with ids and deps.
 * Without `causal`, no chat.held and no deps: what a peer without causal chat would send.
 */
export function reportChat(chat: Chat, emit: EventSink, causal = true): void {
  const deps = (list: string[]) => (causal ? list : []);
  chat.on('sent', (m) => emit('chat.sent', {id: m.id, sender: m.sender, seq: m.seq, text: m.text, deps: deps(m.deps), ...(m.replyTo !== undefined ? {reply_to: m.replyTo} : {})}));
  chat.on('delivered', (m) => emit('chat.delivered', {id: m.id, sender: m.sender, seq: m.seq, sentAt: m.sentAt, deps: deps(m.deps)}));
  // `missing` can name its sender's previous message besides a full list of deps: one over the contract's bound, kept to it.
  if (causal) chat.on('held', ({message: m, missing}) => emit('chat.held', {id: m.id, sender: m.sender, seq: m.seq, deps: m.deps, missing: missing.slice(0, MAX_CHAT_DEPS)}));
}

/**
 * The transport's counters, cumulative, every countersIntervalMs: the
 * checkers turn them into packets and bytes per second. Unref'd, so it never
 * holds a closing process open.
 */
function reportCounters(peer: Peer, agent: Agent<CommandContext>): void {
  const every = peer.config.countersIntervalMs;
  if (!(every > 0)) return;
  const {stats} = peer.transport;
  setInterval(() => agent.emit('net.counters', {udpOut: stats.udpOut, udpOutBytes: stats.udpOutBytes, tcpOut: stats.tcpOut, tcpOutBytes: stats.tcpOutBytes}), every).unref();
}
