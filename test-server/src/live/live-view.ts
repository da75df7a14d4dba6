/**
 * The live view of a run: the report's page served at /view/, and a
 * socket.io namespace (`/view`) that sends the page the report's data, built
 * from the history as it grows, and the text of the events it shows.
 *
 * Builds are throttled: at most one every MIN_INTERVAL_MS, and never more
 * than a third of the time (a long history takes longer to build), and only
 * while someone watches. Viewers are read-only; one that shows the run token
 * gets `control` (the page may then drive peers over the REST API). Beyond
 * loopback every viewer must show it, as every REST request must.
 */
import express from 'express';
import type {Request, Router} from 'express';
import type {Namespace, Server, Socket} from 'socket.io';
import type {HistoryEvent} from '@peerlab/checkers/history/types';
import {buildReport, liveIndexHtml, liveNamespace, pageAssets, pageAssetsProblem} from '@peerlab/report';
import type {EventChunk, LiveAccess, LiveHello, ReportData} from '@peerlab/report';
import {tokenMatches} from '@peerlab/node-kit/require-token';

/** The history being written: its events so far, and a signal per new one (HistoryWriter is one). */
export interface LiveSource {
  readonly events: readonly HistoryEvent[];
  on(event: 'event', listener: () => void): unknown;
  off(event: 'event', listener: () => void): unknown;
}

export interface LiveViewOptions {
  /** The run token: a viewer that shows it may control the run. Without one, every viewer is read-only. */
  token?: string;
  /** Every viewer must show the token (the server listens beyond loopback). */
  requireToken?: boolean;
  /** The shortest time between two builds (default 300 ms). */
  minIntervalMs?: number;
}

const MIN_INTERVAL_MS = 300;
/** Idle time after each build, as a multiple of how long it took: builds take at most a third of the event loop, the run keeps the rest. */
const IDLE_PER_BUILD = 2;
/** The longest wait between builds after failures in a row. */
const MAX_BACKOFF_MS = 5000;
/** How long a viewer has to acknowledge a report before it is sent the next one anyway. */
const ACK_TIMEOUT_MS = 10_000;

export class LiveView {
  readonly #namespace: Namespace;
  readonly #options: LiveViewOptions;
  #source: LiveSource | undefined;
  #data: ReportData | undefined;
  /** The history changed since the last build. */
  #dirty = false;
  #timer: NodeJS.Timeout | undefined;
  #lastBuildAt = 0;
  #buildMs = 0;
  /** Builds that failed in a row, for the back-off. */
  #failures = 0;
  readonly #onEvent = () => this.#changed();

  constructor(io: Server, options: LiveViewOptions = {}) {
    if (options.requireToken && !options.token) throw new RangeError('a live view that requires a token needs one');
    this.#options = options;
    this.#namespace = io.of(liveNamespace);
    this.#namespace.use((socket, next) => {
      const access = this.#access(socket.handshake.auth as {token?: unknown} | undefined);
      if (access === undefined) return next(new Error(this.#options.requireToken ? 'unauthorized: this coordinator listens beyond loopback; open the view with ?token=<run token>' : 'unauthorized: wrong token'));
      (socket.data as {access?: LiveAccess}).access = access;
      next();
    });
    this.#namespace.on('connection', (socket) => this.#onConnection(socket));
  }

