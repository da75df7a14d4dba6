/**
 * `peerlab up` as a user drives it: a script on stdin, replies grouped per
 * peer, the REST API on the printed URL, and no peer left behind however the
 * command ends.
 */
import test from 'ava';
import {spawn} from 'node:child_process';
import type {ChildProcessWithoutNullStreams} from 'node:child_process';
import {createInterface} from 'node:readline';
import {mkdtemp, rm} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {pidsAlive} from './support.js';
import {rawRequest} from './raw-http.js';

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/peerlab.mjs');

class Up {
  readonly lines: string[] = [];
  readonly errors: string[] = [];
  readonly exited: Promise<{code: number | null; signal: NodeJS.Signals | null}>;
  #wake: Array<() => void> = [];

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    createInterface({input: child.stdout}).on('line', (l) => {
      this.lines.push(l);
      for (const w of this.#wake.splice(0)) w();
    });
    createInterface({input: child.stderr}).on('line', (l) => this.errors.push(l));
    // 'close', not 'exit': the last lines of stdout and stderr are read by then.
    this.exited = new Promise((resolve) => child.on('close', (code, signal) => {
      for (const w of this.#wake.splice(0)) w();
      resolve({code, signal});
    }));
  }

  async waitFor(re: RegExp, timeoutMs = 20_000): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const line of this.lines) {
        const m = re.exec(line);
        if (m) return m;
      }
      if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error(`peerlab up exited; stderr: ${this.errors.join(' | ')}`);
      if (Date.now() > deadline) throw new Error(`no line matching ${re} within ${timeoutMs} ms; got: ${this.lines.slice(-10).join(' | ')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.#wake.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Pids from the table printed once peers are up. */
  async pids(): Promise<number[]> {
    await this.waitFor(/^(every peer sees all|not every peer)/);
    const start = this.lines.findIndex((l) => l.startsWith('NAME '));
    const pids: number[] = [];
    for (const line of this.lines.slice(start + 1)) {
      const m = /^\S+\s+(\d+)\s/.exec(line);
      if (!m) break;
      pids.push(Number(m[1]));
    }
    return pids;
  }
}

async function start(t: {teardown(fn: () => void | Promise<void>): void}, args: string[]): Promise<Up> {
  const logs = await mkdtemp(path.join(os.tmpdir(), 'peerlab-up-'));
  const child = spawn(process.execPath, [bin, 'up', '--logs', logs, ...args], {stdio: 'pipe'});
  const up = new Up(child);
  t.teardown(async () => {
    child.kill('SIGKILL');
    await rm(logs, {recursive: true, force: true});
  });
  return up;
}

test.serial('a script drives one, several and all peers; replies are grouped per peer; end of input stops every peer', async (t) => {
  const up = await start(t, ['--peers', '3']);
  const pids = await up.pids();
  t.is(pids.length, 3);
  up.child.stdin.write('alice send hello from the script\n');
  up.child.stdin.write('all members --json\n');
  up.child.stdin.write('bob,charly messages\n');
  up.child.stdin.write('echo-nothing members\n');
  up.child.stdin.end('bob members --nope\n');
  const exit = await up.exited;
  t.is(exit.code, 1, 'a script with failing lines exits 1');
  const text = up.lines.join('\n');
  t.regex(text, /^sent alice:\w+:1$/m);
  for (const name of ['alice', 'bob', 'charly']) t.regex(text, new RegExp(`^${name}:\\n  \\{"self":"${name}"`, 'm'));
  t.regex(text, /^bob:\n {2}\d\d:\d\d:\d\d <alice> hello from the script\ncharly:\n {2}\d\d:\d\d:\d\d <alice> hello from the script$/m);
  t.true(up.errors.some((l) => /error: no peer named echo-nothing/.test(l)));
  t.true(up.errors.some((l) => /error: members: unknown option --nope/.test(l)));
  t.deepEqual(await pidsAlive(pids, 5000), []);
});

test.serial('--port serves the REST API on that port', async (t) => {
  const up = await start(t, ['--names', 'ann,ben', '--port', '0']);
  const [, url] = await up.waitFor(/^peerlab coordinator on (\S+) /);
  await up.pids();
  const peers = (await (await fetch(`${url}/api/peers`)).json()) as {peers: {name: string; registered: boolean}[]};
  t.deepEqual(peers.peers.map((p) => [p.name, p.registered]), [['ann', true], ['ben', true]]);
  const reply = await fetch(`${url}/api/peers/ann/commands`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({name: 'send', args: {text: 'over http'}})});
  t.is(reply.status, 200);
  up.child.stdin.end('exit\n');
  t.is((await up.exited).code, 0);
});

for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
  test.serial(`${signal} to peerlab up stops every peer`, async (t) => {
    const up = await start(t, ['--peers', '3']);
    const pids = await up.pids();
    up.child.kill(signal);
    t.is((await up.exited).code, code);
    t.deepEqual(await pidsAlive(pids, 5000), []);
  });
}

test('bad flags exit 2 and name the flag', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['--peers', '0'], /--peers.*expected an integer 1-1000/],
    [['--peers', 'many'], /--peers.*expected an integer/],
    [['--names', 'a,,b!'], /--names.*bad: b!/],
    [['--names', 'a,a'], /names must be unique/],
    [['--peers', '2', '--names', 'a,b'], /give --peers or --names, not both/],
    [['--port', '70000'], /--port.*expected an integer 0-65535/],
    [['--profile', 'warp'], /--profile.*Allowed choices are local, lan, wan\./],
    [['--frobnicate'], /unknown option '--frobnicate'/],
    [['--allowed-host', 'a b'], /--allowed-host.*expected a host name/],
  ];
  for (const [args, expected] of cases) {
    const child = spawn(process.execPath, [bin, 'up', ...args], {stdio: 'pipe'});
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise((resolve) => child.on('close', resolve));
    t.is(code, 2, args.join(' '));
    t.regex(stderr, expected, args.join(' '));
  }
});

test.serial('registrations after start-up (a restart, a REST spawn) do not crash the progress display', async (t) => {
  const up = await start(t, ['--peers', '1', '--port', '0']);
  const [, url] = await up.waitFor(/^peerlab coordinator on (\S+) /);
  await up.pids();
  up.child.stdin.write('restart alice\n');
  await up.waitFor(/^alice restarted and registered in \d+ ms$/);
  const spawned = await fetch(`${url}/api/peers`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({names: ['zed']})});
  t.is(spawned.status, 201, await spawned.clone().text());
  up.child.stdin.end('all members --json\n');
  const exit = await up.exited;
  t.is(exit.code, 0, up.errors.join('\n'));
  t.false(up.errors.some((l) => /RangeError|Invalid count/.test(l)), up.errors.join('\n'));
  t.regex(up.lines.join('\n'), /^zed:\n {2}\{"self":"zed"/m);
});

test.serial('--serve runs without a prompt until SIGTERM, even with stdin closed', async (t) => {
  const up = await start(t, ['--peers', '2', '--serve', '--port', '0']);
  up.child.stdin.end();
  const [, url] = await up.waitFor(/^peerlab coordinator on (\S+) /);
  const pids = await up.pids();
  await up.waitFor(/^serving until SIGINT or SIGTERM/);
  // End of input did not stop it: the REST API still answers and drives the peers.
  const reply = await fetch(`${url}/api/peers/alice/commands`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({name: 'members', args: {}})});
  t.is(reply.status, 200);
  t.deepEqual(await pidsAlive(pids, 0), pids);
  up.child.kill('SIGTERM');
  t.is((await up.exited).code, 143);
  t.deepEqual(await pidsAlive(pids, 5000), []);
});

test.serial('--allowed-host adds a name the coordinator answers to; other names get 421', async (t) => {
  const up = await start(t, ['--peers', '1', '--serve', '--allowed-host', 'peerlab.test']);
  const [, url] = await up.waitFor(/^peerlab coordinator on (\S+) /);
  await up.waitFor(/^serving until/);
  const port = new URL(url!).port;
  t.is((await rawRequest(`${url}/api/peers`, {headers: {host: `peerlab.test:${port}`}})).status, 200);
  const other = await rawRequest(`${url}/api/peers`, {headers: {host: `evil.test:${port}`}});
  t.is(other.status, 421);
  t.is(other.body.error.field, 'host');
  up.child.kill('SIGTERM');
  t.is((await up.exited).code, 143);
});
