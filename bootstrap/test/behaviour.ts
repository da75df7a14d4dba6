// Behaviour every bootstrap backend must show, written once and run against each
// (in memory here, PostgreSQL in postgres.test.ts): the HTTP face as peers use it.

import test from 'ava';
import type { ExecutionContext } from 'ava';
import type { BootstrapServer } from '../src/server.js';
import type { Contact } from '../src/store.js';
import { call, expectError, joinPeer, list, names, ok, setMaxpeers } from './helpers.js';
import type { CallOptions } from './helpers.js';

/** A fresh, empty service on the backend under test, closed at the end of the test. */
export type Serve = (t: ExecutionContext, options?: { maxpeers?: number }) => Promise<BootstrapServer>;

/** Registers the shared cases; `prefix` goes in front of every title (e.g. "postgres: "). */
export function behaviourTests(prefix: string, serve: Serve): void {
  test(`${prefix}GET /ping answers ok and the server time`, async (t) => {
    const server = await serve(t);
    const before = Date.now();
    const body = ok<{ ok: boolean; time: number }>(t, await call(server.url, 'GET', '/ping'));
    t.true(body.ok);
    t.true(Number.isInteger(body.time));
    t.true(body.time >= before && body.time <= Date.now());
  });

  test(`${prefix}GET /config defaults to 8; PUT /config changes it`, async (t) => {
    const server = await serve(t);
    t.deepEqual(ok(t, await call(server.url, 'GET', '/config')), { maxpeers: 8 });
    await setMaxpeers(t, server.url, 3);
    t.deepEqual(ok(t, await call(server.url, 'GET', '/config')), { maxpeers: 3 });
    await setMaxpeers(t, server.url, 1000);
    await setMaxpeers(t, server.url, 1);
  });

  test(`${prefix}PUT /config rejects anything but an integer 1..1000 and keeps the old value`, async (t) => {
    const server = await serve(t, { maxpeers: 5 });
    for (const maxpeers of [0, -1, 1001, 2.5, '3', null, true]) {
      expectError(t, await call(server.url, 'PUT', '/config', { json: { maxpeers } }), 400, /^maxpeers: expected an integer 1-1000/, 'maxpeers');
    }
    expectError(t, await call(server.url, 'PUT', '/config', { json: {} }), 400, /^maxpeers: is required$/, 'maxpeers');
    expectError(t, await call(server.url, 'PUT', '/config', { json: [3] }), 400, /^body: expected a JSON object$/);
    t.deepEqual(ok(t, await call(server.url, 'GET', '/config')), { maxpeers: 5 });
  });

  test(`${prefix}each joiner gets the contacts known before it, never itself`, async (t) => {
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

  test(`${prefix}maxpeers caps the contacts; later joiners become candidates`, async (t) => {
    const server = await serve(t, { maxpeers: 2 });
    for (const name of ['a', 'b', 'c', 'd']) await joinPeer(t, server.url, name);
    t.deepEqual(names(await joinPeer(t, server.url, 'e')), ['a', 'b']);
    const { contacts, candidates } = await list(t, server.url);
    t.deepEqual(names(contacts), ['a', 'b']);
    t.deepEqual(names(candidates), ['c', 'd', 'e']);
  });

  test(`${prefix}a rejoin (restart) updates address and since, keeps its role, and is not its own contact`, async (t) => {
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

  test(`${prefix}leaving contact is replaced by the oldest candidate; leaving candidate changes no roles`, async (t) => {
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

  test(`${prefix}POST /refill promotes the oldest candidates up to maxpeers`, async (t) => {
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

  test(`${prefix}shrinking maxpeers demotes the youngest contacts`, async (t) => {
    const server = await serve(t, { maxpeers: 4 });
    for (const name of ['a', 'b', 'c', 'd', 'e']) await joinPeer(t, server.url, name);
    await setMaxpeers(t, server.url, 2);
    const { contacts, candidates } = await list(t, server.url);
    t.deepEqual(names(contacts), ['a', 'b']);
    t.deepEqual(names(candidates), ['c', 'd', 'e']);
  });

  test(`${prefix}POST /reset forgets all peers and keeps the config`, async (t) => {
    const server = await serve(t, { maxpeers: 3 });
    for (const name of ['a', 'b', 'c', 'd']) await joinPeer(t, server.url, name);
    t.deepEqual(ok(t, await call(server.url, 'POST', '/reset')), { ok: true });
    t.deepEqual(await list(t, server.url), { contacts: [], candidates: [] });
    t.deepEqual(ok(t, await call(server.url, 'GET', '/config')), { maxpeers: 3 });
    t.deepEqual(await joinPeer(t, server.url, 'a'), []);
  });

  test(`${prefix}GET /list on an empty service`, async (t) => {
    const server = await serve(t);
    t.deepEqual(await list(t, server.url), { contacts: [], candidates: [] });
  });

  test(`${prefix}bad requests get the right status and a JSON error naming the problem`, async (t) => {
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

  test(`${prefix}valid address forms are accepted`, async (t) => {
    const server = await serve(t);
    for (const [i, address] of ['localhost:1', '10.0.0.7:65535', 'peer-1.example.org:4000', '[::1]:4000'].entries()) {
      ok(t, await call(server.url, 'POST', '/join', { json: { name: `p${i}`, address } }));
    }
    t.is((await list(t, server.url)).contacts.length, 4);
  });
}
