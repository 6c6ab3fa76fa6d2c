import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { FunctionRecord, LogBatch, LogStreamInfo, Store, StoredLogEvent } from '../types.js';
import { MIGRATIONS } from './migrations.js';

type Statement = Database.Statement<unknown[]>;

/** The embedded default store: one SQLite file in WAL mode, written only by this process. */
export class SqliteStore implements Store {
  readonly #db: Database.Database;
  readonly #statements: Record<string, Statement>;
  #closed = false;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.#db = new Database(path);
    this.#db.pragma('journal_mode = WAL');
    // FULL: every committed transaction is fsynced, so what we answered for survives a power cut.
    this.#db.pragma('synchronous = FULL');
    this.#db.pragma('busy_timeout = 5000');
    this.#migrate();
    const db = this.#db;
    this.#statements = {
      listFunctions: db.prepare('SELECT record FROM functions ORDER BY name'),
      insertFunction: db.prepare('INSERT INTO functions (name, record) VALUES (?, ?)'),
      replaceFunction: db.prepare('UPDATE functions SET record = ? WHERE name = ?'),
      deleteFunction: db.prepare('DELETE FROM functions WHERE name = ?'),
      ensureGroup: db.prepare('INSERT OR IGNORE INTO log_groups (name, creation_time) VALUES (?, ?)'),
      ensureStream: db.prepare('INSERT OR IGNORE INTO log_streams (log_group, name, creation_time) VALUES (?, ?, ?)'),
      insertEvent: db.prepare('INSERT INTO log_events (log_group, stream, timestamp, ingestion_time, message) VALUES (?, ?, ?, ?, ?)'),
      touchStream: db.prepare(`UPDATE log_streams SET
          first_event = COALESCE(first_event, ?), last_event = MAX(COALESCE(last_event, 0), ?),
          last_ingestion = ?, stored_bytes = stored_bytes + ?
        WHERE log_group = ? AND name = ?`),
      touchGroup: db.prepare('UPDATE log_groups SET stored_bytes = stored_bytes + ? WHERE name = ?'),
      listStreams: db.prepare('SELECT * FROM log_streams WHERE log_group = ? ORDER BY name'),
      listGroups: db.prepare('SELECT * FROM log_groups ORDER BY name'),
      events: db.prepare(`SELECT timestamp, ingestion_time, message FROM log_events
        WHERE log_group = ? AND stream = ? AND timestamp >= ? AND timestamp <= ?
        ORDER BY timestamp, id LIMIT ?`),
    };
  }

  #migrate(): void {
    const applied = this.#db.pragma('user_version', { simple: true }) as number;
    for (let i = applied; i < MIGRATIONS.length; i++) {
      this.#db.transaction(() => {
        this.#db.exec(MIGRATIONS[i]!);
        this.#db.pragma(`user_version = ${i + 1}`);
      })();
    }
  }

  #stmt(name: string): Statement {
    return this.#statements[name]!;
  }

  listFunctions(): FunctionRecord[] {
    return (this.#stmt('listFunctions').all() as { record: string }[]).map((row) => JSON.parse(row.record) as FunctionRecord);
  }

  insertFunction(record: FunctionRecord): void {
    this.#stmt('insertFunction').run(record.name, JSON.stringify(record));
  }

  replaceFunction(record: FunctionRecord): void {
    this.#stmt('replaceFunction').run(JSON.stringify(record), record.name);
  }

  deleteFunction(name: string): void {
    this.#stmt('deleteFunction').run(name);
  }

  appendLogs(batches: LogBatch[], ingestionTime: number): void {
    this.#db.transaction(() => {
      for (const { group, stream, events } of batches) {
        if (events.length === 0) continue;
        this.#stmt('ensureGroup').run(group, events[0]!.timestamp);
        this.#stmt('ensureStream').run(group, stream, events[0]!.timestamp);
        let bytes = 0;
        let first = Infinity;
        let last = 0;
        for (const event of events) {
          this.#stmt('insertEvent').run(group, stream, event.timestamp, ingestionTime, event.message);
          bytes += Buffer.byteLength(event.message);
          first = Math.min(first, event.timestamp);
          last = Math.max(last, event.timestamp);
        }
        this.#stmt('touchStream').run(first, last, ingestionTime, bytes, group, stream);
        this.#stmt('touchGroup').run(bytes, group);
      }
    })();
  }

  listLogStreams(group: string): LogStreamInfo[] {
    const rows = this.#stmt('listStreams').all(group) as {
      name: string;
      creation_time: number;
      first_event: number | null;
      last_event: number | null;
      last_ingestion: number | null;
      stored_bytes: number;
    }[];
    return rows.map((row) => ({
      logStreamName: row.name,
      creationTime: row.creation_time,
      ...(row.first_event === null ? {} : { firstEventTimestamp: row.first_event }),
      ...(row.last_event === null ? {} : { lastEventTimestamp: row.last_event }),
      ...(row.last_ingestion === null ? {} : { lastIngestionTime: row.last_ingestion }),
      storedBytes: row.stored_bytes,
    }));
  }

  listLogGroups(): { logGroupName: string; creationTime: number; storedBytes: number }[] {
    const rows = this.#stmt('listGroups').all() as { name: string; creation_time: number; stored_bytes: number }[];
    return rows.map((row) => ({ logGroupName: row.name, creationTime: row.creation_time, storedBytes: row.stored_bytes }));
  }

  getLogEvents(
    group: string,
    stream: string,
    options: { startTime?: number; endTime?: number; limit?: number } = {},
  ): StoredLogEvent[] {
    const rows = this.#stmt('events').all(
      group,
      stream,
      options.startTime ?? 0,
      options.endTime ?? Number.MAX_SAFE_INTEGER,
      options.limit ?? 10_000,
    ) as { timestamp: number; ingestion_time: number; message: string }[];
    return rows.map((row) => ({ timestamp: row.timestamp, ingestionTime: row.ingestion_time, message: row.message }));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }
}
