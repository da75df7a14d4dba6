/**
 * The janitor of one run's nftables table: started by the coordinator in a
 * process group of its own (a Ctrl-C to the coordinator's group does not
 * race it), with a stdin pipe only the coordinator holds. However the
 * coordinator ends, SIGKILL included, the pipe reaches end of file; then
 * the janitor deletes the table and exits. Watching the coordinator's pid is
 * a second net.
 *
 * argv: <nft binary> <table> <coordinator pid>
 */
import {execFileSync} from 'node:child_process';

const [nft, table, parent] = process.argv.slice(2);
if (!nft || !table || !/^peerlab_[A-Za-z0-9_]+$/.test(table) || !parent) {
  process.stderr.write('usage: janitor <nft> <peerlab table> <coordinator pid>\n');
  process.exit(2);
}

let done = false;
function cleanUp(): void {
  if (done) return;
  done = true;
  try {
    execFileSync(nft!, ['delete', 'table', 'inet', table!], {stdio: 'ignore', timeout: 10_000});
  } catch {
    // Already deleted by the coordinator on a normal end.
  }
  process.exit(0);
}

// Signals meant for the coordinator's terminal or group must not stop the janitor before its work.
for (const signal of ['SIGINT', 'SIGHUP', 'SIGQUIT'] as const) process.on(signal, () => {});
process.on('SIGTERM', cleanUp);
process.stdin.on('end', cleanUp);
process.stdin.on('close', cleanUp);
process.stdin.on('error', cleanUp);
process.stdin.resume();
setInterval(() => {
  try {
    process.kill(Number(parent), 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') cleanUp();
  }
}, 1000);
