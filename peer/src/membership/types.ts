export interface Address {
  readonly host: string;
  readonly port: number;
}

export type MemberState = 'alive' | 'suspect' | 'dead' | 'left';

export interface Member {
  readonly name: string;
  readonly address: Address;
  readonly state: MemberState;
  readonly incarnation: number;
  /** Epoch ms of the last state change, as this member saw it. */
  readonly since: number;
}

/** The typed events a membership instance emits; `at` is epoch ms. */
export interface MembershipEvents {
  /** A member was seen for the first time. */
  joined: [{name: string; address: Address; incarnation: number; at: number}];
  /** A member became alive again: it refuted a suspicion, or came back after dead or left. */
  alive: [{name: string; address: Address; incarnation: number; previous: Exclude<MemberState, 'alive'>; at: number}];
  suspect: [{name: string; incarnation: number; from: string; at: number}];
  dead: [{name: string; incarnation: number; from: string; at: number}];
  left: [{name: string; incarnation: number; at: number}];
  /** This member's own join exchanged state with the first of the seeds it was given to answer. */
  contacted: [{via: string; seeds: number; at: number}];
  /** A dead or left member was forgotten after deadReapMs: news of its name is taken afresh from now on. */
  reaped: [{name: string; state: 'dead' | 'left'; incarnation: number; at: number}];
  /** An alive member's incarnation or address changed without a state change (also: this member refuted). */
  updated: [{name: string; address: Address; incarnation: number; reason: 'refute' | 'incarnation' | 'address'; at: number}];
}

export type MembershipEventName = keyof MembershipEvents;

export function formatAddress(address: Address): string {
  return `${address.host}:${address.port}`;
}

/** Parses "host:port" (IPv6 hosts in brackets); returns undefined when it is not one. */
export function parseAddress(text: string): Address | undefined {
  const match = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(text.trim());
  if (!match) return undefined;
  const port = Number(match[3]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return {host: (match[1] ?? match[2])!, port};
}

export function sameAddress(a: Address, b: Address): boolean {
  return a.host === b.host && a.port === b.port;
}