  /** The history to show (a new scenario's, in `peerlab run --watch`), or none. */
  setSource(source: LiveSource | undefined): void {
    this.#source?.off('event', this.#onEvent);
    this.#source = source;
    this.#data = undefined;
    this.#failures = 0;
    source?.on('event', this.#onEvent);
    this.#changed();
  }

  /** The page (`/` of wherever it is mounted, e.g. /view/) and its script and style. */
  router(): Router {
    const router = express.Router();
    const allowed = (req: Request) => !this.#options.requireToken || tokenMatches(requestToken(req), this.#options.token!);
    router.use((req, res, next) => {
      if (allowed(req)) return next();
      res.status(401).type('text/plain').send('unauthorized: this coordinator listens beyond loopback; open the view with ?token=<run token>\n');
    });
    router.get('/', (req, res) => {
      // The page's files are relative to it: /view must be /view/.
      if (!req.originalUrl.split('?')[0]!.endsWith('/')) return res.redirect(301, `${req.baseUrl}/${req.originalUrl.slice(req.baseUrl.length)}`);
      const token = typeof req.query['token'] === 'string' ? req.query['token'] : undefined;
      const assetQuery = this.#options.requireToken && token ? `?token=${encodeURIComponent(token)}` : '';
      res.set('Cache-Control', 'no-store').type('html').send(liveIndexHtml({assetQuery}));
    });
    for (const [name, file] of [['app.js', pageAssets.js], ['app.css', pageAssets.css]] as const) {
      router.get(`/${name}`, async (_req, res, next) => {
        const problem = await pageAssetsProblem();
        if (problem) return void res.status(503).type('text/plain').send(`${problem}\n`);
        res.set('Cache-Control', 'no-cache').sendFile(file, (error) => error && next(error));
      });
    }
    return router;
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#source?.off('event', this.#onEvent);
    this.#source = undefined;
  }

  #access(auth: {token?: unknown} | undefined): LiveAccess | undefined {
    const given = auth?.token;
    if (given === undefined || given === null || given === '') return this.#options.requireToken ? undefined : 'read';
    if (this.#options.token === undefined) return 'read';
    return tokenMatches(given, this.#options.token) ? 'control' : undefined;
  }

  #onConnection(socket: Socket): void {
    const access = (socket.data as {access: LiveAccess}).access;
    // From run.begin, the history's first line: known before any report is built.
    const runId = (this.#source?.events[0]?.data as {runId?: unknown} | undefined)?.runId;
    const hello: LiveHello = {access, ...(typeof runId === 'string' ? {runId} : {})};
    socket.emit('hello', hello);
    this.#send(socket);
    if (!this.#data || this.#dirty) this.#schedule();
    socket.on('chunk', (index: unknown, ack: unknown) => {
      if (typeof ack !== 'function') return;
      const reply = this.#chunk(index);
      (ack as (reply: EventChunk | {error: string}) => void)(reply);
    });
  }

  #chunk(index: unknown): EventChunk | {error: string} {
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0) return {error: 'chunk: expected an index, a whole number >= 0'};
    if (!this.#source || !this.#data) return {error: 'no history yet'};
    const size = this.#data.eventLog.chunkSize;
    return {index, events: this.#source.events.slice(index * size, (index + 1) * size)};
  }

  #changed(): void {
    this.#dirty = true;
    this.#schedule();
  }

  #schedule(): void {
    if (this.#timer || !this.#source || this.#namespace.sockets.size === 0) return;
    const base = Math.max(this.#options.minIntervalMs ?? MIN_INTERVAL_MS, IDLE_PER_BUILD * this.#buildMs);
    const gap = this.#failures > 0 ? Math.min(MAX_BACKOFF_MS, base * 2 ** this.#failures) : base;
    const wait = Math.max(0, this.#lastBuildAt + gap - Date.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#build();
    }, wait);
  }

  #build(): void {
    const source = this.#source;
    if (!source || (!this.#dirty && this.#data)) return;
    this.#dirty = false;
    const started = performance.now();
    let data: ReportData;
    try {
      data = buildReport(source.events, {live: source.events.at(-1)?.type !== 'run.end'});
      this.#failures = 0;
    } catch (error) {
      // A history cut mid-run can lack what a build needs (run.begin comes first, so rarely): try again on a later event,
      // waiting longer after each failure so a history that keeps failing does not take the event loop. Viewers hear once.
      if (this.#failures++ === 0) this.#namespace.emit('problem', {message: `the report could not be built: ${(error as Error).message}`});
      return;
    } finally {
      this.#buildMs = performance.now() - started;
      this.#lastBuildAt = Date.now();
      if (this.#dirty) this.#schedule();
    }
    this.#data = data;
    for (const socket of this.#namespace.sockets.values()) this.#send(socket);
  }

  /**
   * Sends a viewer the latest report, unless it has not yet acknowledged the previous one: a slow viewer would
   * make socket.io buffer every report in between. It gets the latest when it acknowledges.
   */
  #send(socket: Socket): void {
    const state = socket.data as {access: LiveAccess; awaiting?: boolean; sent?: ReportData};
    const data = this.#data;
    if (!data || state.awaiting || state.sent === data) return;
    state.awaiting = true;
    state.sent = data;
    socket.timeout(ACK_TIMEOUT_MS).emit('report', data, () => {
      // An acknowledgement, or none in time (a page that does not acknowledge): either way the next report may go.
      state.awaiting = false;
      if (socket.connected) this.#send(socket);
    });
  }
}

function requestToken(req: Request): unknown {
  const bearer = /^Bearer (.+)$/.exec(req.get('authorization') ?? '')?.[1];
  return bearer ?? req.get('x-peerlab-token') ?? req.query['token'];
}
