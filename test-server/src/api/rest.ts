/**
 * The coordinator's REST API. Bodies are validated at the edge with zod;
 * every answer, errors included, is JSON with a status that fits. Beyond
 * loopback every request must carry the run token.
 */
import express from 'express';
import type {ErrorRequestHandler, NextFunction, Request, RequestHandler, Response, Router} from 'express';
import {z} from 'zod';
import {findPrototypeKey} from '@peerlab/client-agent/protocol';
import {RunnerError} from '../runners/runner.js';
import {PEER_NAME, PEER_NAME_RULE, generateNames} from '@peerlab/events/names';
import {notJsonBody} from '@peerlab/node-kit/json-body';
import {peerRow} from '../peer-row.js';
import type {PeerSources} from '../peer-row.js';
import {requireBearerToken} from '@peerlab/node-kit/require-token';

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

const peerName = z.string().regex(PEER_NAME, `expected ${PEER_NAME_RULE}`);
const commandBody = z.strictObject({name: z.string().min(1).max(64), args: z.record(z.string(), z.unknown()).optional(), timeoutMs: z.int().min(1).max(600_000).optional()});
const spawnBody = z.union([z.strictObject({names: z.array(peerName).min(1).max(1000)}), z.strictObject({count: z.int().min(1).max(1000)})], {
  error: 'expected {"names": [...]} or {"count": N}',
});

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  // Before zod, which would drop a __proto__ key silently (its records assign keys).
  const prototypeKey = findPrototypeKey(body);
  if (prototypeKey) {
    const field = prototypeKey.join('.');
    throw new ApiError(400, `${field}: keys named __proto__, constructor or prototype are refused`, 'bad-request', field);
  }
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.length > 0 ? issue.path.join('.') : 'body';
  throw new ApiError(400, `${field}: ${issue.message}`, 'bad-request', field);
}

const statusOf: Record<string, number> = {
  'unknown-command': 400,
  'bad-arguments': 400,
  'bad-message': 502,
  'not-connected': 409,
  timeout: 504,
  failed: 422,
};

const requireJson: RequestHandler = (req, _res, next) => {
  const problem = notJsonBody(req);
  next(problem === undefined ? undefined : new ApiError(415, problem, 'unsupported-media-type', 'content-type'));
};

/** Express 5 forwards rejected promises to the error handler; this keeps handlers short. */
const route = (fn: (req: Request, res: Response) => Promise<void> | void): RequestHandler => (req, res, next: NextFunction) => {
  Promise.resolve(fn(req, res)).catch(next);
};

/** Beyond loopback every request must carry the run token. */
export function requireToken(token: string): RequestHandler {
  return requireBearerToken(token, 'this coordinator listens beyond loopback', 'run token');
}

/**
 * What the API needs of the run it serves. The coordinator satisfies it and
 * imports this router; defined here, so the router imports no coordinator and
 * the two are no cycle.
 */
export interface ApiRun extends PeerSources {
  readonly runId: string;
  /** Starts the named peers and resolves once every one has registered. */
  spawn(names: readonly string[]): Promise<unknown>;
}

export function createApiRouter(coordinator: ApiRun): Router {
  const router = express.Router();
  router.use(express.json({limit: '1mb'}));

  router.get('/healthz', (_req, res) => {
    const peers = coordinator.runner.peers();
    res.json({ok: true, runId: coordinator.runId, peers: peers.filter(({handle}) => handle.alive).length, registered: coordinator.hub.agents().length});
  });

  router.get('/api/peers', (_req, res) => {
    res.json({peers: coordinator.runner.peers().map(({name}) => peerRow(coordinator, name))});
  });

  router.post('/api/peers', requireJson, route(async (req, res) => {
    const body = parse(spawnBody, req.body);
    const taken = new Set(coordinator.runner.peers().filter(({handle}) => handle.alive).map(({name}) => name));
    const names = 'names' in body ? body.names : generateNames(body.count, new Set(coordinator.runner.peers().map(({name}) => name)));
    const clash = names.filter((n) => taken.has(n));
    if (clash.length > 0) throw new ApiError(409, `already running: ${clash.join(', ')}`, 'already-running', 'names');
    if (new Set(names).size !== names.length) throw new ApiError(400, 'names: contains duplicates', 'bad-request', 'names');
    try {
      await coordinator.spawn(names);
    } catch (error) {
      throw new ApiError(504, (error as Error).message, 'timeout');
    }
    res.status(201).json({peers: names.map((n) => peerRow(coordinator, n))});
  }));

  router.get('/api/peers/:name/snapshot', route(async (req, res) => {
    const name = nameParam(coordinator, req);
    const reply = await coordinator.hub.snapshot(name);
    if (!reply.ok) throw new ApiError(statusOf[reply.error.code] ?? 502, reply.error.message, reply.error.code);
    res.json(reply.snapshot);
  }));

  router.post('/api/peers/:name/commands', requireJson, route(async (req, res) => {
    const name = nameParam(coordinator, req);
    const body = parse(commandBody, req.body);
    const reply = await coordinator.hub.command(name, body.name, body.args, body.timeoutMs);
    if (!reply.ok) throw new ApiError(statusOf[reply.error.code] ?? 502, reply.error.message, reply.error.code);
    res.json({ok: true, result: reply.result, ...(reply.text !== undefined ? {text: reply.text} : {})});
  }));

  router.delete('/api/peers/:name', route(async (req, res) => {
    const name = nameParam(coordinator, req);
    const signal = req.query.signal;
    if (signal !== undefined && signal !== 'SIGKILL' && signal !== 'SIGTERM') {
      throw new ApiError(400, 'signal: expected SIGTERM (graceful, the default) or SIGKILL', 'bad-request', 'signal');
    }
    const host = coordinator.runner.get(name);
    // A peer can register without the runner having started it (an agent run by hand): no process to stop.
    if (!host) throw new ApiError(409, `${name} was not started by this coordinator; it cannot stop it`, 'not-managed');
    if (!host.alive) throw new ApiError(409, `${name} is not running`, 'not-running');
    const exit = signal === 'SIGKILL' ? await coordinator.runner.kill(name) : await coordinator.runner.terminate(name);
    res.json({name, exit});
  }));

  router.use((req, _res, next) => next(new ApiError(404, `no route ${req.method} ${req.originalUrl}`, 'not-found')));

  const onError: ErrorRequestHandler = (error, _req, res, _next) => {
    if (error instanceof ApiError) {
      res.status(error.status).json({error: {message: error.message, code: error.code, ...(error.field ? {field: error.field} : {})}});
    } else if (error instanceof RunnerError) {
      res.status(error.code === 'unknown-peer' ? 404 : error.code === 'unsupported' ? 501 : 409).json({error: {message: error.message, code: error.code}});
    } else if ((error as {type?: string}).type === 'entity.parse.failed') {
      res.status(400).json({error: {message: `body: malformed JSON (${(error as Error).message})`, code: 'bad-request', field: 'body'}});
    } else if (typeof (error as {status?: unknown}).status === 'number' && (error as {status: number}).status < 500) {
      res.status((error as {status: number}).status).json({error: {message: (error as Error).message, code: 'bad-request'}});
    } else {
      res.status(500).json({error: {message: `internal error: ${(error as Error).message}`, code: 'internal'}});
    }
  };
  router.use(onError);
  return router;
}

function nameParam(coordinator: ApiRun, req: Request): string {
  const name = String(req.params.name);
  if (!coordinator.runner.get(name) && !coordinator.hub.get(name)) throw new ApiError(404, `no peer named ${name}`, 'unknown-peer');
  return name;
}
