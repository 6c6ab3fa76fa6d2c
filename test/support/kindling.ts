import { LambdaClient } from '@aws-sdk/client-lambda';
import Database from 'better-sqlite3';
import pg from 'pg';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKindling, type Kindling } from '../../src/app.js';
import { openPostgresStore, SqliteStore, type Store } from '../../src/store/index.js';
import { loadConfig, type KindlingConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/shared/index.js';
import type { CredentialSource } from '../../src/identity/index.js';
import { adminProfile } from './auth.js';
import { databaseNameFor, dropDatabase, ensureDatabase } from './postgres.js';

export const ROLE = 'arn:aws:iam::000000000000:role/lambda-role';

export interface TestServer {
  kindling: Kindling;
  /** Signed with `credentials`. */
  lambda: LambdaClient;
  /** `test`/`test` under `--auth none`; the administrator key the server wrote under `--auth sigv4`. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  dataDir: string;
  close(): Promise<void>;
}

/**
 * The PostgreSQL server the suite runs on (`KINDLING_TEST_STORE=postgres://user@host:port`, set by
 * `npm run test:postgres`), or undefined: SQLite in each data directory.
 */
export function testStoreBase(): string | undefined {
  const base = process.env['KINDLING_TEST_STORE'];
  return base ? base.replace(/\/+$/, '') : undefined;
}

/**
 * The store for a server on `dataDir`: its own database on the test PostgreSQL (the same data
 * directory, as in a restart, gets the same database back), or undefined for SQLite.
 */
export async function testStoreFor(dataDir: string): Promise<string | undefined> {
  const base = testStoreBase();
  return base === undefined ? undefined : ensureDatabase(base, databaseNameFor(dataDir));
}

/**
 * The store a server on `dataDir` uses, opened by the test itself (to read what a stopped server
 * left): its database on the PostgreSQL pass, its kindling.db otherwise.
 */
export async function openTestStore(dataDir: string): Promise<Store> {
  const url = await testStoreFor(dataDir);
  return url === undefined ? new SqliteStore(join(dataDir, 'kindling.db')) : openPostgresStore(url, { logger: createLogger('error') });
}

/**
 * Rows of a read-only query made straight on the database of a server on `dataDir` (a test that
 * looks under the hood, say at queue leases). The SQL must mean the same to SQLite and PostgreSQL;
 * BIGINT columns come back as numbers on both.
 */
export async function peekStore<T>(dataDir: string, sql: string): Promise<T[]> {
  const url = await testStoreFor(dataDir);
  if (url === undefined) {
    const db = new Database(join(dataDir, 'kindling.db'), { readonly: true });
    try {
      return db.prepare(sql).all() as T[];
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({
    connectionString: url,
    types: { getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === 20 ? Number : pg.types.getTypeParser(oid, format))) as typeof pg.types.getTypeParser },
  });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

/** A skip reason for tests of SQLite itself (its file, a power cut) when the suite runs on PostgreSQL. */
export function sqliteOnly(what: string): string | false {
  return testStoreBase() === undefined ? false : `the suite runs on PostgreSQL (KINDLING_TEST_STORE); this tests ${what}`;
}

/** The real server on port 0 with a fresh data directory, and a real AWS SDK client for it. */
export async function startTestServer(
  overrides: Partial<KindlingConfig> = {},
  dataDir?: string,
  options: { openStore?: (path: string) => Store; credentialSources?: readonly CredentialSource[] } = {},
): Promise<TestServer> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'kindling-test-'));
  // Functional tests run in the process sandbox (their functions write to the test's files);
  // the sandbox suites ask for namespace or microvm themselves.
  // On the PostgreSQL pass each data directory has its own database; a test's own store seam stays as given.
  const store = overrides.store === undefined && !options.openStore ? await testStoreFor(dir) : undefined;
  const config = loadConfig([], {}, { port: 0, urlPort: 0, dataDir: dir, sandbox: 'process', ...(store ? { store } : {}), ...overrides });
  const kindling = await startKindling(config, {
    logger: createLogger(process.env['KINDLING_TEST_LOG'] ? 'debug' : 'error'),
    ...(options.openStore ? { openStore: options.openStore } : {}),
    ...(options.credentialSources ? { credentialSources: options.credentialSources } : {}),
  });
  if (store && kindling.store.kind !== 'postgres') {
    // Else the PostgreSQL pass would run the suite on SQLite a second time, and pass.
    await kindling.close();
    throw new Error(`asked for the store ${store}, the server opened a ${kindling.store.kind} store`);
  }
  const credentials = config.auth === 'sigv4' ? adminProfile(dir) : TEST_CREDENTIALS;
  const lambda = clientFor(kindling.url, credentials);
  return {
    kindling,
    lambda,
    credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
    dataDir: dir,
    close: async () => {
      lambda.destroy();
      await kindling.close();
      if (dataDir) return;
      rmSync(dir, { recursive: true, force: true });
      // Nobody can come back to a data directory made here: its database goes with it.
      const base = testStoreBase();
      if (store && base) await dropDatabase(base, databaseNameFor(dir));
    },
  };
}

const TEST_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

export function clientFor(url: string, credentials: { accessKeyId: string; secretAccessKey: string } = TEST_CREDENTIALS): LambdaClient {
  return new LambdaClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
    maxAttempts: 1,
  });
}

export function json(payload: Uint8Array | undefined): unknown {
  return payload === undefined ? undefined : JSON.parse(Buffer.from(payload).toString('utf8'));
}
