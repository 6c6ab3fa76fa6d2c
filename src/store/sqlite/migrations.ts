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
  `
  CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    function_name TEXT NOT NULL,
    qualifier TEXT NOT NULL,
    request_id TEXT NOT NULL,
    payload BLOB NOT NULL,
    enqueued_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    system_retries INTEGER NOT NULL DEFAULT 0,
    visible_at INTEGER NOT NULL,
    lease_owner TEXT,
    last_response TEXT
  );
  CREATE INDEX events_by_visibility ON events (visible_at, id);
  CREATE INDEX events_by_function ON events (function_name);
  CREATE TABLE dead_letters (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    queue_name TEXT,
    source_function TEXT NOT NULL,
    qualifier TEXT NOT NULL,
    request_id TEXT NOT NULL,
    body BLOB NOT NULL,
    request_payload BLOB NOT NULL,
    condition TEXT NOT NULL,
    reason TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    enqueued_at INTEGER NOT NULL,
    failed_at INTEGER NOT NULL
  );
  CREATE INDEX dead_letters_by_function ON dead_letters (source_function, id);
  CREATE TABLE event_invoke_configs (
    function_name TEXT NOT NULL,
    qualifier TEXT NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (function_name, qualifier)
  );
  `,
  `
  CREATE TABLE function_versions (
    function_name TEXT NOT NULL,
    version INTEGER NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (function_name, version)
  );
  CREATE TABLE aliases (
    function_name TEXT NOT NULL,
    name TEXT NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (function_name, name)
  );
  CREATE TABLE layer_versions (
    layer_name TEXT NOT NULL,
    version INTEGER NOT NULL,
    record TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (layer_name, version)
  );
  CREATE TABLE concurrency (
    function_name TEXT PRIMARY KEY,
    reserved INTEGER NOT NULL
  );
  CREATE TABLE provisioned_concurrency (
    function_name TEXT NOT NULL,
    qualifier TEXT NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (function_name, qualifier)
  );
  `,
  // Issue 11: every function's revision, bumped in each transaction that writes about it; caches
  // compare it with the change feed's. Rows outlive their function (a deletion is a revision too).
  `
  CREATE TABLE function_revisions (
    name TEXT PRIMARY KEY,
    revision INTEGER NOT NULL
  );
  CREATE INDEX function_revisions_by_revision ON function_revisions (revision);
  `,
  // Issue 12: the fleet. Nodes and their heartbeats, the cluster secret, and the concurrency slots
  // api nodes hold per scope (docs/cluster.md). Times are epoch ms of this process's clock.
  `
  CREATE TABLE nodes (
    id TEXT PRIMARY KEY,
    roles TEXT NOT NULL,
    address TEXT NOT NULL,
    cores INTEGER NOT NULL,
    memory_mb INTEGER NOT NULL,
    drivers TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    lease_ends_at INTEGER,
    state TEXT NOT NULL,
    inventory TEXT NOT NULL,
    heartbeat_at INTEGER NOT NULL
  );
  CREATE TABLE cluster_settings (
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL
  );
  CREATE TABLE concurrency_grants (
    scope TEXT NOT NULL,
    holder TEXT NOT NULL,
    slots INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
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
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, role_name, policy_name)
  );
  `,
  // Issue 14: access keys. The secret is sealed with the key file's key, which is not in the database.
  `
  CREATE TABLE access_keys (
    access_key_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    user_name TEXT NOT NULL,
    sealed_secret BLOB NOT NULL,
    policies TEXT NOT NULL,
    admin INTEGER NOT NULL,
    created_at INTEGER NOT NULL
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
