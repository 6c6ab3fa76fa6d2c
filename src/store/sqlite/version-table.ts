import type Database from 'better-sqlite3';
import type { AliasRecord, AliasTable, FunctionRecord, VersionTable } from '../types.js';

/** Published versions: immutable snapshots of a function, one JSON record each. */
export class SqliteVersionTable implements VersionTable {
  readonly #list: Database.Statement;
  readonly #insert: Database.Statement;
  readonly #delete: Database.Statement;
  readonly #deleteFunction: Database.Statement;

  constructor(db: Database.Database) {
    this.#list = db.prepare('SELECT record FROM function_versions ORDER BY function_name, version');
    this.#insert = db.prepare('INSERT INTO function_versions (function_name, version, record) VALUES (?, ?, ?)');
    this.#delete = db.prepare('DELETE FROM function_versions WHERE function_name = ? AND version = ?');
    this.#deleteFunction = db.prepare('DELETE FROM function_versions WHERE function_name = ?');
  }

  list(): FunctionRecord[] {
    return (this.#list.all() as { record: string }[]).map((row) => JSON.parse(row.record) as FunctionRecord);
  }

  insert(record: FunctionRecord): void {
    this.#insert.run(record.name, Number(record.version), JSON.stringify(record));
  }

  delete(functionName: string, version: string): void {
    this.#delete.run(functionName, Number(version));
  }

  deleteFunction(functionName: string): void {
    this.#deleteFunction.run(functionName);
  }
}

/** Aliases, one JSON record per function and name. */
export class SqliteAliasTable implements AliasTable {
  readonly #list: Database.Statement;
  readonly #put: Database.Statement;
  readonly #delete: Database.Statement;
  readonly #deleteFunction: Database.Statement;

  constructor(db: Database.Database) {
    this.#list = db.prepare('SELECT record FROM aliases ORDER BY function_name, name');
    this.#put = db.prepare('INSERT OR REPLACE INTO aliases (function_name, name, record) VALUES (?, ?, ?)');
    this.#delete = db.prepare('DELETE FROM aliases WHERE function_name = ? AND name = ?');
    this.#deleteFunction = db.prepare('DELETE FROM aliases WHERE function_name = ?');
  }

  list(): AliasRecord[] {
    return (this.#list.all() as { record: string }[]).map((row) => JSON.parse(row.record) as AliasRecord);
  }

  put(record: AliasRecord): void {
    this.#put.run(record.functionName, record.name, JSON.stringify(record));
  }

  delete(functionName: string, name: string): void {
    this.#delete.run(functionName, name);
  }

  deleteFunction(functionName: string): void {
    this.#deleteFunction.run(functionName);
  }
}
