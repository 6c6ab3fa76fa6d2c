import type Database from 'better-sqlite3';
import type { FunctionRecord, FunctionTable } from '../types.js';

/** Functions, one JSON record per name. */
export class SqliteFunctionTable implements FunctionTable {
  readonly #list: Database.Statement;
  readonly #insert: Database.Statement;
  readonly #replace: Database.Statement;
  readonly #delete: Database.Statement;

  constructor(db: Database.Database) {
    this.#list = db.prepare('SELECT record FROM functions ORDER BY name');
    this.#insert = db.prepare('INSERT INTO functions (name, record) VALUES (?, ?)');
    this.#replace = db.prepare('UPDATE functions SET record = ? WHERE name = ?');
    this.#delete = db.prepare('DELETE FROM functions WHERE name = ?');
  }

  list(): FunctionRecord[] {
    return (this.#list.all() as { record: string }[]).map((row) => JSON.parse(row.record) as FunctionRecord);
  }

  insert(record: FunctionRecord): void {
    this.#insert.run(record.name, JSON.stringify(record));
  }

  replace(record: FunctionRecord): void {
    this.#replace.run(JSON.stringify(record), record.name);
  }

  delete(name: string): void {
    this.#delete.run(name);
  }
}
