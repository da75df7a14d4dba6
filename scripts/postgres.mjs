#!/usr/bin/env node
// A private, throwaway PostgreSQL server for the bootstrap service's tests:
// Debian's postgresql (installed with apt-get when missing), a cluster in a temp
// dir with trust auth, listening on 127.0.0.1 only on a free port, its socket in
// that dir; stopped and removed afterwards. Nothing here touches a system cluster.
//
//   node scripts/postgres.mjs          installs postgresql if missing
//   import {startPostgres} ...         {url, stop()}: url names a fresh database
import {spawnSync} from 'node:child_process';
import {existsSync, readdirSync, rmSync} from 'node:fs';
import {appendFile, chmod, chown, mkdtemp} from 'node:fs/promises';
import {createServer} from 'node:net';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {pathToFileURL} from 'node:url';

const LIB = '/usr/lib/postgresql';
const DATABASE = 'peerlab';
const SUPERUSER = 'postgres';

/** The newest installed server's bin dir, e.g. /usr/lib/postgresql/15/bin, or undefined. */
export function postgresBinDir() {
  if (!existsSync(LIB)) return undefined;
  const versions = readdirSync(LIB)
    .filter((v) => existsSync(path.join(LIB, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : path.join(LIB, versions[0], 'bin');
}

/** Installs Debian's postgresql if no initdb is there; returns the bin dir or undefined. */
export function ensurePostgres(log = (line) => process.stderr.write(`# ${line}\n`)) {
  const found = postgresBinDir();
  if (found) return found;
  if (process.platform !== 'linux' || !existsSync('/usr/bin/apt-get')) {
    log(`no ${LIB}/*/bin/initdb and this is not a Debian-like system: install PostgreSQL there (the bootstrap service's database tests need it)`);
    return undefined;
  }
  const root = process.getuid?.() === 0;
  const sudo = !root && spawnSync('sudo', ['-n', 'true'], {stdio: 'ignore'}).status === 0;
  if (!root && !sudo) {
    log('PostgreSQL is missing and installing it needs root: run `sudo apt-get install -y postgresql` (the bootstrap service\'s database tests need it)');
    return undefined;
  }
  const env = {...process.env, DEBIAN_FRONTEND: 'noninteractive'};
  const apt = (args) => {
    const [cmd, argv] = root ? ['apt-get', args] : ['sudo', ['-n', 'apt-get', ...args]];
    log(`${cmd} ${argv.join(' ')}`);
    return spawnSync(cmd, argv, {stdio: ['ignore', 'ignore', 'inherit'], env}).status === 0;
  };
  log('PostgreSQL is missing: installing Debian\'s postgresql for the bootstrap service\'s database tests');
  // A fresh image often has no package lists yet: update once, only when the first try fails.
  if (!apt(['install', '-y', 'postgresql'])) {
    apt(['update']);
    apt(['install', '-y', 'postgresql']);
  }
  const installed = postgresBinDir();
  if (!installed) log('could not install postgresql with apt-get: the bootstrap service\'s database tests will fail');
  return installed;
}

/**
 * Starts a throwaway cluster; resolves with the URL of an empty database in it and
 * stop() (stopSync() for signal handlers), which stops the server and removes its
 * directory. The server runs in its own session (pg_ctl), so a Ctrl-C meant for
 * the tests does not reach it: whoever starts it must stop it. Throws, naming the
 * step and its output, if any step fails (and cleans up what it made).
 */
export async function startPostgres({log = () => {}} = {}) {
  const bin = ensurePostgres(log);
  if (!bin) throw new Error(`PostgreSQL is not installed (no ${LIB}/*/bin/initdb) and could not be installed`);
  // initdb and the server refuse to run as root: run them as the postgres account.
  const root = process.getuid?.() === 0;
  const asOwner = root ? (cmd, args) => ['runuser', ['-u', SUPERUSER, '--', cmd, ...args]] : (cmd, args) => [cmd, args];
  const run = (tool, args) => {
    const [cmd, argv] = asOwner(path.join(bin, tool), args);
    const result = spawnSync(cmd, argv, {encoding: 'utf8'});
    if (result.status !== 0) {
      throw new Error(`${tool} ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`}): ${(result.stderr || result.stdout || '').trim()}`);
    }
  };

  const dir = await mkdtemp(path.join(tmpdir(), 'peerlab-pg-'));
  const data = path.join(dir, 'data');
  let started = false;
  // Synchronous, so that a signal handler can run it before the process dies.
  const stopSync = () => {
    if (started) {
      started = false;
      try {
        run('pg_ctl', ['stop', '-D', data, '-m', 'fast', '-w']);
      } catch (error) {
        log(`could not stop the test PostgreSQL in ${data}: ${error.message}`);
      }
    }
    rmSync(dir, {recursive: true, force: true});
  };
  const stop = async () => stopSync();
  try {
    if (root) {
      const {uid, gid} = accountIds(SUPERUSER);
      await chown(dir, uid, gid);
    }
    await chmod(dir, 0o700);
    run('initdb', ['-D', data, '-U', SUPERUSER, '--auth=trust', '--no-sync', '--encoding=UTF8', '--locale=C']);
    // A port another process takes between our probe and the server's bind is retried.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      // Settings in the config file, not on a command line pg_ctl hands to a shell.
      await appendFile(
        path.join(data, 'postgresql.conf'),
        [
          '',
          "listen_addresses = '127.0.0.1'",
          `port = ${port}`,
          `unix_socket_directories = '${dir}'`,
          // Small: a test cluster on a shared machine. fsync stays on: the tests prove
          // that an acknowledged write survives.
          'shared_buffers = 16MB',
          'max_connections = 60',
          '',
        ].join('\n'),
      );
      try {
        run('pg_ctl', ['start', '-D', data, '-l', path.join(dir, 'server.log'), '-w', '-t', '60']);
        started = true;
        run('createdb', ['-h', '127.0.0.1', '-p', String(port), '-U', SUPERUSER, DATABASE]);
        return {url: `postgres://${SUPERUSER}@127.0.0.1:${port}/${DATABASE}`, port, dir, stop, stopSync};
      } catch (error) {
        if (started || attempt >= 3) throw error;
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
}

function accountIds(name) {
  const result = spawnSync('id', ['-u', name], {encoding: 'utf8'});
  const gid = spawnSync('id', ['-g', name], {encoding: 'utf8'});
  if (result.status !== 0 || gid.status !== 0) throw new Error(`no OS account "${name}" to run PostgreSQL as (the postgresql package creates it)`);
  return {uid: Number(result.stdout.trim()), gid: Number(gid.stdout.trim())};
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

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (!ensurePostgres()) process.exit(1);
}
