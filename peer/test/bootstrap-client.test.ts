/**
 * The bootstrap client as a peer host uses it: many peers of one process
 * asking the service at once, against a real HTTP server on loopback.
 */
import test from 'ava';
import http from 'node:http';
import type {AddressInfo} from 'node:net';
import {bootstrapJoin} from '../src/bootstrap-client.js';

interface Service {
  url: string;
  connections: () => number;
  requests: () => number;
}

/** A service that answers every /join with one contact, once `answer` says so. */
async function serve(t: {teardown(fn: () => void): void}, answer: (request: number) => boolean): Promise<Service> {
  let connections = 0;
  let requests = 0;
  const held: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    requests++;
    req.resume();
    req.on('end', () => {
      if (!answer(requests)) {
        held.push(res);
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({contacts: [{name: 'seed', address: '127.0.0.1:7946', since: 1}]}));
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const res of held) res.destroy();
    server.closeAllConnections();
    server.close();
  });
  return {url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => connections, requests: () => requests};
}

test('fifty joins at once from one process go over a few kept-alive connections, and each gets its answer', async (t) => {
  const service = await serve(t, () => true);
  const joins = await Promise.all(Array.from({length: 50}, (_, i) => bootstrapJoin(service.url, `p${i}`, `127.0.0.1:${10_000 + i}`, 10_000)));
  t.true(joins.every((j) => j.seeds.length === 1 && j.seeds[0]!.address.port === 7946));
  t.is(service.requests(), 50);
  t.true(service.connections() <= 4, `${service.connections()} connections for 50 requests`);
  // Later requests reuse what is open.
  const before = service.connections();
  await bootstrapJoin(service.url, 'late', '127.0.0.1:9999', 10_000);
  t.is(service.connections(), before);
});

test('a join waiting for a free connection is held to its deadline from when it was asked, not from when it got one', async (t) => {
  // The service never answers: the first requests hold every connection the process may open, and the rest queue.
  const service = await serve(t, () => false);
  const started = Date.now();
  const results = await Promise.allSettled(Array.from({length: 10}, (_, i) => bootstrapJoin(service.url, `q${i}`, `127.0.0.1:${20_000 + i}`, 700)));
  const elapsed = Date.now() - started;
  t.true(results.every((r) => r.status === 'rejected' && /did not answer within 700 ms/.test(String(r.reason))), JSON.stringify(results.map((r) => r.status === 'rejected' && String(r.reason))));
  // Queued behind held connections, a request timed from its socket would wait forever; the rest is slack for a busy machine.
  t.true(elapsed < 700 + 5000, `all ten failed after ${elapsed} ms`);
});
