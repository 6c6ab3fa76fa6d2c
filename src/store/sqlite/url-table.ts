import type Database from 'better-sqlite3';
import type { FunctionUrlInsert, FunctionUrlRecord, FunctionUrlTable } from '../url-types.js';
import type { SqliteFunctionChanges } from './function-changes.js';

/** Function URLs in the embedded store: one JSON record per function and qualifier. */
export class SqliteFunctionUrlTable implements FunctionUrlTable {
  readonly #changes: SqliteFunctionChanges;
  readonly #get: Database.Statement;
  readonly #byUrlId: Database.Statement;
  readonly #list: Database.Statement;
  readonly #insert: Database.Statement;
  readonly #replace: Database.Statement;
  readonly #delete: Database.Statement;
  readonly #function: Database.Statement;
  readonly #alias: Database.Statement;

  constructor(db: Database.Database, changes: SqliteFunctionChanges) {
    this.#changes = changes;
    this.#get = db.prepare('SELECT record FROM function_urls WHERE function_name = ? AND qualifier = ?');
    this.#byUrlId = db.prepare('SELECT record FROM function_urls WHERE url_id = ?');
    this.#list = db.prepare('SELECT record FROM function_urls WHERE function_name = ? ORDER BY qualifier');
    this.#insert = db.prepare('INSERT INTO function_urls (function_name, qualifier, url_id, record) VALUES (?, ?, ?, ?) ON CONFLICT (function_name, qualifier) DO NOTHING');
    this.#replace = db.prepare('UPDATE function_urls SET record = ? WHERE function_name = ? AND qualifier = ?');
    this.#delete = db.prepare('DELETE FROM function_urls WHERE function_name = ? AND qualifier = ?');
    this.#function = db.prepare('SELECT 1 FROM functions WHERE name = ?');
    this.#alias = db.prepare('SELECT 1 FROM aliases WHERE function_name = ? AND name = ?');
  }

  async get(functionName: string, qualifier: string): Promise<FunctionUrlRecord | undefined> {
    return record(this.#get.get(functionName, qualifier));
  }

  async byUrlId(urlId: string): Promise<FunctionUrlRecord | undefined> {
    return record(this.#byUrlId.get(urlId));
  }

  async list(functionName: string): Promise<FunctionUrlRecord[]> {
    return this.#list.all(functionName).map((row) => record(row)!);
  }

  async insert(url: FunctionUrlRecord): Promise<FunctionUrlInsert> {
    return this.#changes.write(url.functionName, () => {
      // A URL outliving its function or alias would be inherited by the next one of that name.
      if (this.#function.get(url.functionName) === undefined) return 'no-target';
      if (url.qualifier !== '$LATEST' && this.#alias.get(url.functionName, url.qualifier) === undefined) return 'no-target';
      return this.#insert.run(url.functionName, url.qualifier, url.urlId, JSON.stringify(url)).changes > 0 ? 'created' : 'exists';
    });
  }

  async replace(url: FunctionUrlRecord): Promise<boolean> {
    return this.#changes.write(url.functionName, () => this.#replace.run(JSON.stringify(url), url.functionName, url.qualifier).changes > 0);
  }

  async delete(functionName: string, qualifier: string): Promise<boolean> {
    return this.#changes.write(functionName, () => this.#delete.run(functionName, qualifier).changes > 0);
  }
}

function record(row: unknown): FunctionUrlRecord | undefined {
  return row === undefined ? undefined : (JSON.parse((row as { record: string }).record) as FunctionUrlRecord);
}
