import pg from 'pg';
import { KindlingError } from '../../shared/index.js';
import type { PgDatabase } from './database.js';

/**
 * Schema migrations, applied in order; `kindling_schema_migrations` records which have run. Append
 * only: a shipped migration never changes. Names and keys are `COLLATE "C"` so that they sort by
 * code point, as SQLite's do, whatever the database's locale.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE functions (
    name TEXT COLLATE "C" PRIMARY KEY,
    record TEXT NOT NULL
  );
  CREATE TABLE function_versions (
    function_name TEXT COLLATE "C" NOT NULL,
    version BIGINT NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (function_name, version)
  );
  CREATE TABLE aliases (
    function_name TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (function_name, name)
  );
  CREATE TABLE event_invoke_configs (
    function_name TEXT COLLATE "C" NOT NULL,
    qualifier TEXT COLLATE "C" NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (function_name, qualifier)
  );
  CREATE TABLE concurrency (
    function_name TEXT COLLATE "C" PRIMARY KEY,
    reserved INTEGER NOT NULL
  );
  CREATE TABLE provisioned_concurrency (
    function_name TEXT COLLATE "C" NOT NULL,
    qualifier TEXT COLLATE "C" NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (function_name, qualifier)
  );
  CREATE SEQUENCE function_revision_seq;
  CREATE TABLE function_revisions (
    name TEXT COLLATE "C" PRIMARY KEY,
    revision BIGINT NOT NULL
  );
  CREATE TABLE layer_versions (
    layer_name TEXT COLLATE "C" NOT NULL,
    version BIGINT NOT NULL,
    record TEXT NOT NULL,
    deleted BOOLEAN NOT NULL DEFAULT false,
    PRIMARY KEY (layer_name, version)
  );
  CREATE TABLE events (
    id BIGSERIAL PRIMARY KEY,
    function_name TEXT NOT NULL,
    qualifier TEXT NOT NULL,
    request_id TEXT NOT NULL,
    payload BYTEA NOT NULL,
    enqueued_at BIGINT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    system_retries INTEGER NOT NULL DEFAULT 0,
    visible_at BIGINT NOT NULL,
    lease_owner TEXT,
    last_response TEXT
  );
  CREATE INDEX events_by_visibility ON events (visible_at, id);
  CREATE INDEX events_by_function ON events (function_name);
  CREATE INDEX events_by_owner ON events (lease_owner) WHERE lease_owner IS NOT NULL;
  CREATE TABLE dead_letters (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    queue_name TEXT,
    source_function TEXT NOT NULL,
    qualifier TEXT NOT NULL,
    request_id TEXT NOT NULL,
    body BYTEA NOT NULL,
    request_payload BYTEA NOT NULL,
    condition TEXT NOT NULL,
    reason TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    enqueued_at BIGINT NOT NULL,
    failed_at BIGINT NOT NULL
  );
  CREATE INDEX dead_letters_by_function ON dead_letters (source_function, id);
  CREATE TABLE log_groups (
    name TEXT COLLATE "C" PRIMARY KEY,
    creation_time BIGINT NOT NULL,
    stored_bytes BIGINT NOT NULL DEFAULT 0
  );
  CREATE TABLE log_streams (
    log_group TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    creation_time BIGINT NOT NULL,
    first_event BIGINT,
    last_event BIGINT,
    last_ingestion BIGINT,
    stored_bytes BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (log_group, name)
  );
  CREATE TABLE log_events (
    id BIGSERIAL PRIMARY KEY,
    log_group TEXT COLLATE "C" NOT NULL,
    stream TEXT COLLATE "C" NOT NULL,
    timestamp BIGINT NOT NULL,
    ingestion_time BIGINT NOT NULL,
    message TEXT NOT NULL
  );
  CREATE INDEX log_events_by_stream ON log_events (log_group, stream, timestamp, id);
  CREATE INDEX log_events_by_group_time ON log_events (log_group, timestamp, id);
  CREATE TABLE blobs (
    key TEXT PRIMARY KEY,
    size BIGINT NOT NULL
  );
  CREATE TABLE blob_chunks (
    key TEXT NOT NULL,
    seq INTEGER NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (key, seq)
  );
  `,
  // Issue 12: the fleet (docs/cluster.md). Times are epoch ms of the database's clock, so the
  // machines' clocks never meet.
  `
  CREATE TABLE nodes (
    id TEXT PRIMARY KEY,
    roles TEXT NOT NULL,
    address TEXT NOT NULL,
    cores INTEGER NOT NULL,
    memory_mb INTEGER NOT NULL,
    drivers TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    lease_ends_at BIGINT,
    state TEXT NOT NULL,
    inventory TEXT NOT NULL,
    heartbeat_at BIGINT NOT NULL
  );
  CREATE TABLE cluster_settings (
    name TEXT PRIMARY KEY,
    value BYTEA NOT NULL
  );
  CREATE TABLE concurrency_grants (
    scope TEXT NOT NULL,
    holder TEXT NOT NULL,
    slots INTEGER NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (scope, holder)
  );
  CREATE INDEX concurrency_grants_by_holder ON concurrency_grants (holder);
  `,
  // Issue 14: functions' execution roles and their inline policies (docs/security.md).
  `
  CREATE TABLE role_policies (
    account_id TEXT NOT NULL,
    role_name TEXT NOT NULL,
    policy_name TEXT NOT NULL,
    document TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, role_name, policy_name)
  );
  `,
  // Issue 14: access keys. The secret is sealed with the key file's key, which is not in the database.
  `
  CREATE TABLE access_keys (
    access_key_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    user_name TEXT NOT NULL,
    sealed_secret BYTEA NOT NULL,
    policies TEXT NOT NULL,
    admin BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL
  );
  CREATE INDEX access_keys_by_account ON access_keys (account_id, created_at);
  `,
  // Issue 14: resource-based policies (AddPermission, AddLayerVersionPermission), one row per
  // resource ARN; removed with the function, version, alias or layer version that owns them.
  `
  CREATE TABLE resource_policies (
    resource_arn TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    qualifier TEXT NOT NULL,
    policy TEXT NOT NULL,
    revision_id TEXT NOT NULL
  );
  CREATE INDEX resource_policies_by_owner ON resource_policies (owner, qualifier);
  `,
  // Issue 15: function URLs, one per function and qualifier ($LATEST or an alias), found by url-id on
  // every request to a URL; removed with their function or alias.
  `
  CREATE TABLE function_urls (
    function_name TEXT NOT NULL,
    qualifier TEXT NOT NULL,
    url_id TEXT NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (function_name, qualifier)
  );
  CREATE UNIQUE INDEX function_urls_by_url_id ON function_urls (url_id);
  `,
];

/** Held while migrating: two servers starting together on one database migrate once. */
const MIGRATION_LOCK = 0x4b696e646c; // "Kindl"

