import type Database from 'better-sqlite3';
import type { LogBatch, LogStreamInfo, LogTables, StoredLogEvent } from '../types.js';

/** Log groups, streams and events (CloudWatch Logs' model). */
export class SqliteLogTables implements LogTables {
  readonly #db: Database.Database;
  readonly #ensureGroup: Database.Statement;
  readonly #ensureStream: Database.Statement;
  readonly #insertEvent: Database.Statement;
  readonly #touchStream: Database.Statement;
  readonly #touchGroup: Database.Statement;
  readonly #listStreams: Database.Statement;
  readonly #listGroups: Database.Statement;
  readonly #events: Database.Statement;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#ensureGroup = db.prepare('INSERT OR IGNORE INTO log_groups (name, creation_time) VALUES (?, ?)');
    this.#ensureStream = db.prepare('INSERT OR IGNORE INTO log_streams (log_group, name, creation_time) VALUES (?, ?, ?)');
    this.#insertEvent = db.prepare('INSERT INTO log_events (log_group, stream, timestamp, ingestion_time, message) VALUES (?, ?, ?, ?, ?)');
    this.#touchStream = db.prepare(`UPDATE log_streams SET
        first_event = COALESCE(first_event, ?), last_event = MAX(COALESCE(last_event, 0), ?),
        last_ingestion = ?, stored_bytes = stored_bytes + ?
      WHERE log_group = ? AND name = ?`);
    this.#touchGroup = db.prepare('UPDATE log_groups SET stored_bytes = stored_bytes + ? WHERE name = ?');
    this.#listStreams = db.prepare('SELECT * FROM log_streams WHERE log_group = ? ORDER BY name');
    this.#listGroups = db.prepare('SELECT * FROM log_groups ORDER BY name');
    this.#events = db.prepare(`SELECT timestamp, ingestion_time, message FROM log_events
      WHERE log_group = ? AND stream = ? AND timestamp >= ? AND timestamp <= ?
      ORDER BY timestamp, id LIMIT ?`);
  }

  append(batches: LogBatch[], ingestionTime: number): void {
    this.#db.transaction(() => {
      for (const { group, stream, events } of batches) {
        if (events.length === 0) continue;
        this.#ensureGroup.run(group, events[0]!.timestamp);
        this.#ensureStream.run(group, stream, events[0]!.timestamp);
        let bytes = 0;
        let first = Infinity;
        let last = 0;
        for (const event of events) {
          this.#insertEvent.run(group, stream, event.timestamp, ingestionTime, event.message);
          bytes += Buffer.byteLength(event.message);
          first = Math.min(first, event.timestamp);
          last = Math.max(last, event.timestamp);
        }
        this.#touchStream.run(first, last, ingestionTime, bytes, group, stream);
        this.#touchGroup.run(bytes, group);
      }
    })();
  }

  listStreams(group: string): LogStreamInfo[] {
    const rows = this.#listStreams.all(group) as {
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

  listGroups(): { logGroupName: string; creationTime: number; storedBytes: number }[] {
    const rows = this.#listGroups.all() as { name: string; creation_time: number; stored_bytes: number }[];
    return rows.map((row) => ({ logGroupName: row.name, creationTime: row.creation_time, storedBytes: row.stored_bytes }));
  }

  getEvents(group: string, stream: string, options: { startTime?: number; endTime?: number; limit?: number } = {}): StoredLogEvent[] {
    const rows = this.#events.all(
      group,
      stream,
      options.startTime ?? 0,
      options.endTime ?? Number.MAX_SAFE_INTEGER,
      options.limit ?? 10_000,
    ) as { timestamp: number; ingestion_time: number; message: string }[];
    return rows.map((row) => ({ timestamp: row.timestamp, ingestionTime: row.ingestion_time, message: row.message }));
  }
}
