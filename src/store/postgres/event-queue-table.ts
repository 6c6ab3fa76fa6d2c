import type { EventQueueTable, EventRetry, EventSettlement, NewEvent, QueuedEvent } from '../types.js';
import type { PgDatabase } from './database.js';
import { insertLetters } from './dead-letter-table.js';
import { EVENT_COLUMNS, insertEvents } from './event-rows.js';
import { withoutNulls } from './records.js';

/**
 * The durable event queue, shared by every process on the database. Visibility is one column: an
 * event is offered when `visible_at` has passed; leasing pushes it into the future, so an event
 * whose poller died shows up again. SKIP LOCKED lets concurrent pollers take disjoint events
 * without waiting for each other.
 */
export class PgEventQueueTable implements EventQueueTable {
  readonly #db: PgDatabase;

  constructor(db: PgDatabase) {
    this.#db = db;
  }

  async enqueue(events: readonly NewEvent[]): Promise<number[]> {
    // One statement is one transaction: the batch is durable (fsynced) together or not at all.
    return insertEvents(this.#db, events);
  }

  async lease(owner: string, limit: number, now: number, visibleUntil: number): Promise<QueuedEvent[]> {
    const rows = await this.#db.query(
      `UPDATE events SET visible_at = $1, lease_owner = $2
        WHERE id IN (SELECT id FROM events WHERE visible_at <= $3 ORDER BY visible_at, id LIMIT $4 FOR UPDATE SKIP LOCKED)
        RETURNING ${EVENT_COLUMNS}`,
      [visibleUntil, owner, now, limit],
    );
    return rows.map((row) => withoutNulls<QueuedEvent>(row)).sort((a, b) => a.id - b.id);
  }

  async nextVisibleAt(): Promise<number | undefined> {
    const [row] = await this.#db.query<{ at: number | null }>('SELECT MIN(visible_at) AS at FROM events');
    return row?.at ?? undefined;
  }

  async renew(owner: string, now: number, visibleUntil: number): Promise<number> {
    // A lease is live while it hides its event: one that expired may be another owner's by now.
    return this.#db.run('UPDATE events SET visible_at = $1 WHERE lease_owner = $2 AND visible_at > $3', [visibleUntil, owner, now]);
  }

  async release(owner: string, now: number): Promise<number> {
    return this.#db.run('UPDATE events SET visible_at = $1, lease_owner = NULL WHERE lease_owner = $2 AND visible_at > $1', [now, owner]);
  }

  async apply(settlements: readonly EventSettlement[], retries: readonly EventRetry[]): Promise<void> {
    if (settlements.length === 0 && retries.length === 0) return;
    await this.#db.transaction(async (sql) => {
      // Outcomes need no fsync of their own: lost in a power cut, they only make an event run again
      // (at least once), as in the SQLite store. Enqueued events are always fsynced.
      await sql.run('SET LOCAL synchronous_commit = off');
      if (settlements.length > 0) {
        await sql.run('DELETE FROM events WHERE id = ANY($1::bigint[])', [settlements.map((s) => s.event.id)]);
        await insertEvents(sql, settlements.flatMap((s) => s.enqueue ?? []));
        await insertLetters(sql, settlements.flatMap((s) => s.deadLetters ?? []));
      }
      if (retries.length > 0) {
        await sql.run(
          `UPDATE events SET visible_at = r.visible_at, attempts = r.attempts, system_retries = r.system_retries,
              last_response = r.last_response, lease_owner = NULL
            FROM unnest($1::bigint[], $2::bigint[], $3::int[], $4::int[], $5::text[])
              AS r (id, visible_at, attempts, system_retries, last_response)
            WHERE events.id = r.id`,
          [
            retries.map((r) => r.event.id),
            retries.map((r) => r.visibleAt),
            retries.map((r) => r.attempts),
            retries.map((r) => r.systemRetries),
            retries.map((r) => r.lastResponse ?? null),
          ],
        );
      }
    });
  }

  async count(functionName?: string): Promise<number> {
    const [row] =
      functionName === undefined
        ? await this.#db.query<{ n: number }>('SELECT COUNT(*) AS n FROM events')
        : await this.#db.query<{ n: number }>('SELECT COUNT(*) AS n FROM events WHERE function_name = $1', [functionName]);
    return row?.n ?? 0;
  }

  async deleteFunction(functionName: string): Promise<void> {
    await this.#db.run('DELETE FROM events WHERE function_name = $1', [functionName]);
  }
}
