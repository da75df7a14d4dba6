/**
 * Talks to the bootstrap data service: announces this peer and gets contacts
 * to join through. The service is optional; a peer can also be given seeds
 * with --join.
 */
import type {Address} from './membership/types.js';
import {parseAddress} from './membership/types.js';

export interface BootstrapContact {
  name: string;
  address: string;
  since: number;
}

async function call(base: string, path: string, body: unknown, timeoutMs: number): Promise<unknown> {
  const url = base.replace(/\/+$/, '') + path;
  const response = await fetch(url, {
    method: 'POST',
    // A coordinator listening beyond loopback wants its run token on every request.
    headers: {'content-type': 'application/json', ...(process.env.PEERLAB_TOKEN ? {authorization: `Bearer ${process.env.PEERLAB_TOKEN}`} : {})},
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const payload = (await response.json().catch(() => undefined)) as {error?: {message?: string}} | undefined;
  if (!response.ok) throw new Error(`bootstrap ${path} answered ${response.status}: ${payload?.error?.message ?? 'no details'}`);
  return payload;
}

/** Registers with the service and returns the contacts it gave, as addresses. */
export async function bootstrapJoin(base: string, name: string, address: string, timeoutMs = 5000): Promise<{contacts: BootstrapContact[]; seeds: Address[]}> {
  const payload = (await call(base, '/join', {name, address}, timeoutMs)) as {contacts?: BootstrapContact[]};
  const contacts = Array.isArray(payload?.contacts) ? payload.contacts : [];
  const seeds = contacts.map((c) => parseAddress(c.address)).filter((a): a is Address => a !== undefined);
  return {contacts, seeds};
}

export async function bootstrapLeave(base: string, name: string, timeoutMs = 2000): Promise<void> {
  await call(base, '/leave', {name}, timeoutMs);
}
