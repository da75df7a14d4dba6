/**
 * The defence against DNS rebinding: a web page whose own name an attacker
 * re-points at 127.0.0.1 reaches a loopback server, but its requests still
 * carry that name in `Host` (and the page's origin in `Origin`). So every
 * request, plain or upgrade, must name an authority the server is bound to and
 * reachable as, and a browser's `Origin`, when sent, must be one of them too.
 *
 * Applied to the HTTP server itself rather than to an express app, so that
 * whatever else is attached to the server (socket.io's upgrade handler, a
 * future live view) is covered without remembering to add it.
 */
import os from 'node:os';
import {isIPv6} from 'node:net';
import type {IncomingHttpHeaders, IncomingMessage, Server, ServerResponse} from 'node:http';
import type {Duplex} from 'node:stream';
import {isLoopback, isWildcard} from './loopback.js';

export interface Refusal {
  status: number;
  message: string;
  code: string;
  field: 'host' | 'origin';
}

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];

/**
 * `host:port` pairs (lower case, IPv6 bracketed) that requests may name: on
 * loopback the loopback names; on one address that address; on every
 * interface the loopback names and each interface's address. `extra` adds
 * names the server is reached by (a DNS name, a proxy), with the server's
 * port unless they carry their own.
 */
export function allowedAuthorities(bound: string, port: number, extra: readonly string[] = []): Set<string> {
  const names: string[] = [];
  if (isLoopback(bound)) names.push(...LOOPBACK_NAMES, bound);
  else if (isWildcard(bound)) names.push(...LOOPBACK_NAMES, ...interfaceAddresses());
  else names.push(bound);
  const allowed = new Set<string>();
  for (const name of [...names, ...extra]) {
    const authority = parseAuthority(isIPv6(name) ? `[${name}]` : name, port);
    if (authority) allowed.add(authority);
  }
  return allowed;
}

function interfaceAddresses(): string[] {
  return Object.values(os.networkInterfaces())
    .flatMap((list) => list ?? [])
    // A link-local IPv6 address needs a zone to be dialled, and a Host header cannot carry one.
    .filter((i) => i.family === 'IPv4' || i.scopeid === 0 || i.scopeid === undefined)
    .map((i) => (i.family === 'IPv6' ? `[${i.address}]` : i.address));
}

/** `name[:port]` as `name:port`, normalised the way a browser would; undefined if it is not an authority. */
export function parseAuthority(value: string, defaultPort: number): string | undefined {
  if (value === '' || /[\s/?#@\\]/.test(value)) return undefined;
  let url: URL;
  try {
    url = new URL(`http://${value}`);
  } catch {
    return undefined;
  }
  // The URL parser drops a port equal to http's default; an explicit :80 must stay 80.
  const port = url.port !== '' ? url.port : /:\d+$/.test(value) ? '80' : String(defaultPort);
  return `${url.hostname}:${port}`;
}

/** The refusal a request earns, or undefined when its Host (and Origin, if any) are allowed. */
export function checkHostAndOrigin(headers: IncomingHttpHeaders, allowed: ReadonlySet<string>): Refusal | undefined {
  const expected = [...allowed].join(', ');
  const host = headers.host;
  // A Host without a port means http's default port, 80.
  const authority = host === undefined ? undefined : parseAuthority(host, 80);
  if (authority === undefined || !allowed.has(authority)) {
    return {
      status: 421,
      code: 'misdirected',
      field: 'host',
      message: `host: ${host === undefined ? 'missing' : JSON.stringify(host)} is not a name this server answers to; expected one of ${expected || '(none yet)'}`,
    };
  }
  const origin = headers.origin;
  if (origin !== undefined && !allowed.has(originAuthority(origin) ?? '')) {
    return {status: 403, code: 'forbidden-origin', field: 'origin', message: `origin: ${JSON.stringify(origin)} is another site; cross-site requests are refused`};
  }
  return undefined;
}

function originAuthority(origin: string): string | undefined {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    // "null" (a sandboxed frame, a file) lands here: it is no origin of ours.
    return undefined;
  }
  if (url.protocol !== 'http:' || url.username !== '' || url.pathname !== '/' || origin.endsWith('/')) return undefined;
  return `${url.hostname}:${url.port || '80'}`;
}

function refusalBody(refusal: Refusal): string {
  return JSON.stringify({error: {message: refusal.message, code: refusal.code, field: refusal.field}});
}

function refuseRequest(res: ServerResponse, refusal: Refusal): void {
  const body = refusalBody(refusal);
  res.writeHead(refusal.status, {'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close'});
  res.end(body);
}

function refuseUpgrade(socket: Duplex, refusal: Refusal): void {
  const body = refusalBody(refusal);
  // Nobody else listens on this socket now: an error on it must not become an uncaught one.
  socket.on('error', () => socket.destroy());
  const reason = refusal.status === 421 ? 'Misdirected Request' : 'Forbidden';
  socket.end(
    `HTTP/1.1 ${refusal.status} ${reason}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    () => socket.destroy(),
  );
}

/**
 * Checks every request and upgrade the server receives before any listener
 * sees it. `allowed` is read per request: the port is known only once the
 * server listens, and until then nothing is allowed.
 */
export function guardServer(server: Server, allowed: () => ReadonlySet<string>): void {
  const emit = server.emit.bind(server) as (event: string | symbol, ...args: unknown[]) => boolean;
  // Overriding emit is the one place every listener, present or future, is behind.
  server.emit = ((event: string | symbol, ...args: unknown[]): boolean => {
    if (event === 'request' || event === 'upgrade') {
      const refusal = checkHostAndOrigin((args[0] as IncomingMessage).headers, allowed());
      if (refusal) {
        if (event === 'request') refuseRequest(args[1] as ServerResponse, refusal);
        else refuseUpgrade(args[1] as Duplex, refusal);
        return true;
      }
    }
    return emit(event, ...args);
  }) as Server['emit'];
}
