/**
 * The peer's CLI as a user meets it: clear errors that change nothing,
 * script mode, saved configs, and completion.
 */
import test from 'ava';
import {spawn} from 'node:child_process';
import net from 'node:net';
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {createRegistry} from '../src/commands.js';
import {completer} from '../src/cli/session.js';
import {PROFILE_NAMES, profiles} from '../src/config.js';
import {PeerProcess, eventually, peerBin, runScript, stopAll} from './helpers/peer-process.js';

async function tempDir(t: {teardown(fn: () => Promise<void>): void}): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'peerlab-cli-'));
  t.teardown(() => rm(dir, {recursive: true, force: true}));
  return dir;
}

test('unknown commands and bad arguments print a clear error and change nothing', async (t) => {
  const peer = await PeerProcess.start({name: 'cli1'});
  t.teardown(() => stopAll([peer]));
  const before = await peer.json<{checksum: string; incarnation: number}>('status --json');
  const cases: Array<[string, RegExp]> = [
    ['frobnicate', /unknown command "frobnicate"/],
    ['send', /send: missing <text>/],
    ['members --bogus', /unknown option --bogus/],
    ['messages --last x', /last must be an integer/],
    ['log-level loud', /level must be one of error, warn, info, debug, trace/],
    ['log-filter nothing', /unknown component nothing/],
    ['join not-an-address', /"not-an-address" is not host:port/],
    ['help nosuch', /no command "nosuch"/],
    ['send "unterminated', /unterminated " quote/],
  ];
  for (const [line, expected] of cases) {
    const errorsBefore = peer.stderr.length;
    const out = await peer.command(line);
    t.deepEqual(out, [], `${line}: nothing on stdout`);
    const error = await peer.waitStderr((l) => l.startsWith('error: '), errorsBefore);
    t.regex(error, expected, line);
  }
  const after = await peer.json<{checksum: string; incarnation: number; messages: number}>('status --json');
  t.is(after.checksum, before.checksum);
  t.is(after.incarnation, before.incarnation);
  t.is(after.messages, 0);
  t.true(peer.alive);
});

test('help lists commands by group', async (t) => {
  const peer = await PeerProcess.start({name: 'cli2'});
  t.teardown(() => stopAll([peer]));
  const text = (await peer.command('help')).join('\n');
  for (const group of ['general:', 'membership:', 'chat:', 'logging:', 'scripts:', 'config:']) t.true(text.includes(group), group);
  for (const name of ['members', 'send', 'messages', 'leave', 'join', 'log-level', 'log-filter', 'run', 'save-config', 'load-config', 'exit']) {
    t.regex(text, new RegExp(`^  ${name} `, 'm'));
  }
  t.regex((await peer.command('help send')).join('\n'), /Usage: send \[--reply-to <string>\] <text\.\.\.>/);
});

test('script mode runs piped commands in order and exits 1 if any failed', async (t) => {
  const ok = await runScript(['--name', 'script1', '--port', '0'], 'echo one\nsend hello\nmessages\n');
  t.is(ok.code, 0, ok.stderr);
  const lines = ok.stdout.trim().split('\n');
  t.regex(lines[0]!, /^script1 listening on 127\.0\.0\.1:\d+ \(profile local\)$/);
  t.is(lines[1], 'one');
  t.regex(lines[2]!, /^sent script1:\w+:1$/);
  t.regex(lines[3]!, /<script1> hello$/);
  const bad = await runScript(['--name', 'script2'], 'nosuch\necho still running\n');
  t.is(bad.code, 1);
  t.regex(bad.stdout, /still running/);
  t.regex(bad.stderr, /unknown command "nosuch"/);
});

test('bad flags exit 2 with a message naming the flag', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['--name', 'x', '--port', 'abc'], /--port.*expected an integer 0-65535/],
    [['--name', 'bad name!'], /--name.*expected 1-64 characters/],
    [['--name', 'x', '--join', 'nowhere'], /--join.*expected host:port/],
    [['--name', 'x', '--profile', 'fast'], /--profile.*Allowed choices are local, lan, wan\./],
    [['--port', '0'], /--name is required/],
    [['--print-profile', 'fast'], /--print-profile.*Allowed choices are local, lan, wan\./],
  ];
  for (const [args, expected] of cases) {
    const result = await runScript(args, '');
    t.is(result.code, 2, args.join(' '));
    t.regex(result.stderr, expected, args.join(' '));
  }
});

