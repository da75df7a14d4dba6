/**
 * The REST edge: bodies that are not JSON get 415, keys naming the object
 * prototype get a 400 naming the field instead of being dropped on the way to
 * the peer. A raw agent stands in for a peer and records what reaches it.
 */
import test from 'ava';
import {call, echoAgent, isError, startCoordinator} from './support.js';
import {rawRequest} from './raw-http.js';

test.serial('a body that is not JSON gets 415 naming the Content-Type; no body at all is still a 400', async (t) => {
  const coordinator = await startCoordinator(t);
  const agent = await echoAgent(t, coordinator, 'echo');
  const base = coordinator.url;
  for (const route of ['/api/peers/echo/commands', '/api/peers']) {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml']) {
      const reply = await rawRequest(`${base}${route}`, {method: 'POST', headers: {'content-type': type}, body: '{"name":"members"}'});
      const e = isError(t, reply, 415, 'unsupported-media-type');
      t.is(e.field, 'content-type');
      t.true(e.message.includes(type), e.message);
    }
    // A JSON text without any Content-Type is not taken on trust either.
    isError(t, await rawRequest(`${base}${route}`, {method: 'POST', body: '{"count":1}'}), 415, 'unsupported-media-type');
  }
  isError(t, await call(base, 'POST', '/api/peers/echo/commands'), 400, 'bad-request');
  const good = await rawRequest(`${base}/api/peers/echo/commands`, {method: 'POST', headers: {'content-type': 'application/json; charset=utf-8'}, body: '{"name":"members"}'});
  t.is(good.status, 200, JSON.stringify(good.body));
  t.is(agent.received.length, 1, 'only the JSON request reached the agent');
  t.is(coordinator.runner.peers().length, 0, 'no refused spawn started anything');
});

test.serial('__proto__, constructor and prototype keys get a 400 naming the field, and never reach the peer', async (t) => {
  const coordinator = await startCoordinator(t);
  const agent = await echoAgent(t, coordinator, 'echo');
  const base = coordinator.url;
  const post = (route: string, raw: string) => call(base, 'POST', route, {raw});
  const cases: Array<[route: string, body: string, field: string]> = [
    ['/api/peers/echo/commands', '{"name":"send","args":{"__proto__":{"text":"hidden"}}}', 'args.__proto__'],
    ['/api/peers/echo/commands', '{"name":"send","args":{"text":"x","constructor":{"prototype":{}}}}', 'args.constructor'],
    ['/api/peers/echo/commands', '{"name":"send","args":{"text":"x","prototype":1}}', 'args.prototype'],
    ['/api/peers/echo/commands', '{"name":"send","args":{"list":[1,{"__proto__":null}]}}', 'args.list.1.__proto__'],
    ['/api/peers/echo/commands', '{"__proto__":{"name":"members"}}', '__proto__'],
    ['/api/peers', '{"count":1,"constructor":{}}', 'constructor'],
  ];
  for (const [route, body, field] of cases) {
    const e = isError(t, await post(route, body), 400, 'bad-request');
    t.is(e.field, field, body);
    t.true(e.message.startsWith(`${field}: `), e.message);
  }
  t.deepEqual(agent.received, []);
  t.is(({} as {text?: unknown}).text, undefined);

  // The names as values are fine, and args go through whole.
  const ok = await post('/api/peers/echo/commands', '{"name":"send","args":{"text":"__proto__"}}');
  t.is(ok.status, 200, JSON.stringify(ok.body));
  t.deepEqual(ok.body.result, {args: {text: '__proto__'}});
});
