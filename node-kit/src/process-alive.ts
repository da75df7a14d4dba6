/**
 * Whether a pid is a live process, for deciding that whoever made something
 * (a run's table, service or pod, a temp file) is gone and it may be reaped.
 * A zombie (dead, not yet reaped by its parent) counts as gone: a SIGKILLed
 * coordinator whose parent has not waited for it is no less dead.
 */
import {readFileSync} from 'node:fs';

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists, and is someone else's.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    // No /proc (not Linux), or it went between the two looks: kill(0) has spoken.
    return pidExists(pid);
  }
}

/** Whether a process with this pid exists (a zombie counts): kill(0) succeeds, or is refused for want of permission. */
export function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
