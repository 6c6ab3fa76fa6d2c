import type Database from 'better-sqlite3';
import type { EventInvokeConfigRecord, EventInvokeConfigTable } from '../types.js';
import type { SqliteFunctionChanges } from './function-changes.js';

/** Event invoke configs (retries, event age, destinations), one per function and qualifier. */
export class SqliteEventConfigTable implements EventInvokeConfigTable {
  readonly #changes: SqliteFunctionChanges;
  readonly #list: Database.Statement;
  readonly #put: Database.Statement;
  readonly #delete: Database.Statement;
  readonly #deleteAll: Database.Statement;

  constructor(db: Database.Database, changes: SqliteFunctionChanges) {
    this.#changes = changes;
    this.#list = db.prepare('SELECT record FROM event_invoke_configs ORDER BY function_name, qualifier');
    this.#put = db.prepare('INSERT OR REPLACE INTO event_invoke_configs (function_name, qualifier, record) VALUES (?, ?, ?)');
    this.#delete = db.prepare('DELETE FROM event_invoke_configs WHERE function_name = ? AND qualifier = ?');
    this.#deleteAll = db.prepare('DELETE FROM event_invoke_configs WHERE function_name = ?');
  }

  async list(): Promise<EventInvokeConfigRecord[]> {
    return (this.#list.all() as { record: string }[]).map((row) => JSON.parse(row.record) as EventInvokeConfigRecord);
  }

  async put(record: EventInvokeConfigRecord): Promise<void> {
    this.#changes.write(record.functionName, () => this.#put.run(record.functionName, record.qualifier, JSON.stringify(record)));
  }

  async delete(functionName: string, qualifier?: string): Promise<void> {
    this.#changes.write(functionName, () => (qualifier === undefined ? this.#deleteAll.run(functionName) : this.#delete.run(functionName, qualifier)));
  }
}
