/**
 * Runs nft: always by its path with an argv array, the ruleset on stdin,
 * never through a shell. Knows the run tables' names, so stale ones (their
 * coordinator gone) can be found and deleted.
 */
import {execFile, execFileSync, spawnSync} from 'node:child_process';
import {accessSync, constants} from 'node:fs';
import path from 'node:path';

export type KernelSupport = {ok: true; nft: string} | {ok: false; reason: string};

/** Where nft usually lives: a root shell's PATH may lack the sbin folders. */
const SBIN = ['/usr/sbin', '/sbin', '/usr/local/sbin'];

/**
 * The nftables binary: the system folders first, then PATH. Each candidate
 * must say it is nftables: under `npm run` and npx, PATH starts with
 * node_modules/.bin, where another package's `nft` (a file tracer) may be.
 */
export function findNft(envPath = process.env.PATH ?? ''): string | undefined {
  for (const dir of [...SBIN, ...envPath.split(path.delimiter).filter(Boolean)]) {
    const file = path.join(dir, 'nft');
    try {
      accessSync(file, constants.X_OK);
    } catch {
      continue;
    }
    if (isNftables(file)) return file;
  }
  return undefined;
}

function isNftables(file: string): boolean {
  const result = spawnSync(file, ['--version'], {encoding: 'utf8', timeout: 5000});
  return result.status === 0 && /^nftables v/.test(result.stdout.trim());
}

export interface SupportProbe {
  platform?: NodeJS.Platform;
  uid?: number;
  nft?: string | undefined;
  /** Whether nft can list the ruleset (the kernel has nf_tables and we may use it); default: runs it. */
  works?: (nft: string) => string | undefined;
}

function nftWorks(nft: string): string | undefined {
  const result = spawnSync(nft, ['list', 'tables'], {encoding: 'utf8', timeout: 10_000});
  if (result.error) return result.error.message;
  return result.status === 0 ? undefined : (result.stderr.trim().split('\n')[0] ?? `exit ${result.status}`);
}

/** Whether kernel faults can run here, or why not, in words a user can act on. */
export function kernelSupport(probe: SupportProbe = {}): KernelSupport {
  const platform = probe.platform ?? process.platform;
  if (platform !== 'linux') return {ok: false, reason: `kernel faults use nftables, which is Linux only (this is ${platform})`};
  const uid = probe.uid ?? process.getuid?.() ?? -1;
  if (uid !== 0) return {ok: false, reason: `kernel faults need root to change nftables rules (running as uid ${uid})`};
  const nft = 'nft' in probe ? probe.nft : findNft();
  if (!nft) return {ok: false, reason: 'kernel faults need the nft binary (the nftables package), and none is on PATH or in /usr/sbin, /sbin'};
  const problem = (probe.works ?? nftWorks)(nft);
  if (problem) return {ok: false, reason: `kernel faults need a working nft: \`${nft} list tables\` failed: ${problem}`};
  return {ok: true, nft};
}

export class Nft {
  constructor(readonly binary: string) {}

  /** Applies a ruleset in one transaction: all of it, or (on an error) none of it. */
  apply(ruleset: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = execFile(this.binary, ['-f', '-'], {timeout: 10_000}, (error, _stdout, stderr) => {
        if (error) reject(new Error(`nft -f: ${String(stderr).trim() || error.message}`));
        else resolve();
      });
      child.stdin?.end(ruleset);
    });
  }

  /** The names of the inet tables. */
  async inetTables(): Promise<string[]> {
    const out = await new Promise<string>((resolve, reject) =>
      execFile(this.binary, ['list', 'tables'], {timeout: 10_000}, (error, stdout, stderr) => (error ? reject(new Error(`nft list tables: ${String(stderr).trim() || error.message}`)) : resolve(String(stdout)))),
    );
    return out
      .split('\n')
      .map((line) => /^table inet (\S+)$/.exec(line.trim())?.[1])
      .filter((name): name is string => name !== undefined);
  }

  deleteTable(table: string): Promise<void> {
    return new Promise((resolve) => execFile(this.binary, ['delete', 'table', 'inet', table], {timeout: 10_000}, () => resolve()));
  }

  /** For exit handlers, where nothing asynchronous runs any more; a table already gone is no error. */
  deleteTableSync(table: string): void {
    try {
      execFileSync(this.binary, ['delete', 'table', 'inet', table], {stdio: 'ignore', timeout: 5000});
    } catch {
      // gone already (the janitor's work), or nft failed: the janitor and the next run's reaping remain
    }
  }
}

/** A run's table: `peerlab_<coordinator pid>_<run in that process>_b<address block>`. */
export function runTableName(pid: number, seq: number, block: number): string {
  return `peerlab_${pid}_${seq}_b${block}`;
}

export function parseRunTable(name: string): {pid: number; seq: number; block: number} | undefined {
  const m = /^peerlab_(\d+)_(\d+)_b(\d+)$/.exec(name);
  return m ? {pid: Number(m[1]), seq: Number(m[2]), block: Number(m[3])} : undefined;
}

export function isPeerlabTable(name: string): boolean {
  return name.startsWith('peerlab_');
}

