/**
 * The agent protocol's checks: what each side accepts, and that every refusal
 * names the field at fault, since the message is all an implementer in another
 * language gets back.
 */
import test from 'ava';
import type {ExecutionContext} from 'ava';
import {
  MAX_VALUE_DEPTH,
  PROTOCOL_VERSION,
  ProtocolError,
  isValidPeerName,
  parseCommandReply,
  parseCommandRequest,
  parseEventBatch,
  parseHello,
  parseHelloAck,
  parseSnapshotReply,
  toWireError,
} from '../src/protocol.js';
import {CommandError} from '../src/registry.js';

const hello = () => ({
  protocol: PROTOCOL_VERSION,
  peer: 'alice',
  pid: 1234,
  version: '0.1.0',
  address: '127.0.0.1:7946',
  commands: [
    {name: 'send', group: 'chat', summary: 'send', args: [{name: 'text', type: 'string', rest: true, required: true, description: 'the message'}]},
    {name: 'log-level', group: 'logging', summary: 'level', args: [{name: 'level', type: 'enum', values: ['debug', 'info'], description: 'level'}]},
    {name: 'members', group: 'membership', summary: 'members', args: []},
  ],
});

const event = (seq: number) => ({seq, time: 1_700_000_000_000 + seq, type: 'member.joined', data: {name: 'bob'}});

const snapshot = () => ({
  peer: 'alice',
  time: 1_700_000_000_000,
  members: [
    {name: 'alice', address: '127.0.0.1:1', state: 'alive', incarnation: 0},
    {name: 'bob', address: '127.0.0.1:2', state: 'suspect', incarnation: 3},
  ],
  messages: {count: 1, ids: ['alice:abc:1']},
  extra: {checksum: 'x'},
});

/** Asserts that parsing throws a ProtocolError for `field` whose message starts with the field. */
function refuses(t: ExecutionContext, parse: (v: unknown) => unknown, value: unknown, field: string, detail?: RegExp): void {
  const error = t.throws(() => parse(value), {instanceOf: ProtocolError}, `expected ${field} to be refused`);
  if (!error) return;
  t.is(error.field, field);
  t.true(error.message.startsWith(`${field}: expected `), error.message);
  if (detail) t.regex(error.message, detail);
}

test('a well-formed hello is accepted as is', (t) => {
  const h = hello();
  t.is(parseHello(h) as unknown, h);
  t.deepEqual(parseHello({...h, commands: []}).commands, []);
});

