import type { ConcurrencyGrantTable } from '../types.js';
import { DB_NOW_MS } from './clock.js';
import type { PgDatabase } from './database.js';

/**
 * The first key of the two-key advisory locks claims take per scope (the second is the scope's
 * hash). Two-key locks live apart from the one-key migration lock.
 */
const GRANT_LOCK = 0x4b6e6467; // "Kndg"

/** Concurrency grants shared by every api node, expiring by the database's clock. */
export class PgGrantTable implements ConcurrencyGrantTable {
  readonly #db: PgDatabase;

  constructor(db: PgDatabase) {
    this.#db = db;
  }

  async claim(scope: string, holder: string, want: number, limit: number, ttlMs: number): Promise<number> {
    return this.#db.transaction(async (sql) => {
      // Claims on one scope take turns, so two nodes never both count the same free slots. A hash
      // collision between scopes only makes them wait for each other.
      await sql.run('SELECT pg_advisory_xact_lock($1, hashtext($2))', [GRANT_LOCK, scope]);
      // Expired grants (of holders that died or were cut off) are swept here, under the lock.
      await sql.run(`DELETE FROM concurrency_grants WHERE scope = $1 AND expires_at <= ${DB_NOW_MS}`, [scope]);
      const [row] = await sql.query<{ taken: number }>(
        `SELECT COALESCE(SUM(slots), 0)::bigint AS taken FROM concurrency_grants
          WHERE scope = $1 AND holder <> $2`,
        [scope, holder],
      );
      const granted = Math.max(0, Math.min(want, limit - (row?.taken ?? 0)));
      // A grant of nothing is no row: the table holds only what someone holds.
      if (granted === 0) await sql.run('DELETE FROM concurrency_grants WHERE scope = $1 AND holder = $2', [scope, holder]);
      else {
        await sql.run(
          `INSERT INTO concurrency_grants (scope, holder, slots, expires_at) VALUES ($1, $2, $3, ${DB_NOW_MS} + $4)
            ON CONFLICT (scope, holder) DO UPDATE SET slots = excluded.slots, expires_at = excluded.expires_at`,
          [scope, holder, granted, ttlMs],
        );
      }
      return granted;
    });
  }

  async renew(holder: string, ttlMs: number): Promise<void> {
    // Only unexpired grants are extended: an expired one's slots may be someone else's by now.
    await this.#db.run(`UPDATE concurrency_grants SET expires_at = ${DB_NOW_MS} + $2 WHERE holder = $1 AND expires_at > ${DB_NOW_MS}`, [
      holder,
      ttlMs,
    ]);
  }

  async release(holder: string): Promise<void> {
    await this.#db.run('DELETE FROM concurrency_grants WHERE holder = $1', [holder]);
  }

  async totals(): Promise<Map<string, number>> {
    const rows = await this.#db.query<{ scope: string; n: number }>(
      `SELECT scope, SUM(slots)::bigint AS n FROM concurrency_grants WHERE expires_at > ${DB_NOW_MS} GROUP BY scope ORDER BY scope`,
    );
    return new Map(rows.map((row) => [row.scope, row.n]));
  }
}
