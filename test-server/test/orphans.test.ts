/**
 * No peer outlives its coordinator, however the coordinator ends: killed with
 * SIGKILL (no handler runs), crashed by an uncaught error, or closed normally.
 * The coordinator runs in a child process (fixtures/coordinator-process.js);
 * its peers' pids are checked directly.
 */
import test from 'ava';
import type {ExecutionContext} from 'ava';
import {spawn} from 'node:child_process';
import {readFile} from 'node:fs/promises';
import path from 'node:path';
import {createInterface} from 'node:readline';
import {fileURLToPath} from 'node:url';
import {generateNames} from '@peerlab/events/names';
import {isAlive, pidsAlive, tempDir} from './support.js';

const fixture = fileURLToPath(new URL('./fixtures/coordinator-process.js', import.meta.url));
const GRACE_MS = 1500;
/** Time for a peer to notice and finish exiting, beyond the agent's grace period. */
const MARGIN_MS = 3000;
const PEERS = 4;

interface Run {
  pids: number[];
  exited: Promise<{code: number | null; signal: NodeJS.Signals | null}>;
  kill(signal: NodeJS.Signals): void;
  stderr(): string;
  /** Why each peer says it exited, from its log. */
  reasons(): Promise<string[]>;
}

async function startFixture(t: ExecutionContext, mode: string[] = []): Promise<Run> {
  const logs = await tempDir(t, 'peerlab-orphans-');
  const child = spawn(process.execPath, [fixture, '--grace', String(GRACE_MS), '--peers', String(PEERS), '--logs', logs, ...mode], {stdio: ['ignore', 'pipe', 'pipe']});
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{code: number | null; signal: NodeJS.Signals | null}>((resolve) => child.once('exit', (code, signal) => resolve({code, signal})));
  let pids: number[] = [];
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    // Whatever the test saw, leave nothing behind: these pids are the peers this test started.
    for (const pid of await pidsAlive(pids, 0)) process.kill(pid, 'SIGKILL');
  });

  const first = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no pid line within 20000 ms; stderr: ${stderr}`)), 20_000);
    createInterface({input: child.stdout}).once('line', (line) => {
      clearTimeout(timer);
      resolve(line);
    });
    void exited.then(({code, signal}) => {
      clearTimeout(timer);
      reject(new Error(`fixture exited (${signal ?? code}) before printing pids; stderr: ${stderr}`));
    });
  });
  pids = (JSON.parse(await first) as {pids: number[]}).pids;
  t.is(pids.length, PEERS);
  const reasons = async () => {
    const lines = await Promise.all(generateNames(PEERS).map(async (name) => {
      const log = await readFile(path.join(logs, `${name}.log`), 'utf8').catch(() => '');
      return `${name}: ${log.split('\n').filter((l) => /exiting|parent|SIGTERM/.test(l)).map((l) => l.replace(/^\S+ /, '')).join(' / ') || '(no exit line)'}`;
    }));
    return lines;
  };
  return {pids, exited, kill: (signal) => child.kill(signal), stderr: () => stderr, reasons};
}

test.serial('a coordinator killed with SIGKILL leaves no peer alive after the grace period', async (t) => {
  const run = await startFixture(t);
  t.deepEqual(run.pids.filter(isAlive), run.pids, 'every peer runs before the kill');

  run.kill('SIGKILL');
  const exit = await run.exited;
  t.is(exit.signal, 'SIGKILL');
  const killedAt = performance.now();
  const left = await pidsAlive(run.pids, GRACE_MS + MARGIN_MS);
  t.log(`every peer gone ${(performance.now() - killedAt).toFixed(0)} ms after the coordinator died (grace ${GRACE_MS} ms)`);
  t.deepEqual(left, [], 'peers still alive after grace + margin');
  for (const line of await run.reasons()) t.log(line);
});

test.serial('a coordinator that crashes with an uncaught error leaves no peer alive', async (t) => {
  const run = await startFixture(t, ['--crash']);
  const exit = await run.exited;
  t.is(exit.code, 1);
  t.regex(run.stderr(), /crashing on purpose/);
  const crashedAt = performance.now();
  const left = await pidsAlive(run.pids, GRACE_MS + MARGIN_MS);
  t.log(`every peer gone ${(performance.now() - crashedAt).toFixed(0)} ms after the crash`);
  t.deepEqual(left, []);
  for (const line of await run.reasons()) t.log(line);
});

test.serial('a coordinator that closes normally stops every peer before it exits', async (t) => {
  const run = await startFixture(t, ['--finish']);
  const exit = await run.exited;
  t.deepEqual(exit, {code: 0, signal: null}, run.stderr());
  // close() waited for every peer's exit: nothing is left to wait for.
  t.deepEqual(run.pids.filter(isAlive), []);
});
