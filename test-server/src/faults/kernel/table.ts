/**
 * One run's nftables table, owned by its coordinator: the peers' addresses,
 * the table (created empty when the run begins, rebuilt whole on every
 * change, deleted when the run ends), and its janitor, which deletes it if
 * the coordinator dies without doing so. Stale tables whose coordinator is
 * gone are reaped before a new one is made.
 */
import {spawn} from 'node:child_process';
import type {ChildProcess} from 'node:child_process';
import {fileURLToPath} from 'node:url';
import type {NetRule} from '../../engine/fault-plan.js';
import {AddressBook, MAX_BLOCK} from './addresses.js';
import {processAlive} from '@peerlab/node-kit/process-alive';
import {Nft, isPeerlabTable, parseRunTable, runTableName} from './nft.js';
import {buildRuleset} from './ruleset.js';

let runs = 0;
/** Every table this process holds, so an exit handler can delete them synchronously. */
const open = new Set<KernelTable>();
let exitHook = false;

/** Deletes every table of a coordinator that is gone; returns their names. */
export async function reapStaleTables(nft: Nft): Promise<string[]> {
  const reaped: string[] = [];
  for (const name of await nft.inetTables()) {
    if (!isPeerlabTable(name)) continue;
    const owner = parseRunTable(name);
    // A peerlab table of another shape is an older version's: its owner cannot be told, so it goes only if that pid is gone.
    const pid = owner?.pid ?? Number(/^peerlab_(\d+)/.exec(name)?.[1] ?? NaN);
    if (Number.isInteger(pid) && pid > 0 && (pid === process.pid ? !isOurs(name) : !processAlive(pid))) {
      await nft.deleteTable(name);
      reaped.push(name);
    }
  }
  return reaped;
}

function isOurs(name: string): boolean {
  return [...open].some((t) => t.name === name);
}

export class KernelTable {
  #applying: Promise<void> = Promise.resolve();
  #closed = false;

  private constructor(
    readonly nft: Nft,
    readonly name: string,
    readonly addresses: AddressBook,
    private readonly janitor: ChildProcess,
  ) {}

  /**
   * Reaps stale tables, picks an address block no live run uses, creates the
   * table and starts its janitor. Two coordinators that pick the same block
   * at once both see it after creating their tables; the later name yields.
   */
  static async open(nftBinary: string, peers: readonly string[] = []): Promise<KernelTable> {
    const nft = new Nft(nftBinary);
    await reapStaleTables(nft);
    const seq = ++runs;
    const refused = new Set<number>();
    for (;;) {
      const used = new Set((await nft.inetTables()).map((n) => parseRunTable(n)?.block).filter((b): b is number => b !== undefined));
      let block = 0;
      while (block <= MAX_BLOCK && (used.has(block) || refused.has(block))) block++;
      if (block > MAX_BLOCK) throw new Error(`kernel faults: every loopback address block is taken by a running peerlab (${MAX_BLOCK + 1} runs at once)`);
      const name = runTableName(process.pid, seq, block);
      await nft.apply(buildRuleset({table: name, rules: [], addresses: new Map()}));
      const rivals = (await nft.inetTables()).filter((n) => n !== name && parseRunTable(n)?.block === block);
      if (rivals.some((n) => n < name)) {
        await nft.deleteTable(name);
        refused.add(block);
        continue;
      }
      const janitor = startJanitor(nftBinary, name);
      const table = new KernelTable(nft, name, new AddressBook(block), janitor);
      for (const peer of peers) table.addresses.addressOf(peer);
      open.add(table);
      if (!exitHook) {
        exitHook = true;
        process.on('exit', () => {
          for (const t of open) t.closeSync();
        });
      }
      return table;
    }
  }

  /** The chain rebuilt from the rules in force, in one transaction; changes apply in the order asked. */
  apply(rules: readonly NetRule[]): Promise<void> {
    const next = this.#applying.then(() => {
      if (this.#closed) return;
      // Every peer a rule names gets its address now, so the rule holds from the moment it starts.
      for (const rule of rules) if (rule.links !== 'all') for (const link of rule.links) for (const name of link) this.addresses.addressOf(name);
      return this.nft.apply(buildRuleset({table: this.name, rules, addresses: this.addresses.addresses}));
    });
    this.#applying = next.catch(() => undefined);
    return next;
  }

  /** Deletes the table and lets the janitor go. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#applying;
    await this.nft.deleteTable(this.name);
    this.#release();
  }

  closeSync(): void {
    if (!this.#closed) {
      this.#closed = true;
      this.nft.deleteTableSync(this.name);
    }
    this.#release();
  }

  #release(): void {
    open.delete(this);
    // End of file: the janitor deletes the table (gone already) and exits.
    this.janitor.stdin?.end();
  }
}

function startJanitor(nftBinary: string, table: string): ChildProcess {
  const file = fileURLToPath(new URL('./janitor.js', import.meta.url));
  const child = spawn(process.execPath, [file, nftBinary, table, String(process.pid)], {
    // Its own process group: a Ctrl-C to the coordinator's group does not reach it.
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  child.on('error', () => {});
  // It must not keep the coordinator alive; the pipe is its only tie.
  child.unref();
  (child.stdin as unknown as {unref?: () => void} | null)?.unref?.();
  child.stdin?.on('error', () => {});
  return child;
}
