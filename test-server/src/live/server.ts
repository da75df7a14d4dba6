/**
 * A server of its own for the live view, for `peerlab run --watch`: each
 * scenario has its own coordinator on its own port, and the view stays at
 * one address for the whole run, switching to each scenario's history as it
 * begins. Loopback only and read-only: the scenario drives the peers.
 */
import {createServer} from 'node:http';
import express from 'express';
import {Server} from 'socket.io';
import {listen} from '@peerlab/node-kit/listen';
import {allowedAuthorities, guardServer} from '@peerlab/node-kit/host-guard';
import {liveNamespace} from '@peerlab/report';
import {PRE_AUTH_MAX_BYTES} from '../hub/frame-limit.js';
import {LiveView} from './live-view.js';

export interface LiveServer {
  /** http://127.0.0.1:<port>/view/ */
  url: string;
  view: LiveView;
  close(): Promise<void>;
}

export async function startLiveServer(options: {port?: number} = {}): Promise<LiveServer> {
  const host = '127.0.0.1';
  const app = express();
  app.disable('x-powered-by');
  const server = createServer(app);
  let allowedHosts: ReadonlySet<string> = new Set();
  guardServer(server, () => allowedHosts);
  const io = new Server(server, {serveClient: false, transports: ['websocket'], maxHttpBufferSize: PRE_AUTH_MAX_BYTES});
  // Only the view's namespace: nothing may connect to the default one.
  io.use((_socket, next) => next(new Error(`only ${liveNamespace} is served here`)));
  const view = new LiveView(io);
  app.use('/view', view.router());
  app.get('/', (_req, res) => res.redirect(302, '/view/'));
  const {url, port} = await listen(server, host, options.port ?? 0);
  allowedHosts = allowedAuthorities(host, port);
  return {
    url: `${url}/view/`,
    view,
    close: async () => {
      view.close();
      await new Promise<void>((resolve) => void io.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
