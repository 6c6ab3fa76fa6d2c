import pg from 'pg';
import type { Logger } from '../../shared/index.js';
import type { Store } from '../types.js';
import { PgAccessKeyTable } from './access-key-table.js';
import { PgBlobStore } from './blob-store.js';
import { PgConcurrencyTable } from './concurrency-table.js';
import { clientConfig, describeTarget, poolConfig } from './connection.js';
import { PgDatabase } from './database.js';
import { PgDeadLetterTable } from './dead-letter-table.js';
import { PgEventConfigTable } from './event-config-table.js';
import { PgEventQueueTable } from './event-queue-table.js';
import { PgFunctionChanges } from './function-changes.js';
import { PgFunctionTable } from './function-table.js';
import { PgGrantTable } from './grant-table.js';
import { PgLayerTable } from './layer-table.js';
import { PgLogTables } from './log-tables.js';
import { PgResourcePolicyTable } from './policy-table.js';
import { migrate } from './migrations.js';
import { PgNodeTable } from './node-table.js';
import { PgRolePolicyTable } from './role-policy-table.js';
import { PgFunctionUrlTable } from './url-table.js';
import { PgAliasTable, PgVersionTable } from './version-table.js';

/** Large enough that a 250 MB artifact is a few hundred rows, small enough to hold one in memory. */
const DEFAULT_BLOB_CHUNK_BYTES = 1024 * 1024;

export interface PostgresStoreOptions {
  logger: Logger;
  /** The size of a blob's rows (1 MiB by default). */
  blobChunkBytes?: number;
}

/** The shared store: one PostgreSQL database, used by any number of Kindling processes at once. */
export class PostgresStore implements Store {
  readonly functions: PgFunctionTable;
  readonly logs: PgLogTables;
  readonly events: PgEventQueueTable;
  readonly deadLetters: PgDeadLetterTable;
  readonly eventConfigs: PgEventConfigTable;
  readonly versions: PgVersionTable;
  readonly aliases: PgAliasTable;
  readonly concurrency: PgConcurrencyTable;
  readonly layerVersions: PgLayerTable;
  readonly blobs: PgBlobStore;
  readonly changes: PgFunctionChanges;
  readonly nodes: PgNodeTable;
  readonly policies: PgResourcePolicyTable;
  readonly grants: PgGrantTable;
  readonly rolePolicies: PgRolePolicyTable;
  readonly keys: PgAccessKeyTable;
  readonly functionUrls: PgFunctionUrlTable;
  readonly kind = 'postgres';
  readonly #pool: pg.Pool;
  #closed = false;

  /** Use `openPostgresStore`: it migrates and starts listening first. */
  constructor(pool: pg.Pool, db: PgDatabase, changes: PgFunctionChanges, blobChunkBytes: number) {
    this.#pool = pool;
    this.changes = changes;
    this.functions = new PgFunctionTable(db, changes);
    this.logs = new PgLogTables(db);
    this.events = new PgEventQueueTable(db);
    this.deadLetters = new PgDeadLetterTable(db);
    this.eventConfigs = new PgEventConfigTable(db, changes);
    this.versions = new PgVersionTable(db, changes);
    this.aliases = new PgAliasTable(db, changes);
    this.concurrency = new PgConcurrencyTable(db, changes);
    this.layerVersions = new PgLayerTable(db);
    this.blobs = new PgBlobStore(db, blobChunkBytes);
    this.nodes = new PgNodeTable(db);
    this.grants = new PgGrantTable(db);
    this.rolePolicies = new PgRolePolicyTable(db);
    this.keys = new PgAccessKeyTable(db);
    this.policies = new PgResourcePolicyTable(db, changes);
    this.functionUrls = new PgFunctionUrlTable(db, changes);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.changes.close();
    await this.#pool.end();
  }
}

/**
 * Connects to `url` (`postgres://user:password@host:port/database`), brings the schema up to date
 * and starts following the change feed. Rejects with ERR_STORE_UNAVAILABLE within seconds when the
 * database cannot be reached or refuses the login, ERR_STORE_DAMAGED when its schema is not ours.
 */
export async function openPostgresStore(url: string, options: PostgresStoreOptions): Promise<PostgresStore> {
  const { logger } = options;
  const target = describeTarget(url);
  const pool = new pg.Pool(poolConfig(url));
  // An idle connection dropped by the server (a restart) must not crash the process: the pool
  // discards it and opens a new one on the next query.
  pool.on('error', (err) => logger.warn('lost an idle PostgreSQL connection', { store: target, error: err.message }));
  const db = new PgDatabase(pool, target, logger);
  const changes = new PgFunctionChanges(db, clientConfig(url), logger);
  try {
    await migrate(db, target);
    await changes.start();
  } catch (err) {
    await changes.close();
    await pool.end().catch(() => {});
    throw err;
  }
  logger.info('using the PostgreSQL store', { store: target });
  return new PostgresStore(pool, db, changes, options.blobChunkBytes ?? DEFAULT_BLOB_CHUNK_BYTES);
}
