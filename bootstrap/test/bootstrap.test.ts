// Bootstrap data service, end to end: a real HTTP server on 127.0.0.1 (port 0),
// Node's fetch, real files in a per-test temp dir, and the real stand-alone binary.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import express from 'express';
import { createBootstrapRouter } from '../src/router.js';
import { startBootstrapServer } from '../src/server.js';
import type { BootstrapServer, BootstrapServerOptions } from '../src/server.js';
import { BootstrapFileError, BootstrapStore } from '../src/store.js';
import type { Contact, PeerList, StateFile } from '../src/store.js';
import { removeStaleTempFiles, writeFileAtomic } from '@peerlab/node-kit/write-file-atomic';

const BIN = fileURLToPath(new URL('../../bin/peerlab-bootstrap.mjs', import.meta.url));
const LISTENING = /^peerlab-bootstrap listening on (http:\/\/127\.0\.0\.1:(\d+))$/;
const DEADLINE_MS = 10_000;

// ---------------------------------------------------------------- helpers

async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'peerlab-bootstrap-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function serve(t: ExecutionContext, options: BootstrapServerOptions = {}): Promise<BootstrapServer> {
  const server = await startBootstrapServer({ port: 0, ...options });
  t.teardown(() => server.close());
  return server;
}

/** A server backed by a state file in a fresh temp dir. */
async function serveWithFile(t: ExecutionContext, options: BootstrapServerOptions = {}): Promise<{ server: BootstrapServer; file: string; dir: string }> {
  const dir = await tempDir(t);
  const file = join(dir, 'bootstrap.json');
  return { server: await serve(t, { file, ...options }), file, dir };
}

interface Reply {
  status: number;
  contentType: string;
  body: unknown;
}

