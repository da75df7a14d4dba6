/**
 * DNS rebinding: requests naming a Host the server is not reachable as, or
 * sent from another site's page (Origin), are refused on every route and on
 * the socket.io handshake, by the coordinator and the stand-alone bootstrap
 * service alike, while peers and same-origin callers go on as before. Every
 * request goes to 127.0.0.1; only the headers are forged.
 */
import os from 'node:os';
import test from 'ava';
import type {ExecutionContext} from 'ava';
import {io} from 'socket.io-client';
import {startBootstrapServer} from '@peerlab/bootstrap/server';
import {allowedAuthorities, checkHostAndOrigin, parseAuthority} from '@peerlab/node-kit/host-guard';
import {rawRequest, upgradeRequest} from './raw-http.js';
import type {RawReply} from './raw-http.js';
import {rawAgent, startCoordinator, waitForEvent} from './support.js';

function refused(t: ExecutionContext, reply: RawReply, status: number, field: 'host' | 'origin'): void {
  t.is(reply.status, status, JSON.stringify(reply.body));
  t.regex(reply.contentType, /application\/json/);
  t.is(reply.body?.error?.field, field, JSON.stringify(reply.body));
  t.regex(reply.body?.error?.message ?? '', new RegExp(`^${field}: `));
}

test('the allowed authorities follow the listen address and port', (t) => {
  t.deepEqual([...allowedAuthorities('127.0.0.1', 4000)].sort(), ['127.0.0.1:4000', '[::1]:4000', 'localhost:4000']);
  t.true(allowedAuthorities('127.0.0.7', 4000).has('127.0.0.7:4000'));
  t.true(allowedAuthorities('::1', 4000).has('[::1]:4000'));
  const one = allowedAuthorities('192.0.2.10', 4000, ['lab.example', 'proxy.example:8080']);
  t.deepEqual([...one].sort(), ['192.0.2.10:4000', 'lab.example:4000', 'proxy.example:8080']);
  t.false(one.has('127.0.0.1:4000'), 'bound to one address, it is not reachable on loopback');
  const every = allowedAuthorities('0.0.0.0', 4000);
  t.true(every.has('127.0.0.1:4000') && every.has('localhost:4000'));
  for (const address of Object.values(os.networkInterfaces()).flatMap((l) => l ?? []).filter((i) => i.family === 'IPv4')) {
    t.true(every.has(`${address.address}:4000`), address.address);
  }

  t.is(parseAuthority('LOCALHOST:4000', 80), 'localhost:4000');
  t.is(parseAuthority('localhost', 80), 'localhost:80');
  t.is(parseAuthority('localhost:80', 4000), 'localhost:80', 'an explicit default port stays');
  t.is(parseAuthority('[::1]:4000', 80), '[::1]:4000');
  for (const bad of ['', 'a b', 'evil.example/x', 'user@127.0.0.1:4000', '127.0.0.1:99999', '[::1']) t.is(parseAuthority(bad, 80), undefined, bad);
});

test('Host and Origin checks: names, ports, and other sites', (t) => {
  const allowed = allowedAuthorities('127.0.0.1', 4000);
  const check = (headers: Record<string, string>) => checkHostAndOrigin(headers, allowed);
  t.is(check({host: '127.0.0.1:4000'}), undefined);
  t.is(check({host: 'localhost:4000', origin: 'http://localhost:4000'}), undefined);
  t.is(check({host: '[::1]:4000', origin: 'http://127.0.0.1:4000'}), undefined);
  t.like(check({}), {status: 421, field: 'host'});
  t.like(check({host: 'evil.example:4000'}), {status: 421, field: 'host'});
  t.like(check({host: '127.0.0.1:4001'}), {status: 421, field: 'host'});
  t.like(check({host: '127.0.0.1'}), {status: 421, field: 'host'}, 'no port means port 80');
  t.like(check({host: 'localhost.:4000'}), {status: 421, field: 'host'});
  t.like(check({host: '127.0.0.1:4000', origin: 'http://evil.example'}), {status: 403, field: 'origin'});
  t.like(check({host: '127.0.0.1:4000', origin: 'http://127.0.0.1:4001'}), {status: 403, field: 'origin'});
  t.like(check({host: '127.0.0.1:4000', origin: 'https://127.0.0.1:4000'}), {status: 403, field: 'origin'});
  t.like(check({host: '127.0.0.1:4000', origin: 'null'}), {status: 403, field: 'origin'});
  t.like(check({host: '127.0.0.1:4000', origin: 'not a url'}), {status: 403, field: 'origin'});
});

