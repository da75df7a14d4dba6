// Starts the bootstrap service on its own HTTP server. Used by the stand-alone CLI
// and by tests; the coordinator may instead mount createBootstrapRouter itself.

import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { listen } from '@peerlab/node-kit/listen';
import express from 'express';
import { allowedAuthorities, guardServer } from '@peerlab/node-kit/host-guard';
import { isLoopback } from '@peerlab/node-kit/loopback';
import { requireBearerToken } from '@peerlab/node-kit/require-token';
import { createBootstrapRouter } from './router.js';
import { BootstrapStore } from './store.js';
import type { PeerStore } from './store.js';

export interface BootstrapServerOptions {
  /** default 127.0.0.1: a test bench has no business listening on the network */
  host?: string;
  /** default 0: the OS picks a free port, read it back from `url` */
  port?: number;
  /**
   * The backend, not yet loaded (see create-store.ts); the server
   * loads it before listening and closes it on close. Omitted = a BootstrapStore
   * on `file`, or in memory.
   */
  store?: PeerStore;
  /** state file for the default store; not together with `store` */
  file?: string;
  /** for the default store: overrides the file's value when given; default 8 for a new state */
  maxpeers?: number;
  /**
   * Bearer token every request must carry. Required beyond loopback (as the
   * coordinator does; generated when absent); on loopback, only if given.
   */
  token?: string;
  /** names besides the listen address(es) that requests may carry in Host/Origin */
  allowedHosts?: readonly string[];
}

export interface BootstrapServer {
  /** e.g. http://127.0.0.1:41234 (no trailing slash) */
  url: string;
  port: number;
  store: PeerStore;
  /** the token requests must carry, if any: show a generated one to the user */
  token: string | undefined;
  /** whether `token` was generated here rather than given */
  tokenGenerated: boolean;
  /** Stops listening, ends connections, waits for pending state writes and closes the store. Idempotent. */
  close(): Promise<void>;
}

// In-flight requests get this long to finish before their connections are cut.
const CLOSE_GRACE_MS = 1000;

export async function startBootstrapServer(options: BootstrapServerOptions = {}): Promise<BootstrapServer> {
  const host = options.host ?? '127.0.0.1';
  if (options.token !== undefined && options.token.trim() === '') throw new RangeError('token: expected a non-empty string');
  if (options.store !== undefined && (options.file !== undefined || options.maxpeers !== undefined)) {
    throw new RangeError('store: give either a store or file/maxpeers, not both');
  }
  const store = options.store ?? new BootstrapStore({ file: options.file, maxpeers: options.maxpeers });
  // Load before listening: a corrupt file or an unreachable database must fail the
  // start, not the first request.
  try {
    await store.load();
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }

  const tokenGenerated = options.token === undefined && !isLoopback(host);
  const token = tokenGenerated ? randomBytes(16).toString('hex') : options.token;

  const app = express();
  app.disable('x-powered-by');
  if (token !== undefined) {
    const why = isLoopback(host) ? 'this bootstrap service requires a token' : 'this bootstrap service listens beyond loopback';
    app.use(requireBearerToken(token, why, 'bootstrap token'));
  }
  app.use(createBootstrapRouter(store));

  const server = createServer(app);
  let allowedHosts: ReadonlySet<string> = new Set();
  guardServer(server, () => allowedHosts);
  let listening: Awaited<ReturnType<typeof listen>>;
  try {
    listening = await listen(server, host, options.port ?? 0);
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
  const { url, port } = listening;
  allowedHosts = allowedAuthorities(host, port, options.allowedHosts);

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const grace = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
      grace.unref();
      try {
        await new Promise<void>((resolve, reject) => {
          server.close((error) => (error ? reject(error) : resolve()));
          // Keep-alive clients (Node's fetch) would otherwise hold close() open.
          server.closeIdleConnections();
        });
      } finally {
        clearTimeout(grace);
      }
      await store.close();
    })();
    return closing;
  };

  return { url, port, store, token, tokenGenerated, close };
}
