/**
 * Bad input to the `peerlab` command exits 2 with a message that names what
 * is wrong, before anything starts: no peer, no run folder. Serial, with
 * generous deadlines: each case is a process start, and the machine may be busy.
 */
import test from 'ava';
import {execa} from 'execa';
import {mkdir, readdir, readFile, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {tempDir} from './support.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = path.join(root, 'test-server', 'bin', 'peerlab.mjs');
const fixture = path.join(root, 'test-server', 'test', 'fixtures', 'history', 'mixed.jsonl');

function peerlab(args: string[], timeout = 60_000) {
  return execa(process.execPath, [bin, ...args], {cwd: root, reject: false, all: true, timeout});
}

const good = 'name: good\npeers: [alice]\nsteps:\n  - start: all\n';

test.serial('an empty folder exits 2, not 3 with zero scenarios', async (t) => {
  const dir = await tempDir(t, 'peerlab-cli-');
  const empty = path.join(dir, 'empty');
  await mkdir(empty);
  const out = path.join(dir, 'runs');
  const run = await peerlab(['run', empty, '--out', out]);
  t.is(run.exitCode, 2, run.all);
  t.regex(run.all, /empty:1:1: a folder of scenarios, but it holds no \.yaml or \.yml file/);
  await t.throwsAsync(readdir(out), undefined, 'no run folder');
});

test.serial('a --filter that is not a regular expression exits 2 before loading anything', async (t) => {
  const dir = await tempDir(t, 'peerlab-cli-');
  const file = path.join(dir, 'good.yaml');
  await writeFile(file, good);
  const run = await peerlab(['run', file, '--filter', '/[unclosed/', '--out', path.join(dir, 'runs')]);
  t.is(run.exitCode, 2, run.all);
  t.regex(run.all, /--filter <text>.*not a valid regular expression/);
  t.notRegex(run.all, /Running/);
});

test.serial('an --out that cannot be a folder exits 2 and runs nothing', async (t) => {
  const dir = await tempDir(t, 'peerlab-cli-');
  const file = path.join(dir, 'good.yaml');
  await writeFile(file, good);
  const blocker = path.join(dir, 'a-file');
  await writeFile(blocker, 'not a folder');
  // Under a regular file: unwritable even for root, which ignores permission bits.
  const run = await peerlab(['run', file, '--out', path.join(blocker, 'runs')]);
  t.is(run.exitCode, 2, run.all);
  t.regex(run.all, /--out .*a-file\/runs: not a folder; nothing was run/);
  t.notRegex(run.all, /Running/);
});

test.serial('a timeout past what a timer holds exits 2 before any peer starts', async (t) => {
  const dir = await tempDir(t, 'peerlab-cli-');
  const file = path.join(dir, 'long.yaml');
  await writeFile(file, 'name: long\npeers: [alice]\ntimeout: 40000m\nsteps:\n  - start: all\n');
  const out = path.join(dir, 'runs');
  const run = await peerlab(['run', file, '--out', out]);
  t.is(run.exitCode, 2, run.all);
  t.regex(run.all, /long\.yaml:3:10: timeout: expected a duration from 1s to 1440m, got 40000m/);
  await t.throwsAsync(readdir(out), undefined, 'no run folder');
});

test.serial('a YAML alias bomb exits 2 quickly, with its location', async (t) => {
  const dir = await tempDir(t, 'peerlab-cli-');
  const levels = ['a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
  for (let i = 1; i < 9; i++) levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`);
  const file = path.join(dir, 'bomb.yaml');
  await writeFile(file, levels.join('\n') + '\n');
  // How quickly is checked in-process (scenario-limits.test.ts): here the exit code and the location.
  const run = await peerlab(['run', file, '--out', path.join(dir, 'runs')]);
  t.is(run.exitCode, 2, run.all);
  t.regex(run.all, /bomb\.yaml:2:\d+: YAML: .*at most 100 alias expansions/);
});

test.serial('a short --token is refused with the reason, before anything starts', async (t) => {
  t.timeout(180_000);
  for (const [token, why] of [['x', /at least 16 characters, got 1/], ['short-token', /at least 16 characters, got 11/], ['sixteen chars ok', /visible ASCII/]] as const) {
    const up = await peerlab(['up', '--peers', '1', '--token', token]);
    t.is(up.exitCode, 2, up.all);
    t.regex(up.all, why);
    t.notRegex(up.all, /coordinator on/);
  }
});

test.serial('peerlab check: a wrongly typed field exits 2 with file:line and the field', async (t) => {
  const dir = await tempDir(t, 'peerlab-cli-');
  const lines = (await readFile(fixture, 'utf8')).trimEnd().split('\n');
  const index = lines.findIndex((l) => l.includes('"type":"await.begin"'));
  const event = JSON.parse(lines[index]!) as {data: {withinMs: unknown}};
  event.data.withinMs = 'soon';
  lines[index] = JSON.stringify(event);
  const file = path.join(dir, 'history.jsonl');
  await writeFile(file, lines.join('\n') + '\n');
  const check = await peerlab(['check', file]);
  t.is(check.exitCode, 2, check.all);
  t.regex(check.all, new RegExp(`^peerlab check: .*history\\.jsonl:${index + 1}: data\\.withinMs: expected a duration in ms in an await\\.begin event, got "soon"$`, 'm'));
  t.notRegex(check.all, /TypeError/);
});

test.serial('peerlab check: a command result nested 200,000 levels deep exits 2 with file:line, not 1', async (t) => {
  const dir = await tempDir(t, 'peerlab-cli-');
  const lines = (await readFile(fixture, 'utf8')).trimEnd().split('\n');
  const index = lines.findIndex((l) => l.includes('"type":"command.reply"') && l.includes('"ok":true'));
  const event = JSON.parse(lines[index]!) as {data: {result: unknown}};
  event.data.result = '@@';
  // JSON.parse accepts this; JSON.stringify in the expect: matcher overflowed the stack on it.
  lines[index] = JSON.stringify(event).replace('"@@"', '['.repeat(200_000) + ']'.repeat(200_000));
  const file = path.join(dir, 'history.jsonl');
  await writeFile(file, lines.join('\n') + '\n');
  const check = await peerlab(['check', file]);
  t.is(check.exitCode, 2, check.all.slice(0, 2000));
  t.regex(check.all, new RegExp(`^peerlab check: .*history\\.jsonl:${index + 1}: data\\.result: nested more than 64 levels deep`, 'm'));
  t.notRegex(check.all, /call stack|RangeError/);
});

test.serial('peerlab check: /dev/zero exits 2 at once', async (t) => {
  const check = await peerlab(['check', '/dev/zero']);
  t.is(check.exitCode, 2, check.all);
  t.regex(check.all, /\/dev\/zero:1: not a regular file/);
});

test.serial('peerlab check: the recorded fixture passes and says so', async (t) => {
  const check = await peerlab(['check', fixture]);
  t.is(check.exitCode, 0, check.all);
  t.regex(check.all, /passed/);
});
