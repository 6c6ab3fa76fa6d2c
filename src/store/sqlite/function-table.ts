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

  async list(): Promise<FunctionRecord[]> {
    return (this.#list.all() as { record: string }[]).map((row) => JSON.parse(row.record) as FunctionRecord);
  }

  async insert(record: FunctionRecord): Promise<void> {
    this.#insert.run(record.name, JSON.stringify(record));
  }

  async replace(record: FunctionRecord): Promise<void> {
    this.#replace.run(JSON.stringify(record), record.name);
  }

  async delete(name: string): Promise<void> {
    this.#delete.run(name);
  }
}
