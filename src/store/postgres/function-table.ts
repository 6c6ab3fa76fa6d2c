import { KindlingError } from '../../shared/index.js';
import type { AliasRecord, EventInvokeConfigRecord, FunctionRecord, FunctionSnapshot, FunctionTable, ProvisionedConcurrencyRecord } from '../types.js';
import type { PgDatabase } from './database.js';
import type { PgFunctionChanges } from './function-changes.js';
import { parseRecords } from './records.js';

/** What a function owns in other tables: removed with it, in the same transaction. */
const OWNED_TABLES = ['function_versions', 'aliases', 'event_invoke_configs', 'concurrency', 'provisioned_concurrency', 'function_urls'] as const;

/** One statement sees one snapshot of every table: no transaction needed to read them together. */
const SNAPSHOT = `SELECT
    (SELECT revision FROM function_revisions WHERE name = $1) AS revision,
    (SELECT record FROM functions WHERE name = $1) AS function,
    ARRAY(SELECT record FROM function_versions WHERE function_name = $1 ORDER BY version) AS versions,
    ARRAY(SELECT record FROM aliases WHERE function_name = $1 ORDER BY name) AS aliases,
    ARRAY(SELECT record FROM event_invoke_configs WHERE function_name = $1 ORDER BY qualifier) AS event_configs,
    (SELECT reserved FROM concurrency WHERE function_name = $1) AS reserved,
    ARRAY(SELECT record FROM provisioned_concurrency WHERE function_name = $1 ORDER BY qualifier) AS provisioned`;

interface SnapshotRow {
  revision: number | null;
  function: string | null;
  versions: string[];
  aliases: string[];
  event_configs: string[];
  reserved: number | null;
  provisioned: string[];
}

/** Functions, one JSON record per name. */
export class PgFunctionTable implements FunctionTable {
  readonly #db: PgDatabase;
  readonly #changes: PgFunctionChanges;

  constructor(db: PgDatabase, changes: PgFunctionChanges) {
    this.#db = db;
    this.#changes = changes;
  }

  async list(): Promise<FunctionRecord[]> {
    return parseRecords<FunctionRecord>(await this.#db.query('SELECT record FROM functions ORDER BY name'));
  }

  async get(name: string): Promise<FunctionRecord | undefined> {
    return parseRecords<FunctionRecord>(await this.#db.query('SELECT record FROM functions WHERE name = $1', [name]))[0];
  }

  async insert(record: FunctionRecord): Promise<void> {
    try {
      await this.#changes.write(record.name, (sql) =>
        sql.run('INSERT INTO functions (name, record) VALUES ($1, $2)', [record.name, JSON.stringify(record)]),
      );
    } catch (err) {
      if (err instanceof KindlingError && err.code === 'ERR_STORE_CONFLICT') {
        throw new KindlingError('ERR_STORE_CONFLICT', `A function named ${record.name} exists already`, { cause: err });
      }
      throw err;
    }
  }

  async replace(record: FunctionRecord): Promise<void> {
    await this.#changes.write(record.name, (sql) =>
      sql.run('UPDATE functions SET record = $1 WHERE name = $2', [JSON.stringify(record), record.name]),
    );
  }

  async delete(name: string): Promise<void> {
    await this.#changes.write(name, async (sql) => {
      await sql.run('DELETE FROM functions WHERE name = $1', [name]);
      for (const table of OWNED_TABLES) await sql.run(`DELETE FROM ${table} WHERE function_name = $1`, [name]);
      // Its resource policies (its own, its versions' and aliases'): a new function of that name starts with none.
      await sql.run('DELETE FROM resource_policies WHERE owner = $1', [name]);
    });
  }

  async snapshot(name: string): Promise<FunctionSnapshot> {
    // A SELECT without FROM returns exactly one row.
    const row = (await this.#db.query<SnapshotRow>(SNAPSHOT, [name]))[0]!;
    return {
      name,
      revision: row.revision ?? 0,
      ...(row.function === null ? {} : { function: JSON.parse(row.function) as FunctionRecord }),
      versions: row.versions.map((record) => JSON.parse(record) as FunctionRecord),
      aliases: row.aliases.map((record) => JSON.parse(record) as AliasRecord),
      eventConfigs: row.event_configs.map((record) => JSON.parse(record) as EventInvokeConfigRecord),
      ...(row.reserved === null ? {} : { reserved: row.reserved }),
      provisioned: row.provisioned.map((record) => JSON.parse(record) as ProvisionedConcurrencyRecord),
    };
  }
}
