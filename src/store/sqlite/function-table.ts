import type Database from 'better-sqlite3';
import { KindlingError } from '../../shared/index.js';
import type { AliasRecord, EventInvokeConfigRecord, FunctionRecord, FunctionSnapshot, FunctionTable, ProvisionedConcurrencyRecord } from '../types.js';
import type { SqliteFunctionChanges } from './function-changes.js';

/** What a function owns in other tables: removed with it, in the same transaction. */
const OWNED_TABLES = ['function_versions', 'aliases', 'event_invoke_configs', 'concurrency', 'provisioned_concurrency', 'function_urls'] as const;

/** Functions, one JSON record per name. */
export class SqliteFunctionTable implements FunctionTable {
  readonly #db: Database.Database;
  readonly #changes: SqliteFunctionChanges;
  readonly #list: Database.Statement;
  readonly #get: Database.Statement;
  readonly #insert: Database.Statement;
  readonly #replace: Database.Statement;
  readonly #delete: Database.Statement[];
  readonly #versions: Database.Statement;
  readonly #aliases: Database.Statement;
  readonly #eventConfigs: Database.Statement;
  readonly #reserved: Database.Statement;
  readonly #provisioned: Database.Statement;

  constructor(db: Database.Database, changes: SqliteFunctionChanges) {
    this.#db = db;
    this.#changes = changes;
    this.#list = db.prepare('SELECT record FROM functions ORDER BY name');
    this.#get = db.prepare('SELECT record FROM functions WHERE name = ?');
    this.#insert = db.prepare('INSERT INTO functions (name, record) VALUES (?, ?)');
    this.#replace = db.prepare('UPDATE functions SET record = ? WHERE name = ?');
    this.#delete = [
      db.prepare('DELETE FROM functions WHERE name = ?'),
      ...OWNED_TABLES.map((table) => db.prepare(`DELETE FROM ${table} WHERE function_name = ?`)),
      // Its resource policies (its own, its versions' and aliases'): a new function of that name starts with none.
      db.prepare('DELETE FROM resource_policies WHERE owner = ?'),
    ];
    this.#versions = db.prepare('SELECT record FROM function_versions WHERE function_name = ? ORDER BY version');
    this.#aliases = db.prepare('SELECT record FROM aliases WHERE function_name = ? ORDER BY name');
    this.#eventConfigs = db.prepare('SELECT record FROM event_invoke_configs WHERE function_name = ? ORDER BY qualifier');
    this.#reserved = db.prepare('SELECT reserved FROM concurrency WHERE function_name = ?');
    this.#provisioned = db.prepare('SELECT record FROM provisioned_concurrency WHERE function_name = ? ORDER BY qualifier');
  }

  async list(): Promise<FunctionRecord[]> {
    return records<FunctionRecord>(this.#list.all());
  }

  async get(name: string): Promise<FunctionRecord | undefined> {
    return records<FunctionRecord>(this.#get.all(name))[0];
  }

  async insert(record: FunctionRecord): Promise<void> {
    this.#changes.write(record.name, () => {
      try {
        this.#insert.run(record.name, JSON.stringify(record));
      } catch (err) {
        if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
          throw new KindlingError('ERR_STORE_CONFLICT', `A function named ${record.name} exists already`, { cause: err });
        }
        throw err;
      }
    });
  }

  async replace(record: FunctionRecord): Promise<void> {
    this.#changes.write(record.name, () => this.#replace.run(JSON.stringify(record), record.name));
  }

  async delete(name: string): Promise<void> {
    this.#changes.write(name, () => {
      for (const statement of this.#delete) statement.run(name);
    });
  }

  async snapshot(name: string): Promise<FunctionSnapshot> {
    // One read transaction: every table as of the same commit.
    return this.#db.transaction(() => {
      const reserved = this.#reserved.get(name) as { reserved: number } | undefined;
      const fn = records<FunctionRecord>(this.#get.all(name))[0];
      return {
        name,
        revision: this.#changes.revision(name),
        ...(fn ? { function: fn } : {}),
        versions: records<FunctionRecord>(this.#versions.all(name)),
        aliases: records<AliasRecord>(this.#aliases.all(name)),
        eventConfigs: records<EventInvokeConfigRecord>(this.#eventConfigs.all(name)),
        ...(reserved ? { reserved: reserved.reserved } : {}),
        provisioned: records<ProvisionedConcurrencyRecord>(this.#provisioned.all(name)),
      };
    })();
  }
}

function records<T>(rows: unknown[]): T[] {
  return (rows as { record: string }[]).map((row) => JSON.parse(row.record) as T);
}
