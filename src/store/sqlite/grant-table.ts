import type Database from 'better-sqlite3';
import type { ConcurrencyGrantTable } from '../types.js';

/**
 * Concurrency grants in the embedded store. One process holds it, so a transaction is atomic
 * enough and Date.now() is the store's clock.
 */
export class SqliteGrantTable implements ConcurrencyGrantTable {
  readonly #claim: (scope: string, holder: string, want: number, limit: number, ttlMs: number) => number;
  readonly #renew: Database.Statement;
  readonly #release: Database.Statement;
  readonly #totals: Database.Statement;

  constructor(db: Database.Database) {
    const others = db.prepare('SELECT COALESCE(SUM(slots), 0) AS n FROM concurrency_grants WHERE scope = ? AND holder != ? AND expires_at > ?');
    const put = db.prepare(
      `INSERT INTO concurrency_grants (scope, holder, slots, expires_at) VALUES (?, ?, ?, ?)
        ON CONFLICT (scope, holder) DO UPDATE SET slots = excluded.slots, expires_at = excluded.expires_at`,
    );
    const drop = db.prepare('DELETE FROM concurrency_grants WHERE scope = ? AND holder = ?');
    const sweep = db.prepare('DELETE FROM concurrency_grants WHERE scope = ? AND expires_at <= ?');
    this.#claim = db.transaction((scope: string, holder: string, want: number, limit: number, ttlMs: number): number => {
      const now = Date.now();
      // Expired grants (of holders that died) are swept as the scope is claimed.
      sweep.run(scope, now);
      const taken = (others.get(scope, holder, now) as { n: number }).n;
      const granted = Math.max(0, Math.min(want, limit - taken));
      // A grant of nothing is no row: the table holds only what someone holds.
      if (granted === 0) drop.run(scope, holder);
      else put.run(scope, holder, granted, now + ttlMs);
      return granted;
    });
    // Only unexpired grants are extended: an expired one's slots may be someone else's by now.
    this.#renew = db.prepare('UPDATE concurrency_grants SET expires_at = ? WHERE holder = ? AND expires_at > ?');
    this.#release = db.prepare('DELETE FROM concurrency_grants WHERE holder = ?');
    this.#totals = db.prepare('SELECT scope, SUM(slots) AS n FROM concurrency_grants WHERE expires_at > ? GROUP BY scope ORDER BY scope');
  }

  async claim(scope: string, holder: string, want: number, limit: number, ttlMs: number): Promise<number> {
    return this.#claim(scope, holder, want, limit, ttlMs);
  }

  async renew(holder: string, ttlMs: number): Promise<void> {
    const now = Date.now();
    this.#renew.run(now + ttlMs, holder, now);
  }

  async release(holder: string): Promise<void> {
    this.#release.run(holder);
  }

  async totals(): Promise<Map<string, number>> {
    const rows = this.#totals.all(Date.now()) as { scope: string; n: number }[];
    return new Map(rows.map((row) => [row.scope, row.n]));
  }
}
