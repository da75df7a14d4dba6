// Helpers the bootstrap tests share: HTTP calls the way peers make them, and the
// stand-alone binary as a real child process.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';
import type { Contact, PeerList } from '../src/store.js';

export const BIN = fileURLToPath(new URL('../../bin/peerlab-bootstrap.mjs', import.meta.url));
export const LISTENING = /^peerlab-bootstrap listening on (http:\/\/127\.0\.0\.1:(\d+))$/;
export const DEADLINE_MS = 10_000;

export async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'peerlab-bootstrap-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export interface Reply {
  status: number;
  contentType: string;
  body: unknown;
}

export interface CallOptions {
  json?: unknown;
  /** sent verbatim, for malformed bodies */
  raw?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

export async function call(base: string, method: string, path: string, options: CallOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | undefined;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers['content-type'] = 'application/json';
  }
  if (options.raw !== undefined) body = options.raw;
  if (options.contentType !== undefined) headers['content-type'] = options.contentType;
  // fetch's own "fetch failed" hides why; the cause says it.
  const response = await fetch(`${base}${path}`, { method, headers, body }).catch((error: Error) => {
    throw new Error(`${method} ${base}${path}: ${String((error as { cause?: unknown }).cause ?? error)}`);
  });
  const contentType = response.headers.get('content-type') ?? '';
  const text = await response.text();
  return { status: response.status, contentType, body: contentType.includes('application/json') ? JSON.parse(text) : text };
}

export function ok<T>(t: ExecutionContext, reply: Reply): T {
  t.is(reply.status, 200, JSON.stringify(reply.body));
  t.regex(reply.contentType, /application\/json/);
  return reply.body as T;
}

export interface ErrorReply {
  error: { message: string; field?: string };
}

export function expectError(t: ExecutionContext, reply: Reply, status: number, message: RegExp, field?: string): void {
  t.is(reply.status, status, JSON.stringify(reply.body));
  t.regex(reply.contentType, /application\/json/);
  const body = reply.body as ErrorReply;
  t.is(typeof body.error?.message, 'string');
  t.regex(body.error.message, message);
  t.is(body.error.field, field);
}

export async function joinPeer(t: ExecutionContext, base: string, name: string, port = 4000): Promise<Contact[]> {
  return ok<{ contacts: Contact[] }>(t, await call(base, 'POST', '/join', { json: { name, address: `127.0.0.1:${port}` } })).contacts;
}

export async function list(t: ExecutionContext, base: string): Promise<PeerList> {
  return ok<PeerList>(t, await call(base, 'GET', '/list'));
}

export async function setMaxpeers(t: ExecutionContext, base: string, maxpeers: number): Promise<void> {
  t.deepEqual(ok(t, await call(base, 'PUT', '/config', { json: { maxpeers } })), { maxpeers });
}

export function names(contacts: readonly Contact[]): string[] {
  return contacts.map((contact) => contact.name);
}

// ---- child processes

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Spawned {
  child: ChildProcess;
  /** settles on 'close', i.e. after the exit AND the end of stdout/stderr */
  closed: Promise<Exit>;
}

export function spawnBin(t: ExecutionContext, args: string[], env: Record<string, string> = {}): Spawned {
  // A store named in the test runner's own environment must not leak into the cases.
  const { PEERLAB_BOOTSTRAP_STORE: _ignored, ...inherited } = process.env;
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...inherited, ...env } });
  // Attached at once so a quick exit cannot be missed.
  const closed = new Promise<Exit>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, closed };
}

export async function waitForExit({ closed }: Spawned, timeoutMs = DEADLINE_MS): Promise<Exit> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`process did not exit within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([closed, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves with the first stdout line matching `pattern`; fails on exit or deadline. */
export function waitForLine({ child }: Spawned, pattern: RegExp, timeoutMs = DEADLINE_MS): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    const finish = (error: Error | undefined, match?: RegExpExecArray): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onStdout);
      child.stderr?.off('data', onStderr);
      child.off('exit', onExit);
      if (match) resolve(match);
      else reject(error);
    };
    const context = (): string => `\nstdout: ${JSON.stringify(stdout)}\nstderr: ${JSON.stringify(stderr)}`;
    const onStdout = (chunk: Buffer): void => {
      stdout += chunk.toString('utf8');
      for (const line of stdout.split('\n').slice(0, -1)) {
        const match = pattern.exec(line);
        if (match) return finish(undefined, match);
      }
    };
    const onStderr = (chunk: Buffer): void => {
      stderr += chunk.toString('utf8');
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void =>
      finish(new Error(`exited (${code ?? signal}) before printing ${pattern}${context()}`));
    const timer = setTimeout(() => finish(new Error(`no line matching ${pattern} within ${timeoutMs} ms${context()}`)), timeoutMs);
    child.stdout?.on('data', onStdout);
    child.stderr?.on('data', onStderr);
    child.once('exit', onExit);
  });
}

/** Runs the binary to completion, for the cases where it must refuse to start. */
export async function runBin(t: ExecutionContext, args: string[], env: Record<string, string> = {}): Promise<Exit & { stdout: string; stderr: string }> {
  const spawned = spawnBin(t, args, env);
  const { child } = spawned;
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exit = await waitForExit(spawned);
  return { ...exit, stdout, stderr };
}
