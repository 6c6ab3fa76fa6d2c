import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Store } from '../types.js';
import { SqliteConcurrencyTable } from './concurrency-table.js';
import { SqliteDeadLetterTable } from './dead-letter-table.js';
import { SqliteEventConfigTable } from './event-config-table.js';
import { SqliteEventQueueTable } from './event-queue-table.js';
import { SqliteFunctionTable } from './function-table.js';
import { SqliteLayerTable } from './layer-table.js';
import { SqliteLogTables } from './log-tables.js';
import { MIGRATIONS } from './migrations.js';
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
  readonly #db: Database.Database;
  #closed = false;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.#db = new Database(path);
    this.#db.pragma('journal_mode = WAL');
    // FULL: every committed transaction is fsynced, so what we answered for survives a power cut.
    this.#db.pragma('synchronous = FULL');
    this.#db.pragma('busy_timeout = 5000');
    this.#migrate();
    this.functions = new SqliteFunctionTable(this.#db);
    this.logs = new SqliteLogTables(this.#db);
    this.deadLetters = new SqliteDeadLetterTable(this.#db, (event) => this.events.insert(event));
    this.events = new SqliteEventQueueTable(this.#db, this.deadLetters);
    this.eventConfigs = new SqliteEventConfigTable(this.#db);
    this.versions = new SqliteVersionTable(this.#db);
    this.aliases = new SqliteAliasTable(this.#db);
    this.concurrency = new SqliteConcurrencyTable(this.#db);
    this.layerVersions = new SqliteLayerTable(this.#db);
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

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }
}
