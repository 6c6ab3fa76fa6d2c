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
import { withoutNulls } from './records.js';

/** Rows as LogGroupInfo and LogStreamInfo (see `withoutNulls`). */
const GROUP_COLUMNS = 'name AS "logGroupName", creation_time AS "creationTime", stored_bytes AS "storedBytes"';
const STREAM_COLUMNS = `name AS "logStreamName", creation_time AS "creationTime", first_event AS "firstEventTimestamp",
  last_event AS "lastEventTimestamp", last_ingestion AS "lastIngestionTime", stored_bytes AS "storedBytes"`;

/** Log groups, streams and events (CloudWatch Logs' model). */
export class PgLogTables implements LogTables {
  readonly #db: PgDatabase;

  constructor(db: PgDatabase) {
    this.#db = db;
  }

  async append(batches: LogBatch[], ingestionTime: number): Promise<void> {
    const written = batches.filter((batch) => batch.events.length > 0);
    if (written.length === 0) return;
    await this.#db.transaction(async (sql) => {
      await insertEvents(sql, written, ingestionTime);
      await touchStreams(sql, written, ingestionTime);
    });
  }

  async listStreams(group: string): Promise<LogStreamInfo[]> {
    return (await this.#db.query(`SELECT ${STREAM_COLUMNS} FROM log_streams WHERE log_group = $1 ORDER BY name`, [group])).map(toStreamInfo);
  }

  async listGroups(): Promise<LogGroupInfo[]> {
    return this.#db.query<LogGroupInfo>(`SELECT ${GROUP_COLUMNS} FROM log_groups ORDER BY name`);
  }

  async getEvents(group: string, stream: string, options: { startTime?: number; endTime?: number; limit?: number } = {}): Promise<StoredLogEvent[]> {
    return this.#db.query<StoredLogEvent>(
      `SELECT timestamp, ingestion_time AS "ingestionTime", message FROM log_events
        WHERE log_group = $1 AND stream = $2 AND timestamp >= $3 AND timestamp <= $4
        ORDER BY timestamp, id LIMIT $5`,
      [group, stream, options.startTime ?? 0, options.endTime ?? Number.MAX_SAFE_INTEGER, options.limit ?? 10_000],
    );
  }

  async getGroup(name: string): Promise<LogGroupInfo | undefined> {
    return (await this.#db.query<LogGroupInfo>(`SELECT ${GROUP_COLUMNS} FROM log_groups WHERE name = $1`, [name]))[0];
  }

  async getStream(group: string, name: string): Promise<LogStreamInfo | undefined> {
    const [row] = await this.#db.query(`SELECT ${STREAM_COLUMNS} FROM log_streams WHERE log_group = $1 AND name = $2`, [group, name]);
    return row && toStreamInfo(row);
  }

  async queryGroups(options: { prefix?: string; after?: string; limit: number }): Promise<LogGroupInfo[]> {
    return this.#db.query<LogGroupInfo>(`SELECT ${GROUP_COLUMNS} FROM log_groups WHERE starts_with(name, $1) AND name > $2 ORDER BY name LIMIT $3`, [
      options.prefix ?? '',
      options.after ?? '',
      options.limit,
    ]);
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
    const sql = `SELECT ${STREAM_COLUMNS} FROM log_streams WHERE log_group = ${$(group)} AND starts_with(name, ${$(query.prefix ?? '')}) ${after}
      ORDER BY ${byTime ? `COALESCE(last_event, 0) ${dir}, name ${dir}` : `name ${dir}`} LIMIT ${$(query.limit)}`;
    return (await this.#db.query(sql, values)).map(toStreamInfo);
  }

  async queryEvents(query: LogEventQuery): Promise<LogEventRecord[]> {
    const dir = query.descending ? 'DESC' : 'ASC';
    const edge = query.descending ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
    const values: unknown[] = [];
    const $ = (value: unknown): string => `$${values.push(value)}`;
    // The indexes (log_group[, stream], timestamp, id) serve this order and the resume point.
    const sql = `SELECT id, stream, timestamp, ingestion_time AS "ingestionTime", message FROM log_events
      WHERE log_group = ${$(query.group)} ${query.streams === undefined ? '' : `AND stream = ANY(${$(query.streams)}::text[])`}
        AND timestamp >= ${$(query.startTime ?? Number.MIN_SAFE_INTEGER)} AND timestamp <= ${$(query.endTime ?? Number.MAX_SAFE_INTEGER)}
        AND (timestamp, id) ${query.descending ? '<' : '>'} (${$(query.from?.timestamp ?? edge)}, ${$(query.from?.id ?? edge)})
      ORDER BY timestamp ${dir}, id ${dir} LIMIT ${$(query.limit)}`;
    return this.#db.query<LogEventRecord>(sql, values);
  }
}

