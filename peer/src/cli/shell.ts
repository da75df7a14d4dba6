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
 * started and nothing of the peer.
 */
import {spawn} from 'node:child_process';
import type {ChildProcess} from 'node:child_process';
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
    const child = spawn('/bin/sh', ['-c', command], {stdio: ['ignore', 'inherit', 'inherit'], detached: true});
    running.add(child);
    let kill: NodeJS.Timeout | undefined;
    const interrupt = () => {
      signalGroup(child, 'SIGINT');
      kill = setTimeout(() => signalGroup(child, 'SIGKILL'), INTERRUPT_GRACE_MS);
    };
    const done = () => {
      running.delete(child);
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
