#!/usr/bin/env node
// A private, throwaway Docker engine for the swarm runner's tests: Debian's
// docker.io (installed with apt-get when missing), a dockerd with its own
// socket, data, exec root and pid file in a temp dir, in a session of its own
// (a Ctrl-C meant for the tests does not reach it), made a single-node swarm
// on 127.0.0.1; stopped and removed afterwards. It never touches a system
// engine: no default socket, no default data root, its own swarm ports, no
// bridge and no iptables rules (the peers use host networking).
//
//   node scripts/docker.mjs            installs docker.io if missing
//   import {startDocker} ...           {host, stop(), stopSync()}: host is DOCKER_HOST for it
import {spawn, spawnSync} from 'node:child_process';
import {existsSync, openSync, closeSync, readFileSync, rmSync} from 'node:fs';
import {mkdtemp} from 'node:fs/promises';
import {createServer} from 'node:net';
import {createSocket} from 'node:dgram';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {pathToFileURL} from 'node:url';
import Docker from 'dockerode';
import {ensureDebianPackages} from './debian-packages.mjs';

const DOCKERD = '/usr/sbin/dockerd';
const START_MS = 60_000;
const STOP_MS = 30_000;

/** Installs Debian's docker.io if dockerd is missing; returns the missing names (none: it is there). */
export function ensureDocker(log = (line) => process.stderr.write(`# ${line}\n`)) {
  if (existsSync(DOCKERD)) return [];
  return ensureDebianPackages([{name: 'docker.io', why: "the swarm runner's tests (a private dockerd and a single-node swarm)"}], log);
}

/** Why this machine cannot run a dockerd, or undefined when it can try. */
export function dockerUnavailable() {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'dockerd needs root';
  if (!existsSync(DOCKERD)) return `no ${DOCKERD} (docker.io not installed)`;
  if (!existsSync('/sys/fs/cgroup')) return 'no cgroup file system at /sys/fs/cgroup';
  return undefined;
}

/** Mount points inside dir, deepest first (/proc/self/mounts escapes spaces and such as octal). */
function mountsUnder(dir) {
  let text;
  try {
    text = readFileSync('/proc/self/mounts', 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .map((line) => line.split(' ')[1])
    .filter(Boolean)
    .map((field) => field.replace(/\\([0-7]{3})/g, (_, octal) => String.fromCharCode(parseInt(octal, 8))))
    .filter((point) => point.startsWith(dir + '/'))
    .sort((a, b) => b.length - a.length);
}

function sleepSync(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Running: there, and not a zombie (our own child, which a blocked event loop cannot reap, stays one). */
function alive(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** A UDP port free on this machine in the range the engine accepts for its data path (1024-49151). */
async function freeDataPathPort() {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 29_000);
    const free = await new Promise((resolve) => {
      const socket = createSocket('udp4');
      socket.once('error', () => resolve(false));
      socket.bind(port, () => socket.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts a dockerd of its own and makes it a single-node swarm; resolves with
 * its DOCKER_HOST and stop(), which leaves the swarm, stops dockerd and
 * removes its directory (stopSync(), for signal handlers, skips the leave:
 * the swarm's state goes with the directory). Throws, with the end of
 * dockerd's log, if it does not come up (and cleans up what it made). An
 * AbortSignal given as `signal` interrupts the start, the same way.
 */
export async function startDocker({log = () => {}, signal} = {}) {
  ensureDocker(log);
  const why = dockerUnavailable();
  if (why) throw new Error(`cannot run a dockerd here: ${why}`);
  const dir = await mkdtemp(path.join(tmpdir(), 'peerlab-docker-'));
  const socket = path.join(dir, 'docker.sock');
  const host = `unix://${socket}`;
  const logFile = path.join(dir, 'dockerd.log');
  const out = openSync(logFile, 'a');
  let daemon;
  try {
    daemon = spawn(
      DOCKERD,
      [
        '--host', host,
        '--data-root', path.join(dir, 'data'),
        '--exec-root', path.join(dir, 'exec'),
        '--pidfile', path.join(dir, 'docker.pid'),
        // Host networking only: no bridge of its own to clash with another engine's docker0, no firewall rules.
        '--bridge', 'none',
        '--iptables=false',
        '--ip6tables=false',
      ],
      {detached: true, stdio: ['ignore', out, out]},
    );
  } finally {
    closeSync(out);
  }
  daemon.unref();
  const pid = daemon.pid;
  let stopped = false;
  const stopSync = () => {
    if (stopped) return;
    stopped = true;
    if (pid !== undefined && alive(pid)) {
      process.kill(pid, 'SIGTERM');
      const deadline = Date.now() + STOP_MS;
      while (alive(pid) && Date.now() < deadline) sleepSync(100);
      if (alive(pid)) {
        log(`dockerd ${pid} still running ${STOP_MS} ms after SIGTERM: SIGKILL`);
        process.kill(pid, 'SIGKILL');
        sleepSync(500);
      }
    }
    // dockerd leaves mounts behind in its exec root (the default network namespace's bind mount): deepest first.
    for (const point of mountsUnder(dir)) {
      if (spawnSync('umount', [point], {stdio: 'ignore'}).status !== 0) spawnSync('umount', ['-l', point], {stdio: 'ignore'});
    }
    try {
      rmSync(dir, {recursive: true, force: true});
    } catch (error) {
      log(`could not remove ${dir}: ${error.message}`);
    }
  };
  const docker = new Docker({socketPath: socket});
  const stop = async () => {
    if (stopped) return;
    await docker.swarmLeave({force: true}).catch((error) => log(`swarm leave: ${error.message}`));
    stopSync();
  };
  try {
    const deadline = Date.now() + START_MS;
    for (;;) {
      if (signal?.aborted) throw new Error('start of the test dockerd interrupted');
      if (daemon.exitCode !== null || daemon.signalCode !== null) throw new Error(`dockerd exited (${daemon.signalCode ?? `code ${daemon.exitCode}`})`);
      if (await docker.ping().then(() => true, () => false)) break;
      if (Date.now() > deadline) throw new Error(`dockerd did not answer on ${socket} within ${START_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    // Ports of its own: another engine's swarm on this machine has the default ones.
    const [listen, dataPath] = await Promise.all([freePort(), freeDataPathPort()]);
    await docker.swarmInit({ListenAddr: `127.0.0.1:${listen}`, AdvertiseAddr: `127.0.0.1:${listen}`, DataPathPort: dataPath, ForceNewCluster: false});
    return {host, dir, stop, stopSync};
  } catch (error) {
    const tail = spawnSync('tail', ['-n', '15', logFile], {encoding: 'utf8'}).stdout ?? '';
    stopSync();
    throw new Error(`${error.message}${tail ? `\ndockerd's log ends:\n${tail}` : ''}`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (ensureDocker().length > 0) process.exit(1);
}