/** Every event in one statement, in the order given: ids order events of equal time. */
async function insertEvents(sql: Sql, batches: readonly LogBatch[], ingestionTime: number): Promise<void> {
  const events = batches.flatMap(({ group, stream, events }) => events.map((event) => ({ group, stream, ...event })));
  await sql.run(
    `INSERT INTO log_events (log_group, stream, timestamp, ingestion_time, message)
      SELECT log_group, stream, timestamp, $1, message FROM unnest($2::text[], $3::text[], $4::bigint[], $5::text[])
        AS e (log_group, stream, timestamp, message)`,
    [ingestionTime, events.map((e) => e.group), events.map((e) => e.stream), events.map((e) => e.timestamp), events.map((e) => e.message)],
  );
}

interface StreamTotals {
  group: string;
  stream: string;
  /** The first event's time: the stream's (and group's) creation time if it is new. */
  created: number;
  first: number;
  last: number;
  bytes: number;
}

/**
 * Creates the streams and groups written to, and adds up their sizes and event times: one
 * statement each. Rows are locked in one order (sorted) by every server: two appends cannot deadlock.
 */
async function touchStreams(sql: Sql, batches: readonly LogBatch[], ingestionTime: number): Promise<void> {
  const streams = new Map<string, StreamTotals>();
  const groups = new Map<string, { created: number; bytes: number }>();
  for (const { group, stream, events } of batches) {
    const key = JSON.stringify([group, stream]);
    const totals = streams.get(key) ?? { group, stream, created: events[0]!.timestamp, first: Infinity, last: 0, bytes: 0 };
    for (const event of events) {
      totals.bytes += Buffer.byteLength(event.message);
      totals.first = Math.min(totals.first, event.timestamp);
      totals.last = Math.max(totals.last, event.timestamp);
    }
    streams.set(key, totals);
    if (!groups.has(group)) groups.set(group, { created: events[0]!.timestamp, bytes: 0 });
  }
  const sorted = [...streams.values()].sort((a, b) => compare(a.group, b.group) || compare(a.stream, b.stream));
  await sql.run(
    `INSERT INTO log_streams AS s (log_group, name, creation_time, first_event, last_event, last_ingestion, stored_bytes)
      SELECT log_group, name, creation_time, first_event, last_event, $1, stored_bytes
      FROM unnest($2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[])
        AS t (log_group, name, creation_time, first_event, last_event, stored_bytes)
      ON CONFLICT (log_group, name) DO UPDATE SET
        first_event = COALESCE(s.first_event, excluded.first_event),
        last_event = GREATEST(COALESCE(s.last_event, 0), excluded.last_event),
        last_ingestion = excluded.last_ingestion, stored_bytes = s.stored_bytes + excluded.stored_bytes`,
    [
      ingestionTime,
      sorted.map((t) => t.group),
      sorted.map((t) => t.stream),
      sorted.map((t) => t.created),
      sorted.map((t) => t.first),
      sorted.map((t) => t.last),
      sorted.map((t) => t.bytes),
    ],
  );
  for (const totals of sorted) groups.get(totals.group)!.bytes += totals.bytes;
  const sortedGroups = [...groups].sort(([a], [b]) => compare(a, b));
  await sql.run(
    `INSERT INTO log_groups AS g (name, creation_time, stored_bytes)
      SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[])
      ON CONFLICT (name) DO UPDATE SET stored_bytes = g.stored_bytes + excluded.stored_bytes`,
    [sortedGroups.map(([name]) => name), sortedGroups.map(([, g]) => g.created), sortedGroups.map(([, g]) => g.bytes)],
  );
}

/** Any one fixed order does: every server locks rows in the same one. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function toStreamInfo(row: object): LogStreamInfo {
  return withoutNulls<LogStreamInfo>(row);
}
