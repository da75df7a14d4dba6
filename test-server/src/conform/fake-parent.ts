/**
 * A stand-in parent for the parent-watch check: a process of its own that
 * starts the peer as its direct child, with PEERLAB_PARENT_PID naming
 * itself, so that the check can kill the parent and see whether the peer
 * notices. Run as `node fake-parent.js '<launch as JSON>'`; it prints
 * `{"pid": <peer pid>}` once the peer runs, and `{"exit": ...}` if the peer
 * ends first. Should conform itself die, this process kills the peer and
 * exits: it is not to leave an orphan behind.
 */
import {spawn} from 'node:child_process';
import {closeSync, openSync} from 'node:fs';
import type {PeerLaunch} from '../runners/local/peer-host.js';

const launch = JSON.parse(process.argv[2] ?? 'null') as PeerLaunch | null;
if (!launch) {
  process.stderr.write('usage: fake-parent <launch as JSON>\n');
  process.exit(2);
}
const conform = process.ppid;
const log = openSync(launch.logFile, 'a');
const child = spawn(launch.command, launch.args, {
  cwd: launch.cwd,
  env: {...process.env, ...launch.env, PEERLAB_PARENT_PID: String(process.pid)},
  stdio: ['ignore', log, log],
});
closeSync(log);
child.once('spawn', () => process.stdout.write(`${JSON.stringify({pid: child.pid})}\n`));
child.once('error', (error) => {
  process.stdout.write(`${JSON.stringify({error: error.message})}\n`);
  process.exit(1);
});
child.once('exit', (code, signal) => {
  process.stdout.write(`${JSON.stringify({exit: {code, signal}})}\n`);
  process.exit(0);
});
setInterval(() => {
  if (process.ppid !== conform) {
    child.kill('SIGKILL');
    process.exit(1);
  }
}, 250);
