/**
 * Drives a real `peerlab-peer` process through its script mode: each command
 * is followed by an `echo` marker, so its output is exactly the lines before
 * the marker. Every wait has a deadline; nothing sleeps for a fixed time.
 */
import {spawn} from 'node:child_process';
import type {ChildProcessWithoutNullStreams} from 'node:child_process';
import {createInterface} from 'node:readline';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The bundled peer, as users and the coordinator run it. */
export const peerBin = path.resolve(here, '../../../bin/peerlab-peer.mjs');

/** Pipes `input` to a fresh peer in script mode and resolves with all it printed once it has exited. */
export function runScript(args: string[], input: string): Promise<{code: number | null; stdout: string; stderr: string}> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [peerBin, ...args], {stdio: 'pipe'});
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    // 'close', not 'exit': by then both pipes have been read to the end.
    child.on('close', (code) => resolve({code, stdout, stderr}));
    child.stdin.end(input);
  });
}

export interface MemberView {
  name: string;
  address: string;
  state: 'alive' | 'suspect' | 'dead' | 'left';
  incarnation: number;
}

export interface MembersResult {
  self: string;
  checksum: string;
  count: number;
  members: MemberView[];
}

export interface PeerOptions {
  name: string;
  join?: string[];
  bootstrap?: string;
  args?: string[];
  env?: NodeJS.ProcessEnv;
}

export class PeerProcess {
  readonly lines: string[] = [];
  readonly stderr: string[] = [];
  address = '';
  exited: Promise<{code: number | null; signal: NodeJS.Signals | null}>;
  #waiters: Array<() => void> = [];
  #queue: Promise<unknown> = Promise.resolve();
  #marker = 0;

  private constructor(readonly name: string, readonly child: ChildProcessWithoutNullStreams) {
    createInterface({input: child.stdout}).on('line', (line) => {
      this.lines.push(line);
      for (const wake of this.#waiters.splice(0)) wake();
    });
    createInterface({input: child.stderr}).on('line', (line) => {
      this.stderr.push(line);
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.exited = new Promise((resolve) => child.on('exit', (code, signal) => {
      for (const wake of this.#waiters.splice(0)) wake();
      resolve({code, signal});
    }));
  }

  static async start(options: PeerOptions): Promise<PeerProcess> {
    const args = [peerBin, '--name', options.name, '--port', '0', '--profile', 'local'];
    for (const seed of options.join ?? []) args.push('--join', seed);
    if (options.bootstrap) args.push('--bootstrap', options.bootstrap);
    args.push(...(options.args ?? []));
    const child = spawn(process.execPath, args, {stdio: 'pipe', env: {...process.env, ...options.env}});
    const peer = new PeerProcess(options.name, child);
    const line = await peer.#waitLine((l) => / listening on /.test(l), 10_000);
    peer.address = /listening on (\S+)/.exec(line)![1]!;
    return peer;
  }

  get pid(): number {
    return this.child.pid!;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Runs one command line and returns its stdout lines. */
  command(line: string, timeoutMs = 10_000): Promise<string[]> {
    const run = async () => {
      const marker = `__done_${++this.#marker}__`;
      const start = this.lines.length;
      this.child.stdin.write(`${line}\necho ${marker}\n`);
      await this.#waitLine((l) => l === marker, timeoutMs, start);
      const end = this.lines.indexOf(marker, start);
      return this.lines.slice(start, end);
    };
    const result = this.#queue.then(run, run);
    this.#queue = result.catch(() => {});
    return result;
  }

  async json<T>(line: string): Promise<T> {
    const out = await this.command(line);
    const last = out.at(-1);
    if (last === undefined) throw new Error(`${this.name}: no output for "${line}"; stderr: ${this.stderr.slice(-5).join(' | ')}`);
    return JSON.parse(last) as T;
  }

  members(all = false): Promise<MembersResult> {
    return this.json<MembersResult>(`members --json${all ? ' --all' : ''}`);
  }

  /**
   * Waits for a stderr line after index `from`. stdout and stderr are separate
   * pipes, so an error printed before a command's stdout marker may still
   * arrive after it.
   */
  async waitStderr(match: (line: string) => boolean, from: number, timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.stderr.slice(from).find(match);
      if (found !== undefined) return found;
      const left = deadline - Date.now();
      if (left <= 0 || !this.alive) throw new Error(`${this.name}: no matching stderr line within ${timeoutMs} ms; stderr: ${this.stderr.slice(-5).join(' | ')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.alive) this.child.kill(signal);
  }

  async #waitLine(match: (line: string) => boolean, timeoutMs: number, from = 0): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.slice(from).find(match);
      if (found !== undefined) return found;
      if (!this.alive) throw new Error(`${this.name} exited; stderr: ${this.stderr.slice(-5).join(' | ')}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: no matching line within ${timeoutMs} ms; stdout: ${this.lines.slice(-5).join(' | ')}; stderr: ${this.stderr.slice(-5).join(' | ')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

/** Polls `check` until it returns a value other than undefined, or the deadline passes. */
export async function eventually<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>, intervalMs = 50): Promise<{value: T; elapsedMs: number}> {
  const started = Date.now();
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return {value, elapsedMs: Date.now() - started};
    } catch (error) {
      last = error;
    }
    if (Date.now() - started > timeoutMs) {
      throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last error: ${String(last)})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Starts a group: the first peer alone, the rest joining through it. */
export async function startGroup(names: string[], extra: (name: string) => Partial<PeerOptions> = () => ({})): Promise<PeerProcess[]> {
  const first = await PeerProcess.start({name: names[0]!, ...extra(names[0]!)});
  const rest = await Promise.all(names.slice(1).map((name) => PeerProcess.start({name, join: [first.address], ...extra(name)})));
  return [first, ...rest];
}

/** Resolves when every listed peer sees exactly `expected` as its live set. */
export async function converged(peers: PeerProcess[], expected: string[], timeoutMs: number) {
  const want = [...expected].sort().join(',');
  return eventually(`views converge on ${want}`, timeoutMs, async () => {
    const views = await Promise.all(peers.map((p) => p.members()));
    return views.every((v) => v.members.map((m) => m.name).sort().join(',') === want) ? views : undefined;
  });
}

export function stopAll(peers: PeerProcess[]): void {
  for (const peer of peers) peer.kill('SIGKILL');
}
