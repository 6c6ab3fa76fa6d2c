import type { NewEvent } from '../types.js';
import type { Sql } from './database.js';

/** An event row as a QueuedEvent (see `withoutNulls`). */
export const EVENT_COLUMNS = `id, function_name AS "functionName", qualifier, request_id AS "requestId", payload,
  enqueued_at AS "enqueuedAt", attempts, system_retries AS "systemRetries", last_response AS "lastResponse"`;

/**
 * Inserts every event in one statement (one round trip for a whole group commit); returns the ids
 * in the order of `events`. Ids are drawn row by row in that order, so sorting them restores it.
 */
export async function insertEvents(sql: Sql, events: readonly NewEvent[]): Promise<number[]> {
  if (events.length === 0) return [];
  const rows = await sql.query<{ id: number }>(
    `INSERT INTO events (function_name, qualifier, request_id, payload, enqueued_at, visible_at)
      SELECT function_name, qualifier, request_id, payload, enqueued_at, enqueued_at
      FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[], $5::bigint[])
        AS e (function_name, qualifier, request_id, payload, enqueued_at)
      RETURNING id`,
    [
      events.map((event) => event.functionName),
      events.map((event) => event.qualifier),
      events.map((event) => event.requestId),
      events.map((event) => event.payload),
      events.map((event) => event.enqueuedAt),
    ],
  );
  return rows.map((row) => row.id).sort((a, b) => a - b);
}
