// The bootstrap service on PostgreSQL: the shared behaviour on PostgresStore, then
// several real `peerlab-bootstrap` processes on one database. The server is the one
// scripts/test.mjs started (PEERLAB_TEST_POSTGRES_URL), or else one this file
// starts and stops through the same script. Every test gets a database of its own.

import test from 'ava';
import type { ExecutionContext } from 'ava';
import pg from 'pg';
import { startBootstrapServer } from '../src/server.js';
import type { BootstrapServer } from '../src/server.js';
import { PostgresStore } from '../src/postgres-store.js';
import type { Contact, PeerList } from '../src/store.js';
import { behaviourTests } from './behaviour.js';
import { call, LISTENING, names, ok, runBin, spawnBin, waitForLine } from './helpers.js';
import type { Reply, Spawned } from './helpers.js';

interface TestPostgres {
  url: string;
  stop(): Promise<void>;
  stopSync(): void;
}

const SCRIPT = new URL('../../../scripts/postgres.mjs', import.meta.url).href;
let own: TestPostgres | undefined;
let serverUrl = process.env.PEERLAB_TEST_POSTGRES_URL ?? '';

test.before(async () => {
  if (serverUrl !== '') return;
  const { startPostgres } = (await import(SCRIPT)) as { startPostgres(): Promise<TestPostgres> };
  own = await startPostgres();
  serverUrl = own.url;
  // Interrupted (Ctrl-C reaches this worker too), the after hook would not run:
  // stop the server here, then die of the signal as before.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      own?.stopSync();
      process.kill(process.pid, signal);
    });
  }
});

test.after.always(async () => {
  await own?.stop();
});

let databases = 0;