interface CallOptions {
  json?: unknown;
  /** sent verbatim, for malformed bodies */
  raw?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

async function call(base: string, method: string, path: string, options: CallOptions = {}): Promise<Reply> {
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

function ok<T>(t: ExecutionContext, reply: Reply): T {
  t.is(reply.status, 200, JSON.stringify(reply.body));
  t.regex(reply.contentType, /application\/json/);
  return reply.body as T;
}

interface ErrorReply {
  error: { message: string; field?: string };
}

function expectError(t: ExecutionContext, reply: Reply, status: number, message: RegExp, field?: string): void {
  t.is(reply.status, status, JSON.stringify(reply.body));
  t.regex(reply.contentType, /application\/json/);
  const body = reply.body as ErrorReply;
  t.is(typeof body.error?.message, 'string');
  t.regex(body.error.message, message);
  t.is(body.error.field, field);
}

async function joinPeer(t: ExecutionContext, base: string, name: string, port = 4000): Promise<Contact[]> {
  return ok<{ contacts: Contact[] }>(t, await call(base, 'POST', '/join', { json: { name, address: `127.0.0.1:${port}` } })).contacts;
}

async function list(t: ExecutionContext, base: string): Promise<PeerList> {
  return ok<PeerList>(t, await call(base, 'GET', '/list'));
}

async function setMaxpeers(t: ExecutionContext, base: string, maxpeers: number): Promise<void> {
  t.deepEqual(ok(t, await call(base, 'PUT', '/config', { json: { maxpeers } })), { maxpeers });
}

function names(contacts: readonly Contact[]): string[] {
  return contacts.map((contact) => contact.name);
}

async function readState(file: string): Promise<StateFile> {
  return JSON.parse(await readFile(file, 'utf8')) as StateFile;
}

// ---- child processes

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface Spawned {
  child: ChildProcess;
  /** settles on 'close', i.e. after the exit AND the end of stdout/stderr */
  closed: Promise<Exit>;
}

function spawnBin(t: ExecutionContext, args: string[], env: Record<string, string> = {}): Spawned {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  // Attached at once so a quick exit cannot be missed.
  const closed = new Promise<Exit>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, closed };
}

async function waitForExit({ closed }: Spawned, timeoutMs = DEADLINE_MS): Promise<Exit> {
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
function waitForLine({ child }: Spawned, pattern: RegExp, timeoutMs = DEADLINE_MS): Promise<RegExpExecArray> {
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
async function runBin(t: ExecutionContext, args: string[], env: Record<string, string> = {}): Promise<Exit & { stdout: string; stderr: string }> {
  const spawned = spawnBin(t, args, env);
  const { child } = spawned;
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exit = await waitForExit(spawned);
  return { ...exit, stdout, stderr };
}

// ---------------------------------------------------------------- basics

test('GET /ping answers ok and the server time', async (t) => {
  const server = await serve(t);
  const before = Date.now();
  const body = ok<{ ok: boolean; time: number }>(t, await call(server.url, 'GET', '/ping'));
  t.true(body.ok);
  t.true(Number.isInteger(body.time));
  t.true(body.time >= before && body.time <= Date.now());
});

test('GET /config defaults to 8; PUT /config changes it', async (t) => {
  const server = await serve(t);
  t.deepEqual(ok(t, await call(server.url, 'GET', '/config')), { maxpeers: 8 });
  await setMaxpeers(t, server.url, 3);
  t.deepEqual(ok(t, await call(server.url, 'GET', '/config')), { maxpeers: 3 });
  await setMaxpeers(t, server.url, 1000);
  await setMaxpeers(t, server.url, 1);
});

test('PUT /config rejects anything but an integer 1..1000 and keeps the old value', async (t) => {
  const server = await serve(t, { maxpeers: 5 });
  for (const maxpeers of [0, -1, 1001, 2.5, '3', null, true]) {
    expectError(t, await call(server.url, 'PUT', '/config', { json: { maxpeers } }), 400, /^maxpeers: expected an integer 1-1000/, 'maxpeers');
  }
  expectError(t, await call(server.url, 'PUT', '/config', { json: {} }), 400, /^maxpeers: is required$/, 'maxpeers');
  expectError(t, await call(server.url, 'PUT', '/config', { json: [3] }), 400, /^body: expected a JSON object$/);
  t.deepEqual(ok(t, await call(server.url, 'GET', '/config')), { maxpeers: 5 });
});

test('each joiner gets the contacts known before it, never itself', async (t) => {
  const server = await serve(t);
  const before = Date.now();
  t.deepEqual(await joinPeer(t, server.url, 'alice', 4001), []);
  const forBob = await joinPeer(t, server.url, 'bob', 4002);
  t.deepEqual(names(forBob), ['alice']);
  t.is(forBob[0]?.address, '127.0.0.1:4001');
  const forCharly = await joinPeer(t, server.url, 'charly', 4003);
  t.deepEqual(names(forCharly), ['alice', 'bob']);
  t.deepEqual(
    forCharly.map((contact) => contact.address),
    ['127.0.0.1:4001', '127.0.0.1:4002'],
  );

  const { contacts, candidates } = await list(t, server.url);
  t.deepEqual(names(contacts), ['alice', 'bob', 'charly']);
  t.deepEqual(candidates, []);
  for (const contact of contacts) {
    t.deepEqual(Object.keys(contact).sort(), ['address', 'name', 'since']);
    t.true(contact.since >= before && contact.since <= Date.now());
  }
  // Sorted oldest first.
  t.deepEqual(contacts.map((c) => c.since), contacts.map((c) => c.since).sort((a, b) => a - b));
});

test('maxpeers caps the contacts; later joiners become candidates', async (t) => {
  const server = await serve(t, { maxpeers: 2 });
  for (const name of ['a', 'b', 'c', 'd']) await joinPeer(t, server.url, name);
  t.deepEqual(names(await joinPeer(t, server.url, 'e')), ['a', 'b']);
  const { contacts, candidates } = await list(t, server.url);
  t.deepEqual(names(contacts), ['a', 'b']);
  t.deepEqual(names(candidates), ['c', 'd', 'e']);
});

test('a rejoin (restart) updates address and since, keeps its role, and is not its own contact', async (t) => {
  const server = await serve(t, { maxpeers: 2 });
  for (const name of ['a', 'b', 'c']) await joinPeer(t, server.url, name, 5000);
  const old = await list(t, server.url);

  t.deepEqual(names(await joinPeer(t, server.url, 'a', 6000)), ['b']);
  await joinPeer(t, server.url, 'c', 6001);
  const { contacts, candidates } = await list(t, server.url);
  // Still a contact, but now the youngest one.
  t.deepEqual(names(contacts), ['b', 'a']);
  t.deepEqual(names(candidates), ['c']);
  t.is(contacts[1]?.address, '127.0.0.1:6000');
  t.true((contacts[1]?.since ?? 0) >= (old.contacts[0]?.since ?? Infinity));
  t.is(candidates[0]?.address, '127.0.0.1:6001');
});

test('leaving contact is replaced by the oldest candidate; leaving candidate changes no roles', async (t) => {
  const server = await serve(t, { maxpeers: 2 });
  for (const name of ['a', 'b', 'c', 'd', 'e']) await joinPeer(t, server.url, name);
  // c restarts, so d is now the oldest candidate even though c joined first.
  await joinPeer(t, server.url, 'c');

  t.deepEqual(ok(t, await call(server.url, 'POST', '/leave', { json: { name: 'a' } })), { ok: true });
  let state = await list(t, server.url);
  t.deepEqual(names(state.contacts), ['b', 'd']);
  t.deepEqual(names(state.candidates), ['e', 'c']);

  ok(t, await call(server.url, 'POST', '/leave', { json: { name: 'e' } }));
  state = await list(t, server.url);
  t.deepEqual(names(state.contacts), ['b', 'd']);
  t.deepEqual(names(state.candidates), ['c']);

  ok(t, await call(server.url, 'POST', '/leave', { json: { name: 'b' } }));
  ok(t, await call(server.url, 'POST', '/leave', { json: { name: 'd' } }));
  state = await list(t, server.url);
  t.deepEqual(names(state.contacts), ['c']);
  t.deepEqual(state.candidates, []);
});

test('POST /refill promotes the oldest candidates up to maxpeers', async (t) => {
  const server = await serve(t, { maxpeers: 2 });
  for (const name of ['a', 'b', 'c', 'd', 'e', 'f']) await joinPeer(t, server.url, name);
  await joinPeer(t, server.url, 'c'); // c is now the youngest candidate
  // Growing maxpeers does not promote by itself; refill does.
  await setMaxpeers(t, server.url, 4);
  t.deepEqual(names((await list(t, server.url)).contacts), ['a', 'b']);

  const refill = ok<{ contacts: Contact[]; added: string[] }>(t, await call(server.url, 'POST', '/refill'));
  t.deepEqual(refill.added, ['d', 'e']);
  t.deepEqual(names(refill.contacts), ['a', 'b', 'd', 'e']);
  t.deepEqual(names((await list(t, server.url)).candidates), ['f', 'c']);

  const again = ok<{ contacts: Contact[]; added: string[] }>(t, await call(server.url, 'POST', '/refill'));
  t.deepEqual(again.added, []);
  t.deepEqual(names(again.contacts), ['a', 'b', 'd', 'e']);
});

test('shrinking maxpeers demotes the youngest contacts', async (t) => {
  const server = await serve(t, { maxpeers: 4 });
  for (const name of ['a', 'b', 'c', 'd', 'e']) await joinPeer(t, server.url, name);
  await setMaxpeers(t, server.url, 2);
  const { contacts, candidates } = await list(t, server.url);
  t.deepEqual(names(contacts), ['a', 'b']);
  t.deepEqual(names(candidates), ['c', 'd', 'e']);
});

test('POST /reset forgets all peers and keeps the config', async (t) => {
  const { server, file } = await serveWithFile(t, { maxpeers: 3 });
  for (const name of ['a', 'b', 'c', 'd']) await joinPeer(t, server.url, name);
  t.deepEqual(ok(t, await call(server.url, 'POST', '/reset')), { ok: true });
  t.deepEqual(await list(t, server.url), { contacts: [], candidates: [] });
  t.deepEqual(ok(t, await call(server.url, 'GET', '/config')), { maxpeers: 3 });
  t.deepEqual(await readState(file), { version: 1, config: { maxpeers: 3 }, peers: [] });
  t.deepEqual(await joinPeer(t, server.url, 'a'), []);
});

test('GET /list on an empty service', async (t) => {
  const server = await serve(t);
  t.deepEqual(await list(t, server.url), { contacts: [], candidates: [] });
});

// ---------------------------------------------------------------- bad requests

test('bad requests get the right status and a JSON error naming the problem', async (t) => {
  const server = await serve(t);
  await joinPeer(t, server.url, 'known');
  const good = { name: 'alice', address: '127.0.0.1:4000' };
  const cases: Array<{ what: string; method: string; path: string; options: CallOptions; status: number; message: RegExp; field?: string }> = [
    { what: 'missing name', method: 'POST', path: '/join', options: { json: { address: good.address } }, status: 400, message: /^name: is required$/, field: 'name' },
    { what: 'name not a string', method: 'POST', path: '/join', options: { json: { ...good, name: 42 } }, status: 400, message: /^name: expected a string, got number$/, field: 'name' },
    { what: 'empty name', method: 'POST', path: '/join', options: { json: { ...good, name: '' } }, status: 400, message: /^name: expected 1-64 characters of \[A-Za-z0-9._-\]$/, field: 'name' },
    { what: 'name with a space', method: 'POST', path: '/join', options: { json: { ...good, name: 'bad name' } }, status: 400, message: /^name: expected 1-64 characters/, field: 'name' },
    { what: 'name too long', method: 'POST', path: '/join', options: { json: { ...good, name: 'x'.repeat(65) } }, status: 400, message: /^name: expected 1-64 characters/, field: 'name' },
    { what: 'missing address', method: 'POST', path: '/join', options: { json: { name: 'alice' } }, status: 400, message: /^address: is required$/, field: 'address' },
    { what: 'address not a string', method: 'POST', path: '/join', options: { json: { ...good, address: 4000 } }, status: 400, message: /^address: expected "host:port" with a port 1-65535, got number$/, field: 'address' },
    ...['localhost', 'localhost:', ':4000', 'host:0', 'host:65536', 'host:4x', 'a b:4000', '::1:4000', 'host:-1'].map((address) => ({
      what: `address ${JSON.stringify(address)}`,
      method: 'POST',
      path: '/join',
      options: { json: { ...good, address } },
      status: 400,
      message: /^address: expected "host:port" with a port 1-65535$/,
      field: 'address',
    })),
    { what: 'body is an array', method: 'POST', path: '/join', options: { json: [good] }, status: 400, message: /^body: expected a JSON object$/ },
    { what: 'no body at all', method: 'POST', path: '/join', options: {}, status: 400, message: /^body: expected a JSON object$/ },
    { what: 'malformed JSON', method: 'POST', path: '/join', options: { raw: '{"name": "alice",', contentType: 'application/json' }, status: 400, message: /^body: malformed JSON/ },
    { what: 'JSON string body', method: 'POST', path: '/join', options: { raw: '"alice"', contentType: 'application/json' }, status: 400, message: /^body: expected a JSON object$/ },
    { what: 'JSON null body', method: 'POST', path: '/leave', options: { raw: 'null', contentType: 'application/json' }, status: 400, message: /^body: expected a JSON object$/ },
    { what: 'JSON with a charset', method: 'POST', path: '/leave', options: { raw: '{"name": 7}', contentType: 'application/json; charset=utf-8' }, status: 400, message: /^name: expected a string, got number$/, field: 'name' },
    { what: 'text/plain body', method: 'POST', path: '/join', options: { raw: JSON.stringify(good), contentType: 'text/plain' }, status: 415, message: /^body: expected Content-Type application\/json, got text\/plain$/ },
    { what: 'form body on leave', method: 'POST', path: '/leave', options: { raw: 'name=known', contentType: 'application/x-www-form-urlencoded' }, status: 415, message: /Content-Type application\/json/ },
    { what: 'leave without name', method: 'POST', path: '/leave', options: { json: {} }, status: 400, message: /^name: is required$/, field: 'name' },
    { what: 'leave with bad name', method: 'POST', path: '/leave', options: { json: { name: '../etc' } }, status: 400, message: /^name: expected 1-64/, field: 'name' },
    { what: 'leave of an unknown name', method: 'POST', path: '/leave', options: { json: { name: 'nobody' } }, status: 404, message: /^name: no peer named "nobody"$/, field: 'name' },
    { what: 'unknown route', method: 'GET', path: '/nope', options: {}, status: 404, message: /^no route GET \/nope$/ },
    { what: 'known path, wrong method', method: 'GET', path: '/join', options: {}, status: 404, message: /^no route GET \/join$/ },
    { what: 'unknown POST route with a body', method: 'POST', path: '/nope/deeper?x=1', options: { json: good }, status: 404, message: /^no route POST \/nope\/deeper\?x=1$/ },
    { what: 'body too large', method: 'POST', path: '/join', options: { json: { ...good, padding: 'x'.repeat(20_000) } }, status: 413, message: /^body: / },
  ];
  for (const c of cases) {
    const reply = await call(server.url, c.method, c.path, c.options);
    t.log(`${c.what}: ${reply.status} ${JSON.stringify(reply.body)}`);
    expectError(t, reply, c.status, c.message, c.field);
  }
  // None of that changed the state.
  const { contacts, candidates } = await list(t, server.url);
  t.deepEqual(names(contacts), ['known']);
  t.deepEqual(candidates, []);
});

test('valid address forms are accepted', async (t) => {
  const server = await serve(t);
  for (const [i, address] of ['localhost:1', '10.0.0.7:65535', 'peer-1.example.org:4000', '[::1]:4000'].entries()) {
    ok(t, await call(server.url, 'POST', '/join', { json: { name: `p${i}`, address } }));
  }
  t.is((await list(t, server.url)).contacts.length, 4);
});

test('the router works mounted below a prefix, with JSON 404s inside it', async (t) => {
  const app = express();
  app.use('/bootstrap', createBootstrapRouter(new BootstrapStore()));
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  server.unref();
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/bootstrap`;
  t.true(ok<{ ok: boolean }>(t, await call(base, 'GET', '/ping')).ok);
  t.deepEqual(await joinPeer(t, base, 'a'), []);
  expectError(t, await call(base, 'GET', '/nope'), 404, /^no route GET \/bootstrap\/nope$/);
});

// ---------------------------------------------------------------- persistence

test('state survives a restart: a new server (and a bare store) loads the file', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'state', 'bootstrap.json'); // the directory does not exist yet
  const first = await startBootstrapServer({ port: 0, file, maxpeers: 2 });
  t.teardown(() => first.close());
  for (const name of ['a', 'b', 'c', 'd']) await joinPeer(t, first.url, name);
  ok(t, await call(first.url, 'POST', '/leave', { json: { name: 'a' } }));
  const before = await list(t, first.url);
  await first.close();

  const second = await serve(t, { file });
  t.deepEqual(ok(t, await call(second.url, 'GET', '/config')), { maxpeers: 2 });
  t.deepEqual(await list(t, second.url), before);
  t.deepEqual(names(before.contacts), ['b', 'c']);
  // Ordering and roles keep working on the loaded state.
  ok(t, await call(second.url, 'POST', '/leave', { json: { name: 'b' } }));
  t.deepEqual(names((await list(t, second.url)).contacts), ['c', 'd']);
  await second.close();

  const store = new BootstrapStore({ file });
  await store.load();
  t.deepEqual(store.getConfig(), { maxpeers: 2 });
  t.deepEqual(names(store.list().contacts), ['c', 'd']);

  // An explicit maxpeers overrides the stored one (and is applied as a shrink).
  const overridden = new BootstrapStore({ file, maxpeers: 1 });
  await overridden.load();
  t.deepEqual(overridden.list(), { contacts: store.list().contacts.slice(0, 1), candidates: store.list().contacts.slice(1) });
  t.is((await readState(file)).config.maxpeers, 1);
});

test('a missing file starts empty and is created on the first change', async (t) => {
  const { server, file, dir } = await serveWithFile(t);
  t.deepEqual(await list(t, server.url), { contacts: [], candidates: [] });
  t.deepEqual(await readdir(dir), []);
  await joinPeer(t, server.url, 'a', 4321);
  const state = await readState(file);
  t.is(state.version, 1);
  t.deepEqual(state.config, { maxpeers: 8 });
  t.like(state.peers, [{ name: 'a', address: '127.0.0.1:4321', contact: true }]);
});

test('many concurrent joins: the file is always valid JSON and ends up complete', async (t) => {
  const { server, file, dir } = await serveWithFile(t, { maxpeers: 10 });
  const count = 120;
  // Read the file as fast as possible while the joins run: with atomic renames a
  // reader can never see a half-written file.
  let done = false;
  let reads = 0;
  const reader = (async () => {
    while (!done) {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw error;
      }
      JSON.parse(text); // throws (and fails the test) on a torn write
      reads++;
    }
  })();
  const replies = await Promise.all(
    Array.from({ length: count }, (_, i) => call(server.url, 'POST', '/join', { json: { name: `peer-${i}`, address: `127.0.0.1:${10_000 + i}` } })),
  );
  done = true;
  await reader;
  t.log(`${reads} concurrent reads of the state file`);
  for (const reply of replies) {
    const { contacts } = ok<{ contacts: Contact[] }>(t, reply);
    t.true(contacts.length <= 10);
  }

  const state = await readState(file);
  t.is(state.peers.length, count);
  t.is(new Set(state.peers.map((peer) => peer.name)).size, count);
  t.is(state.peers.filter((peer) => peer.contact).length, 10);
  const listed = await list(t, server.url);
  t.deepEqual(
    state.peers.filter((peer) => peer.contact).map((peer) => peer.name),
    names(listed.contacts),
  );
  t.deepEqual(await readdir(dir), ['bootstrap.json'], 'no temp files left behind');

  // Mixed concurrent changes settle into the same state on disk as in memory.
  await Promise.all([
    ...Array.from({ length: 30 }, (_, i) => call(server.url, 'POST', '/leave', { json: { name: `peer-${i}` } })),
    call(server.url, 'PUT', '/config', { json: { maxpeers: 7 } }),
    call(server.url, 'POST', '/refill'),
  ]);
  await server.store.flush();
  t.deepEqual(await readState(file), server.store.snapshot());
  t.is((await readState(file)).peers.length, count - 30);
});

test('a corrupt state file fails the start with the path and the problem, and is left alone', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'bootstrap.json');
  const corrupt: Array<[content: string, problem: RegExp]> = [
    ['{"version": 1, "config": ', /invalid JSON/],
    ['', /invalid JSON/],
    ['[]', /state: expected an object \{version, config, peers\}/],
    ['{"version": 2, "config": {"maxpeers": 3}, "peers": []}', /version: expected 1/],
    ['{"version": 1, "config": {"maxpeers": 0}, "peers": []}', /config\.maxpeers: expected an integer 1-1000/],
    ['{"version": 1, "config": {"maxpeers": 3}, "peers": [{"name": "a", "address": "nowhere", "since": 1, "contact": true}]}', /peers\[0\]\.address: expected "host:port"/],
    [
      '{"version": 1, "config": {"maxpeers": 3}, "peers": [{"name": "a", "address": "h:1", "since": 1, "contact": true}, {"name": "a", "address": "h:2", "since": 2, "contact": false}]}',
      /peers\[1\]\.name: duplicate name "a"/,
    ],
  ];
  for (const [content, problem] of corrupt) {
    await writeFile(file, content);
    const error = await t.throwsAsync(startBootstrapServer({ port: 0, file }), { instanceOf: BootstrapFileError });
    t.true(error?.message.startsWith(`bootstrap state file ${file}: `), error?.message);
    t.regex(error?.message ?? '', problem);
    t.is(await readFile(file, 'utf8'), content);
  }

  // A directory where the file should be is reported the same way.
  const notAFile = join(dir, 'sub');
  await mkdir(notAFile);
  const error = await t.throwsAsync(new BootstrapStore({ file: notAFile }).load(), { instanceOf: BootstrapFileError });
  t.regex(error?.message ?? '', /cannot read/);
});

test('changing a file-backed store before load() is refused rather than clobbering the file', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'bootstrap.json');
  await writeFile(file, '{"version": 1, "config": {"maxpeers": 3}, "peers": []}');
  const store = new BootstrapStore({ file });
  await t.throwsAsync(store.join({ name: 'a', address: 'h:1' }), { message: /call load\(\)/ });
  t.is(JSON.parse(await readFile(file, 'utf8')).config.maxpeers, 3);
});

// ---------------------------------------------------------------- authentication

// Every route, including the ones that change or wipe the state.
const ROUTES: Array<[method: string, path: string, body?: unknown]> = [
  ['GET', '/ping'],
  ['GET', '/config'],
  ['PUT', '/config', { maxpeers: 1 }],
  ['POST', '/join', { name: 'mallory', address: '127.0.0.1:6666' }],
  ['POST', '/leave', { name: 'alice' }],
  ['GET', '/list'],
  ['POST', '/refill'],
  ['POST', '/reset'],
  ['GET', '/no-such-route'],
];

async function expectAllRefused(t: ExecutionContext, base: string, headers: Record<string, string> = {}): Promise<void> {
  for (const [method, path, json] of ROUTES) {
    const reply = await call(base, method, path, { json, headers });
    t.is(reply.status, 401, `${method} ${path}: ${JSON.stringify(reply.body)}`);
    t.regex(reply.contentType, /application\/json/);
    t.regex((reply.body as ErrorReply).error.message, /^unauthorized: .*Authorization: Bearer/, `${method} ${path}`);
  }
}

// "Beyond loopback" is decided by the listen address, as for the coordinator: these
// servers listen on every interface, and the tests still only talk to 127.0.0.1.
test('beyond loopback every route, /reset and /config included, wants the generated token', async (t) => {
  const server = await serve(t, { host: '0.0.0.0' });
  t.true(server.tokenGenerated);
  t.regex(server.token ?? '', /^[0-9a-f]{32}$/);
  const base = `http://127.0.0.1:${server.port}`;
  await server.store.join({ name: 'alice', address: '127.0.0.1:4001' });

  await expectAllRefused(t, base);
  await expectAllRefused(t, base, { authorization: 'Bearer wrong' });
  await expectAllRefused(t, base, { authorization: `Bearer ${server.token}x` });
  await expectAllRefused(t, base, { authorization: server.token ?? '' });
  t.deepEqual(names(server.store.list().contacts), ['alice'], 'nothing refused changed the state');
  t.deepEqual(server.store.getConfig(), { maxpeers: 8 });

  const headers = { authorization: `Bearer ${server.token}` };
  t.deepEqual(names(ok<{ contacts: Contact[] }>(t, await call(base, 'POST', '/join', { json: { name: 'bob', address: '127.0.0.1:4002' }, headers })).contacts), ['alice']);
  t.deepEqual(ok(t, await call(base, 'PUT', '/config', { json: { maxpeers: 3 }, headers })), { maxpeers: 3 });
  t.deepEqual(ok(t, await call(base, 'POST', '/reset', { headers: { 'x-peerlab-token': server.token ?? '' } })), { ok: true });
  t.deepEqual(server.store.list(), { contacts: [], candidates: [] });
});

test('a given token is the one required, beyond loopback and, when given, on loopback too', async (t) => {
  const wide = await serve(t, { host: '0.0.0.0', token: 'secret-wide' });
  t.false(wide.tokenGenerated);
  const base = `http://127.0.0.1:${wide.port}`;
  await expectAllRefused(t, base, { authorization: 'Bearer secret-narrow' });
  ok(t, await call(base, 'GET', '/list', { headers: { authorization: 'Bearer secret-wide' } }));

  const narrow = await serve(t, { token: 'secret-narrow' });
  await expectAllRefused(t, narrow.url);
  ok(t, await call(narrow.url, 'GET', '/list', { headers: { authorization: 'Bearer secret-narrow' } }));

  const open = await serve(t);
  t.is(open.token, undefined, 'on loopback without a token, as before, no token');
  ok(t, await call(open.url, 'GET', '/list'));

  await t.throwsAsync(startBootstrapServer({ port: 0, token: ' ' }), { message: /^token: / });
});

// ---------------------------------------------------------------- stand-alone binary

// The binary tests below run serially (ava runs those first): a dozen node processes
// starting at once on a shared machine can take most of a deadline.
test.serial('stand-alone binary beyond loopback: prints a generated token, or takes one from the environment', async (t) => {
  const wide = /^peerlab-bootstrap listening on http:\/\/0\.0\.0\.0:(\d+)$/;
  const generated = spawnBin(t, ['--host', '0.0.0.0', '--port', '0']);
  let printed = '';
  generated.child.stdout?.on('data', (chunk: Buffer) => (printed += chunk.toString('utf8')));
  // The token line comes second; by then the first is in `printed`.
  const [, token = ''] = await waitForLine(generated, /^peerlab-bootstrap listening beyond loopback: every request needs "Authorization: Bearer ([0-9a-f]{32})"$/);
  const [, port = ''] = wide.exec(printed.split('\n')[0] ?? '') ?? [];
  const base = `http://127.0.0.1:${port}`;
  await expectAllRefused(t, base);
  t.deepEqual(ok(t, await call(base, 'POST', '/reset', { headers: { authorization: `Bearer ${token}` } })), { ok: true });
  generated.child.kill('SIGTERM');
  t.deepEqual(await waitForExit(generated), { code: 0, signal: null });

  const given = spawnBin(t, ['--host', '0.0.0.0', '--port', '0'], { PEERLAB_BOOTSTRAP_TOKEN: 'from-env-0123456789' });
  let stdout = '';
  given.child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  const [, port2 = ''] = await waitForLine(given, wide);
  const base2 = `http://127.0.0.1:${port2}`;
  await expectAllRefused(t, base2);
  ok(t, await call(base2, 'GET', '/config', { headers: { authorization: 'Bearer from-env-0123456789' } }));
  given.child.kill('SIGTERM');
  t.deepEqual(await waitForExit(given), { code: 0, signal: null });
  t.false(stdout.includes('from-env'), 'a token the user gave is not echoed');
});

test('stand-alone binary: listens, serves, persists, and exits 0 on SIGTERM', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'bootstrap.json');
  const child = spawnBin(t, ['--port', '0', '--file', file, '--maxpeers', '2']);
  const [, url = ''] = await waitForLine(child, LISTENING);

  t.deepEqual(ok(t, await call(url, 'GET', '/config')), { maxpeers: 2 });
  t.deepEqual(await joinPeer(t, url, 'alice', 4001), []);
  t.deepEqual(names(await joinPeer(t, url, 'bob', 4002)), ['alice']);
  expectError(t, await call(url, 'POST', '/join', { json: { name: 'carol' } }), 400, /^address: is required$/, 'address');
  t.deepEqual(names((await readState(file)).peers), ['alice', 'bob']);

  child.child.kill('SIGTERM');
  t.deepEqual(await waitForExit(child), { code: 0, signal: null });

  // Restarting the binary on the same file brings the peers back.
  const again = spawnBin(t, ['--port', '0', '--file', file]);
  const [, url2 = ''] = await waitForLine(again, LISTENING);
  t.deepEqual(names((await list(t, url2)).contacts), ['alice', 'bob']);
  t.deepEqual(ok(t, await call(url2, 'GET', '/config')), { maxpeers: 2 });
  again.child.kill('SIGINT');
  t.deepEqual(await waitForExit(again), { code: 0, signal: null });
});

/** The pid of a process that has exited: temp files named after it are a dead writer's. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

test.serial('stand-alone binary: temp files a killed writer left are removed on start; a live writer\'s and other files\' stay', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'bootstrap.json');
  const dead = await deadPid();
  // Both the current name shape and the older counter-only one.
  const stale = [`.bootstrap.json.${dead}.a1b2c3d4e5f6.tmp`, `.bootstrap.json.${dead}.7.tmp`];
  const kept = [`.bootstrap.json.${process.pid}.0123456789ab.tmp`, `.other.json.${dead}.1.tmp`, `.bootstrap.json.notapid.tmp`, 'bootstrap.json.tmp'];
  for (const name of [...stale, ...kept]) await writeFile(join(dir, name), '{"version": 1, "conf');

  const child = spawnBin(t, ['--port', '0', '--file', file]);
  const [, url = ''] = await waitForLine(child, LISTENING);
  t.deepEqual((await readdir(dir)).sort(), [...kept].sort());
  t.deepEqual(await joinPeer(t, url, 'alice'), []);
  t.deepEqual((await readdir(dir)).sort(), [...kept, 'bootstrap.json'].sort(), 'its own write leaves no temp file');
  child.child.kill('SIGTERM');
  t.deepEqual(await waitForExit(child), { code: 0, signal: null });
});

test('temp files with this process\'s own pid that it is not writing are an earlier process\'s (a container\'s pid 1 restarted): removed when the store loads', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'bootstrap.json');
  // Left by the previous run of a service that had the same pid, as pid 1 in a container always has.
  const leftovers = [`.bootstrap.json.${process.pid}.a1b2c3d4e5f6.tmp`, `.bootstrap.json.${process.pid}.3.tmp`];
  for (const name of leftovers) await writeFile(join(dir, name), '{"version": 1, "conf');
  const store = new BootstrapStore({ file });
  await store.load();
  t.deepEqual(await readdir(dir), []);
  await store.join({ name: 'alice', address: '127.0.0.1:4001' });
  await store.flush();
  t.deepEqual(await readdir(dir), ['bootstrap.json']);
});

test('this process\'s own write in progress is not taken for a leftover', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'state.json');
  const data = 'x'.repeat(8 * 1024 * 1024);
  let seen = 0;
  // Whether the temp file shows up before the write ends is up to timing: a few tries, one sighting needed.
  const deadline = Date.now() + 20_000;
  for (let attempt = 0; attempt < 10 && seen === 0 && Date.now() < deadline; attempt++) {
    let done = false;
    const write = writeFileAtomic(file, data).finally(() => (done = true));
    while (!done) {
      const temps = (await readdir(dir)).filter((name) => name.endsWith('.tmp'));
      if (temps.length > 0 && !done) {
        seen++;
        await removeStaleTempFiles(file);
        break;
      }
    }
    // Had the temp file been removed, the rename would have failed (ENOENT).
    await t.notThrowsAsync(write);
    t.is((await readFile(file, 'utf8')).length, data.length);
  }
  t.true(seen > 0, 'saw the temp file of a write in progress at least once');
  t.deepEqual((await readdir(dir)).filter((name) => name.endsWith('.tmp')), []);
});

test.serial('stand-alone binary: killed while writing, it restarts with a valid file and no temp files of its own', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'bootstrap.json');
  const child = spawnBin(t, ['--port', '0', '--file', file]);
  const [, url = ''] = await waitForLine(child, LISTENING);
  // Writes in flight when the kill lands: whether one leaves a temp file is up to timing.
  const joins = Array.from({ length: 200 }, (_, i) =>
    call(url, 'POST', '/join', { json: { name: `p${i}`, address: `127.0.0.1:${5000 + i}` } }).catch(() => undefined),
  );
  await joins[20];
  child.child.kill('SIGKILL');
  await Promise.all(joins);
  await waitForExit(child);
  t.log(`left behind by the kill: ${JSON.stringify(await readdir(dir))}`);

  const again = spawnBin(t, ['--port', '0', '--file', file]);
  const [, url2 = ''] = await waitForLine(again, LISTENING);
  t.deepEqual((await readdir(dir)).filter((name) => name.endsWith('.tmp')), []);
  t.true((await list(t, url2)).contacts.length > 0);
  again.child.kill('SIGTERM');
  t.deepEqual(await waitForExit(again), { code: 0, signal: null });
});

test('stand-alone binary: bad flags exit 2 naming the flag', async (t) => {
  const cases: Array<[args: string[], flag: RegExp]> = [
    [['--port', 'abc'], /--port/],
    [['--port', '70000'], /--port/],
    [['--port', '-1'], /--port/],
    [['--maxpeers', '0'], /--maxpeers/],
    [['--maxpeers', '1001'], /--maxpeers/],
    [['--maxpeers', '2.5'], /--maxpeers/],
    [['--host', ''], /--host/],
    [['--bogus'], /--bogus/],
    [['--file'], /--file/],
    [['--token', ''], /--token/],
    [['--token', 'x'], /--token.*at least 16 characters, got 1/],
    [['--token', 'fifteen-chars!!'], /--token.*at least 16 characters, got 15/],
    [['--token', 'sixteen chars ok'], /--token.*visible ASCII/],
    [['--allowed-host', ''], /--allowed-host/],
  ];
  // A few at a time: a dozen node processes starting at once on a loaded machine can outlast the deadline.
  const results: Array<Awaited<ReturnType<typeof runBin>>> = [];
  for (let i = 0; i < cases.length; i += 4) results.push(...(await Promise.all(cases.slice(i, i + 4).map(([args]) => runBin(t, args)))));
  for (const [i, [args, flag]] of cases.entries()) {
    const result = results[i];
    if (!result) continue;
    t.is(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    t.regex(result.stderr, flag);
    t.is(result.stdout, '');
  }
});

test.serial('stand-alone binary: a short token from the environment is refused as the flag is, exit 2, before listening', async (t) => {
  // The environment is the recommended way to pass it (argv shows in ps): it must not bypass the length check.
  for (const [token, why] of [['x', /at least 16 characters, got 1/], ['short-token', /at least 16 characters, got 11/]] as const) {
    const result = await runBin(t, ['--host', '0.0.0.0', '--port', '0'], { PEERLAB_BOOTSTRAP_TOKEN: token });
    t.is(result.code, 2, result.stderr);
    t.regex(result.stderr, /--token.*PEERLAB_BOOTSTRAP_TOKEN|PEERLAB_BOOTSTRAP_TOKEN.*--token/);
    t.regex(result.stderr, why);
    t.is(result.stdout, '', 'nothing listened');
  }
});

test('stand-alone binary: a corrupt state file exits 2 naming the file', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'broken.json');
  await writeFile(file, '{not json');
  const result = await runBin(t, ['--port', '0', '--file', file]);
  t.is(result.code, 2);
  t.true(result.stderr.includes(file), result.stderr);
  t.regex(result.stderr, /invalid JSON/);
  t.is(result.stdout, '');
});
