import type { FunctionUrlInsert, FunctionUrlRecord, FunctionUrlTable } from '../url-types.js';
import type { PgDatabase } from './database.js';
import type { PgFunctionChanges } from './function-changes.js';
import { parseRecords } from './records.js';

/** Function URLs in the shared store: one JSON record per function and qualifier. */
export class PgFunctionUrlTable implements FunctionUrlTable {
  readonly #db: PgDatabase;
  readonly #changes: PgFunctionChanges;

  constructor(db: PgDatabase, changes: PgFunctionChanges) {
    this.#db = db;
    this.#changes = changes;
  }

  async get(functionName: string, qualifier: string): Promise<FunctionUrlRecord | undefined> {
    return parseRecords<FunctionUrlRecord>(await this.#db.query('SELECT record FROM function_urls WHERE function_name = $1 AND qualifier = $2', [functionName, qualifier]))[0];
  }

  async byUrlId(urlId: string): Promise<FunctionUrlRecord | undefined> {
    return parseRecords<FunctionUrlRecord>(await this.#db.query('SELECT record FROM function_urls WHERE url_id = $1', [urlId]))[0];
  }

  async list(functionName: string): Promise<FunctionUrlRecord[]> {
    return parseRecords<FunctionUrlRecord>(await this.#db.query('SELECT record FROM function_urls WHERE function_name = $1 ORDER BY qualifier COLLATE "C"', [functionName]));
  }

  async insert(url: FunctionUrlRecord): Promise<FunctionUrlInsert> {
    return this.#changes.write(url.functionName, async (sql) => {
      // A URL outliving its function or alias would be inherited by the next one of that name. FOR
      // SHARE holds the row against a deletion on another server until this write commits (the
      // deletion then removes this URL too), or finds it gone.
      if ((await sql.query('SELECT 1 FROM functions WHERE name = $1 FOR SHARE', [url.functionName])).length === 0) return 'no-target';
      if (url.qualifier !== '$LATEST' && (await sql.query('SELECT 1 FROM aliases WHERE function_name = $1 AND name = $2 FOR SHARE', [url.functionName, url.qualifier])).length === 0) {
        return 'no-target';
      }
      const inserted = await sql.run(
        'INSERT INTO function_urls (function_name, qualifier, url_id, record) VALUES ($1, $2, $3, $4) ON CONFLICT (function_name, qualifier) DO NOTHING',
        [url.functionName, url.qualifier, url.urlId, JSON.stringify(url)],
      );
      return inserted > 0 ? 'created' : 'exists';
    });
  }

  async replace(url: FunctionUrlRecord): Promise<boolean> {
    return this.#changes.write(url.functionName, async (sql) =>
      (await sql.run('UPDATE function_urls SET record = $1 WHERE function_name = $2 AND qualifier = $3', [JSON.stringify(url), url.functionName, url.qualifier])) > 0,
    );
  }

  async delete(functionName: string, qualifier: string): Promise<boolean> {
    return this.#changes.write(functionName, async (sql) => (await sql.run('DELETE FROM function_urls WHERE function_name = $1 AND qualifier = $2', [functionName, qualifier])) > 0);
  }
}
