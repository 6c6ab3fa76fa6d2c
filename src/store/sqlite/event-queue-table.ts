import type Database from 'better-sqlite3';
import type { EventQueueTable, EventRetry, EventSettlement, NewEvent, QueuedEvent } from '../types.js';
import type { Commits } from './commits.js';
import type { SqliteDeadLetterTable } from './dead-letter-table.js';

interface EventRow {
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

function toEvent(row: EventRow): QueuedEvent {
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
 * The durable event queue. Visibility is one column: an event is offered when `visible_at` has
 * passed; leasing pushes it into the future, so an event whose poller died shows up again.
 */
export class SqliteEventQueueTable implements EventQueueTable {
  readonly #db: Database.Database;
  readonly #deadLetters: SqliteDeadLetterTable;
  readonly #commits: Commits;
  readonly #insert: Database.Statement;
  readonly #lease: Database.Statement;
  readonly #nextVisible: Database.Statement;
  readonly #renew: Database.Statement;
  readonly #release: Database.Statement;
  readonly #delete: Database.Statement;
  readonly #retry: Database.Statement;
  readonly #count: Database.Statement;
  readonly #countFunction: Database.Statement;
  readonly #deleteFunction: Database.Statement;

  constructor(db: Database.Database, deadLetters: SqliteDeadLetterTable, commits: Commits) {
    this.#db = db;
    this.#deadLetters = deadLetters;
    this.#commits = commits;
    this.#insert = db.prepare(
      'INSERT INTO events (function_name, qualifier, request_id, payload, enqueued_at, visible_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.#lease = db.prepare(`UPDATE events SET visible_at = ?, lease_owner = ?
      WHERE id IN (SELECT id FROM events WHERE visible_at <= ? ORDER BY visible_at, id LIMIT ?)
      RETURNING id, function_name, qualifier, request_id, payload, enqueued_at, attempts, system_retries, last_response`);
    this.#nextVisible = db.prepare('SELECT MIN(visible_at) AS at FROM events');
    // A lease is live while it hides its event: one that expired may be another owner's by now.
    this.#renew = db.prepare('UPDATE events SET visible_at = ? WHERE lease_owner = ? AND visible_at > ?');
    this.#release = db.prepare('UPDATE events SET visible_at = ?, lease_owner = NULL WHERE lease_owner = ? AND visible_at > ?');
    // An outcome may come from a lease that expired meanwhile: the event may have been settled by
    // another poller and its id (a rowid, reused once the highest is deleted) given to a new event.
    // The request id makes sure an outcome only ever touches the event it belongs to.
    this.#delete = db.prepare('DELETE FROM events WHERE id = ? AND request_id = ?');
    this.#retry = db.prepare(
      'UPDATE events SET visible_at = ?, attempts = ?, system_retries = ?, last_response = ?, lease_owner = NULL WHERE id = ? AND request_id = ?',
    );
    this.#count = db.prepare('SELECT COUNT(*) AS n FROM events');
    this.#countFunction = db.prepare('SELECT COUNT(*) AS n FROM events WHERE function_name = ?');
    this.#deleteFunction = db.prepare('DELETE FROM events WHERE function_name = ?');
  }

  async enqueue(events: readonly NewEvent[]): Promise<number[]> {
    return this.#commits.durably(this.#db.transaction(() => events.map((event) => this.insert(event))), events.length);
  }

  /** One insert, inside a transaction someone else holds. */
  insert(event: NewEvent): number {
    const result = this.#insert.run(event.functionName, event.qualifier, event.requestId, event.payload, event.enqueuedAt, event.enqueuedAt);
    return Number(result.lastInsertRowid);
  }

  async lease(owner: string, limit: number, now: number, visibleUntil: number): Promise<QueuedEvent[]> {
    const rows = this.#commits.relaxed(() => this.#lease.all(visibleUntil, owner, now, limit) as EventRow[]);
    return rows.map(toEvent).sort((a, b) => a.id - b.id);
  }

  async nextVisibleAt(): Promise<number | undefined> {
    const row = this.#nextVisible.get() as { at: number | null };
    return row.at ?? undefined;
  }

  async renew(owner: string, now: number, visibleUntil: number): Promise<number> {
    return this.#commits.relaxed(() => this.#renew.run(visibleUntil, owner, now).changes);
  }

  async release(owner: string, now: number): Promise<number> {
    return this.#release.run(now, owner, now).changes;
  }

  async apply(settlements: readonly EventSettlement[], retries: readonly EventRetry[]): Promise<void> {
    this.#commits.relaxed(() => this.#db.transaction(() => {
      for (const settlement of settlements) {
        this.#delete.run(settlement.event.id, settlement.event.requestId);
        for (const event of settlement.enqueue ?? []) this.insert(event);
        for (const letter of settlement.deadLetters ?? []) this.#deadLetters.insert(letter);
      }
      for (const retry of retries) {
        this.#retry.run(retry.visibleAt, retry.attempts, retry.systemRetries, retry.lastResponse ?? null, retry.event.id, retry.event.requestId);
      }
    })());
  }

  async count(functionName?: string): Promise<number> {
    const row = (functionName === undefined ? this.#count.get() : this.#countFunction.get(functionName)) as { n: number };
    return row.n;
  }

  async deleteFunction(functionName: string): Promise<void> {
    this.#deleteFunction.run(functionName);
  }
}