test('--print-profile prints a timing profile as JSON, as the harness reads it', async (t) => {
  for (const name of PROFILE_NAMES) {
    const result = await runScript(['--print-profile', name], '');
    t.is(result.code, 0, result.stderr);
    t.deepEqual(JSON.parse(result.stdout), profiles[name]);
  }
});

test('run executes a script file; save-config and --config round-trip', async (t) => {
  const dir = await tempDir(t);
  const script = path.join(dir, 'hello.peer');
  const config = path.join(dir, 'peer.json');
  await writeFile(script, '# greet\nsend from a script\n\nlog-level debug\n');
  const peer = await PeerProcess.start({name: 'cli3'});
  t.teardown(() => stopAll([peer]));
  t.deepEqual((await peer.command(`run ${script}`)).at(-1), 'ran 2 commands');
  t.is((await peer.json<{count: number}>('messages --json')).count, 1);
  await peer.command('log-filter swim chat');
  t.regex((await peer.command(`save-config ${config}`))[0]!, /saved to/);
  const saved = JSON.parse(await readFile(config, 'utf8'));
  t.like(saved, {name: 'cli3', profile: 'local', logLevel: 'debug', logFilter: ['swim', 'chat']});
  const fromConfig = await runScript(['--config', config], 'log-level\nlog-filter\n');
  t.is(fromConfig.code, 0, fromConfig.stderr);
  t.regex(fromConfig.stdout, /^cli3 listening/);
  t.regex(fromConfig.stdout, /log level: debug\nlog filter: swim, chat/);
  await writeFile(config, JSON.stringify({name: 'cli3', profile: 'turbo'}));
  const broken = await runScript(['--config', config], '');
  t.is(broken.code, 2);
  t.regex(broken.stderr, /peer\.json: field "profile" must be one of local, lan, wan/);
  const errorsBefore = peer.stderr.length;
  const loaded = await peer.command(`load-config ${config}`);
  t.deepEqual(loaded, []);
  t.regex(await peer.waitStderr((l) => l.startsWith('error: '), errorsBefore), /field "profile" must be one of local, lan, wan/);
});

test('completion offers command names, flags and enum values', (t) => {
  const registry = createRegistry();
  t.deepEqual(completer(registry, 'me')[0], ['members ', 'messages ']);
  t.deepEqual(completer(registry, 'members --j')[0], ['--json']);
  t.deepEqual(completer(registry, 'log-level d')[0], ['debug']);
  t.deepEqual(completer(registry, 'help sa')[0], ['save-config']);
});

test('a hang-up (SIGHUP: the terminal closed) ends a peer and a peer host cleanly, like SIGTERM', async (t) => {
  // A coordinator nobody listens for: the host keeps trying for the whole grace period.
  const closed = await new Promise<number>((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const {port} = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
  for (const args of [['--name', 'hup1', '--daemon'], ['--names', 'hup2,hup3', '--coordinator', `http://127.0.0.1:${closed}`, '--agent-grace', '60000']]) {
    const child = spawn(process.execPath, [peerBin, ...args], {stdio: ['ignore', 'pipe', 'pipe']});
    t.teardown(() => void child.kill('SIGKILL'));
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (code, signal) => resolve([code, signal])));
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const expected = args.includes('--daemon') ? 1 : 2;
    await eventually('every peer listens', 10_000, async () => ((out.match(/ listening on /g)?.length ?? 0) === expected ? true : undefined));
    child.kill('SIGHUP');
    t.deepEqual(await exited, [0, null], args.join(' '));
  }
});
