// The bootstrap service's state: which peers are known, which of them are handed
// out as contacts, and the rules every backend follows. BootstrapStore keeps it in
// memory and, optionally, in a file; PostgresStore (postgres-store.ts) keeps it in a
// database shared by many instances. No HTTP here, so the coordinator can drive the
// same store in-process.

import { removeStaleTempFiles, writeFileAtomic } from '@peerlab/node-kit/write-file-atomic';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { PEER_NAME } from '@peerlab/events/names';

export interface Contact {
  name: string;
  /** "host:port" */
  address: string;
  /** epoch ms of the peer's latest join */
  since: number;
}

export interface BootstrapConfig {
  maxpeers: number;
}

export interface PeerList {
  contacts: Contact[];
  candidates: Contact[];
}

export interface RefillResult {
  contacts: Contact[];
  /** names promoted from candidate to contact, oldest first */
  added: string[];
}

export interface LeaveResult {
  removed: Contact;
  wasContact: boolean;
  /** candidates promoted to fill the gap the leaver left */
  promoted: string[];
}

/**
 * What the router needs from a backend. Every method is one atomic step against
 * every other caller, including other service instances on the same backend: the
 * rules (maxpeers, oldest first, roles kept on rejoin) hold after each step.
 */
export interface PeerStore {
  /** For logs and messages; never contains a password. */
  readonly description: string;
  /** Opens the backend (reads the file, connects, creates tables); call once before anything else. */
  load(): Promise<void>;
  getConfig(): Promise<BootstrapConfig>;
  /** Shrinking demotes the youngest contacts; growing leaves room for `refill`. */
  setConfig(config: BootstrapConfig): Promise<BootstrapConfig>;
  /**
   * Registers (or re-registers, after a restart) a peer and returns the contacts it
   * should dial: those known before this join, never the joiner itself. A new peer
   * becomes a contact while there is room, else a candidate; a known one keeps its role.
   */
  join(peer: { name: string; address: string }): Promise<Contact[]>;
  /** Removes a peer; `undefined` if it is unknown. A departed contact is replaced by the oldest candidates at once. */
  leave(name: string): Promise<LeaveResult | undefined>;
  /** Contacts and candidates, each oldest first (by `since`, then join order). */
  list(): Promise<PeerList>;
  /** Promotes the oldest candidates until there are maxpeers contacts. */
  refill(): Promise<RefillResult>;
  /** Forgets every peer; the configuration stays. */
  reset(): Promise<void>;
  /** Waits for pending writes and releases the backend. */
  close(): Promise<void>;
}

export interface BootstrapStoreOptions {
  /** state file; without it the store lives in memory only */
  file?: string;
  /** overrides the value stored in the file when given */
  maxpeers?: number;
  /** clock for `since`; injectable so tests can control ages */
  now?: () => number;
}

export const DEFAULT_MAXPEERS = 8;
export const MIN_MAXPEERS = 1;
export const MAX_MAXPEERS = 1000;

// Field rules live here rather than in the router because the state file must obey
// the same rules as requests: a hand-edited file is just another untrusted input.

export const nameSchema = z
  .string({ error: (issue) => (issue.input === undefined ? 'is required' : `expected a string, got ${typeName(issue.input)}`) })
  .regex(PEER_NAME, { error: 'expected 1-64 characters of [A-Za-z0-9._-]' });

const ADDRESS_MESSAGE = 'expected "host:port" with a port 1-65535';

