#!/usr/bin/env node
// A private, throwaway PostgreSQL server for the bootstrap service's tests:
// Debian's postgresql (installed with apt-get when missing), a cluster in a temp
// dir with trust auth, listening on 127.0.0.1 only on a free port, its socket in
// that dir; stopped and removed afterwards. Nothing here touches a system cluster,
// and installing sets create_main_cluster = false first so that none is made.
//
//   node scripts/postgres.mjs          installs postgresql if missing
//   import {startPostgres} ...         {url, stop()}: url names a fresh database
import {spawnSync} from 'node:child_process';
import {existsSync, readFileSync, readdirSync, rmSync} from 'node:fs';
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
  // UCF_FORCE_CONFFOLD: keep the createcluster.conf written below when the
  // postgresql-common package installs its own (through ucf) and finds ours.
  const settings = ['DEBIAN_FRONTEND=noninteractive', 'UCF_FORCE_CONFFOLD=1'];
  const asRoot = (cmd, args, input) => {
    const [program, argv] = root ? ['env', [...settings, cmd, ...args]] : ['sudo', ['-n', 'env', ...settings, cmd, ...args]];
    return spawnSync(program, argv, {stdio: [input === undefined ? 'ignore' : 'pipe', 'ignore', 'inherit'], input});
  };
  const apt = (args) => {
    log(`apt-get ${args.join(' ')}`);
    return asRoot('apt-get', args).status === 0;
  };
  log('PostgreSQL is missing: installing Debian\'s postgresql for the bootstrap service\'s database tests');
  // Installing Debian's postgresql would otherwise create the system cluster
  // (15/main) and start it on port 5432: the server package's postinst runs
  // pg_createcluster unless createcluster.conf says create_main_cluster = false,
  // then starts every cluster there is. With no cluster, nothing starts. This is the
  // switch postgresql-common (248 in Debian 12) reads for exactly that; a
  // policy-rc.d that forbids starting services would still leave a cluster created,
  // and would hold back every other service the install starts. The setting stays
  // for later installs; `pg_createcluster 15 main` still makes a cluster by hand.
  const conf = '/etc/postgresql-common/createcluster.conf';
  const current = existsSync(conf) ? readFileSync(conf, 'utf8') : '';
  if (!/^\s*create_main_cluster\s*=/m.test(current)) {
    log(`writing create_main_cluster = false to ${conf}, so that the install creates and starts no system cluster`);
    const line = '# Written by peerlab\'s test setup: installing postgresql creates no cluster.\ncreate_main_cluster = false\n';
    if (asRoot('mkdir', ['-p', path.dirname(conf)]).status !== 0 || asRoot('tee', ['-a', conf], line).status !== 0) {
      log(`could not write ${conf}: not installing postgresql, as its install would create and start a system cluster`);
      return undefined;
    }
  } else if (!/^\s*create_main_cluster\s*=\s*(false|off|no|0)\b/im.test(current)) {
    log(`${conf} sets create_main_cluster: the install will create and start the system cluster as it says`);
  }
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
 * step and its output, if any step fails (and cleans up what it made). An
 * AbortSignal given as `signal` interrupts the start between steps, the same way.
 */
export async function startPostgres({log = () => {}, signal} = {}) {
  const bin = ensurePostgres(log);
  if (!bin) throw new Error(`PostgreSQL is not installed (no ${LIB}/*/bin/initdb) and could not be installed`);
  // initdb and the server refuse to run as root: run them as the postgres account.
  const root = process.getuid?.() === 0;
  const asOwner = root ? (cmd, args) => ['runuser', ['-u', SUPERUSER, '--', cmd, ...args]] : (cmd, args) => [cmd, args];
  const run = (tool, args) => {
    const [cmd, argv] = asOwner(path.join(bin, tool), args);
    // Detached (a session of its own), so that a Ctrl-C meant for the tests does
    // not cut a step short, e.g. pg_ctl after it forked the server: each step ends,
    // then the caller's handler (see `signal`) stops what was started.
    const result = spawnSync(cmd, argv, {encoding: 'utf8', detached: true});
    if (result.status !== 0) {
      throw new Error(`${tool} ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`}): ${(result.stderr || result.stdout || '').trim()}`);
    }
  };

  const dir = await mkdtemp(path.join(tmpdir(), 'peerlab-pg-'));
  const data = path.join(dir, 'data');
  // The server is up, or may be: its pid file is there (a start that failed on a
  // taken port removes it again as the server exits).
  const running = () => existsSync(path.join(data, 'postmaster.pid'));
  let stopped = false;
  // Synchronous, so that a signal handler can run it before the process dies.
  const stopSync = () => {
    if (stopped) return;
    stopped = true;
    if (running()) {
      try {
        run('pg_ctl', ['stop', '-D', data, '-m', 'fast', '-w']);
      } catch (error) {
        // Its files stay, so that the server still running on them can be found and stopped.
        log(`could not stop the test PostgreSQL in ${data}, left it in place: ${error.message}`);
        return;
      }
    }
    rmSync(dir, {recursive: true, force: true});
  };
  const stop = async () => stopSync();
  // Checked between steps: an interrupted start stops what it started and throws.
  const abandonIfAborted = () => {
    if (signal?.aborted) throw new Error('start of the test PostgreSQL interrupted');
  };
  try {
    if (root) {
      const {uid, gid} = accountIds(SUPERUSER);
      await chown(dir, uid, gid);
    }
    await chmod(dir, 0o700);
    abandonIfAborted();
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
      abandonIfAborted();
      try {
        run('pg_ctl', ['start', '-D', data, '-l', path.join(dir, 'server.log'), '-w', '-t', '60']);
      } catch (error) {
        if (running() || attempt >= 3) throw error;
        continue;
      }
      abandonIfAborted();
      run('createdb', ['-h', '127.0.0.1', '-p', String(port), '-U', SUPERUSER, DATABASE]);
      abandonIfAborted();
      return {url: `postgres://${SUPERUSER}@127.0.0.1:${port}/${DATABASE}`, port, dir, stop, stopSync};
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