/** URL of a new, empty database on the test server, dropped after the test. */
async function freshDatabase(t: ExecutionContext, password?: string): Promise<string> {
  const name = `bootstrap_${process.pid}_${++databases}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  t.teardown(async () => {
    const dropper = new pg.Client({ connectionString: serverUrl });
    await dropper.connect();
    try {
      await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await dropper.end();
    }
  });
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  // The test server trusts every local connection, so any password gets in: enough
  // to show where a password would be printed.
  if (password !== undefined) url.password = password;
  return url.toString();
}

async function serveOnPostgres(t: ExecutionContext, options: { maxpeers?: number } = {}): Promise<BootstrapServer> {
  const store = new PostgresStore({ url: await freshDatabase(t), maxpeers: options.maxpeers });
  const server = await startBootstrapServer({ port: 0, store });
  t.teardown(() => server.close());
  return server;
}

// ---------------------------------------------------------------- behaviour shared with every backend

behaviourTests('postgres: ', serveOnPostgres);

// ---------------------------------------------------------------- several instances on one database

interface Instance {
  spawned: Spawned;
  url: string;
  output: () => string;
}

async function startInstance(t: ExecutionContext, store: string, maxpeers: number): Promise<Instance> {
  const spawned = spawnBin(t, ['--port', '0', '--store', store, '--maxpeers', String(maxpeers)]);
  let output = '';
  spawned.child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  spawned.child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  // The store line comes last, so by then the whole start-up output is in.
  await waitForLine(spawned, /^peerlab-bootstrap store: /, 20_000);
  const url = output.split('\n').map((line) => LISTENING.exec(line)?.[1]).find((found) => found !== undefined);
  if (url === undefined) throw new Error(`no listening line in ${JSON.stringify(output)}`);
  return { spawned, url, output: () => output };
}

function joinRequest(base: string, name: string, port: number): Promise<Reply> {
  return call(base, 'POST', '/join', { json: { name, address: `127.0.0.1:${port}` } });
}

function leaveRequest(base: string, name: string): Promise<Reply> {
  return call(base, 'POST', '/leave', { json: { name } });
}

/**
 * What must hold after every step, whoever served it: at most maxpeers contacts, as
 * many as there is room for, and they are the oldest peers; both lists oldest first.
 * Returns the problems found (none = fine).
 */
function invariantProblems(state: PeerList, maxpeers: number): string[] {
  const problems: string[] = [];
  const total = state.contacts.length + state.candidates.length;
  if (state.contacts.length > maxpeers) problems.push(`${state.contacts.length} contacts, maxpeers ${maxpeers}`);
  if (state.contacts.length !== Math.min(maxpeers, total)) problems.push(`${state.contacts.length} contacts of ${total} peers, maxpeers ${maxpeers}`);
  const sorted = (list: Contact[]): boolean => list.every((c, i) => i === 0 || (list[i - 1]?.since ?? 0) <= c.since);
  if (!sorted(state.contacts) || !sorted(state.candidates)) problems.push('a list is not oldest first');
  const youngestContact = Math.max(...state.contacts.map((c) => c.since));
  const oldestCandidate = Math.min(...state.candidates.map((c) => c.since));
  if (youngestContact > oldestCandidate) problems.push(`a candidate (since ${oldestCandidate}) is older than a contact (since ${youngestContact})`);
  const all = [...names(state.contacts), ...names(state.candidates)];
  if (new Set(all).size !== all.length) problems.push('a peer is listed twice');
  return problems;
}

/**
 * Reads /list from each instance in turn until stopped, recording every broken
 * invariant; a read is fine if it obeys the rules for one of `maxpeers` (the values
 * before and after a change of it).
 */
function watch(instances: Instance[], ...maxpeers: number[]): { stop: () => Promise<{ reads: number; problems: string[] }> } {
  let running = true;
  let reads = 0;
  const problems: string[] = [];
  const loop = (async () => {
    for (let i = 0; running; i++) {
      const instance = instances[i % instances.length]!;
      const reply = await call(instance.url, 'GET', '/list');
      if (reply.status !== 200) {
        problems.push(`GET /list: ${reply.status} ${JSON.stringify(reply.body)}`);
        continue;
      }
      reads++;
      const found = maxpeers.map((max) => invariantProblems(reply.body as PeerList, max));
      if (found.every((list) => list.length > 0)) problems.push(...found.flat());
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return { reads, problems };
    },
  };
}

async function listVia(t: ExecutionContext, instance: Instance): Promise<PeerList> {
  return ok<PeerList>(t, await call(instance.url, 'GET', '/list'));
}

const MAXPEERS = 10;

test.serial('two instances on one database: 100 concurrent joins, then 100 concurrent joins and leaves, then a maxpeers shrink amid joins, across both: nothing lost, maxpeers never exceeded, candidates promoted and contacts demoted by age', async (t) => {
  t.timeout(120_000);
  const url = await freshDatabase(t);
  // Started together: both create the tables at once.
  const [a, b] = (await Promise.all([startInstance(t, url, MAXPEERS), startInstance(t, url, MAXPEERS)])) as [Instance, Instance];
  const both = [a, b];
  const via = (i: number): Instance => both[i % 2]!;

  // Step 1: 100 joins, alternating between the instances, all at once.
  let watcher = watch(both, MAXPEERS);
  const firstNames = Array.from({ length: 100 }, (_, i) => `p${String(i).padStart(3, '0')}`);
  let started = Date.now();
  const joins = await Promise.all(firstNames.map((name, i) => joinRequest(via(i).url, name, 10_000 + i)));
  const joinMs = Date.now() - started;
  let watched = await watcher.stop();
  for (const [i, reply] of joins.entries()) {
    const { contacts } = ok<{ contacts: Contact[] }>(t, reply);
    t.true(contacts.length <= MAXPEERS, `join ${firstNames[i]} got ${contacts.length} contacts`);
    t.false(names(contacts).includes(firstNames[i]!), 'never its own contact');
  }
  const afterJoins = await listVia(t, a);
  t.deepEqual(await listVia(t, b), afterJoins, 'both instances serve the same list');
  t.deepEqual([...names(afterJoins.contacts), ...names(afterJoins.candidates)].sort(), firstNames, 'every join is there, once');
  t.deepEqual(invariantProblems(afterJoins, MAXPEERS), []);
  t.deepEqual(watched.problems, [], 'no read during the joins saw a broken rule');
  t.log(`step 1: 100 joins across two instances in ${joinMs} ms; ${watched.reads} reads meanwhile`);

  // Step 2: the 50 oldest leave (all 10 contacts among them, so candidates must be
  // promoted over and over) while 50 new peers join; again spread over both.
  const order = [...names(afterJoins.contacts), ...names(afterJoins.candidates)];
  const leavers = order.slice(0, 50);
  const survivors = order.slice(50);
  const newcomers = Array.from({ length: 50 }, (_, i) => `q${String(i).padStart(3, '0')}`);
  watcher = watch(both, MAXPEERS);
  started = Date.now();
  const mixed = await Promise.all([
    ...leavers.map((name, i) => leaveRequest(via(i).url, name)),
    ...newcomers.map((name, i) => joinRequest(via(i + 1).url, name, 20_000 + i)),
  ]);
  const mixedMs = Date.now() - started;
  watched = await watcher.stop();
  for (const reply of mixed) ok(t, reply);
  const final = await listVia(t, b);
  t.deepEqual(await listVia(t, a), final, 'both instances serve the same list');
  t.deepEqual([...names(final.contacts), ...names(final.candidates)].sort(), [...survivors, ...newcomers].sort(), 'every leaver gone, every survivor and newcomer there');
  // Newcomers are younger than every survivor, and there was never room for them.
  t.deepEqual(names(final.contacts), survivors.slice(0, MAXPEERS), 'the oldest survivors were promoted, in order');
  t.deepEqual(names(final.candidates).slice(0, survivors.length - MAXPEERS), survivors.slice(MAXPEERS), 'the remaining candidates keep their order');
  t.deepEqual(invariantProblems(final, MAXPEERS), []);
  t.deepEqual(watched.problems, [], 'no read during the joins and leaves saw a broken rule');
  t.true(watched.reads > 0, 'the lists were read while the changes ran');
  t.log(`step 2: 50 leaves + 50 joins across two instances in ${mixedMs} ms; ${watched.reads} reads meanwhile`);

  // Step 3: maxpeers shrinks on one instance while the other takes joins: the
  // youngest contacts are demoted, and no joiner slips in as a contact.
  watcher = watch(both, MAXPEERS, 4);
  const late = Array.from({ length: 30 }, (_, i) => `r${String(i).padStart(3, '0')}`);
  const [shrink, ...lateJoins] = await Promise.all([
    call(a.url, 'PUT', '/config', { json: { maxpeers: 4 } }),
    ...late.map((name, i) => joinRequest(via(i).url, name, 30_000 + i)),
  ]);
  watched = await watcher.stop();
  t.deepEqual(ok(t, shrink!), { maxpeers: 4 });
  for (const reply of lateJoins) ok(t, reply);
  const shrunk = await listVia(t, b);
  t.deepEqual(ok(t, await call(b.url, 'GET', '/config')), { maxpeers: 4 }, 'the other instance sees the new maxpeers');
  t.deepEqual(names(shrunk.contacts), survivors.slice(0, 4), 'the four oldest stay contacts');
  t.is(shrunk.contacts.length + shrunk.candidates.length, survivors.length + newcomers.length + late.length);
  t.deepEqual(invariantProblems(shrunk, 4), []);
  t.deepEqual(watched.problems, [], 'every read during the shrink saw the state before or after it');
  t.log(`step 3: maxpeers 10 → 4 on one instance with 30 joins across both; ${watched.reads} reads meanwhile`);

  for (const instance of both) instance.spawned.child.kill('SIGTERM');
});

test.serial('an instance killed (SIGKILL) with writes in flight loses nothing it acknowledged: the other instance serves every acknowledged join and no acknowledged leave', async (t) => {
  t.timeout(120_000);
  const password = 'pw-never-printed-7f3a';
  const url = await freshDatabase(t, password);
  const [victim, survivor] = (await Promise.all([startInstance(t, url, MAXPEERS), startInstance(t, url, MAXPEERS)])) as [Instance, Instance];
  t.regex(victim.output(), /peerlab-bootstrap store: postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/bootstrap_/);

  const residents = Array.from({ length: 60 }, (_, i) => `k${String(i).padStart(3, '0')}`);
  for (const reply of await Promise.all(residents.map((name, i) => joinRequest(survivor.url, name, 10_000 + i)))) ok(t, reply);

  // 60 leaves and 140 joins on the victim; the kill lands after 30 answers.
  const joiners = Array.from({ length: 140 }, (_, i) => `w${String(i).padStart(3, '0')}`);
  const requests: Array<{ kind: 'join' | 'leave'; name: string; send: () => Promise<Reply> }> = [
    ...residents.map((name) => ({ kind: 'leave' as const, name, send: () => leaveRequest(victim.url, name) })),
    ...joiners.map((name, i) => ({ kind: 'join' as const, name, send: () => joinRequest(victim.url, name, 20_000 + i) })),
  ];
  // At most IN_FLIGHT at once: enough that writes are in flight at the kill, few
  // enough that none waits out the pool's connection timeout on a loaded machine.
  const IN_FLIGHT = 40;
  let answered = 0;
  let next = 0;
  let killed = false;
  let inFlightAtKill = 0;
  // Left undefined: sent, and no answer came (the process died first).
  const outcomes: Array<number | undefined> = [];
  const sender = async (): Promise<void> => {
    while (!killed && next < requests.length) {
      const i = next++;
      outcomes.length = Math.max(outcomes.length, i + 1);
      const reply = await requests[i]!.send().catch(() => undefined);
      if (reply === undefined) continue;
      outcomes[i] = reply.status;
      if (++answered === 30) {
        inFlightAtKill = next - answered;
        killed = true;
        victim.spawned.child.kill('SIGKILL');
      }
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, sender));
  const sent = requests.slice(0, outcomes.length);
  const acknowledged = sent.filter((_, i) => outcomes[i] === 200);
  const unanswered = sent.filter((_, i) => outcomes[i] === undefined);
  t.log(`${sent.length} sent: ${acknowledged.length} acknowledged, ${unanswered.length} unanswered, ${sent.length - acknowledged.length - unanswered.length} other; ${inFlightAtKill} in flight at the kill`);
  t.true(acknowledged.length >= 30, 'the kill came after some answers');
  t.true(inFlightAtKill > 0 && unanswered.length > 0, 'the kill came while requests were in flight');
  t.is(acknowledged.length + unanswered.length, sent.length, 'every answer before the kill was a success');

  const state = await listVia(t, survivor);
  const present = new Set([...names(state.contacts), ...names(state.candidates)]);
  for (const { kind, name } of acknowledged) {
    if (kind === 'join') t.true(present.has(name), `acknowledged join of ${name} is there`);
    else t.false(present.has(name), `acknowledged leave of ${name} is gone`);
  }
  t.deepEqual(invariantProblems(state, MAXPEERS), [], 'what the killed instance committed obeys the rules');
  // Allowed either way: committed, but the answer died with the process.
  const committedUnanswered = unanswered.filter(({ kind, name }) => (kind === 'join') === present.has(name)).length;
  t.log(`${committedUnanswered} of the unanswered requests had been committed anyway`);
  // The survivor goes on serving the shared state.
  t.deepEqual(names(ok<{ contacts: Contact[] }>(t, await joinRequest(survivor.url, 'after-kill', 30_000)).contacts), names(state.contacts));
  t.false(victim.output().includes(password) || survivor.output().includes(password), 'the password is never printed');
  survivor.spawned.child.kill('SIGTERM');
});

// ---------------------------------------------------------------- server settings and stalls

/** Runs one statement on the test server's admin database. */
async function admin<T extends pg.QueryResultRow>(sql: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return (await client.query<T>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

function databaseOf(url: string): string {
  return new URL(url).pathname.slice(1);
}

/** Rejects if `work` has not settled within `ms`, naming `what`. */
async function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

test.serial('a database whose default isolation is repeatable read and whose commits are asynchronous still gets every concurrent join across two instances, and maxpeers holds: each transaction sets read committed itself', async (t) => {
  t.timeout(120_000);
  const url = await freshDatabase(t);
  const database = databaseOf(url);
  // Settings a database administrator may well choose; they apply to new sessions.
  await admin(`ALTER DATABASE ${database} SET default_transaction_isolation = 'repeatable read'`);
  await admin(`ALTER DATABASE ${database} SET synchronous_commit = off`);
  const maxpeers = 5;
  const [a, b] = (await Promise.all([startInstance(t, url, maxpeers), startInstance(t, url, maxpeers)])) as [Instance, Instance];
  const joiners = Array.from({ length: 60 }, (_, i) => `s${String(i).padStart(3, '0')}`);
  const replies = await Promise.all(joiners.map((name, i) => joinRequest((i % 2 === 0 ? a : b).url, name, 10_000 + i)));
  for (const reply of replies) ok(t, reply);
  const state = await listVia(t, b);
  t.deepEqual([...names(state.contacts), ...names(state.candidates)].sort(), joiners, 'every join is there, once');
  t.deepEqual(invariantProblems(state, maxpeers), []);
  // The contacts are the first joiners in commit order: refill promotes by age.
  const leaves = await Promise.all(names(state.contacts).map((name, i) => leaveRequest((i % 2 === 0 ? a : b).url, name)));
  for (const reply of leaves) ok(t, reply);
  const refilled = await listVia(t, a);
  t.deepEqual(names(refilled.contacts), names(state.candidates).slice(0, maxpeers), 'the oldest candidates were promoted, in order');
  t.deepEqual(invariantProblems(refilled, maxpeers), []);
  for (const instance of [a, b]) instance.spawned.child.kill('SIGTERM');
});

test.serial('an instance stopped (SIGSTOP) while it holds the lock does not block the other: the server cuts the stalled sessions, the other instance answers within the database time limits instead of waiting for ever, and serves at once when they are cut', async (t) => {
  t.timeout(120_000);
  const url = await freshDatabase(t);
  const database = databaseOf(url);
  const [stalled, other] = (await Promise.all([startInstance(t, url, MAXPEERS), startInstance(t, url, MAXPEERS)])) as [Instance, Instance];
  const stalledPid = stalled.spawned.child.pid!;
  // A stopped process ignores SIGTERM: let the teardown's signal reach it.
  t.teardown(() => {
    stalled.spawned.child.kill('SIGCONT');
    stalled.spawned.child.kill('SIGKILL');
  });

  // Many writes on one instance, so that one of them holds the config row lock at
  // almost any moment. Stop the process; if none of its sessions holds the lock
  // (an open transaction that has an id: only the lock's holder has one, as
  // SELECT ... FOR UPDATE is its first statement), let it run a little and retry.
  let answers = 0;
  let onAnswer: () => void = () => {};
  const burst = Promise.all(
    Array.from({ length: 400 }, (_, i) =>
      joinRequest(stalled.url, `v${String(i).padStart(3, '0')}`, 10_000 + i).then(
        (reply) => {
          answers++;
          onAnswer();
          return reply.status;
        },
        () => undefined,
      ),
    ),
  );
  const holderQuery = `SELECT pid, backend_xid::text AS xid FROM pg_stat_activity WHERE datname = $1 AND state = 'idle in transaction' AND backend_xid IS NOT NULL`;
  let holder: number | undefined;
  const giveUp = Date.now() + 60_000;
  while (holder === undefined) {
    if (Date.now() > giveUp) throw new Error('never caught the instance holding the lock');
    const answered = answers;
    await new Promise<void>((resolve) => {
      onAnswer = () => {
        if (answers > answered) resolve();
      };
      if (answers > answered) resolve();
    });
    process.kill(stalledPid, 'SIGSTOP');
    // Asked twice: a statement already on its way when the process stopped is seen
    // by the second look (the first may be older than that statement's arrival).
    const first = await admin<{ pid: number; xid: string }>(holderQuery, [database]);
    const second = await admin<{ pid: number; xid: string }>(holderQuery, [database]);
    holder = first.find((row) => second.some((again) => again.pid === row.pid && again.xid === row.xid))?.pid;
    if (holder === undefined) process.kill(stalledPid, 'SIGCONT');
  }

  // The other instance: a read never waits for the lock; a change does, behind the
  // stalled session and any of the stalled instance's transactions queued before
  // it, each cut after the server's idle limit. It answers within the statement
  // limit (30 s) plus slack: a success, or a database error if the queue was long.
  const listed = await within(5_000, 'a read on the other instance', call(other.url, 'GET', '/list'));
  ok(t, listed);
  let started = Date.now();
  const joined = await within(40_000, 'a join on the other instance', joinRequest(other.url, 'while-stalled', 30_000));
  t.log(`with the holder stopped, the other instance answered a join with ${joined.status} in ${Date.now() - started} ms`);
  t.true(joined.status === 200 || joined.status === 500, `status ${joined.status}`);
  const gone = await admin<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE pid = $1', [holder]);
  t.deepEqual(gone, [], 'the stalled session was ended by the server');

  // Once no session of the stopped instance is left in a transaction, the other
  // instance changes the list again at once.
  const openTransactions = `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND xact_start IS NOT NULL AND pid <> pg_backend_pid()`;
  const drained = Date.now() + 60_000;
  while ((await admin<{ n: number }>(openTransactions, [database]))[0]!.n > 0) {
    if (Date.now() > drained) throw new Error('the stopped instance still holds open transactions after 60 s');
    await new Promise((resolve) => setTimeout(resolve, 200)); // polling the server, bounded by the deadline above
  }
  started = Date.now();
  ok(t, await within(5_000, 'a join after the stalled sessions were cut', joinRequest(other.url, 'after-stall', 30_001)));
  t.log(`after the stalled sessions were cut: a join in ${Date.now() - started} ms`);

  // Resumed, the stopped instance's requests settle (the cut-off ones with an
  // error) and the shared state still obeys the rules.
  process.kill(stalledPid, 'SIGCONT');
  const statuses = await within(60_000, 'the resumed instance', burst);
  t.log(`resumed: ${statuses.filter((status) => status === 200).length} joins succeeded, ${statuses.filter((status) => status !== 200).length} failed or unanswered`);
  const state = await listVia(t, other);
  t.deepEqual(invariantProblems(state, MAXPEERS), []);
  t.true(names([...state.contacts, ...state.candidates]).includes('after-stall'));
  stalled.spawned.child.kill('SIGTERM');
  other.spawned.child.kill('SIGTERM');
});

// ---------------------------------------------------------------- start-up failures

test.serial('a database that cannot be reached fails the start: exit 1, naming the database but not its password', async (t) => {
  const closed = new URL(serverUrl);
  closed.port = '1';
  closed.password = 'pw-never-printed-1b2c';
  const refused = await runBin(t, ['--port', '0', '--store', closed.toString()]);
  t.is(refused.code, 1, refused.stderr);
  t.regex(refused.stderr, /bootstrap database postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/peerlab: cannot open: .*ECONNREFUSED/);
  t.false(refused.stderr.includes('pw-never-printed'), refused.stderr);
  t.is(refused.stdout, '', 'nothing listened');

  const missing = new URL(serverUrl);
  missing.pathname = '/no_such_database';
  const absent = await runBin(t, ['--port', '0'], { PEERLAB_BOOTSTRAP_STORE: missing.toString() });
  t.is(absent.code, 1, absent.stderr);
  t.regex(absent.stderr, /no_such_database.*does not exist/);
  t.is(absent.stdout, '');
});
