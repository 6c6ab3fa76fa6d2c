/**
 * Schema migrations, applied in order; `PRAGMA user_version` records how many have run. Append only:
 * a shipped migration never changes.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE functions (
    name TEXT PRIMARY KEY,
    record TEXT NOT NULL
  );
  CREATE TABLE log_groups (
    name TEXT PRIMARY KEY,
    creation_time INTEGER NOT NULL,
    stored_bytes INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE log_streams (
    log_group TEXT NOT NULL,
    name TEXT NOT NULL,
    creation_time INTEGER NOT NULL,
    first_event INTEGER,
    last_event INTEGER,
    last_ingestion INTEGER,
    stored_bytes INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (log_group, name)
  );
  CREATE TABLE log_events (
    id INTEGER PRIMARY KEY,
    log_group TEXT NOT NULL,
    stream TEXT NOT NULL,
    timestamp INTEGER NOT NULL,
    ingestion_time INTEGER NOT NULL,
    message TEXT NOT NULL
  );
  CREATE INDEX log_events_by_stream ON log_events (log_group, stream, timestamp, id);
  CREATE INDEX log_events_by_group_time ON log_events (log_group, timestamp, id);
  `,
];
