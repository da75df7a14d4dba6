// The bootstrap state in PostgreSQL, for several stateless service instances that
// must hand out one consistent list. Nothing is cached between requests: every
// operation is one transaction, and every changing one first locks the single
// config row, so changes run one after another whichever instance serves them.
// Each transaction sets its own isolation (read committed) and durability
// (synchronous_commit on: commit means the WAL is flushed), so that neither the
// rules nor "an acknowledged change survives a crash" depend on how the server or
// database is configured. An instance that stalls inside a transaction (stopped,
// frozen host) is cut off by the server after a few seconds, which frees the lock
// for the others.

import { Pool } from 'pg';
import type { PoolClient, QueryResultRow } from 'pg';
import { PEER_NAME } from '@peerlab/events/names';
import { assertMaxpeers, DEFAULT_MAXPEERS, MAX_MAXPEERS, MIN_MAXPEERS } from './store.js';
import type { BootstrapConfig, Contact, LeaveResult, PeerList, PeerStore, RefillResult } from './store.js';
import { describeError, redactUrl } from './store-spec.js';

export interface PostgresStoreOptions {
  /** postgres://user:password@host:port/database */
  url: string;
  /** overrides the stored value when given; default 8 for a new database */
  maxpeers?: number;
  /** connections this instance keeps open at most (default 10) */
  poolSize?: number;
}

/** The database cannot be reached or used; the message names it without its password. */
export class BootstrapDatabaseError extends Error {
  constructor(
    readonly database: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super(`bootstrap database ${database}: ${problem}`, options);
    this.name = 'BootstrapDatabaseError';
  }
}

const CONFIG = 'peerlab_bootstrap_config';
const PEERS = 'peerlab_bootstrap_peers';
const JOIN_ORDER = 'peerlab_bootstrap_join_order';

