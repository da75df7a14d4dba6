/** Waiting with deadlines: polled conditions, process ends, and the one deliberate pause (a fault's duration). */
import {readFileSync} from 'node:fs';
import type {PeerExit, PeerHandle} from '../runners/runner.js';

/** Polls `check` every 20 ms; its value, or undefined at the deadline. */
export async function until<T>(check: () => T | undefined | false, timeoutMs: number): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() >= deadline) return undefined;
    await delay(20);
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The host's exit, or undefined if it is still running at the deadline. */
export async function exitWithin(host: PeerHandle, timeoutMs: number): Promise<PeerExit | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs)));
  try {
    return await Promise.race([host.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Whether a process that is not our child has ended. A zombie counts as
 * ended: it has exited, and only its new parent's reaping is left.
 */
export function isGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state === 'Z' || state === 'X';
  } catch {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  }
}

/** How a process ended, in words. */
export function exitText(exit: PeerExit): string {
  return exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
}
