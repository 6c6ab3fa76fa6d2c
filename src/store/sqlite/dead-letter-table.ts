import type Database from 'better-sqlite3';
import type { DeadLetter, DeadLetterInput, DeadLetterTable, NewEvent } from '../types.js';

interface LetterRow {
  id: number;
  kind: DeadLetter['kind'];
  queue_name: string | null;
  source_function: string;
  qualifier: string;
  request_id: string;
  body: Buffer;
  request_payload: Buffer;
  condition: string;
  reason: string;
  attempts: number;
  enqueued_at: number;
  failed_at: number;
}

function toLetter(row: LetterRow): DeadLetter {
  return {
    id: row.id,
    kind: row.kind,
    ...(row.queue_name === null ? {} : { queueName: row.queue_name }),
    sourceFunction: row.source_function,
    qualifier: row.qualifier,
    requestId: row.request_id,
    body: row.body,
    requestPayload: row.request_payload,
    condition: row.condition,
    reason: row.reason,
    attempts: row.attempts,
    enqueuedAt: row.enqueued_at,
    failedAt: row.failed_at,
  };
}

/** Events that failed for good: in a Kindling dead-letter queue, or recorded as dropped. */
export class SqliteDeadLetterTable implements DeadLetterTable {
  readonly #db: Database.Database;
  readonly #insert: Database.Statement;
  readonly #list: Database.Statement;
  readonly #get: Database.Statement;
  readonly #delete: Database.Statement;
  readonly #countDropped: Database.Statement;
  readonly #enqueue: (event: NewEvent) => number;

  constructor(db: Database.Database, enqueue: (event: NewEvent) => number) {
    this.#db = db;
    this.#enqueue = enqueue;
    this.#insert = db.prepare(`INSERT INTO dead_letters (kind, queue_name, source_function, qualifier, request_id, body,
      request_payload, condition, reason, attempts, enqueued_at, failed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.#list = db.prepare('SELECT * FROM dead_letters WHERE source_function = ? AND id > ? ORDER BY id LIMIT ?');
    this.#get = db.prepare('SELECT * FROM dead_letters WHERE id = ?');
    this.#delete = db.prepare('DELETE FROM dead_letters WHERE id = ?');
    this.#countDropped = db.prepare("SELECT COUNT(*) AS n FROM dead_letters WHERE source_function = ? AND kind = 'dropped'");
  }

  /** One insert, inside a transaction someone else holds. */
  insert(letter: DeadLetterInput): void {
    this.#insert.run(
      letter.kind,
      letter.queueName ?? null,
      letter.sourceFunction,
      letter.qualifier,
      letter.requestId,
      letter.body,
      letter.requestPayload,
      letter.condition,
      letter.reason,
      letter.attempts,
      letter.enqueuedAt,
      letter.failedAt,
    );
  }

  async list(sourceFunction: string, options: { limit?: number; afterId?: number } = {}): Promise<DeadLetter[]> {
    return (this.#list.all(sourceFunction, options.afterId ?? 0, options.limit ?? 1000) as LetterRow[]).map(toLetter);
  }

  async get(id: number): Promise<DeadLetter | undefined> {
    const row = this.#get.get(id) as LetterRow | undefined;
    return row && toLetter(row);
  }

  async redrive(letters: readonly DeadLetter[], events: readonly NewEvent[]): Promise<void> {
    this.#db.transaction(() => {
      for (const letter of letters) this.#delete.run(letter.id);
      for (const event of events) this.#enqueue(event);
    })();
  }

  async countDropped(sourceFunction: string): Promise<number> {
    return (this.#countDropped.get(sourceFunction) as { n: number }).n;
  }
}
