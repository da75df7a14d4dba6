/**
 * The history: one immutable event per line of `history.jsonl`, for
 * everything the coordinator did and everything a peer reported. It is the
 * single source of truth of a run; verdicts, reports and `peerlab check` are
 * all derived from it. Checkers import only this module.
 */

/** Where an event came from: the coordinator, or a peer (`peer:alice`). */
export type Source = 'coordinator' | `peer:${string}`;

export interface HistoryEvent {
  /** Epoch ms. Coordinator events use its clock, peer events the peer's; all run on one host. */
  t: number;
  src: Source;
  type: string;
  data: Record<string, unknown>;
  /** For peer events: the agent's sequence number. */
  seq?: number;
}

export type Status = 'pass' | 'fail' | 'unknown';

/** What an awaited condition or invariant concluded. */
export interface Verdict {
  status: Status;
  /** One line a person can read: which peer, which expectation, what was seen instead. */
  message: string;
  /** Measured values, e.g. {converge_ms: 812} or {latency_p50_ms: 3, latency_p99_ms: 9}. */
  figures?: Record<string, number>;
  /** The last relevant events, already formatted for a person. */
  evidence?: string[];
}

/** Awaitable conditions, as written in a scenario after normalisation. */
export type Condition =
  | {kind: 'converged'}
  | {kind: 'delivered'}
  | {kind: 'state'; of: string; is: 'alive' | 'suspect' | 'dead' | 'left'; seenBy: string[] | 'all'}
  /** Every failed peer (killed, paused, isolated) is dead in the view of every peer that can still reach the others. */
  | {kind: 'detected'}
  /** A restarted peer is alive in every live view with a higher incarnation than before its restart. */
  | {kind: 'rejoined'; of: string};

/** Invariants a scenario may list; each is checked over the whole history at the end. */
export const invariantNames = ['no-duplicate-delivery', 'per-sender-order', 'no-unsent-delivery', 'no-false-dead', 'no-dead'] as const;
export type InvariantName = (typeof invariantNames)[number];

/*
 * Coordinator event types and their data (src: 'coordinator'):
 *   run.begin      {scenario, file, runId, seed, peers: string[], profile, invariants: string[]}
 *   peer.spawn     {peer, pid}
 *   peer.registered{peer, pid}
 *   peer.exit      {peer, code, signal, unexpectedly}
 *   peer.kill      {peer, signal}            (the coordinator sent a signal: SIGKILL, SIGTERM, SIGSTOP, SIGCONT)
 *   fault          {kind, ...}               a fault injected, at its exact time:
 *                  kind 'kill' | 'terminate' | 'pause' | 'resume' | 'restart'  {peer}
 *                  kind 'partition' | 'isolate' | 'cut'  {blocked: [from, to][]}   directed links now dropped (added to those already cut)
 *                  kind 'loss'  {rate (0..1), links: [from, to][] | 'all'}        packets dropped at random; links stay usable
 *                  kind 'delay' {ms, jitter, links: [from, to][] | 'all'}
 *                  kind 'heal'  {}                                                 every network fault cleared
 *                  (also: shape, groups, targets: how the scenario described it, for people)
 *   step.begin     {path, kind, title, line}
 *   step.end       {path, kind, title, line, status, message?, figures?, durationMs}
 *   command.send   {id, step, peer, name, args}
 *   command.reply  {id, step, peer, ok, result?, error?: {message, code}}
 *   await.begin    {step, condition: Condition, withinMs}
 *   await.end      {step, condition, status, message, figures?}
 *   expect.result  {step, peer, expect, status, message}
 *   peer.gap       {peer, expected, got}      events lost between two batches of a peer
 *   protocol.error {socket, peer?, channel, message}  a malformed agent message, rejected
 *   nemesis        {round, fault, peers?} | {round, problems} | {round, recover, peers, early}  a recovery cut short by the scenario's end
 *                  | {done, rounds, stopped?}
 *   run.end        {status, message}
 *
 * Peer event types (src: 'peer:<name>'), as the reference peer's agent sends them:
 *   peer.started     {address, incarnation, profile}      a new process: its view starts from itself
 *   member.joined    {name, address, incarnation}
 *   member.alive     {name, address, incarnation, previous}
 *   member.suspect   {name, incarnation, from}
 *   member.dead      {name, incarnation, from}
 *   member.left      {name, incarnation}                 (name may be the peer itself: it left)
 *   member.updated   {name, address, incarnation, reason}
 *   member.reaped    {name, state, incarnation}          a dead or left member forgotten: out of this view
 *   chat.sent        {id, sender, seq, text}
 *   chat.delivered   {id, sender, seq, sentAt}
 */
