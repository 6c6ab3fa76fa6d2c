import type Database from 'better-sqlite3';
import type { AliasRecord, AliasTable, FunctionRecord, VersionTable } from '../types.js';
import type { SqliteFunctionChanges } from './function-changes.js';

/** Published versions: immutable snapshots of a function, one JSON record each. */
export class SqliteVersionTable implements VersionTable {
  readonly #changes: SqliteFunctionChanges;
  readonly #list: Database.Statement;
  readonly #insert: Database.Statement;
  readonly #delete: Database.Statement;
  /** A version's or alias's resource policy goes with it (an alias made again starts with none). */
  readonly #deletePolicy: Database.Statement;

  constructor(db: Database.Database, changes: SqliteFunctionChanges) {
    this.#deletePolicy = db.prepare('DELETE FROM resource_policies WHERE owner = ? AND qualifier = ?');
    this.#changes = changes;
    this.#list = db.prepare('SELECT record FROM function_versions ORDER BY function_name, version');
    this.#insert = db.prepare('INSERT INTO function_versions (function_name, version, record) VALUES (?, ?, ?)');
    this.#delete = db.prepare('DELETE FROM function_versions WHERE function_name = ? AND version = ?');
  }

  async list(): Promise<FunctionRecord[]> {
    return (this.#list.all() as { record: string }[]).map((row) => JSON.parse(row.record) as FunctionRecord);
  }

  async insert(record: FunctionRecord): Promise<void> {
    this.#changes.write(record.name, () => this.#insert.run(record.name, Number(record.version), JSON.stringify(record)));
  }

  async delete(functionName: string, version: string): Promise<void> {
    this.#changes.write(functionName, () => {
      this.#delete.run(functionName, Number(version));
      this.#deletePolicy.run(functionName, version);
    });
  }
}

/** Aliases, one JSON record per function and name. */
export class SqliteAliasTable implements AliasTable {
  readonly #changes: SqliteFunctionChanges;
  readonly #list: Database.Statement;
  readonly #put: Database.Statement;
  readonly #delete: Database.Statement;
  /** A version's or alias's resource policy goes with it (an alias made again starts with none). */
  readonly #deletePolicy: Database.Statement;
  /** So does an alias's function URL (an alias made again has none). */
  readonly #deleteUrl: Database.Statement;

  constructor(db: Database.Database, changes: SqliteFunctionChanges) {
    this.#deletePolicy = db.prepare('DELETE FROM resource_policies WHERE owner = ? AND qualifier = ?');
    this.#changes = changes;
    this.#list = db.prepare('SELECT record FROM aliases ORDER BY function_name, name');
    this.#put = db.prepare('INSERT OR REPLACE INTO aliases (function_name, name, record) VALUES (?, ?, ?)');
    this.#delete = db.prepare('DELETE FROM aliases WHERE function_name = ? AND name = ?');
    this.#deleteUrl = db.prepare('DELETE FROM function_urls WHERE function_name = ? AND qualifier = ?');
  }

  async list(): Promise<AliasRecord[]> {
    return (this.#list.all() as { record: string }[]).map((row) => JSON.parse(row.record) as AliasRecord);
  }

  async put(record: AliasRecord): Promise<void> {
    this.#changes.write(record.functionName, () => this.#put.run(record.functionName, record.name, JSON.stringify(record)));
  }

  async delete(functionName: string, name: string): Promise<void> {
    this.#changes.write(functionName, () => {
      this.#delete.run(functionName, name);
      this.#deletePolicy.run(functionName, name);
      this.#deleteUrl.run(functionName, name);
    });
  }
}
