import type { AliasRecord, AliasTable, FunctionRecord, VersionTable } from '../types.js';
import type { PgDatabase } from './database.js';
import type { PgFunctionChanges } from './function-changes.js';
import { parseRecords } from './records.js';

/** A version's or alias's resource policy goes with it (an alias made again starts with none). */
const DELETE_POLICY = 'DELETE FROM resource_policies WHERE owner = $1 AND qualifier = $2';

/** Published versions: immutable snapshots of a function, one JSON record each. */
export class PgVersionTable implements VersionTable {
  readonly #db: PgDatabase;
  readonly #changes: PgFunctionChanges;

  constructor(db: PgDatabase, changes: PgFunctionChanges) {
    this.#db = db;
    this.#changes = changes;
  }

  async list(): Promise<FunctionRecord[]> {
    return parseRecords<FunctionRecord>(await this.#db.query('SELECT record FROM function_versions ORDER BY function_name, version'));
  }

  async insert(record: FunctionRecord): Promise<void> {
    await this.#changes.write(record.name, (sql) =>
      sql.run('INSERT INTO function_versions (function_name, version, record) VALUES ($1, $2, $3)', [
        record.name,
        Number(record.version),
        JSON.stringify(record),
      ]),
    );
  }

  async delete(functionName: string, version: string): Promise<void> {
    await this.#changes.write(functionName, async (sql) => {
      await sql.run('DELETE FROM function_versions WHERE function_name = $1 AND version = $2', [functionName, Number(version)]);
      await sql.run(DELETE_POLICY, [functionName, version]);
    });
  }
}

/** Aliases, one JSON record per function and name. */
export class PgAliasTable implements AliasTable {
  readonly #db: PgDatabase;
  readonly #changes: PgFunctionChanges;

  constructor(db: PgDatabase, changes: PgFunctionChanges) {
    this.#db = db;
    this.#changes = changes;
  }

  async list(): Promise<AliasRecord[]> {
    return parseRecords<AliasRecord>(await this.#db.query('SELECT record FROM aliases ORDER BY function_name, name'));
  }

  async put(record: AliasRecord): Promise<void> {
    await this.#changes.write(record.functionName, (sql) =>
      sql.run(
        `INSERT INTO aliases (function_name, name, record) VALUES ($1, $2, $3)
          ON CONFLICT (function_name, name) DO UPDATE SET record = excluded.record`,
        [record.functionName, record.name, JSON.stringify(record)],
      ),
    );
  }

  async delete(functionName: string, name: string): Promise<void> {
    await this.#changes.write(functionName, async (sql) => {
      await sql.run('DELETE FROM aliases WHERE function_name = $1 AND name = $2', [functionName, name]);
      await sql.run(DELETE_POLICY, [functionName, name]);
      // So does its function URL (an alias made again has none).
      await sql.run('DELETE FROM function_urls WHERE function_name = $1 AND qualifier = $2', [functionName, name]);
    });
  }
}
