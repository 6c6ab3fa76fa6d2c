import type { ConcurrencyTable, ProvisionedConcurrencyRecord } from '../types.js';
import type { PgDatabase } from './database.js';
import type { PgFunctionChanges } from './function-changes.js';
import { parseRecords } from './records.js';

/** Reserved and provisioned concurrency settings. */
export class PgConcurrencyTable implements ConcurrencyTable {
  readonly #db: PgDatabase;
  readonly #changes: PgFunctionChanges;

  constructor(db: PgDatabase, changes: PgFunctionChanges) {
    this.#db = db;
    this.#changes = changes;
  }

  async listReserved(): Promise<{ functionName: string; reserved: number }[]> {
    return this.#db.query<{ functionName: string; reserved: number }>(
      'SELECT function_name AS "functionName", reserved FROM concurrency ORDER BY function_name',
    );
  }

  async putReserved(functionName: string, reserved: number): Promise<void> {
    await this.#changes.write(functionName, (sql) =>
      sql.run(
        `INSERT INTO concurrency (function_name, reserved) VALUES ($1, $2)
          ON CONFLICT (function_name) DO UPDATE SET reserved = excluded.reserved`,
        [functionName, reserved],
      ),
    );
  }

  async deleteReserved(functionName: string): Promise<void> {
    await this.#changes.write(functionName, (sql) => sql.run('DELETE FROM concurrency WHERE function_name = $1', [functionName]));
  }

  async listProvisioned(): Promise<ProvisionedConcurrencyRecord[]> {
    return parseRecords<ProvisionedConcurrencyRecord>(
      await this.#db.query('SELECT record FROM provisioned_concurrency ORDER BY function_name, qualifier'),
    );
  }

  async putProvisioned(record: ProvisionedConcurrencyRecord): Promise<void> {
    await this.#changes.write(record.functionName, (sql) =>
      sql.run(
        `INSERT INTO provisioned_concurrency (function_name, qualifier, record) VALUES ($1, $2, $3)
          ON CONFLICT (function_name, qualifier) DO UPDATE SET record = excluded.record`,
        [record.functionName, record.qualifier, JSON.stringify(record)],
      ),
    );
  }

  async deleteProvisioned(functionName: string, qualifier?: string): Promise<void> {
    await this.#changes.write(functionName, (sql) =>
      qualifier === undefined
        ? sql.run('DELETE FROM provisioned_concurrency WHERE function_name = $1', [functionName])
        : sql.run('DELETE FROM provisioned_concurrency WHERE function_name = $1 AND qualifier = $2', [functionName, qualifier]),
    );
  }
}
