import type { DeadLetter, DeadLetterInput, DeadLetterTable, NewEvent } from '../types.js';
import type { PgDatabase, Sql } from './database.js';
import { insertEvents } from './event-rows.js';
import { withoutNulls } from './records.js';

/** A dead-letter row as a DeadLetter (see `withoutNulls`). */
const LETTER_COLUMNS = `id, kind, queue_name AS "queueName", source_function AS "sourceFunction", qualifier, request_id AS "requestId",
  body, request_payload AS "requestPayload", condition, reason, attempts, enqueued_at AS "enqueuedAt", failed_at AS "failedAt"`;

/** Inserts every letter in one statement, inside a transaction someone else holds. */
export async function insertLetters(sql: Sql, letters: readonly DeadLetterInput[]): Promise<void> {
  if (letters.length === 0) return;
  const column = <T>(pick: (letter: DeadLetterInput) => T): T[] => letters.map(pick);
  await sql.run(
    `INSERT INTO dead_letters (kind, queue_name, source_function, qualifier, request_id, body, request_payload,
        condition, reason, attempts, enqueued_at, failed_at)
      SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bytea[], $7::bytea[],
        $8::text[], $9::text[], $10::int[], $11::bigint[], $12::bigint[])`,
    [
      column((l) => l.kind),
      column((l) => l.queueName ?? null),
      column((l) => l.sourceFunction),
      column((l) => l.qualifier),
      column((l) => l.requestId),
      column((l) => l.body),
      column((l) => l.requestPayload),
      column((l) => l.condition),
      column((l) => l.reason),
      column((l) => l.attempts),
      column((l) => l.enqueuedAt),
      column((l) => l.failedAt),
    ],
  );
}

/** Events that failed for good: in a Kindling dead-letter queue, or recorded as dropped. */
export class PgDeadLetterTable implements DeadLetterTable {
  readonly #db: PgDatabase;

  constructor(db: PgDatabase) {
    this.#db = db;
  }

  async list(sourceFunction: string, options: { limit?: number; afterId?: number } = {}): Promise<DeadLetter[]> {
    const rows = await this.#db.query(`SELECT ${LETTER_COLUMNS} FROM dead_letters WHERE source_function = $1 AND id > $2 ORDER BY id LIMIT $3`, [
      sourceFunction,
      options.afterId ?? 0,
      options.limit ?? 1000,
    ]);
    return rows.map((row) => withoutNulls<DeadLetter>(row));
  }

  async get(id: number): Promise<DeadLetter | undefined> {
    const [row] = await this.#db.query(`SELECT ${LETTER_COLUMNS} FROM dead_letters WHERE id = $1`, [id]);
    return row && withoutNulls<DeadLetter>(row);
  }

  async redrive(letters: readonly DeadLetter[], events: readonly NewEvent[]): Promise<void> {
    await this.#db.transaction(async (sql) => {
      await sql.run('DELETE FROM dead_letters WHERE id = ANY($1::bigint[])', [letters.map((letter) => letter.id)]);
      await insertEvents(sql, events);
    });
  }

  async countDropped(sourceFunction: string): Promise<number> {
    const [row] = await this.#db.query<{ n: number }>("SELECT COUNT(*) AS n FROM dead_letters WHERE source_function = $1 AND kind = 'dropped'", [
      sourceFunction,
    ]);
    return row?.n ?? 0;
  }
}
