import type Database from 'better-sqlite3';
import type {
  LogBatch,
  LogEventQuery,
  LogEventRecord,
  LogGroupInfo,
  LogStreamInfo,
  LogStreamQuery,
  LogTables,
  StoredLogEvent,
} from '../types.js';
import type { Commits } from './commits.js';

interface StreamRow {
  name: string;
  creation_time: number;
  first_event: number | null;
  last_event: number | null;
  last_ingestion: number | null;
  stored_bytes: number;
}

interface GroupRow {
  name: string;
  creation_time: number;
  stored_bytes: number;
}

interface EventRow {
  id: number;
  stream: string;
  timestamp: number;
  ingestion_time: number;
  message: string;
}

/** Log groups, streams and events (CloudWatch Logs' model). */
export class SqliteLogTables implements LogTables {
  readonly #db: Database.Database;
  readonly #commits: Commits;
  readonly #ensureGroup: Database.Statement;
  readonly #ensureStream: Database.Statement;
  readonly #insertEvent: Database.Statement;
  readonly #touchStream: Database.Statement;
  readonly #touchGroup: Database.Statement;
  readonly #listStreams: Database.Statement;
  readonly #listGroups: Database.Statement;
  readonly #events: Database.Statement;
  readonly #group: Database.Statement;
  readonly #stream: Database.Statement;
  readonly #groups: Database.Statement;
  /** Prepared once per shape of query (order, direction, stream scope). */
  readonly #queries = new Map<string, Database.Statement>();

  constructor(db: Database.Database, commits: Commits) {
    this.#db = db;
    this.#commits = commits;
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
    this.#group = db.prepare('SELECT * FROM log_groups WHERE name = ?');
    this.#stream = db.prepare('SELECT * FROM log_streams WHERE log_group = ? AND name = ?');
    this.#groups = db.prepare(`SELECT * FROM log_groups
      WHERE substr(name, 1, length(@prefix)) = @prefix AND name > @after ORDER BY name LIMIT @limit`);
  }

  /**
   * One transaction per flush of the log sink, committed without an fsync on the event loop; the
   * WAL is fdatasynced on the thread pool (commits.ts), shared with every other commit waiting.
   */
  async append(batches: LogBatch[], ingestionTime: number): Promise<void> {
    await this.#commits.durably(this.#db.transaction(() => {
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
    }));
  }

  async listStreams(group: string): Promise<LogStreamInfo[]> {
    return (this.#listStreams.all(group) as StreamRow[]).map(toStreamInfo);
  }

  async listGroups(): Promise<LogGroupInfo[]> {
    return (this.#listGroups.all() as GroupRow[]).map(toGroupInfo);
  }

  async getEvents(group: string, stream: string, options: { startTime?: number; endTime?: number; limit?: number } = {}): Promise<StoredLogEvent[]> {
    const rows = this.#events.all(
      group,
      stream,
      options.startTime ?? 0,
      options.endTime ?? Number.MAX_SAFE_INTEGER,
      options.limit ?? 10_000,
    ) as { timestamp: number; ingestion_time: number; message: string }[];
    return rows.map((row) => ({ timestamp: row.timestamp, ingestionTime: row.ingestion_time, message: row.message }));
  }

  async getGroup(name: string): Promise<LogGroupInfo | undefined> {
    const row = this.#group.get(name) as GroupRow | undefined;
    return row && toGroupInfo(row);
  }

  async getStream(group: string, name: string): Promise<LogStreamInfo | undefined> {
    const row = this.#stream.get(group, name) as StreamRow | undefined;
    return row && toStreamInfo(row);
  }

  async queryGroups(options: { prefix?: string; after?: string; limit: number }): Promise<LogGroupInfo[]> {
    const rows = this.#groups.all({ prefix: options.prefix ?? '', after: options.after ?? '', limit: options.limit }) as GroupRow[];
    return rows.map(toGroupInfo);
  }

  async queryStreams(group: string, query: LogStreamQuery): Promise<LogStreamInfo[]> {
    const byTime = query.orderBy === 'LastEventTime';
    const key = byTime ? '(COALESCE(last_event, 0), name)' : 'name';
    const sql = `SELECT * FROM log_streams
      WHERE log_group = @group AND substr(name, 1, length(@prefix)) = @prefix
        AND (@afterName IS NULL OR ${key} ${query.descending ? '<' : '>'} ${byTime ? '(@afterTime, @afterName)' : '@afterName'})
      ORDER BY ${byTime ? 'COALESCE(last_event, 0) {dir}, name {dir}' : 'name {dir}'} LIMIT @limit`.replaceAll(
      '{dir}',
      query.descending ? 'DESC' : 'ASC',
    );
    const rows = this.#statement(sql).all({
      group,
      prefix: query.prefix ?? '',
      afterName: query.after?.name ?? null,
      ...(byTime ? { afterTime: query.after?.lastEventTime ?? 0 } : {}),
      limit: query.limit,
    }) as StreamRow[];
    return rows.map(toStreamInfo);
  }

  async queryEvents(query: LogEventQuery): Promise<LogEventRecord[]> {
    const one = query.streams?.length === 1;
    const scope = query.streams === undefined ? '' : one ? 'AND stream = @stream' : 'AND stream IN (SELECT value FROM json_each(@streams))';
    const dir = query.descending ? 'DESC' : 'ASC';
    // Both indexes lead with (log_group[, stream], timestamp, id), so these read in index order: no sort.
    const sql = `SELECT id, stream, timestamp, ingestion_time, message FROM log_events
      WHERE log_group = @group ${scope} AND timestamp >= @startTime AND timestamp <= @endTime
        AND (timestamp, id) ${query.descending ? '<' : '>'} (@fromTime, @fromId)
      ORDER BY timestamp ${dir}, id ${dir} LIMIT @limit`;
    const edge = query.descending ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
    const rows = this.#statement(sql).all({
      group: query.group,
      ...(query.streams === undefined ? {} : one ? { stream: query.streams[0] } : { streams: JSON.stringify(query.streams) }),
      startTime: query.startTime ?? Number.MIN_SAFE_INTEGER,
      endTime: query.endTime ?? Number.MAX_SAFE_INTEGER,
      fromTime: query.from?.timestamp ?? edge,
      fromId: query.from?.id ?? edge,
      limit: query.limit,
    }) as EventRow[];
    return rows.map((row) => ({
      id: row.id,
      stream: row.stream,
      timestamp: row.timestamp,
      ingestionTime: row.ingestion_time,
      message: row.message,
    }));
  }

  #statement(sql: string): Database.Statement {
    let statement = this.#queries.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#queries.set(sql, statement);
    }
    return statement;
  }
}

function toGroupInfo(row: GroupRow): LogGroupInfo {
  return { logGroupName: row.name, creationTime: row.creation_time, storedBytes: row.stored_bytes };
}

function toStreamInfo(row: StreamRow): LogStreamInfo {
  return {
    logStreamName: row.name,
    creationTime: row.creation_time,
    ...(row.first_event === null ? {} : { firstEventTimestamp: row.first_event }),
    ...(row.last_event === null ? {} : { lastEventTimestamp: row.last_event }),
    ...(row.last_ingestion === null ? {} : { lastIngestionTime: row.last_ingestion }),
    storedBytes: row.stored_bytes,
  };
}
