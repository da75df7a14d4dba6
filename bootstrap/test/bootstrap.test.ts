// Bootstrap data service, end to end: a real HTTP server on 127.0.0.1 (port 0),
// Node's fetch, real files in a per-test temp dir, and the real stand-alone binary.
// The behaviour every backend shares runs here on the in-memory store.

import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import express from 'express';
import { createBootstrapRouter } from '../src/router.js';
import { startBootstrapServer } from '../src/server.js';
import type { BootstrapServer, BootstrapServerOptions } from '../src/server.js';
import { BootstrapFileError, BootstrapStore } from '../src/store.js';
import type { Contact, StateFile } from '../src/store.js';
import { removeStaleTempFiles, writeFileAtomic } from '@peerlab/node-kit/write-file-atomic';
import { behaviourTests } from './behaviour.js';
import { call, expectError, joinPeer, LISTENING, list, names, ok, runBin, spawnBin, tempDir, waitForExit, waitForLine } from './helpers.js';
import type { ErrorReply } from './helpers.js';

// ---------------------------------------------------------------- behaviour shared with every backend

behaviourTests('', (t, options) => serve(t, options));

// ---------------------------------------------------------------- the file store


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

async function readState(file: string): Promise<StateFile> {
  return JSON.parse(await readFile(file, 'utf8')) as StateFile;
}

test('POST /reset empties the state file and keeps its config', async (t) => {
  const { server, file } = await serveWithFile(t, { maxpeers: 3 });
  for (const name of ['a', 'b', 'c', 'd']) await joinPeer(t, server.url, name);
  t.deepEqual(ok(t, await call(server.url, 'POST', '/reset')), { ok: true });
  t.deepEqual(await readState(file), { version: 1, config: { maxpeers: 3 }, peers: [] });
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
  t.deepEqual(await store.getConfig(), { maxpeers: 2 });
  t.deepEqual(names((await store.list()).contacts), ['c', 'd']);

  // An explicit maxpeers overrides the stored one (and is applied as a shrink).
  const overridden = new BootstrapStore({ file, maxpeers: 1 });
  await overridden.load();
  t.deepEqual(await overridden.list(), { contacts: (await store.list()).contacts.slice(0, 1), candidates: (await store.list()).contacts.slice(1) });
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
  const dir = await tempDir(t);
  const file = join(dir, 'bootstrap.json');
  // Built here rather than by the server, to compare its snapshot with the file.
  const store = new BootstrapStore({ file, maxpeers: 10 });
  const server = await serve(t, { store });
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
  await store.flush();
  t.deepEqual(await readState(file), store.snapshot());
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
  t.deepEqual(names((await server.store.list()).contacts), ['alice'], 'nothing refused changed the state');
  t.deepEqual(await server.store.getConfig(), { maxpeers: 8 });

  const headers = { authorization: `Bearer ${server.token}` };
  t.deepEqual(names(ok<{ contacts: Contact[] }>(t, await call(base, 'POST', '/join', { json: { name: 'bob', address: '127.0.0.1:4002' }, headers })).contacts), ['alice']);
  t.deepEqual(ok(t, await call(base, 'PUT', '/config', { json: { maxpeers: 3 }, headers })), { maxpeers: 3 });
  t.deepEqual(ok(t, await call(base, 'POST', '/reset', { headers: { 'x-peerlab-token': server.token ?? '' } })), { ok: true });
  t.deepEqual(await server.store.list(), { contacts: [], candidates: [] });
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
    [['--store'], /--store/],
    [['--store', ''], /--store: expected file:PATH, postgres:\/\/.* or memory, got an empty value/],
    [['--store', 'bogus'], /--store: expected file:PATH, postgres:\/\/.* or memory, got "bogus"/],
    [['--store', 'file:'], /--store: expected a path after "file:"/],
    [['--store', 'redis://u:pw-hidden@127.0.0.1/0'], /--store: expected .*, got "redis:\/\/u:\*\*\*@127\.0\.0\.1\/0"/],
    [['--store', 'postgres://u:pw-hidden@'], /--store: not a valid URL: "postgres:\/\/u:\*\*\*@"/],
    [['--store', 'postgres:///db'], /--store: no host in "postgres:\/\/\/db"/],
    [['--file', 'a.json', '--store', 'file:b.json'], /--file and --store both name the store/],
  ];
  // A few at a time: a dozen node processes starting at once on a loaded machine can outlast the deadline.
  const results: Array<Awaited<ReturnType<typeof runBin>>> = [];
  for (let i = 0; i < cases.length; i += 4) results.push(...(await Promise.all(cases.slice(i, i + 4).map(([args]) => runBin(t, args)))));
  for (const [i, [args, flag]] of cases.entries()) {
    const result = results[i];
    if (!result) continue;
    t.is(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    t.regex(result.stderr, flag);
    t.false(result.stderr.includes('pw-hidden'), `a password is never printed: ${result.stderr}`);
    t.is(result.stdout, '');
  }
});