// Host is a bare name/IPv4 (no colon, no whitespace) or a bracketed IPv6 literal,
// so that the last colon unambiguously starts the port.
const ADDRESS_PATTERN = /^(?:[^\s:[\]]+|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$/;

export const addressSchema = z
  .string({ error: (issue) => (issue.input === undefined ? 'is required' : `${ADDRESS_MESSAGE}, got ${typeName(issue.input)}`) })
  .refine(
    (value) => {
      const port = ADDRESS_PATTERN.exec(value)?.[1];
      return port !== undefined && Number(port) >= 1 && Number(port) <= 65535;
    },
    { error: ADDRESS_MESSAGE },
  );

const MAXPEERS_MESSAGE = `expected an integer ${MIN_MAXPEERS}-${MAX_MAXPEERS}`;

export const maxpeersSchema = z
  .int({ error: (issue) => (issue.input === undefined ? 'is required' : `${MAXPEERS_MESSAGE}, got ${typeName(issue.input)}`) })
  .min(MIN_MAXPEERS, { error: MAXPEERS_MESSAGE })
  .max(MAX_MAXPEERS, { error: MAXPEERS_MESSAGE });

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number' && !Number.isInteger(value)) return String(value);
  return typeof value;
}

/** Turns a zod issue path into `peers[2].address` (or `body` for the root). */
export function formatPath(path: readonly PropertyKey[], root = 'body'): string {
  let out = '';
  for (const key of path) {
    out += typeof key === 'number' ? `[${key}]` : out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? root : out.startsWith('[') ? `${root}${out}` : out;
}

const stateFileSchema = z.object(
  {
    version: z.literal(1, { error: 'expected 1 (the only supported format)' }),
    config: z.object({ maxpeers: maxpeersSchema }, { error: 'expected an object {maxpeers}' }),
    peers: z.array(
      z.object(
        {
          name: nameSchema,
          address: addressSchema,
          since: z.number({ error: 'expected epoch ms' }).int({ error: 'expected epoch ms' }).nonnegative({ error: 'expected epoch ms' }),
          contact: z.boolean({ error: 'expected a boolean' }),
        },
        { error: 'expected an object {name, address, since, contact}' },
      ),
      { error: 'expected an array' },
    ),
  },
  { error: 'expected an object {version, config, peers}' },
);

export type StateFile = z.infer<typeof stateFileSchema>;

/** The state file exists but cannot be used; the message names the file and the problem. */
export class BootstrapFileError extends Error {
  constructor(
    readonly file: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super(`bootstrap state file ${file}: ${problem}`, options);
    this.name = 'BootstrapFileError';
  }
}

interface PeerRecord extends Contact {
  contact: boolean;
  // Breaks ties between equal `since` values (several joins in one millisecond) so
  // "oldest" stays the order in which peers actually (re)joined.
  seq: number;
}

export class BootstrapStore implements PeerStore {
  readonly file: string | undefined;
  readonly description: string;
  private maxpeers: number;
  private readonly maxpeersOverride: number | undefined;
  private readonly now: () => number;
  private readonly peers = new Map<string, PeerRecord>();
  private seq = 0;
  private loaded = false;
  private writeChain: Promise<void> = Promise.resolve();
  private queuedWrite: Promise<void> | undefined;
  private dirReady = false;
  /** Which process each name runs in, and how many processes there are (spreadContacts). */
  private placement: { groupOf: Map<string, number>; groups: number } | undefined;

  constructor(options: BootstrapStoreOptions = {}) {
    if (options.maxpeers !== undefined) assertMaxpeers(options.maxpeers);
    this.file = options.file;
    this.description = options.file === undefined ? 'in memory' : `file ${options.file}`;
    this.maxpeersOverride = options.maxpeers;
    this.maxpeers = options.maxpeers ?? DEFAULT_MAXPEERS;
    this.now = options.now ?? Date.now;
  }

  /** Reads the state file if there is one. A missing file means "start empty". */
  async load(): Promise<void> {
    const file = this.file;
    // Left by a process killed between writing and renaming; nobody will ever rename them.
    if (file !== undefined) await removeStaleTempFiles(file);
    const state = file === undefined ? undefined : await readStateFile(file);
    // Set only after a successful read, so a corrupt file is never overwritten.
    this.loaded = true;
    if (file === undefined || state === undefined) return;

    // Stable sort: peers with equal `since` keep their file order, which is the
    // order they were written in, hence their join order.
    const sorted = [...state.peers].sort((a, b) => a.since - b.since);
    const records = new Map<string, PeerRecord>();
    for (const [index, peer] of sorted.entries()) {
      if (records.has(peer.name)) {
        throw new BootstrapFileError(file, `peers[${state.peers.indexOf(peer)}].name: duplicate name "${peer.name}"`);
      }
      records.set(peer.name, { ...peer, seq: index });
    }
    // Only replace the state once the whole file proved valid.
    this.peers.clear();
    for (const [name, record] of records) this.peers.set(name, record);
    this.seq = sorted.length;
    this.maxpeers = state.config.maxpeers;
    // A hand-edited file may list more contacts than allowed; apply the same rule
    // as shrinking maxpeers rather than refusing to start.
    this.demoteExcess();

    if (this.maxpeersOverride !== undefined && this.maxpeersOverride !== this.maxpeers) {
      await this.setConfig({ maxpeers: this.maxpeersOverride });
    }
  }

  async getConfig(): Promise<BootstrapConfig> {
    return this.config();
  }

  async setConfig(config: BootstrapConfig): Promise<BootstrapConfig> {
    assertMaxpeers(config.maxpeers);
    this.maxpeers = config.maxpeers;
    this.demoteExcess();
    await this.persist();
    return this.config();
  }

  async join(peer: { name: string; address: string }): Promise<Contact[]> {
    const contacts = this.sorted(true)
      .filter((record) => record.name !== peer.name)
      .map(toContact);
    const since = this.now();
    const existing = this.peers.get(peer.name);
    if (existing) {
      // A restarted peer keeps its role so that rejoining cannot jump the queue
      // of candidates, but it is now young again.
      existing.address = peer.address;
      existing.since = since;
      existing.seq = this.seq++;
    } else {
      const contact = this.countContacts() < this.maxpeers && this.groupHasRoom(peer.name);
      this.peers.set(peer.name, { name: peer.name, address: peer.address, since, contact, seq: this.seq++ });
    }
    await this.persist();
    return contacts;
  }

  async leave(name: string): Promise<LeaveResult | undefined> {
    const record = this.peers.get(name);
    if (!record) return undefined;
    this.peers.delete(name);
    const promoted = record.contact ? this.promoteOldest() : [];
    await this.persist();
    return { removed: toContact(record), wasContact: record.contact, promoted };
  }

  async list(): Promise<PeerList> {
    return { contacts: this.sorted(true).map(toContact), candidates: this.sorted(false).map(toContact) };
  }

  async refill(): Promise<RefillResult> {
    const added = this.promoteOldest();
    if (added.length > 0) await this.persist();
    return { contacts: this.sorted(true).map(toContact), added };
  }

  async reset(): Promise<void> {
    this.peers.clear();
    await this.persist();
  }

  /** Resolves once every change made so far is on disk (or its write has failed). */
  async flush(): Promise<void> {
    await this.writeChain;
  }

  /** Nothing to release but the pending writes. */
  async close(): Promise<void> {
    await this.flush();
  }

  /** The state as stored in the file. */
  snapshot(): StateFile {
    const peers = [...this.peers.values()]
      .sort(byAge)
      .map(({ name, address, since, contact }) => ({ name, address, since, contact }));
    return { version: 1, config: this.config(), peers };
  }

  private config(): BootstrapConfig {
    return { maxpeers: this.maxpeers };
  }

  private sorted(contact: boolean): PeerRecord[] {
    return [...this.peers.values()].filter((record) => record.contact === contact).sort(byAge);
  }

  /**
   * Spreads the contacts over the processes that carry the peers: a peer
   * becomes a contact only while its process holds fewer than its share
   * (maxpeers over the processes, rounded up). Contacts are the first to
   * register, and the first processes started register first: 2,000 peers in
   * 40 processes put their 80 contacts in 18 processes, up to 10 in one, and
   * every newcomer's full-state exchange went to those, whose members were
   * then the most suspected (docs/PERFORMANCE.md, A storm at the contacts).
   * A contact that leaves is replaced by the oldest candidate whose process
   * has room, else the oldest. Names not in `groups` are placed as before.
   * Each call adds its processes to the earlier calls'. Called by the
   * coordinator as it starts peers; a stand-alone service does not know where
   * its peers run.
   */
  spreadContacts(groups: readonly (readonly string[])[]): void {
    // Each call adds its processes to those of earlier calls: a later start of more peers keeps the spread of the first.
    this.placement ??= { groupOf: new Map(), groups: 0 };
    for (const names of groups) {
      const group = this.placement.groups++;
      for (const name of names) this.placement.groupOf.set(name, group);
    }
  }

  private groupHasRoom(name: string): boolean {
    const group = this.placement?.groupOf.get(name);
    if (this.placement === undefined || group === undefined) return true;
    const share = Math.ceil(this.maxpeers / this.placement.groups);
    let inGroup = 0;
    for (const record of this.peers.values()) if (record.contact && this.placement.groupOf.get(record.name) === group) inGroup++;
    return inGroup < share;
  }

  private countContacts(): number {
    let count = 0;
    for (const record of this.peers.values()) if (record.contact) count++;
    return count;
  }

  private promoteOldest(): string[] {
    const room = this.maxpeers - this.countContacts();
    if (room <= 0) return [];
    const chosen: PeerRecord[] = [];
    // Oldest first among those whose process has room (spreadContacts), then oldest first among the rest.
    const candidates = this.sorted(false);
    for (const spread of [true, false]) {
      for (const record of candidates) {
        if (chosen.length === room) break;
        if (record.contact || (spread && !this.groupHasRoom(record.name))) continue;
        record.contact = true;
        chosen.push(record);
      }
    }
    return chosen.map((record) => record.name);
  }

  private demoteExcess(): void {
    const contacts = this.sorted(true);
    for (const record of contacts.slice(this.maxpeers)) record.contact = false;
  }

  /**
   * Queues a write of the whole state. Writes run one at a time; a write that has
   * not started yet serializes the state when it starts, so later changes join it
   * instead of queueing another write each (many concurrent joins cost few writes).
   */
  private persist(): Promise<void> {
    const file = this.file;
    if (file === undefined) return Promise.resolve();
    // Writing before load() would silently replace whatever the file holds.
    if (!this.loaded) return Promise.reject(new Error(`BootstrapStore: call load() before changing ${file}`));
    if (this.queuedWrite) return this.queuedWrite;
    const write = this.writeChain.then(async () => {
      this.queuedWrite = undefined;
      const data = `${JSON.stringify(this.snapshot(), null, 2)}\n`;
      if (!this.dirReady) {
        await mkdir(dirname(file), { recursive: true });
        this.dirReady = true;
      }
      await writeFileAtomic(file, data);
    });
    this.queuedWrite = write;
    // The chain must survive a failed write; the failure itself reaches the callers
    // of this write through `write`.
    this.writeChain = write.catch(() => undefined);
    return write;
  }
}

function byAge(a: PeerRecord, b: PeerRecord): number {
  return a.since - b.since || a.seq - b.seq;
}

function toContact({ name, address, since }: Contact): Contact {
  return { name, address, since };
}

export function assertMaxpeers(value: number): void {
  if (!maxpeersSchema.safeParse(value).success) {
    throw new RangeError(`maxpeers: ${MAXPEERS_MESSAGE}, got ${value}`);
  }
}

async function readStateFile(file: string): Promise<StateFile | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new BootstrapFileError(file, `cannot read: ${(error as Error).message}`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new BootstrapFileError(file, `invalid JSON: ${(error as Error).message}`, { cause: error });
  }
  const parsed = stateFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const problem = issue ? `${formatPath(issue.path, 'state')}: ${issue.message}` : 'invalid state';
    throw new BootstrapFileError(file, problem);
  }
  return parsed.data;
}