test('a malformed hello is refused, naming the field', (t) => {
  refuses(t, parseHello, 'garbage', 'hello', /got "garbage"/);
  refuses(t, parseHello, null, 'hello', /got null/);
  refuses(t, parseHello, [hello()], 'hello');
  refuses(t, parseHello, {...hello(), protocol: 2}, 'hello.protocol', /expected 1, got 2/);
  refuses(t, parseHello, {...hello(), protocol: '1'}, 'hello.protocol');
  refuses(t, parseHello, {...hello(), peer: 'no spaces'}, 'hello.peer', /"no spaces"/);
  refuses(t, parseHello, {...hello(), peer: 'x'.repeat(65)}, 'hello.peer');
  refuses(t, parseHello, {...hello(), peer: ''}, 'hello.peer');
  const {pid: _pid, ...noPid} = hello();
  refuses(t, parseHello, noPid, 'hello.pid', /got nothing/);
  refuses(t, parseHello, {...hello(), pid: 0}, 'hello.pid', />= 1/);
  refuses(t, parseHello, {...hello(), pid: 1.5}, 'hello.pid');
  refuses(t, parseHello, {...hello(), version: ''}, 'hello.version');
  refuses(t, parseHello, {...hello(), version: 'v'.repeat(101)}, 'hello.version', /got "v{50,}\.\.\.$/);
  refuses(t, parseHello, {...hello(), address: 42}, 'hello.address');
  refuses(t, parseHello, {...hello(), commands: {}}, 'hello.commands', /a list/);
  refuses(t, parseHello, {...hello(), commands: ['send']}, 'hello.commands[0]');
  refuses(t, parseHello, {...hello(), commands: [{name: 'send'}]}, 'hello.commands[0].args');
  refuses(t, parseHello, {...hello(), commands: [{args: []}]}, 'hello.commands[0].name');
  refuses(t, parseHello, {...hello(), commands: [{name: 'x', args: [{name: 'a', type: 'date'}]}]}, 'hello.commands[0].args[0].type', /string\|integer/);
  refuses(t, parseHello, {...hello(), commands: [{name: 'x', args: [{type: 'string'}]}]}, 'hello.commands[0].args[0].name');
  refuses(t, parseHello, {...hello(), commands: [{name: 'x', args: [{name: 'a', type: 'enum', values: [1]}]}]}, 'hello.commands[0].args[0].values');
  refuses(t, parseHello, {...hello(), commands: [hello().commands[0], {name: 'y', args: [7]}]}, 'hello.commands[1].args[0]');
});

test('hello acks: success with settings, or an error value', (t) => {
  const ok = {ok: true, runId: 'run-1', settings: {commandTimeoutMs: 10_000, flushIntervalMs: 50}};
  t.deepEqual(parseHelloAck(ok), ok as never);
  const refused = {ok: false, error: {message: 'a peer named alice is already registered', code: 'duplicate-name'}};
  t.deepEqual(parseHelloAck(refused), refused as never);
  refuses(t, parseHelloAck, undefined, 'hello ack', /got nothing/);
  refuses(t, parseHelloAck, {ok: true, settings: ok.settings}, 'hello ack.runId');
  refuses(t, parseHelloAck, {ok: true, runId: 'r'}, 'hello ack.settings');
  refuses(t, parseHelloAck, {...ok, settings: {commandTimeoutMs: 0, flushIntervalMs: 50}}, 'hello ack.settings.commandTimeoutMs');
  refuses(t, parseHelloAck, {...ok, settings: {commandTimeoutMs: 1}}, 'hello ack.settings.flushIntervalMs');
  refuses(t, parseHelloAck, {ok: false}, 'hello ack.error');
  refuses(t, parseHelloAck, {ok: false, error: {code: 'x'}}, 'hello ack.error.message');
  refuses(t, parseHelloAck, {ok: false, error: {message: 'x', code: 3}}, 'hello ack.error.code');
  t.deepEqual(parseHelloAck({...ok, hold: true}), {...ok, hold: true} as never, 'hold: start-up work waits for go');
  refuses(t, parseHelloAck, {...ok, hold: 'yes'}, 'hello ack.hold');
  const capped = {...ok, settings: {...ok.settings, maxBatchEvents: 500}};
  t.deepEqual(parseHelloAck(capped), capped as never, 'maxBatchEvents: optional');
  refuses(t, parseHelloAck, {...ok, settings: {...ok.settings, maxBatchEvents: 0}}, 'hello ack.settings.maxBatchEvents');
});

test('command requests: args are optional but must be an object', (t) => {
  const request = {id: 'c1', name: 'send', args: {text: 'hi'}, timeoutMs: 1000};
  t.deepEqual(parseCommandRequest(request), request);
  t.deepEqual(parseCommandRequest({id: 'c2', name: 'members', timeoutMs: 1}), {id: 'c2', name: 'members', timeoutMs: 1});
  refuses(t, parseCommandRequest, 'send', 'command');
  refuses(t, parseCommandRequest, {...request, id: ''}, 'command.id');
  refuses(t, parseCommandRequest, {...request, id: 7}, 'command.id');
  refuses(t, parseCommandRequest, {...request, name: undefined}, 'command.name', /got nothing/);
  refuses(t, parseCommandRequest, {...request, name: 'n'.repeat(65)}, 'command.name');
  refuses(t, parseCommandRequest, {...request, args: ['hi']}, 'command.args', /an object/);
  refuses(t, parseCommandRequest, {...request, args: null}, 'command.args');
  refuses(t, parseCommandRequest, {...request, timeoutMs: 0}, 'command.timeoutMs');
  refuses(t, parseCommandRequest, {...request, timeoutMs: '1000'}, 'command.timeoutMs');
  refuses(t, parseCommandRequest, {id: 'c1', name: 'send'}, 'command.timeoutMs');
});

test('command replies: ok with any result, or an error with message and code', (t) => {
  t.deepEqual(parseCommandReply({id: 'c1', ok: true, result: null}), {id: 'c1', ok: true, result: null});
  t.deepEqual(parseCommandReply({id: 'c1', ok: true, result: [1], text: 'one'}), {id: 'c1', ok: true, result: [1], text: 'one'});
  const failed = {id: 'c1', ok: false, error: {message: 'send: not a member', code: 'failed'}};
  t.deepEqual(parseCommandReply(failed), failed as never);
  refuses(t, parseCommandReply, 42, 'command reply');
  refuses(t, parseCommandReply, {ok: true, result: 1}, 'command reply.id');
  refuses(t, parseCommandReply, {id: 'c1', ok: 'yes'}, 'command reply.ok', /true or false/);
  refuses(t, parseCommandReply, {id: 'c1', result: 1}, 'command reply.ok');
  refuses(t, parseCommandReply, {id: 'c1', ok: false}, 'command reply.error');
  refuses(t, parseCommandReply, {id: 'c1', ok: false, error: {message: 'm'}}, 'command reply.error.code');
});

test('a result or event data nested deeper than MAX_VALUE_DEPTH is refused, so every line a run writes can be read back', (t) => {
  const nest = (levels: number): unknown => {
    let v: unknown = 1;
    for (let i = 0; i < levels; i++) v = {v};
    return v;
  };
  t.notThrows(() => parseCommandReply({id: 'c1', ok: true, result: nest(MAX_VALUE_DEPTH)}));
  refuses(t, parseCommandReply, {id: 'c1', ok: true, result: nest(MAX_VALUE_DEPTH + 1)}, 'command reply.result', /nested at most 32 levels/);
  // As deep as JSON.parse takes and JSON.stringify does not: refused without overflowing the stack here.
  refuses(t, parseCommandReply, {id: 'c1', ok: true, result: nest(200_000)}, 'command reply.result');
  t.notThrows(() => parseEventBatch({peer: 'alice', events: [{seq: 1, time: 1, type: 'x', data: nest(MAX_VALUE_DEPTH) as object}]}));
  refuses(t, parseEventBatch, {peer: 'alice', events: [{seq: 1, time: 1, type: 'x', data: nest(MAX_VALUE_DEPTH + 1)}]}, 'events.events[0].data');
});

test('event batches: events in order, each well-formed', (t) => {
  const batch = {peer: 'alice', events: [event(1), event(2), event(3)]};
  t.deepEqual(parseEventBatch(batch), batch);
  t.deepEqual(parseEventBatch({peer: 'alice', events: []}).events, []);
  // A batch resent after a reconnect starts wherever the agent's buffer starts.
  t.is(parseEventBatch({peer: 'alice', events: [event(41), event(42)]}).events.length, 2);
  refuses(t, parseEventBatch, [], 'events');
  refuses(t, parseEventBatch, {peer: 'al ice', events: []}, 'events.peer');
  refuses(t, parseEventBatch, {events: []}, 'events.peer');
  refuses(t, parseEventBatch, {peer: 'alice', events: {}}, 'events.events');
  refuses(t, parseEventBatch, {peer: 'alice', events: [event(1), 'x']}, 'events.events[1]');
  refuses(t, parseEventBatch, {peer: 'alice', events: [event(0)]}, 'events.events[0].seq', />= 1, got 0/);
  refuses(t, parseEventBatch, {peer: 'alice', events: [{...event(1), seq: '1'}]}, 'events.events[0].seq');
  refuses(t, parseEventBatch, {peer: 'alice', events: [{...event(1), seq: 1.5}]}, 'events.events[0].seq');
  refuses(t, parseEventBatch, {peer: 'alice', events: [event(1), event(3)]}, 'events.events[1].seq', /expected 2 .*got 3/);
  refuses(t, parseEventBatch, {peer: 'alice', events: [event(2), event(1)]}, 'events.events[1].seq', /expected 3 .*got 1/);
  refuses(t, parseEventBatch, {peer: 'alice', events: [event(1), event(1)]}, 'events.events[1].seq');
  refuses(t, parseEventBatch, {peer: 'alice', events: [{...event(1), time: Infinity}]}, 'events.events[0].time');
  refuses(t, parseEventBatch, {peer: 'alice', events: [{...event(1), time: 'now'}]}, 'events.events[0].time');
  refuses(t, parseEventBatch, {peer: 'alice', events: [{...event(1), type: ''}]}, 'events.events[0].type');
  refuses(t, parseEventBatch, {peer: 'alice', events: [{...event(1), data: 'x'}]}, 'events.events[0].data');
  refuses(t, parseEventBatch, {peer: 'alice', events: [{...event(1), data: undefined}]}, 'events.events[0].data');
});

test('snapshot replies: members with state and incarnation, message ids', (t) => {
  const reply = {ok: true, snapshot: snapshot()};
  t.deepEqual(parseSnapshotReply(reply), reply as never);
  const failed = {ok: false, error: {message: 'boom', code: 'failed'}};
  t.deepEqual(parseSnapshotReply(failed), failed as never);
  const broken = (change: (s: ReturnType<typeof snapshot>) => unknown) => {
    const s = snapshot();
    return {ok: true, snapshot: change(s) ?? s};
  };
  refuses(t, parseSnapshotReply, 'x', 'snapshot reply');
  refuses(t, parseSnapshotReply, {ok: false}, 'snapshot reply.error');
  refuses(t, parseSnapshotReply, {ok: true}, 'snapshot');
  refuses(t, parseSnapshotReply, broken((s) => ({...s, peer: 'a b'})), 'snapshot.peer');
  refuses(t, parseSnapshotReply, broken((s) => ({...s, members: 'all'})), 'snapshot.members');
  refuses(t, parseSnapshotReply, broken((s) => void (s.members[1] = 'bob' as never)), 'snapshot.members[1]');
  refuses(t, parseSnapshotReply, broken((s) => void (s.members[1]!.state = 'gone')), 'snapshot.members[1].state', /alive\|suspect\|dead\|left/);
  refuses(t, parseSnapshotReply, broken((s) => void (s.members[0]!.incarnation = -1)), 'snapshot.members[0].incarnation');
  refuses(t, parseSnapshotReply, broken((s) => void (s.members[0]!.name = '')), 'snapshot.members[0].name');
  refuses(t, parseSnapshotReply, broken((s) => ({...s, messages: undefined})), 'snapshot.messages');
  refuses(t, parseSnapshotReply, broken((s) => ({...s, messages: {ids: []}})), 'snapshot.messages.count');
  refuses(t, parseSnapshotReply, broken((s) => ({...s, messages: {count: 0, ids: 'none'}})), 'snapshot.messages.ids');
});

test('peer names: 1-64 characters of A-Z a-z 0-9 . _ -', (t) => {
  for (const name of ['alice', 'peer-001', 'a.b_c', 'x'.repeat(64)]) t.true(isValidPeerName(name), name);
  for (const name of ['', 'x'.repeat(65), 'a b', 'ali/ce', 'é', 7, undefined]) t.false(isValidPeerName(name), String(name));
});

test('errors become wire values, keeping a code the error carries', (t) => {
  t.deepEqual(toWireError(new CommandError('members: unknown option --x', 'bad-arguments')), {message: 'members: unknown option --x', code: 'bad-arguments'});
  t.deepEqual(toWireError(new Error('boom')), {message: 'boom', code: 'failed'});
  t.deepEqual(toWireError(new Error('boom'), 'timeout'), {message: 'boom', code: 'timeout'});
  t.deepEqual(toWireError('plain'), {message: 'plain', code: 'failed'});
  const protocolError = new ProtocolError('hello.pid', 'an integer >= 1', 'x');
  t.deepEqual(toWireError(protocolError, 'bad-message'), {message: 'hello.pid: expected an integer >= 1, got "x"', code: 'bad-message'});
});

// JSON.parse makes "__proto__" an ordinary own key; copied by assignment later, it would change a prototype.
const fromWire = (value: unknown): unknown => JSON.parse(JSON.stringify(value));
const withKey = (object: object, key: string, value: unknown = {polluted: true}): unknown =>
  JSON.parse(JSON.stringify(object).replace(/^\{(?=(\}?))/, (_, empty: string) => `{${JSON.stringify(key)}:${JSON.stringify(value)}${empty ? '' : ','}`));

test('keys naming the object prototype are refused wherever a message has an object, naming the field', (t) => {
  for (const key of ['__proto__', 'constructor', 'prototype']) {
    const h = hello();
    refuses(t, parseHello, withKey(h, key), `hello.${key}`);
    const badCommand = fromWire(h) as ReturnType<typeof hello>;
    (badCommand.commands as unknown[])[1] = withKey(h.commands[1]!, key);
    refuses(t, parseHello, badCommand, `hello.commands[1].${key}`);
    const badArg = fromWire(h) as ReturnType<typeof hello>;
    (badArg.commands[0]!.args as unknown[])[0] = withKey(h.commands[0]!.args[0]!, key);
    refuses(t, parseHello, badArg, `hello.commands[0].args[0].${key}`);

    refuses(t, parseEventBatch, withKey({peer: 'alice', events: [event(1)]}, key), `events.${key}`);
    refuses(t, parseEventBatch, {peer: 'alice', events: [event(1), withKey(event(2), key)]}, `events.events[1].${key}`);
    refuses(t, parseEventBatch, {peer: 'alice', events: [{...event(1), data: withKey({name: 'bob'}, key)}]}, `events.events[0].data.${key}`);

    const command = {id: 'c1', name: 'send', timeoutMs: 1000};
    refuses(t, parseCommandRequest, withKey(command, key), `command.${key}`);
    refuses(t, parseCommandRequest, {...command, args: withKey({text: 'hi'}, key)}, `command.args.${key}`);
    refuses(t, parseCommandRequest, {...command, args: {text: 'hi', deep: [1, withKey({}, key)]}}, `command.args.deep[1].${key}`);
    refuses(t, parseCommandReply, withKey({id: 'c1', ok: true, result: 1}, key), `command reply.${key}`);
    refuses(t, parseSnapshotReply, withKey({ok: true, snapshot: snapshot()}, key), `snapshot reply.${key}`);
  }
  // As values, and spelled otherwise, they are just data.
  t.truthy(parseEventBatch({peer: 'alice', events: [{...event(1), data: {name: '__proto__', proto: 'constructor', Constructor: 1}}]}));
  t.truthy(parseCommandRequest({id: 'c1', name: 'send', timeoutMs: 1000, args: {text: '__proto__'}}));
  t.is(({} as {polluted?: unknown}).polluted, undefined, 'nothing reached Object.prototype');
});

test('holes in a list are refused like the missing values they are', (t) => {
  // Found by the fuzz tests: forEach() and every() skipped holes, so a sparse list passed.
  const h = hello();
  refuses(t, parseHello, {...h, commands: [h.commands[0], , h.commands[2]]}, 'hello.commands[1]', /got nothing/);
  refuses(t, parseHello, {...h, commands: [{...h.commands[0]!, args: [, h.commands[0]!.args[0]]}]}, 'hello.commands[0].args[0]');
  refuses(t, parseHello, {...h, commands: [{...h.commands[1]!, args: [{...h.commands[1]!.args[0]!, values: ['debug', , 'info']}]}]}, 'hello.commands[0].args[0].values');
  refuses(t, parseSnapshotReply, {ok: true, snapshot: {...snapshot(), members: [, snapshot().members[0]]}}, 'snapshot.members[0]');
});

test('a value JSON cannot describe is still refused with a ProtocolError', (t) => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  refuses(t, parseHello, {...hello(), protocol: 1n}, 'hello.protocol', /got \[object BigInt\]/);
  refuses(t, parseHello, {...hello(), pid: cyclic}, 'hello.pid', /got \[object Object\]/);
});
