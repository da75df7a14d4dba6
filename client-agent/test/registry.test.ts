import test from 'ava';
import {CommandError, Registry, splitWords, usage, validateArgs} from '../src/registry.js';

function registry() {
  const r = new Registry<{log: string[]}>();
  r.add({
    name: 'send',
    group: 'chat',
    summary: 'send text',
    args: [{name: 'text', type: 'string', rest: true, required: true, description: 'text'}],
    run: (args, ctx) => ctx.log.push(args.text as string),
  });
  r.add({
    name: 'members',
    group: 'membership',
    summary: 'list',
    args: [
      {name: 'json', type: 'boolean', flag: true, description: 'json'},
      {name: 'last', type: 'integer', flag: true, description: 'last n'},
      {name: 'order', type: 'enum', values: ['name', 'state'], description: 'order'},
    ],
    run: (args) => args,
  });
  r.add({
    name: 'join',
    group: 'membership',
    summary: 'join',
    args: [{name: 'seeds', type: 'string', repeatable: true, description: 'seeds'}],
    run: (args) => args.seeds,
  });
  return r;
}

test('a command line is parsed into typed arguments', (t) => {
  const r = registry();
  t.deepEqual(r.parseLine('members --json --last 3 state')?.args, {json: true, last: 3, order: 'state'});
  t.deepEqual(r.parseLine('members --last=4')?.args, {last: 4});
  t.deepEqual(r.parseLine('send hello   big "quoted words"')?.args, {text: 'hello big quoted words'});
  t.deepEqual(r.parseLine('join a:1 b:2')?.args, {seeds: ['a:1', 'b:2']});
  t.is(r.parseLine('   '), undefined);
});

test('words split on quotes and escapes', (t) => {
  t.deepEqual(splitWords(`a "b c" 'd e' f\\ g ""`), ['a', 'b c', 'd e', 'f g', '']);
  t.throws(() => splitWords('a "b'), {instanceOf: CommandError, message: /unterminated " quote/});
});

test('bad lines name the command and what was expected', (t) => {
  const r = registry();
  const cases: Array<[string, RegExp]> = [
    ['nosuch', /unknown command "nosuch"/],
    ['mem', /unknown command "mem". Did you mean: members/],
    ['send', /send: missing <text>/],
    ['members --nope', /members: unknown option --nope/],
    ['members --last', /--last needs a value/],
    ['members --last 2.5', /last must be an integer/],
    ['members sideways', /order must be one of name, state/],
    ['members name extra', /unexpected argument "extra"/],
  ];
  for (const [line, message] of cases) {
    const error = t.throws(() => r.parseLine(line), {instanceOf: CommandError}, line);
    t.regex(error?.message ?? '', message, line);
  }
});

test('execute validates structured arguments as the agent sends them', async (t) => {
  const r = registry();
  const ctx = {log: [] as string[]};
  await r.execute('send', {text: 'hi'}, ctx);
  t.deepEqual(ctx.log, ['hi']);
  t.deepEqual(await r.execute('members', undefined, ctx), {});
  await t.throwsAsync(r.execute('send', {}, ctx), {message: /missing <text>/});
  await t.throwsAsync(r.execute('send', {text: 5}, ctx), {message: /text must be a string, got 5/});
  await t.throwsAsync(r.execute('send', {text: 'x', extra: 1}, ctx), {message: /unknown argument "extra"/});
  await t.throwsAsync(r.execute('send', ['x'], ctx), {message: /arguments must be an object/});
  await t.throwsAsync(r.execute('members', {last: '3'}, ctx), {message: /last must be an integer/});
  await t.throwsAsync(r.execute('nosuch', {}, ctx), {message: /unknown command/});
});

test('a withheld command is refused with its reason, by name and in a line, and is in no list or spec', async (t) => {
  const r = registry().withhold('shell', 'runs only at the prompt');
  for (const refused of [() => r.parseLine('shell ls'), () => r.resolve('shell')]) {
    t.throws(refused, {instanceOf: CommandError, message: 'shell: runs only at the prompt'});
  }
  const error = await t.throwsAsync(r.execute('shell', {command: 'ls'}, {log: []}), {instanceOf: CommandError});
  t.is(error?.message, 'shell: runs only at the prompt');
  t.is((error as CommandError).code, 'unknown-command');
  t.false(r.list().some((c) => c.name === 'shell'));
  t.false(r.specs().some((c) => c.name === 'shell'));
  t.throws(() => r.add({name: 'shell', group: 'x', summary: 'x', args: [], run: () => null}), {message: /withheld/});
  t.throws(() => r.withhold('send', 'no'), {message: /registered/});
});

test('execute hands the caller\'s signal to the handler, and a never-aborted one when none is given', async (t) => {
  const r = new Registry<null>();
  const seen: AbortSignal[] = [];
  r.add({name: 'wait', group: 'g', summary: 's', args: [], run: (_args, _ctx, call) => void seen.push(call.signal)});
  // A handler written before the signal existed still fits the type, and runs as before.
  r.add({name: 'old', group: 'g', summary: 's', args: [], run: (args) => args});
  const controller = new AbortController();
  await r.execute('wait', {}, null, {signal: controller.signal});
  await r.execute('wait', {}, null);
  t.is(seen[0], controller.signal);
  t.false(seen[1]!.aborted);
  t.deepEqual(await r.execute('old', {}, null), {});
});

test('specs are plain JSON and usage reads like a man page', (t) => {
  const r = registry();
  const specs = r.specs();
  t.deepEqual(JSON.parse(JSON.stringify(specs)), specs);
  t.is(usage(r.get('members')!), 'Usage: members [--json] [--last <integer>] [<name|state>]');
  t.is(usage(r.get('send')!), 'Usage: send <text...>');
  t.deepEqual(validateArgs(r.get('join')!, {seeds: ['a:1']}), {seeds: ['a:1']});
});

test('a registry refuses duplicate names and a rest argument that is not last', (t) => {
  const r = registry();
  t.throws(() => r.add({name: 'send', group: 'x', summary: '', args: [], run: () => 0}), {message: /registered twice/});
  t.throws(
    () => r.add({name: 'bad', group: 'x', summary: '', args: [
      {name: 'a', type: 'string', rest: true, description: ''},
      {name: 'b', type: 'string', description: ''},
    ], run: () => 0}),
    {message: /only the last positional/},
  );
});
