/**
 * What a peer may declare it reports beyond its commands: the vocabulary the
 * agent protocol's hello and a program's --describe-commands answer use, and
 * the checkers read, so a checker judges only what a peer said it reports.
 */

/**
 * The event families a peer may report (the event contract, ./contract):
 * `membership` member.* and peer.joined; `chat` chat.sent and chat.delivered;
 * `causal-chat` chat.held and deps that name what each message depends on;
 * `traffic` net.counters.
 */
export const EVENT_FAMILIES = ['membership', 'chat', 'causal-chat', 'traffic'] as const;
export type EventFamily = (typeof EVENT_FAMILIES)[number];

/**
 * Fields the contract requires but a peer may not know: without `incarnation`
 * the incarnations it sends mean nothing (it fills 0); without
 * `suspicion-source` the `from` of member.suspect and member.dead means nothing.
 */
export const EVENT_FIELDS = ['incarnation', 'suspicion-source'] as const;
export type EventField = (typeof EVENT_FIELDS)[number];

/**
 * What a peer declares it reports. The network faults it offers are not
 * declared here: they are its `net-*` commands. Its timing is not here
 * either: each process reports it in `peer.started`.
 */
export interface Capabilities {
  events: EventFamily[];
  fields: EventField[];
}

export type Capability = EventFamily | EventField;

/** A peer that declares nothing beyond its commands (a hello without capabilities). */
export const NO_CAPABILITIES: Capabilities = {events: [], fields: []};

export function declares(capabilities: Capabilities, what: Capability): boolean {
  return (capabilities.events as readonly string[]).includes(what) || (capabilities.fields as readonly string[]).includes(what);
}
