/**
 * What `peerlab down` does for the local runner: finds the processes a run
 * left on this machine by the PEERLAB_RUN_ID in their environment
 * (/proc/<pid>/environ, readable for our own processes) and SIGKILLs them.
 * Without a run id it takes only those whose coordinator (PEERLAB_PARENT_PID)
 * is gone: a live coordinator's peers are its own to stop.
 */
import {readdir, readFile} from 'node:fs/promises';
import type {Reaped} from '../runner.js';

interface Found {
  pid: number;
  runId: string;
  parent: number | undefined;
  command: string[];
}

/** How long a SIGKILLed process may take to be gone from /proc (or a zombie) before down says so. */
const GONE_WITHIN_MS = 2000;

async function environ(pid: number): Promise<Map<string, string> | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/environ`, 'latin1');
    const vars = new Map<string, string>();
    for (const entry of text.split('\0')) {
      const eq = entry.indexOf('=');
      if (eq > 0) vars.set(entry.slice(0, eq), entry.slice(eq + 1));
    }
    return vars;
  } catch {
    // Gone meanwhile, or not ours to read.
    return undefined;
  }
}

/** Running (not gone, not a zombie waiting for its parent to collect it). */
async function running(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The state follows the command name, which is in parentheses and may hold anything.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function findRunProcesses(): Promise<Found[]> {
  const found: Found[] = [];
  const pids = (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry)).map(Number);
  for (const pid of pids) {
    if (pid === process.pid) continue;
    const vars = await environ(pid);
    const runId = vars?.get('PEERLAB_RUN_ID');
    if (!runId) continue;
    const parent = Number(vars!.get('PEERLAB_PARENT_PID'));
    const command = await readFile(`/proc/${pid}/cmdline`, 'utf8').then((text) => text.split('\0').filter(Boolean), () => []);
    found.push({pid, runId, parent: Number.isSafeInteger(parent) && parent > 0 ? parent : undefined, command});
  }
  return found;
}

/** The peer names a process carries, from the flags the runner gave it. */
function peerNames(command: readonly string[]): string | undefined {
  const at = command.findIndex((word) => word === '--name' || word === '--names');
  return at >= 0 ? command[at + 1] : undefined;
}

export async function reapLocal(runId?: string): Promise<Reaped[]> {
  const candidates = await findRunProcesses();
  const victims: Found[] = [];
  for (const p of candidates) {
    if (runId !== undefined ? p.runId === runId : p.parent === undefined || !(await running(p.parent))) victims.push(p);
  }
  for (const p of victims) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // Gone meanwhile: nothing left to remove.
    }
  }
  const deadline = Date.now() + GONE_WITHIN_MS;
  let left = victims;
  while (left.length > 0 && Date.now() < deadline) {
    const still = await Promise.all(left.map((p) => running(p.pid)));
    left = left.filter((_, i) => still[i]);
    if (left.length > 0) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return victims.map((p) => {
    const names = peerNames(p.command);
    const detail = [names ? `peer ${names}` : undefined, left.includes(p) ? `still running ${GONE_WITHIN_MS} ms after SIGKILL` : undefined].filter(Boolean).join('; ');
    return {kind: 'process', id: String(p.pid), runId: p.runId, ...(detail ? {detail} : {})};
  });
}