/** Brings the schema up to date in one transaction, or refuses a schema newer than this code's. */
export async function migrate(db: PgDatabase, target: string): Promise<void> {
  await db.transaction(async (sql) => {
    await sql.run('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await sql.run(`CREATE TABLE IF NOT EXISTS kindling_schema_migrations (
      version INTEGER PRIMARY KEY,
      applied_at BIGINT NOT NULL
    )`);
    const [row] = await sql.query<{ version: number | null }>('SELECT MAX(version) AS version FROM kindling_schema_migrations');
    const applied = row?.version ?? 0;
    if (applied > MIGRATIONS.length) {
      throw damaged(target, `its schema (version ${applied}) is newer than this Kindling knows (${MIGRATIONS.length})`);
    }
    for (let i = applied; i < MIGRATIONS.length; i++) {
      try {
        await sql.run(MIGRATIONS[i]!);
      } catch (err) {
        // A table of that name that is not ours, say: the database is someone else's.
        if (err instanceof pg.DatabaseError) throw damaged(target, `migration ${i + 1} failed (${err.message})`, err);
        throw err;
      }
      await sql.run('INSERT INTO kindling_schema_migrations (version, applied_at) VALUES ($1, $2)', [i + 1, Date.now()]);
    }
  });
}

function damaged(target: string, why: string, cause?: unknown): KindlingError {
  return new KindlingError(
    'ERR_STORE_DAMAGED',
    `The PostgreSQL database ${target} cannot be used: ${why}.`,
    cause === undefined ? undefined : { cause },
  );
}
