import Database from 'better-sqlite3';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { KindlingError } from '../../shared/index.js';
import type { Store } from '../types.js';
import { SqliteAccessKeyTable } from './access-key-table.js';
import { FileBlobStore } from '../blobs/file-blob-store.js';
import { Commits } from './commits.js';
import { SqliteConcurrencyTable } from './concurrency-table.js';
import { SqliteFunctionChanges } from './function-changes.js';
import { SqliteDeadLetterTable } from './dead-letter-table.js';
import { SqliteEventConfigTable } from './event-config-table.js';
import { SqliteEventQueueTable } from './event-queue-table.js';
import { SqliteFunctionTable } from './function-table.js';
import { SqliteRolePolicyTable } from './role-policy-table.js';
import { SqliteGrantTable } from './grant-table.js';
import { SqliteLayerTable } from './layer-table.js';
import { SqliteLogTables } from './log-tables.js';
import { SqliteResourcePolicyTable } from './policy-table.js';
import { MIGRATIONS } from './migrations.js';
import { SqliteNodeTable } from './node-table.js';
import { SqliteFunctionUrlTable } from './url-table.js';
import { SqliteAliasTable, SqliteVersionTable } from './version-table.js';

/** The embedded default store: one SQLite file in WAL mode, written only by this process. */
export class SqliteStore implements Store {
  readonly functions: SqliteFunctionTable;
  readonly logs: SqliteLogTables;
  readonly events: SqliteEventQueueTable;
  readonly deadLetters: SqliteDeadLetterTable;
  readonly eventConfigs: SqliteEventConfigTable;
  readonly versions: SqliteVersionTable;
  readonly aliases: SqliteAliasTable;
  readonly concurrency: SqliteConcurrencyTable;
  readonly layerVersions: SqliteLayerTable;
  readonly blobs: FileBlobStore;
  readonly changes: SqliteFunctionChanges;
  readonly nodes: SqliteNodeTable;
  readonly policies: SqliteResourcePolicyTable;
  readonly grants: SqliteGrantTable;
  readonly rolePolicies: SqliteRolePolicyTable;
  readonly keys: SqliteAccessKeyTable;
  readonly functionUrls: SqliteFunctionUrlTable;
  readonly kind = 'sqlite';
  readonly #db: Database.Database;
  readonly #commits: Commits;
  #closed = false;

  /** `path` is the database file; blobs live in `blobDir` (the data directory) beside it. */
  constructor(path: string, blobDir: string = dirname(path)) {
    const existed = path !== ':memory:' && existsSync(path);
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    // SQLite takes an empty file for a new database: a truncated kindling.db would start as an
    // empty platform, silently. Only a missing file is a new platform.
    if (existed && statSync(path).size === 0) throw damaged(path, 'it exists but is empty (0 bytes)');
    this.#db = new Database(path);
    if (existed) this.#checkSchema(path);
    this.#db.pragma('journal_mode = WAL');
    // FULL: every committed transaction is fsynced, so what we answered for survives a power cut.
    this.#db.pragma('synchronous = FULL');
    this.#db.pragma('busy_timeout = 5000');
    this.#migrate();
    this.#commits = new Commits(this.#db, path);
    this.changes = new SqliteFunctionChanges(this.#db);
    this.blobs = new FileBlobStore(blobDir);
    this.functions = new SqliteFunctionTable(this.#db, this.changes);
    this.logs = new SqliteLogTables(this.#db, this.#commits);
    this.deadLetters = new SqliteDeadLetterTable(this.#db, (event) => this.events.insert(event));
    this.events = new SqliteEventQueueTable(this.#db, this.deadLetters, this.#commits);
    this.eventConfigs = new SqliteEventConfigTable(this.#db, this.changes);
    this.versions = new SqliteVersionTable(this.#db, this.changes);
    this.aliases = new SqliteAliasTable(this.#db, this.changes);
    this.concurrency = new SqliteConcurrencyTable(this.#db, this.changes);
    this.layerVersions = new SqliteLayerTable(this.#db);
    this.nodes = new SqliteNodeTable(this.#db);
    this.grants = new SqliteGrantTable(this.#db);
    this.rolePolicies = new SqliteRolePolicyTable(this.#db);
    this.keys = new SqliteAccessKeyTable(this.#db);
    this.policies = new SqliteResourcePolicyTable(this.#db, this.changes);
    this.functionUrls = new SqliteFunctionUrlTable(this.#db, this.changes);
  }

  /** An existing file must hold Kindling's schema as far as its recorded version says. */
  #checkSchema(path: string): void {
    let version: number;
    let tables: Set<string>;
    try {
      version = this.#db.pragma('user_version', { simple: true }) as number;
      tables = tableNames(this.#db);
    } catch (err) {
      this.#db.close();
      throw damaged(path, `SQLite cannot read it (${(err as Error).message})`, err);
    }
    const why =
      version === 0
        ? 'it holds no Kindling schema'
        : version > MIGRATIONS.length
          ? `its schema (version ${version}) is newer than this Kindling knows (${MIGRATIONS.length})`
          : missingTables(version, tables);
    if (why !== undefined) {
      this.#db.close();
      throw damaged(path, why);
    }
  }

  #migrate(): void {
    const applied = this.#db.pragma('user_version', { simple: true }) as number;
    for (let i = applied; i < MIGRATIONS.length; i++) {
      this.#db.transaction(() => {
        this.#db.exec(MIGRATIONS[i]!);
        this.#db.pragma(`user_version = ${i + 1}`);
      })();
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#commits.close();
    this.#db.close();
  }
}

function damaged(path: string, why: string, cause?: unknown): KindlingError {
  return new KindlingError(
    'ERR_STORE_DAMAGED',
    `The database ${path} cannot be used: ${why}. Restore it from a backup, or move it away to start an empty platform.`,
    cause === undefined ? undefined : { cause },
  );
}

function tableNames(db: Database.Database): Set<string> {
  const rows = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[];
  return new Set(rows.map((row) => row.name));
}

/** The tables the first `version` migrations make, that `tables` lacks (said as a reason), if any. */
function missingTables(version: number, tables: ReadonlySet<string>): string | undefined {
  const reference = new Database(':memory:');
  try {
    for (const migration of MIGRATIONS.slice(0, version)) reference.exec(migration);
    const missing = [...tableNames(reference)].filter((name) => !tables.has(name));
    return missing.length === 0 ? undefined : `its schema (version ${version}) lacks the tables ${missing.join(', ')}`;
  } finally {
    reference.close();
  }
}
