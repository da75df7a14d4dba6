/**
 * Shared helpers for the coordinator tests: waiting on events and conditions
 * with deadlines (never fixed sleeps), JSON over HTTP, raw agent sockets, and
 * telling whether a pid is still a running process.
 */
import {readFileSync} from 'node:fs';
import type {EventEmitter} from 'node:events';
import {mkdtemp, rm} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type {ExecutionContext} from 'ava';
import {io} from 'socket.io-client';
import type {Socket} from 'socket.io-client';
import {Coordinator} from '../src/coordinator.js';
import type {CoordinatorOptions} from '../src/coordinator.js';
import {parseScenarioText, ScenarioLoadError} from '../src/scenario/load.js';
import type {ScenarioProblem} from '../src/scenario/load.js';
import {peerCommandSpecs} from '../src/peer-program/peer-commands.js';

type Listener = (...args: any[]) => void;
interface Emitter {
  on(event: string, listener: Listener): unknown;
  off(event: string, listener: Listener): unknown;
}

/**
 * Resolves with the arguments of the first `event` that satisfies `predicate`;
 * rejects at the deadline. Subscribe before causing the event.
 */
export function waitForEvent<A extends unknown[]>(
  emitter: EventEmitter<any> | Emitter,
  event: string,
  predicate: (...args: A) => boolean = () => true,
  timeoutMs = 10_000,
): Promise<A> {
  const target = emitter as Emitter;
  return new Promise((resolve, reject) => {
    const listener = (...args: unknown[]) => {
      if (!predicate(...(args as A))) return;
      clearTimeout(timer);
      target.off(event, listener);
      resolve(args as A);
    };
    const timer = setTimeout(() => {
      target.off(event, listener);
      reject(new Error(`no matching "${event}" event within ${timeoutMs} ms`));
    }, timeoutMs);
    target.on(event, listener);
  });
}

/** Records every emission of `event` from now on. */
export function record<A extends unknown[]>(emitter: EventEmitter<any> | Emitter, event: string): A[] {
  const seen: A[] = [];
  (emitter as Emitter).on(event, (...args: unknown[]) => seen.push(args as A));
  return seen;
}

/** Polls `check` until it returns a value other than undefined/false, or throws at the deadline. */
export async function until<T>(check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export interface Reply {
  status: number;
  contentType: string;
  body: any;
}

export interface CallOptions {
  json?: unknown;
  /** sent verbatim, as application/json, for malformed bodies */
  raw?: string;
  headers?: Record<string, string>;
}

export async function call(base: string, method: string, route: string, options: CallOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = {...options.headers};
  let body: string | undefined;
  if (options.json !== undefined || options.raw !== undefined) {
    body = options.raw ?? JSON.stringify(options.json);
    headers['content-type'] = 'application/json';
  }
  const response = await fetch(`${base}${route}`, {method, headers, ...(body !== undefined ? {body} : {})});
  const contentType = response.headers.get('content-type') ?? '';
  const text = await response.text();
  let parsed: unknown = text;
  if (contentType.includes('application/json')) parsed = JSON.parse(text);
  return {status: response.status, contentType, body: parsed};
}

/** Asserts a JSON error reply with the given status (and code); returns the error object. */
export function isError(t: ExecutionContext, reply: Reply, status: number, code?: string): {message: string; code: string; field?: string} {
  t.is(reply.status, status, JSON.stringify(reply.body));
  t.regex(reply.contentType, /application\/json/);
  const error = (reply.body as {error?: {message: string; code: string; field?: string}}).error;
  t.truthy(error, `no error object in ${JSON.stringify(reply.body)}`);
  t.is(typeof error?.message, 'string');
  if (code !== undefined) t.is(error?.code, code, error?.message);
  return error ?? {message: '', code: ''};
}

export async function tempDir(t: ExecutionContext, prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  t.teardown(() => rm(dir, {recursive: true, force: true}));
  return dir;
}

/** A coordinator in this process, closed (every peer stopped) at the end of the test. */
export async function startCoordinator(t: ExecutionContext, options: CoordinatorOptions = {}): Promise<Coordinator> {
  const logDir = await mkdtemp(path.join(os.tmpdir(), 'peerlab-coordinator-'));
  const coordinator = await Coordinator.start({logDir, ...options});
  t.teardown(async () => {
    const pids = coordinator.runner.handles().map((h) => h.pid).filter((p): p is number => p !== undefined);
    await coordinator.close();
    // close() waits for every exit; this is the net in case it did not.
    coordinator.runner.killAllNow();
    const left = await pidsAlive(pids, 5000);
    await rm(logDir, {recursive: true, force: true});
    if (left.length > 0) throw new Error(`peer processes survived the coordinator: ${left.join(', ')}`);
  });
  return coordinator;
}

/** A raw socket.io client, connected (or refused); disconnected at the end of the test. */
export async function rawAgent(t: ExecutionContext, url: string, token: string | undefined): Promise<Socket> {
  const socket = io(url, {transports: ['websocket'], ...(token !== undefined ? {auth: {token}} : {}), reconnection: false, forceNew: true});
  t.teardown(() => void socket.disconnect());
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('raw agent: no connect within 5000 ms')), 5000);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once('connect_error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
  return socket;
}

/** A registered raw agent that answers every command with its args, and records them. */
export async function echoAgent(t: ExecutionContext, coordinator: Coordinator, name: string, instance?: string): Promise<{socket: Socket; received: unknown[]}> {
  const socket = await rawAgent(t, coordinator.url, coordinator.token);
  const received: unknown[] = [];
  socket.on('command', (request: {id: string; args?: unknown}, ack: (reply: unknown) => void) => {
    received.push(request);
    ack({id: request.id, ok: true, result: {args: request.args ?? null}});
  });
  const ack = await socket.timeout(5000).emitWithAck('hello', {protocol: 1, peer: name, pid: process.pid, version: 'test', address: '127.0.0.1:1', commands: [], ...(instance ? {instance} : {})});
  t.like(ack, {ok: true});
  return {socket, received};
}

/**
 * Whether a pid is a live process. A zombie (exited, not yet reaped: orphans
 * are reaped by pid 1, which in a container may take its time) counts as gone.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    // No /proc (not Linux), or the process went between the two calls.
    return process.platform !== 'linux';
  }
}

/** Waits until none of the pids is alive; returns those still alive at the deadline. */
export async function pidsAlive(pids: readonly number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = pids.filter(isAlive);
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The problems the loader finds in a scenario text (none if it loads), as `test.yaml`. */
export async function scenarioProblems(yaml: string): Promise<ScenarioProblem[]> {
  try {
    parseScenarioText(yaml, 'test.yaml', await peerCommandSpecs());
  } catch (error) {
    if (error instanceof ScenarioLoadError) return error.problems;
    throw error;
  }
  return [];
}