test.serial('stand-alone binary: PEERLAB_BOOTSTRAP_STORE names the store, a bad one exits 2 naming the variable, and a flag wins over it', async (t) => {
  const bad = await runBin(t, ['--port', '0'], { PEERLAB_BOOTSTRAP_STORE: 'mongodb://x' });
  t.is(bad.code, 2, bad.stderr);
  t.regex(bad.stderr, /PEERLAB_BOOTSTRAP_STORE.*expected file:PATH/);
  t.is(bad.stdout, '');

  const dir = await tempDir(t);
  const fromEnv = join(dir, 'env.json');
  const fromFlag = join(dir, 'flag.json');
  const storeLine = /^peerlab-bootstrap store: (.*)$/;
  for (const [args, expected] of [
    [[], `file ${fromEnv}`],
    [['--file', fromFlag], `file ${fromFlag}`],
    [['--store', `file:${fromFlag}`], `file ${fromFlag}`],
    [['--store', 'memory'], 'in memory'],
  ] as const) {
    const child = spawnBin(t, ['--port', '0', ...args], { PEERLAB_BOOTSTRAP_STORE: `file:${fromEnv}` });
    const [, store] = await waitForLine(child, storeLine);
    t.is(store, expected, args.join(' ') || '(no flag)');
    child.child.kill('SIGTERM');
    t.deepEqual(await waitForExit(child), { code: 0, signal: null });
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

// ---------------------------------------------------------------- contacts spread over the processes that carry the peers

test('spreadContacts: a process holds at most its share of the contacts, when they are made and when they are replaced', async (t) => {
  const store = new BootstrapStore({ maxpeers: 5 });
  await store.load();
  // Two processes, as a coordinator deals names out: the first process's peers all register first.
  store.spreadContacts([['a1', 'a2', 'a3', 'a4'], ['b1', 'b2', 'b3']]);
  for (const name of ['a1', 'a2', 'a3', 'a4', 'x', 'b1', 'b2', 'b3']) await store.join({ name, address: '127.0.0.1:1' });
  const first = await store.list();
  let { candidates } = first;
  const { contacts } = first;
  t.deepEqual(contacts.map((c) => c.name), ['a1', 'a2', 'a3', 'x', 'b1'], 'three a process, ceil(5 / 2); x, of no known process, as before');
  t.deepEqual(candidates.map((c) => c.name), ['a4', 'b2', 'b3']);
  // A contact that leaves is replaced by the oldest candidate whose process has room: b2, though a4 is older.
  t.deepEqual((await store.leave('x'))?.promoted, ['b2']);
  // A later start adds its processes to the earlier ones (now three, two contacts each): a's has three already.
  store.spreadContacts([['c1']]);
  await store.join({ name: 'c1', address: '127.0.0.1:1' });
  t.deepEqual((await store.leave('b1'))?.promoted, ['b3'], 'b: one of two, though a4 is older');
  t.deepEqual((await store.leave('b2'))?.promoted, ['c1'], 'c: none of two');
  ({ candidates } = await store.list());
  t.deepEqual(candidates.map((c) => c.name), ['a4']);
  t.deepEqual((await store.leave('c1'))?.promoted, ['a4'], 'with no candidate whose process is below its share, the oldest');
  // Without a placement, the first to join are the contacts, as a stand-alone service has them.
  const plain = new BootstrapStore({ maxpeers: 4 });
  await plain.load();
  for (const name of ['a1', 'a2', 'a3', 'b1']) await plain.join({ name, address: '127.0.0.1:1' });
  t.deepEqual((await plain.list()).contacts.map((c) => c.name), ['a1', 'a2', 'a3', 'b1']);
});
