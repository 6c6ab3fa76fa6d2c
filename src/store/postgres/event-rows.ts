import type { NewEvent, QueuedEvent } from '../types.js';
import type { Sql } from './database.js';

export const EVENT_COLUMNS = 'id, function_name, qualifier, request_id, payload, enqueued_at, attempts, system_retries, last_response';

export interface EventRow {
  id: number;
  function_name: string;
  qualifier: string;
  request_id: string;
  payload: Buffer;
  enqueued_at: number;
  attempts: number;
  system_retries: number;
  last_response: string | null;
}

export function toEvent(row: EventRow): QueuedEvent {
  return {
    id: row.id,
    functionName: row.function_name,
    qualifier: row.qualifier,
    requestId: row.request_id,
    payload: row.payload,
    enqueuedAt: row.enqueued_at,
    attempts: row.attempts,
    systemRetries: row.system_retries,
    ...(row.last_response === null ? {} : { lastResponse: row.last_response }),
  };
}

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
