import type Database from 'better-sqlite3';
import type { ConcurrencyTable, ProvisionedConcurrencyRecord } from '../types.js';
import type { SqliteFunctionChanges } from './function-changes.js';

/** Reserved and provisioned concurrency settings. */
export class SqliteConcurrencyTable implements ConcurrencyTable {
  readonly #changes: SqliteFunctionChanges;
  readonly #listReserved: Database.Statement;
  readonly #putReserved: Database.Statement;
  readonly #deleteReserved: Database.Statement;
  readonly #listProvisioned: Database.Statement;
  readonly #putProvisioned: Database.Statement;
  readonly #deleteProvisioned: Database.Statement;
  readonly #deleteProvisionedAll: Database.Statement;

  constructor(db: Database.Database, changes: SqliteFunctionChanges) {
    this.#changes = changes;
    this.#listReserved = db.prepare('SELECT function_name AS functionName, reserved FROM concurrency ORDER BY function_name');
    this.#putReserved = db.prepare('INSERT OR REPLACE INTO concurrency (function_name, reserved) VALUES (?, ?)');
    this.#deleteReserved = db.prepare('DELETE FROM concurrency WHERE function_name = ?');
    this.#listProvisioned = db.prepare('SELECT record FROM provisioned_concurrency ORDER BY function_name, qualifier');
    this.#putProvisioned = db.prepare('INSERT OR REPLACE INTO provisioned_concurrency (function_name, qualifier, record) VALUES (?, ?, ?)');
    this.#deleteProvisioned = db.prepare('DELETE FROM provisioned_concurrency WHERE function_name = ? AND qualifier = ?');
    this.#deleteProvisionedAll = db.prepare('DELETE FROM provisioned_concurrency WHERE function_name = ?');
  }

  async listReserved(): Promise<{ functionName: string; reserved: number }[]> {
    return this.#listReserved.all() as { functionName: string; reserved: number }[];
  }

  async putReserved(functionName: string, reserved: number): Promise<void> {
    this.#changes.write(functionName, () => this.#putReserved.run(functionName, reserved));
  }

  async deleteReserved(functionName: string): Promise<void> {
    this.#changes.write(functionName, () => this.#deleteReserved.run(functionName));
  }

  async listProvisioned(): Promise<ProvisionedConcurrencyRecord[]> {
    return (this.#listProvisioned.all() as { record: string }[]).map((row) => JSON.parse(row.record) as ProvisionedConcurrencyRecord);
  }

  async putProvisioned(record: ProvisionedConcurrencyRecord): Promise<void> {
    this.#changes.write(record.functionName, () => this.#putProvisioned.run(record.functionName, record.qualifier, JSON.stringify(record)));
  }

  async deleteProvisioned(functionName: string, qualifier?: string): Promise<void> {
    this.#changes.write(functionName, () =>
      qualifier === undefined ? this.#deleteProvisionedAll.run(functionName) : this.#deleteProvisioned.run(functionName, qualifier),
    );
  }
}
