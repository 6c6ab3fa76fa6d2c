import type { EventInvokeConfigRecord, EventInvokeConfigTable } from '../types.js';
import type { PgDatabase } from './database.js';
import type { PgFunctionChanges } from './function-changes.js';
import { parseRecords } from './records.js';

/** Event invoke configs (retries, event age, destinations), one per function and qualifier. */
export class PgEventConfigTable implements EventInvokeConfigTable {
  readonly #db: PgDatabase;
  readonly #changes: PgFunctionChanges;

  constructor(db: PgDatabase, changes: PgFunctionChanges) {
    this.#db = db;
    this.#changes = changes;
  }

  async list(): Promise<EventInvokeConfigRecord[]> {
    return parseRecords<EventInvokeConfigRecord>(await this.#db.query('SELECT record FROM event_invoke_configs ORDER BY function_name, qualifier'));
  }

  async put(record: EventInvokeConfigRecord): Promise<void> {
    await this.#changes.write(record.functionName, (sql) =>
      sql.run(
        `INSERT INTO event_invoke_configs (function_name, qualifier, record) VALUES ($1, $2, $3)
          ON CONFLICT (function_name, qualifier) DO UPDATE SET record = excluded.record`,
        [record.functionName, record.qualifier, JSON.stringify(record)],
      ),
    );
  }

  async delete(functionName: string, qualifier?: string): Promise<void> {
    await this.#changes.write(functionName, (sql) =>
      qualifier === undefined
        ? sql.run('DELETE FROM event_invoke_configs WHERE function_name = $1', [functionName])
        : sql.run('DELETE FROM event_invoke_configs WHERE function_name = $1 AND qualifier = $2', [functionName, qualifier]),
    );
  }
}
