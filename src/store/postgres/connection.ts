import pg from 'pg';
import { KindlingError } from '../../shared/index.js';

/** A connect that takes longer fails: a wrong host must stop `serve` in seconds, not hang. */
const CONNECT_TIMEOUT_MS = 5_000;
/** No statement may wait longer, on the server or for the answer: callers get a 500, not a hang. */
const STATEMENT_TIMEOUT_MS = 15_000;
const POOL_SIZE = 16;

const INT8_OID = 20;

/**
 * BIGINT columns (times in ms, ids, counts) as numbers, like SQLite's: pg hands them out as strings
 * by default. Every value Kindling stores is below 2^53.
 */
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary' ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

/** Driver settings for the pool and the listening client alike. */
export function clientConfig(url: string): pg.ClientConfig {
  return {
    connectionString: url,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    query_timeout: STATEMENT_TIMEOUT_MS,
    statement_timeout: STATEMENT_TIMEOUT_MS,
    keepAlive: true,
    application_name: 'kindling',
    // What Kindling answered for is on disk, whatever the server's default: an event's 202 is sent
    // only after its commit is flushed. Outcomes opt out per transaction (SET LOCAL), as on SQLite.
    options: '-c synchronous_commit=on',
    types,
  };
}

export function poolConfig(url: string): pg.PoolConfig {
  return { ...clientConfig(url), max: POOL_SIZE };
}

/**
 * `host:port/database` of a connection string, for messages: never its password. Refuses what is
 * not a `postgres://` URL (without echoing it, as it may hold a password).
 */
export function describeTarget(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Not kept as the cause: Node's TypeError carries the input, password and all.
    throw notAUrl();
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') throw notAUrl();
  // A unix socket directory may come as `?host=/dir` or percent-encoded in the host part.
  const host = parsed.searchParams.get('host') ?? (decodeURIComponent(parsed.hostname) || 'localhost');
  const port = parsed.port || parsed.searchParams.get('port') || '5432';
  const user = decodeURIComponent(parsed.username);
  const database = decodeURIComponent(parsed.pathname.slice(1)) || user || 'postgres';
  return `${host}:${port}/${database}`;
}

function notAUrl(): KindlingError {
  return new KindlingError('ERR_STORE_UNAVAILABLE', 'The store is not a PostgreSQL connection string (postgres://user:password@host:port/database)');
}