// The whole schema, in one place. The checks repeat the request rules so that a row
// written by hand is refused by the database rather than handed out to peers.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS ${CONFIG} (
  id boolean PRIMARY KEY DEFAULT true CHECK (id),
  maxpeers integer NOT NULL CHECK (maxpeers BETWEEN ${MIN_MAXPEERS} AND ${MAX_MAXPEERS})
);
CREATE SEQUENCE IF NOT EXISTS ${JOIN_ORDER};
CREATE TABLE IF NOT EXISTS ${PEERS} (
  name text PRIMARY KEY CHECK (name ~ '${PEER_NAME.source}'),
  address text NOT NULL CHECK (address <> ''),
  since bigint NOT NULL CHECK (since >= 0),
  -- breaks ties between equal since values: the order in which peers (re)joined
  seq bigint NOT NULL DEFAULT nextval('${JOIN_ORDER}'),
  contact boolean NOT NULL
);
CREATE INDEX IF NOT EXISTS ${PEERS}_age ON ${PEERS} (contact, since, seq);
`;

// The database's clock, not the instance's: instances on several hosts disagree on
// the time, and "oldest" must mean one order for all of them.
const NOW_MS = `floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint`;
const AGE = 'since, seq';

// Serialises schema creation between instances starting at once: concurrent
// CREATE ... IF NOT EXISTS can still collide in the catalog.
const SCHEMA_LOCK = 0x70656572; // "peer"

// Session limits, sent at connect time. A transaction idle for IDLE_IN_TRANSACTION_MS
// belongs to a stalled instance (stopped, frozen host): the server ends its session
// and so releases the config row lock. The stalled instance's other transactions
// may already be queued for the lock and stall in turn, one after another; a
// statement of another instance that waits longer than these limits fails (500)
// rather than hanging, and the instances serve normally again once every stalled
// session has been cut.
const IDLE_IN_TRANSACTION_MS = 5_000;
const LOCK_TIMEOUT_MS = 20_000;
const STATEMENT_TIMEOUT_MS = 30_000;

interface PeerRow extends QueryResultRow {
  name: string;
  address: string;
  since: string;
  contact: boolean;
}

export class PostgresStore implements PeerStore {
  readonly description: string;
  private readonly pool: Pool;
  private readonly maxpeersOverride: number | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: PostgresStoreOptions) {
    if (options.maxpeers !== undefined) assertMaxpeers(options.maxpeers);
    this.description = redactUrl(options.url);
    this.maxpeersOverride = options.maxpeers;
    this.pool = new Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      // An unreachable host must fail the start, not hang it.
      connectionTimeoutMillis: 10_000,
      application_name: 'peerlab-bootstrap',
      idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_MS,
      lock_timeout: LOCK_TIMEOUT_MS,
      statement_timeout: STATEMENT_TIMEOUT_MS,
    });
    // An idle connection the server drops (restart, network) is replaced on next
    // use; without a listener the pool's error event would end the process.
    this.pool.on('error', (error) => {
      process.stderr.write(`peerlab-bootstrap: ${this.description}: idle connection lost: ${describeError(error)}\n`);
    });
  }

  /** Connects, creates the tables if missing, and applies a given maxpeers. */
  async load(): Promise<void> {
    try {
      await this.transaction(async (db) => {
        await db.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
        // Only when missing: CREATE INDEX IF NOT EXISTS locks the peers table even
        // when the index is there, and with a change of another instance holding the
        // config row (and waiting for that table) the INSERT below would deadlock.
        // The schema is made in one transaction, so its last object means all.
        const { rows } = await db.query<{ ready: boolean }>(`SELECT to_regclass('${PEERS}_age') IS NOT NULL AS ready`);
        if (!rows[0]?.ready) await db.query(SCHEMA);
        await db.query(`INSERT INTO ${CONFIG} (maxpeers) VALUES ($1) ON CONFLICT DO NOTHING`, [this.maxpeersOverride ?? DEFAULT_MAXPEERS]);
      });
    } catch (error) {
      throw new BootstrapDatabaseError(this.description, `cannot open: ${describeError(error)}`, { cause: error });
    }
    if (this.maxpeersOverride !== undefined) await this.setConfig({ maxpeers: this.maxpeersOverride });
  }

  async getConfig(): Promise<BootstrapConfig> {
    const { rows } = await this.pool.query<{ maxpeers: number }>(`SELECT maxpeers FROM ${CONFIG}`);
    return { maxpeers: configRow(rows).maxpeers };
  }

  async setConfig(config: BootstrapConfig): Promise<BootstrapConfig> {
    assertMaxpeers(config.maxpeers);
    return this.locked(async (db) => {
      await db.query(`UPDATE ${CONFIG} SET maxpeers = $1`, [config.maxpeers]);
      // Shrinking demotes the youngest contacts.
      await db.query(
        `UPDATE ${PEERS} SET contact = false
         WHERE name IN (SELECT name FROM ${PEERS} WHERE contact ORDER BY ${AGE} OFFSET $1)`,
        [config.maxpeers],
      );
      return { maxpeers: config.maxpeers };
    });
  }

  async join(peer: { name: string; address: string }): Promise<Contact[]> {
    return this.locked(async (db, maxpeers) => {
      const { rows } = await db.query<PeerRow>(`SELECT name, address, since FROM ${PEERS} WHERE contact AND name <> $1 ORDER BY ${AGE}`, [peer.name]);
      // A restarted peer keeps its role so that rejoining cannot jump the queue of
      // candidates, but it is now young again.
      await db.query(
        `INSERT INTO ${PEERS} (name, address, since, contact)
         VALUES ($1, $2, ${NOW_MS}, (SELECT count(*) FROM ${PEERS} WHERE contact) < $3)
         ON CONFLICT (name) DO UPDATE
           SET address = EXCLUDED.address, since = EXCLUDED.since, seq = nextval('${JOIN_ORDER}')`,
        [peer.name, peer.address, maxpeers],
      );
      return rows.map(toContact);
    });
  }

  async leave(name: string): Promise<LeaveResult | undefined> {
    return this.locked(async (db, maxpeers) => {
      const { rows } = await db.query<PeerRow>(`DELETE FROM ${PEERS} WHERE name = $1 RETURNING name, address, since, contact`, [name]);
      const removed = rows[0];
      if (!removed) return undefined;
      const promoted = removed.contact ? await promoteOldest(db, maxpeers) : [];
      return { removed: toContact(removed), wasContact: removed.contact, promoted };
    });
  }

  async list(): Promise<PeerList> {
    // One statement, hence one snapshot: contacts and candidates are of the same moment.
    const { rows } = await this.pool.query<PeerRow>(`SELECT name, address, since, contact FROM ${PEERS} ORDER BY ${AGE}`);
    return {
      contacts: rows.filter((row) => row.contact).map(toContact),
      candidates: rows.filter((row) => !row.contact).map(toContact),
    };
  }

  async refill(): Promise<RefillResult> {
    return this.locked(async (db, maxpeers) => {
      const added = await promoteOldest(db, maxpeers);
      const { rows } = await db.query<PeerRow>(`SELECT name, address, since FROM ${PEERS} WHERE contact ORDER BY ${AGE}`);
      return { contacts: rows.map(toContact), added };
    });
  }

  async reset(): Promise<void> {
    await this.locked(async (db) => {
      await db.query(`DELETE FROM ${PEERS}`);
    });
  }

  /** Closes the pool's connections. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.pool.end();
    return this.closing;
  }

  /** Runs `work` in a transaction holding the config row lock, so changes serialise across instances. */
  private locked<T>(work: (db: PoolClient, maxpeers: number) => Promise<T>): Promise<T> {
    return this.transaction(async (db) => {
      const { rows } = await db.query<{ maxpeers: number }>(`SELECT maxpeers FROM ${CONFIG} FOR UPDATE`);
      // Read committed: each later statement sees every change committed before the lock was granted.
      return work(db, configRow(rows).maxpeers);
    });
  }

  private async transaction<T>(work: (db: PoolClient) => Promise<T>): Promise<T> {
    const db = await this.pool.connect();
    let broken: Error | undefined;
    try {
      // Explicit, whatever default_transaction_isolation and synchronous_commit the
      // server or database sets: under repeatable read or serializable, a change
      // waiting for the config row lock would fail rather than see the changes
      // committed before it, and without synchronous commit a 2xx could be lost.
      await db.query('BEGIN ISOLATION LEVEL READ COMMITTED');
      await db.query('SET LOCAL synchronous_commit = on');
      const result = await work(db);
      await db.query('COMMIT');
      return result;
    } catch (error) {
      await db.query('ROLLBACK').catch((rollbackError: Error) => {
        // The connection is unusable: drop it rather than return it to the pool.
        broken = rollbackError;
      });
      throw error;
    } finally {
      db.release(broken);
    }
  }
}

/** Promotes the oldest candidates until there are maxpeers contacts; their names, oldest first. */
async function promoteOldest(db: PoolClient, maxpeers: number): Promise<string[]> {
  const { rows } = await db.query<{ name: string; since: string; seq: string }>(
    `UPDATE ${PEERS} SET contact = true
     WHERE name IN (
       SELECT name FROM ${PEERS} WHERE NOT contact ORDER BY ${AGE}
       LIMIT greatest($1 - (SELECT count(*) FROM ${PEERS} WHERE contact), 0))
     RETURNING name, since, seq`,
    [maxpeers],
  );
  // RETURNING has no order of its own.
  return rows.sort((a, b) => Number(a.since) - Number(b.since) || Number(a.seq) - Number(b.seq)).map((row) => row.name);
}

function configRow(rows: Array<{ maxpeers: number }>): { maxpeers: number } {
  const row = rows[0];
  // Only a hand-deleted row gets here; load() creates it.
  if (!row) throw new Error(`${CONFIG} has no row: restart the service to recreate it`);
  return row;
}

function toContact(row: PeerRow): Contact {
  // bigint arrives as a string; epoch ms fit a double exactly.
  return { name: row.name, address: row.address, since: Number(row.since) };
}
