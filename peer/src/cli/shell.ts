/**
 * `shell <command>` and `!<command>`: a command line for /bin/sh, run for the
 * person at the peer's own prompt (or in a script they run there). This is the
 * one place a user's string reaches a shell, on purpose; the agent's registry
 * never has this command (see SHELL_WITHHELD in ../commands.ts).
 *
 * The command writes straight to the peer's own stdout and stderr (inherited
 * file descriptors, so no output is buffered, reordered or lost however much
 * there is), gets no stdin (the peer's input is its prompt or its script), and
 * runs in a process group of its own, so an interrupt reaches everything it
 * started and nothing of the peer. That group dies with the peer, however the
 * peer ends: see WATCHDOG.
 */
import {spawn} from 'node:child_process';
import type {ChildProcess} from 'node:child_process';
import type {Writable} from 'node:stream';
import type {Command} from '@peerlab/client-agent';
import {CommandError} from '@peerlab/client-agent';
import type {CommandContext} from '../commands.js';
import {SHELL} from '../commands.js';

/** After an interrupt (SIGINT), how long a command that ignores it has before it is killed. */
export const INTERRUPT_GRACE_MS = 2000;

export interface ShellStatus {
  /** The exit status, or null when a signal ended the shell. */
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** `exit 0`, `exit 3`, `killed by SIGINT`: the status as the status line and errors say it. */
export function describeStatus(status: ShellStatus): string {
  return status.signal ? `killed by ${status.signal}` : `exit ${status.code}`;
}

/**
 * What the peer spawns: a /bin/sh that starts a watchdog in the background and
 * then execs the command's own /bin/sh -c in its place, so the process the peer
 * waits for is the command's shell itself (its exit status and the signal that
 * ended it arrive exact, `$$` is the group's id) and the watchdog is in its
 * process group.
 *
 * The watchdog holds the one end of a pipe whose other end only the peer has
 * (fd 3; Node opens its own end close-on-exec, so no other child inherits it).
 * It reads a line: the peer writes one when the command has ended, and the
 * watchdog goes quietly. If the peer dies first, however it dies (SIGKILL
 * too, where no handler of its own can run; Linux's PR_SET_PDEATHSIG is out of
 * Node's reach), the kernel closes the peer's end, the read hits end of file,
 * and the watchdog kills its whole process group: the command and everything
 * it started. It ignores SIGINT so that Ctrl-C does not take it away from a
 * command that survives the interrupt, and keeps none of the peer's output
 * open. The command runs with fd 3 closed: the pipe is not its business.
 * What it starts in a session or process group of its own is out of reach.
 */
const WATCHDOG = '( trap "" INT; read -r line <&3 || kill -KILL 0 ) </dev/null >/dev/null 2>&1 & exec /bin/sh -c "$1" 3<&-';

/** Shells still running: a peer that exits takes them with it. */
const running = new Set<ChildProcess>();
let reapsOnExit = false;

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    // The negative pid is the process group: the shell and everything it started.
    process.kill(-child.pid!, signal);
  } catch {
    // Already gone.
  }
}

/** Runs the command line through /bin/sh -c; aborting the signal interrupts it, then kills it. */
export function runShell(command: string, signal: AbortSignal): Promise<ShellStatus> {
  if (!reapsOnExit) {
    reapsOnExit = true;
    process.on('exit', () => {
      for (const child of running) signalGroup(child, 'SIGKILL');
    });
  }
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', WATCHDOG, 'peerlab-shell', command], {stdio: ['ignore', 'inherit', 'inherit', 'pipe'], detached: true});
    const watchdog = child.stdio[3] as Writable | null;
    // A watchdog already gone (killed with its group) makes the goodbye fail: nothing to tell.
    watchdog?.on('error', () => {});
    running.add(child);
    let kill: NodeJS.Timeout | undefined;
    const interrupt = () => {
      signalGroup(child, 'SIGINT');
      kill = setTimeout(() => signalGroup(child, 'SIGKILL'), INTERRUPT_GRACE_MS);
    };
    const done = () => {
      running.delete(child);
      // The command has ended: the watchdog may go, without killing what it left running.
      watchdog?.end('\n');
      clearTimeout(kill);
      signal.removeEventListener('abort', interrupt);
    };
    child.once('error', (error) => {
      done();
      reject(new CommandError(`${SHELL}: cannot start /bin/sh: ${error.message}`, 'failed'));
    });
    child.once('exit', (code, killedBy) => {
      done();
      resolve({code, signal: killedBy});
    });
    if (signal.aborted) interrupt();
    else signal.addEventListener('abort', interrupt, {once: true});
  });
}

export function shellCommand(): Command<CommandContext> {
  return {
    name: SHELL,
    group: 'scripts',
    summary: 'run a command line through /bin/sh (also !<command>); here only, never for the coordinator',
    args: [{name: 'command', type: 'string', rest: true, required: true, description: 'passed to /bin/sh -c as typed'}],
    async run(args, _ctx, call) {
      const status = await runShell(args.command as string, call.signal);
      // On the stream the command wrote to, right after its last line.
      process.stdout.write(`[${describeStatus(status)}]\n`);
      if (status.code !== 0) throw new CommandError(`${SHELL}: ${describeStatus(status)}`, 'failed');
      return status;
    },
    // The status line is already out, after the command's own output.
    format: () => '',
  };
}
