import pg from 'pg';
import { KindlingError } from '../../shared/index.js';
import type { Logger } from '../../shared/index.js';

/** What a table needs: statements, alone (each its own transaction) or inside one transaction. */
export interface Sql {
  /** The rows the statement returns. Without `values`, `text` may hold several statements. */
  query<R extends object>(text: string, values?: readonly unknown[]): Promise<R[]>;
  /** How many rows the statement wrote. */
  run(text: string, values?: readonly unknown[]): Promise<number>;
}

/**
 * The pool, with every driver failure turned into a KindlingError: ERR_STORE_UNAVAILABLE while the
 * database cannot be used (the API answers 500 ServiceException), ERR_STORE_CONFLICT on a unique key.
 */
export class PgDatabase implements Sql {
  readonly #pool: pg.Pool;
  readonly #target: string;
  readonly #logger: Logger;

  /** `target` names the database in messages (`host:port/db`, no password). */
  constructor(pool: pg.Pool, target: string, logger: Logger) {
    this.#pool = pool;
    this.#target = target;
    this.#logger = logger;
  }

  async query<R extends object>(text: string, values?: readonly unknown[]): Promise<R[]> {
    return (await this.#execute<R>(this.#pool, text, values)).rows;
  }

  async run(text: string, values?: readonly unknown[]): Promise<number> {
    return (await this.#execute(this.#pool, text, values)).rowCount ?? 0;
  }

  /** Runs `work` in one transaction on one connection; any failure rolls it all back. */
  async transaction<T>(work: (sql: Sql) => Promise<T>, begin = 'BEGIN'): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (err) {
      throw this.error(err);
    }
    // A checked-out client has no 'error' listener of the pool's: a connection lost while `work`
    // awaits something else would otherwise be an uncaught 'error' event (a crash).
    const onError = (err: Error): void => this.#logger.warn('lost a PostgreSQL connection in a transaction', { error: err.message });
    client.on('error', onError);
    const sql: Sql = {
      query: async <R extends object>(text: string, values?: readonly unknown[]) => (await this.#execute<R>(client, text, values)).rows,
      run: async (text: string, values?: readonly unknown[]) => (await this.#execute(client, text, values)).rowCount ?? 0,
    };
    let failed = false;
    try {
      await sql.run(begin);
      const result = await work(sql);
      await sql.run('COMMIT');
      return result;
    } catch (err) {
      failed = true;
      throw err;
    } finally {
      client.off('error', onError);
      // A failed transaction's connection is closed, not rolled back: the server aborts the
      // transaction when it goes, and a ROLLBACK on a broken connection would only wait for a timeout.
      client.release(failed);
    }
  }

  /** The KindlingError for a driver failure; Kindling's own errors pass through. */
  error(err: unknown): unknown {
    return storeError(err, this.#target);
  }

  async #execute<R extends object>(on: pg.Pool | pg.PoolClient, text: string, values?: readonly unknown[]): Promise<pg.QueryResult<R>> {
    try {
      return values === undefined ? await on.query<R>(text) : await on.query<R>(text, values as unknown[]);
    } catch (err) {
      throw this.error(err);
    }
  }
}

/**
 * Server errors that mean "the database cannot be used now", by SQLSTATE class: connection
 * exceptions, resources, operator intervention (shutdown, statement timeout), authorization, a
 * missing database. Any other server error is a statement's own (a bug or a constraint).
 */
const UNAVAILABLE = ['08', '53', '57', '28', '3D', '25P03'];

export function storeError(err: unknown, target: string): unknown {
  if (err instanceof KindlingError) return err;
  if (err instanceof pg.DatabaseError) {
    const code = err.code ?? '';
    if (code === '23505') {
      return new KindlingError('ERR_STORE_CONFLICT', `PostgreSQL at ${target} refused a duplicate: ${err.detail ?? err.message}`, { cause: err });
    }
    if (!UNAVAILABLE.some((prefix) => code.startsWith(prefix))) return err;
  }
  // Anything not answered by the server is the connection's failure: refused, reset, timed out.
  return new KindlingError('ERR_STORE_UNAVAILABLE', `PostgreSQL at ${target} cannot be used: ${reason(err)}`, { cause: err });
}

function reason(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // Node reports a refused dual-stack connect as an AggregateError with an empty message.
  return err.message || (err as { code?: string }).code || err.name;
}
