#!/usr/bin/env node
// Runs the ava suite with the TAP reporter, passes its output through, and ends
// with one plain line `N passed, N failed[, N skipped]` from the real counts:
// CI reads that closing line, not ava's own summary. The bootstrap service's
// database tests get a throwaway PostgreSQL server, and the swarm runner's tests a
// private dockerd made a single-node swarm, started here before ava and stopped
// after it (PEERLAB_TEST_POSTGRES_URL and PEERLAB_TEST_DOCKER_HOST tell the tests
// where they are; PEERLAB_TEST_DOCKER_UNAVAILABLE why there is no engine).
import {spawn} from 'node:child_process';
import {constants} from 'node:os';
import {createInterface} from 'node:readline';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {ensureDebianPackages} from './debian-packages.mjs';
import {startPostgres} from './postgres.mjs';
import {startDocker} from './docker.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// The tests drive Debian's chromium, nftables, Python and Go for real: installed here, so the README's one command runs them on a fresh clone.
ensureDebianPackages();
const log = (line) => process.stderr.write(`# ${line}\n`);

// Interrupted (Ctrl-C, kill, a closed terminal): while ava runs, pass the signal on
// and let its exit below stop the server; before, stop the server here (or abandon
// its start, which stops what it started) and die of the signal. The server runs
// in a session of its own, so nothing but this stops it.
let postgres;
let docker;
let child;
let startingNow = true;
const starting = new AbortController();
const dieOf = (signal) => process.exit(128 + (constants.signals[signal] ?? 1));
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (child) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return;
    }
    // While a server starts, its start is abandoned (and stops what it made); between and after, stop here.
    if (!startingNow && (postgres || docker)) {
      postgres?.stopSync();
      docker?.stopSync();
      dieOf(signal);
    }
    starting.abort(signal);
  });
}

// Without it the database tests start a server of their own and, if that fails too, fail saying why.
postgres = await startPostgres({log, signal: starting.signal}).catch((error) => {
  if (starting.signal.aborted) dieOf(starting.signal.reason);
  log(`no PostgreSQL for the bootstrap database tests: ${error.message}`);
  return undefined;
});
// Without it the swarm runner's tests use DOCKER_HOST's engine if there is one, else skip saying why.
let dockerUnavailable;
docker = await startDocker({log, signal: starting.signal}).catch((error) => {
  if (starting.signal.aborted) {
    postgres?.stopSync();
    dieOf(starting.signal.reason);
  }
  dockerUnavailable = error.message.split('\n')[0];
  log(`no private dockerd for the swarm runner's tests: ${error.message}`);
  return undefined;
});
startingNow = false;
if (starting.signal.aborted) {
  postgres?.stopSync();
  docker?.stopSync();
  dieOf(starting.signal.reason);
}
const env = {
  ...process.env,
  ...(postgres ? {PEERLAB_TEST_POSTGRES_URL: postgres.url} : {}),
  ...(docker ? {PEERLAB_TEST_DOCKER_HOST: docker.host} : {PEERLAB_TEST_DOCKER_UNAVAILABLE: dockerUnavailable}),
};
const avaCli = path.join(root, 'node_modules', 'ava', 'entrypoints', 'cli.mjs');
child = spawn(process.execPath, [avaCli, '--tap', ...process.argv.slice(2)], {stdio: ['inherit', 'pipe', 'inherit'], env});
// Not started at all (no node?): no close event follows, so stop the server here.
child.on('error', (error) => {
  postgres?.stopSync();
  docker?.stopSync();
  log(`could not run ava: ${error.message}`);
  process.stdout.write('0 passed, 1 failed\n');
  process.exit(1);
});

let passed = 0;
let failed = 0;
let skipped = 0;
createInterface({input: child.stdout}).on('line', (line) => {
  process.stdout.write(line + '\n');
  const result = /^(not ok|ok) \d+ /.exec(line);
  if (!result) return;
  if (/# (SKIP|TODO)\b/i.test(line)) skipped++;
  else if (result[1] === 'ok') passed++;
  else failed++;
});

child.on('close', async (code, signal) => {
  await postgres?.stop();
  await docker?.stop();
  if ((code !== 0 || signal) && failed === 0) {
    // ava failed without reporting a failing test (a crash, a timeout, no test files): count it, never hide it.
    process.stdout.write(`# ava exited with ${signal ?? `code ${code}`} without a failing test line\n`);
    failed++;
  }
  process.stdout.write(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}\n`);
  process.exit(failed > 0 ? 1 : 0);
});
