/**
 * Talks to the bootstrap data service: announces this peer and gets contacts
 * to join through. The service is optional; a peer can also be given seeds
 * with --join.
 */
import http from 'node:http';
import type {Address} from './membership/types.js';
import {parseAddress} from './membership/types.js';

export interface BootstrapContact {
  name: string;
  address: string;
  since: number;
}

/**
 * The connections every peer of this process shares with plain-http services, kept alive and few. A peer host
 * carries fifty peers whose joins ask the service at once; each opened a connection of its own, and the
 * coordinator that serves the service for its run accepts one connection per turn of its event loop, which
 * under a forming group's flood of events is about eight a second: with 2,000 peers in 40 hosts, 1,013 of
 * 2,000 joins waited out their 30 s in its accept queue and joined minutes late. Here a host's requests wait
 * their turn in this process and go over connections the service has already accepted.
 */
const MAX_SOCKETS_PER_SERVICE = 4;
let pool: http.Agent | undefined;

/**
 * node:http rather than fetch: fetch loads undici on first use, which costs a
 * peer more start-up CPU than the rest of its code, and peers start by the hundred.
 */
async function call(base: string, path: string, body: unknown, timeoutMs: number): Promise<unknown> {
  try {
    return await callOnce(base, path, body, timeoutMs);
  } catch (error) {
    // A kept-alive connection the service closed just as this request went out on it: asked again, on a fresh one.
    if ((error as {reusedSocket?: boolean}).reusedSocket === true) return callOnce(base, path, body, timeoutMs);
    throw error;
  }
}

async function callOnce(base: string, path: string, body: unknown, timeoutMs: number): Promise<unknown> {
  const url = new URL(base.replace(/\/+$/, '') + path);
  const payload = JSON.stringify(body);
  // TLS is loaded only for an https service: loading it costs every peer start-up time.
  const client = url.protocol === 'https:' ? await import('node:https') : http;
  const agent = url.protocol === 'https:' ? undefined : (pool ??= new http.Agent({keepAlive: true, maxSockets: MAX_SOCKETS_PER_SERVICE}));
  return new Promise((resolve, reject) => {
    // One deadline from now, not the socket's idle timeout: a request may first wait here for a free connection.
    const deadline = setTimeout(() => request.destroy(new Error(`bootstrap ${path} did not answer within ${timeoutMs} ms`)), timeoutMs);
    const settle = <T>(done: (value: T) => void) => (value: T) => {
      clearTimeout(deadline);
      done(value);
    };
    const request = client.request(url, {
      method: 'POST',
      ...(agent ? {agent} : {}),
      headers: {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(payload),
        // Beyond loopback the service wants a token: a stand-alone service its own, the coordinator's the run token.
        ...(bootstrapToken() ? {authorization: `Bearer ${bootstrapToken()}`} : {}),
      },
    }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('error', settle(reject));
      response.on('end', () => {
        clearTimeout(deadline);
        let parsed: {error?: {message?: string}} | undefined;
        try {
          parsed = JSON.parse(text) as typeof parsed;
        } catch {
          parsed = undefined;
        }
        const status = response.statusCode ?? 0;
        if (status < 200 || status >= 300) reject(new Error(`bootstrap ${path} answered ${status}: ${parsed?.error?.message ?? 'no details'}`));
        else resolve(parsed);
      });
    });
    request.on('error', (error: Error & {reusedSocket?: boolean}) => {
      if (request.reusedSocket && (error as NodeJS.ErrnoException).code === 'ECONNRESET') error.reusedSocket = true;
      settle(reject)(error);
    });
    request.end(payload);
  });
}

/** A contact the service gave, its address parsed: whom to join through, and whom a sweep looks for by name. */
export interface BootstrapSeed {
  name: string;
  address: Address;
}

/**
 * Registers with the service and returns the contacts it gave, and those of
 * them with a usable address as seeds. The join waits up to 30 s for the
 * service: the coordinator that serves it answers a thousand newcomers late,
 * not never, and a newcomer that gave up and asked again was one more
 * request in its queue.
 */
export async function bootstrapJoin(base: string, name: string, address: string, timeoutMs = 30_000): Promise<{contacts: BootstrapContact[]; seeds: BootstrapSeed[]}> {
  const payload = (await call(base, '/join', {name, address}, timeoutMs)) as {contacts?: BootstrapContact[]};
  const contacts = Array.isArray(payload?.contacts) ? payload.contacts : [];
  const seeds = contacts.flatMap((c) => {
    const parsed = parseAddress(c.address);
    return parsed ? [{name: c.name, address: parsed}] : [];
  });
  return {contacts, seeds};
}

export async function bootstrapLeave(base: string, name: string, timeoutMs = 2000): Promise<void> {
  await call(base, '/leave', {name}, timeoutMs);
}

function bootstrapToken(): string | undefined {
  return process.env.PEERLAB_BOOTSTRAP_TOKEN || process.env.PEERLAB_TOKEN || undefined;
}
