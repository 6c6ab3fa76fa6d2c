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
import type { PgDatabase, Sql } from './database.js';

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
export class PgLogTables implements LogTables {
  readonly #db: PgDatabase;

  constructor(db: PgDatabase) {
    this.#db = db;
  }

  async append(batches: LogBatch[], ingestionTime: number): Promise<void> {
    // Every server locks rows in one order (group, stream): two appends cannot deadlock.
    const ordered = batches
      .filter((batch) => batch.events.length > 0)
      .sort((a, b) => compare(a.group, b.group) || compare(a.stream, b.stream));
    if (ordered.length === 0) return;
    await this.#db.transaction(async (sql) => {
      for (const batch of ordered) await appendBatch(sql, batch, ingestionTime);
    });
  }

  async listStreams(group: string): Promise<LogStreamInfo[]> {
    return (await this.#db.query<StreamRow>('SELECT * FROM log_streams WHERE log_group = $1 ORDER BY name', [group])).map(toStreamInfo);
  }

  async listGroups(): Promise<LogGroupInfo[]> {
    return (await this.#db.query<GroupRow>('SELECT * FROM log_groups ORDER BY name')).map(toGroupInfo);
  }

  async getEvents(group: string, stream: string, options: { startTime?: number; endTime?: number; limit?: number } = {}): Promise<StoredLogEvent[]> {
    const rows = await this.#db.query<{ timestamp: number; ingestion_time: number; message: string }>(
      `SELECT timestamp, ingestion_time, message FROM log_events
        WHERE log_group = $1 AND stream = $2 AND timestamp >= $3 AND timestamp <= $4
        ORDER BY timestamp, id LIMIT $5`,
      [group, stream, options.startTime ?? 0, options.endTime ?? Number.MAX_SAFE_INTEGER, options.limit ?? 10_000],
    );
    return rows.map((row) => ({ timestamp: row.timestamp, ingestionTime: row.ingestion_time, message: row.message }));
  }

  async getGroup(name: string): Promise<LogGroupInfo | undefined> {
    const [row] = await this.#db.query<GroupRow>('SELECT * FROM log_groups WHERE name = $1', [name]);
    return row && toGroupInfo(row);
  }

  async getStream(group: string, name: string): Promise<LogStreamInfo | undefined> {
    const [row] = await this.#db.query<StreamRow>('SELECT * FROM log_streams WHERE log_group = $1 AND name = $2', [group, name]);
    return row && toStreamInfo(row);
  }

  async queryGroups(options: { prefix?: string; after?: string; limit: number }): Promise<LogGroupInfo[]> {
    const rows = await this.#db.query<GroupRow>('SELECT * FROM log_groups WHERE starts_with(name, $1) AND name > $2 ORDER BY name LIMIT $3', [
      options.prefix ?? '',
      options.after ?? '',
      options.limit,
    ]);
    return rows.map(toGroupInfo);
  }

  async queryStreams(group: string, query: LogStreamQuery): Promise<LogStreamInfo[]> {
    const byTime = query.orderBy === 'LastEventTime';
    const dir = query.descending ? 'DESC' : 'ASC';
    const op = query.descending ? '<' : '>';
    const values: unknown[] = [];
    const $ = (value: unknown): string => `$${values.push(value)}`;
    const after = query.after === undefined
      ? ''
      : byTime
        ? `AND (COALESCE(last_event, 0), name) ${op} (${$(query.after.lastEventTime)}, ${$(query.after.name)})`
        : `AND name ${op} ${$(query.after.name)}`;
    const sql = `SELECT * FROM log_streams WHERE log_group = ${$(group)} AND starts_with(name, ${$(query.prefix ?? '')}) ${after}
      ORDER BY ${byTime ? `COALESCE(last_event, 0) ${dir}, name ${dir}` : `name ${dir}`} LIMIT ${$(query.limit)}`;
    return (await this.#db.query<StreamRow>(sql, values)).map(toStreamInfo);
  }

  async queryEvents(query: LogEventQuery): Promise<LogEventRecord[]> {
    const dir = query.descending ? 'DESC' : 'ASC';
    const edge = query.descending ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
    const values: unknown[] = [];
    const $ = (value: unknown): string => `$${values.push(value)}`;
    // Both indexes lead with (log_group[, stream], timestamp, id), so these read in index order: no sort.
    const sql = `SELECT id, stream, timestamp, ingestion_time, message FROM log_events
      WHERE log_group = ${$(query.group)} ${query.streams === undefined ? '' : `AND stream = ANY(${$(query.streams)}::text[])`}
        AND timestamp >= ${$(query.startTime ?? Number.MIN_SAFE_INTEGER)} AND timestamp <= ${$(query.endTime ?? Number.MAX_SAFE_INTEGER)}
        AND (timestamp, id) ${query.descending ? '<' : '>'} (${$(query.from?.timestamp ?? edge)}, ${$(query.from?.id ?? edge)})
      ORDER BY timestamp ${dir}, id ${dir} LIMIT ${$(query.limit)}`;
    const rows = await this.#db.query<EventRow>(sql, values);
    return rows.map((row) => ({
      id: row.id,
      stream: row.stream,
      timestamp: row.timestamp,
      ingestionTime: row.ingestion_time,
      message: row.message,
    }));
  }
}

async function appendBatch(sql: Sql, { group, stream, events }: LogBatch, ingestionTime: number): Promise<void> {
  const created = events[0]!.timestamp;
  await sql.run('INSERT INTO log_groups (name, creation_time) VALUES ($1, $2) ON CONFLICT DO NOTHING', [group, created]);
  await sql.run('INSERT INTO log_streams (log_group, name, creation_time) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [group, stream, created]);
  await sql.run(
    `INSERT INTO log_events (log_group, stream, timestamp, ingestion_time, message)
      SELECT $1, $2, timestamp, $3, message FROM unnest($4::bigint[], $5::text[]) AS e (timestamp, message)`,
    [group, stream, ingestionTime, events.map((event) => event.timestamp), events.map((event) => event.message)],
  );
  let bytes = 0;
  let first = Infinity;
  let last = 0;
  for (const event of events) {
    bytes += Buffer.byteLength(event.message);
    first = Math.min(first, event.timestamp);
    last = Math.max(last, event.timestamp);
  }
  await sql.run(
    `UPDATE log_streams SET
        first_event = COALESCE(first_event, $1), last_event = GREATEST(COALESCE(last_event, 0), $2),
        last_ingestion = $3, stored_bytes = stored_bytes + $4
      WHERE log_group = $5 AND name = $6`,
    [first, last, ingestionTime, bytes, group, stream],
  );
  await sql.run('UPDATE log_groups SET stored_bytes = stored_bytes + $1 WHERE name = $2', [bytes, group]);
}

/** Any one fixed order does: every server locks rows in the same one. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
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