test.serial('coordinator on loopback: forged Host and cross-site Origin are refused on REST, bootstrap and the socket.io handshake; peers register', async (t) => {
  const coordinator = await startCoordinator(t);
  const base = coordinator.url;
  const port = new URL(base).port;
  for (const route of ['/healthz', '/api/peers', '/bootstrap/list', '/no-such-route', '/socket.io/?EIO=4&transport=polling']) {
    refused(t, await rawRequest(`${base}${route}`, {headers: {host: `evil.example:${port}`}}), 421, 'host');
  }
  refused(t, await rawRequest(`${base}/api/peers`, {method: 'POST', headers: {host: `attacker.example`, 'content-type': 'application/json'}, body: '{"count":1}'}), 421, 'host');
  refused(t, await rawRequest(`${base}/healthz`, {headers: {host: `127.0.0.1:${Number(port) + 1}`}}), 421, 'host');
  refused(t, await rawRequest(`${base}/api/peers`, {headers: {origin: 'http://evil.example'}}), 403, 'origin');
  refused(t, await rawRequest(`${base}/bootstrap/reset`, {method: 'POST', headers: {origin: 'http://evil.example'}}), 403, 'origin');
  t.is(coordinator.runner.peers().length, 0, 'a refused POST spawned nothing');

  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]) {
    const reply = await rawRequest(`${base}/healthz`, {headers: {host, origin: `http://${host}`}});
    t.is(reply.status, 200, `${host}: ${JSON.stringify(reply.body)}`);
  }

  // The socket.io handshake is an upgrade request: refused before any token is read.
  refused(t, await upgradeRequest(base, {host: `evil.example:${port}`}), 421, 'host');
  refused(t, await upgradeRequest(base, {origin: 'http://evil.example'}), 403, 'origin');
  t.is((await upgradeRequest(base)).status, 101, 'a plain upgrade still works');
  const fromPage = io(base, {transports: ['websocket'], auth: {token: coordinator.token}, extraHeaders: {origin: 'http://evil.example'}, reconnection: false, forceNew: true});
  t.teardown(() => void fromPage.disconnect());
  await waitForEvent(fromPage, 'connect_error', () => true, 5000);
  t.false(fromPage.connected);

  const raw = await rawAgent(t, base, coordinator.token);
  const ack = await raw.timeout(5000).emitWithAck('hello', {protocol: 1, peer: 'raw-1', pid: process.pid, version: 'test', address: '127.0.0.1:1', commands: []});
  t.like(ack, {ok: true});
  await coordinator.spawn(['alice']);
  t.true(coordinator.hub.isConnected('alice'));
  const reply = await coordinator.hub.command('alice', 'members');
  t.true(reply.ok, JSON.stringify(reply));
});

test.serial('coordinator on every interface: loopback, interface addresses and given names pass, others do not', async (t) => {
  const coordinator = await startCoordinator(t, {host: '0.0.0.0', allowedHosts: ['lab.example']});
  const port = new URL(coordinator.url).port;
  const base = `http://127.0.0.1:${port}`;
  const authorization = `Bearer ${coordinator.token}`;
  const interfaces = Object.values(os.networkInterfaces()).flatMap((l) => l ?? []).filter((i) => i.family === 'IPv4').map((i) => i.address);
  for (const host of [`127.0.0.1:${port}`, `lab.example:${port}`, ...interfaces.map((a) => `${a}:${port}`)]) {
    const reply = await rawRequest(`${base}/api/peers`, {headers: {host, authorization}});
    t.is(reply.status, 200, `${host}: ${JSON.stringify(reply.body)}`);
  }
  refused(t, await rawRequest(`${base}/api/peers`, {headers: {host: `evil.example:${port}`, authorization}}), 421, 'host');
  refused(t, await rawRequest(`${base}/api/peers`, {headers: {host: `lab.example:${Number(port) + 1}`, authorization}}), 421, 'host');
  refused(t, await rawRequest(`${base}/api/peers`, {headers: {origin: `http://evil.example:${port}`, authorization}}), 403, 'origin');
  await coordinator.spawn(['alice']);
  t.true(coordinator.hub.isConnected('alice'));
});

test('stand-alone bootstrap service: forged Host and cross-site Origin are refused on every route', async (t) => {
  const server = await startBootstrapServer({port: 0, allowedHosts: ['boot.example']});
  t.teardown(() => server.close());
  await server.store.join({name: 'alice', address: '127.0.0.1:4001'});
  const port = server.port;
  for (const [method, route] of [['GET', '/ping'], ['GET', '/config'], ['GET', '/list'], ['POST', '/reset'], ['POST', '/refill'], ['PUT', '/config'], ['POST', '/join']] as const) {
    refused(t, await rawRequest(`${server.url}${route}`, {method, headers: {host: `evil.example:${port}`}}), 421, 'host');
    refused(t, await rawRequest(`${server.url}${route}`, {method, headers: {origin: 'http://evil.example'}}), 403, 'origin');
  }
  t.is((await server.store.list()).contacts.length, 1, 'the refused /reset forgot nobody');
  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `boot.example:${port}`]) {
    t.is((await rawRequest(`${server.url}/ping`, {headers: {host}})).status, 200, host);
  }
});
