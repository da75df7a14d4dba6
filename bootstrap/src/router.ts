// HTTP face of the bootstrap store. Mount-point agnostic: stand-alone mounts it at
// `/`, the coordinator at `/bootstrap`. Every answer, errors included, is JSON,
// because the clients are peers and scripts, never browsers.

import express from 'express';
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response, Router } from 'express';
import { z } from 'zod';
import { notJsonBody } from '@peerlab/node-kit/json-body';
import { addressSchema, formatPath, maxpeersSchema, nameSchema } from './store.js';
import type { PeerStore } from './store.js';

export interface ErrorBody {
  error: { message: string; field?: string };
}

/** An error whose status and message are meant for the client. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

const objectError = { error: 'expected a JSON object' };
const joinBody = z.object({ name: nameSchema, address: addressSchema }, objectError);
const leaveBody = z.object({ name: nameSchema }, objectError);
const configBody = z.object({ maxpeers: maxpeersSchema }, objectError);

export function createBootstrapRouter(store: PeerStore): Router {
  const router = express.Router();
  // Small limit: the largest legitimate body is a name and an address. Not strict,
  // so a valid JSON scalar is reported as "expected a JSON object", not as malformed.
  router.use(express.json({ limit: '16kb', strict: false }));

  router.get('/ping', (_req, res) => {
    res.json({ ok: true, time: Date.now() });
  });

  router.get('/config', async (_req, res) => {
    res.json(await store.getConfig());
  });

  router.put('/config', requireJson, async (req, res) => {
    const body = parseBody(configBody, req.body);
    res.json(await store.setConfig(body));
  });

  router.post('/join', requireJson, async (req, res) => {
    const body = parseBody(joinBody, req.body);
    res.json({ contacts: await store.join(body) });
  });

  router.post('/leave', requireJson, async (req, res) => {
    const { name } = parseBody(leaveBody, req.body);
    const result = await store.leave(name);
    if (!result) throw new HttpError(404, `name: no peer named "${name}"`, 'name');
    res.json({ ok: true });
  });

  router.get('/list', async (_req, res) => {
    res.json(await store.list());
  });

  router.post('/refill', async (_req, res) => {
    res.json(await store.refill());
  });

  router.post('/reset', async (_req, res) => {
    await store.reset();
    res.json({ ok: true });
  });

  // Inside the router so that, wherever it is mounted, nothing under the mount
  // point falls through to a host app's HTML 404 page.
  router.use((req, _res, next) => {
    next(new HttpError(404, `no route ${req.method} ${req.originalUrl}`));
  });
  router.use(errorHandler);
  return router;
}

const requireJson: RequestHandler = (req, _res, next) => {
  const problem = notJsonBody(req);
  next(problem === undefined ? undefined : new HttpError(415, problem));
};

function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  // One issue at a time keeps the message readable; clients fix and retry.
  const issue = result.error.issues[0];
  if (!issue) throw new HttpError(400, 'body: invalid');
  const field = formatPath(issue.path);
  throw new HttpError(400, `${field}: ${issue.message}`, issue.path.length > 0 ? field : undefined);
}

/** Fields body-parser (behind express.json) puts on its errors. */
interface BodyParserError {
  type: string;
  status: number;
  expose: boolean;
  message: string;
}

function isBodyParserError(error: unknown): error is BodyParserError {
  return (
    error instanceof Error &&
    typeof (error as Partial<BodyParserError>).type === 'string' &&
    typeof (error as Partial<BodyParserError>).status === 'number'
  );
}

export function toErrorResponse(error: unknown): { status: number; body: ErrorBody } {
  if (error instanceof HttpError) {
    const body: ErrorBody = { error: { message: error.message } };
    if (error.field !== undefined) body.error.field = error.field;
    return { status: error.status, body };
  }
  if (isBodyParserError(error)) {
    if (error.type === 'entity.parse.failed') {
      return { status: 400, body: { error: { message: `body: malformed JSON: ${error.message}` } } };
    }
    if (error.expose && error.status >= 400 && error.status < 500) {
      return { status: error.status, body: { error: { message: `body: ${error.message}` } } };
    }
  }
  // Most likely a failed write of the state file or a lost database connection; the
  // cause helps whoever runs the test bench, and there is nothing secret in it
  // (neither fs nor pg errors carry a password).
  const message = error instanceof Error ? error.message : String(error);
  return { status: 500, body: { error: { message: `internal error: ${message}` } } };
}

const errorHandler: ErrorRequestHandler = (error: unknown, _req: Request, res: Response, next: NextFunction) => {
  if (res.headersSent) {
    next(error);
    return;
  }
  const { status, body } = toErrorResponse(error);
  res.status(status).json(body);
};
