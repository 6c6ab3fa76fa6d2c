import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KindlingError, silentLogger } from '../src/shared/index.js';
import { openPostgresStore } from '../src/store/index.js';
import type { PostgresStore } from '../src/store/index.js';
import { PostgresCluster, postgresUnavailable } from './support/postgres.js';
import { ChangeLog, fn, rejectsWithCode } from './support/store-contract/records.js';

/**
 * What only the PostgreSQL store does (the shared behaviour is the store contract suite's): refuse a
 * database it cannot use, quickly and without the password; ride out a server restart.
 */
const unavailable = postgresUnavailable();

/**
 * Without the store's connect timeout (5 s), a server that never answers would keep these tests
 * waiting forever: the runner's timeout, not a measured time, is what fails them then.
 */
const NOT_HUNG = { timeout: 60_000 };

async function refusal(url: string): Promise<{ err: KindlingError }> {
  const err = await openPostgresStore(url, { logger: silentLogger }).then(
    async (store) => {
      await store.close();
      return assert.fail(`opened ${url}`);
    },
    (err: unknown) => err,
  );
  assert.ok(err instanceof KindlingError, `a KindlingError, not ${String(err)}`);
  return { err };
}

describe('the PostgreSQL store', { skip: unavailable }, () => {
  let cluster: PostgresCluster;
  let hbaDir: string;

  before(async () => {
    // Password logins over TCP (the harness trusts everyone), so a wrong password can be tried.
    hbaDir = mkdtempSync(join(tmpdir(), 'kindling-hba-'));
    chmodSync(hbaDir, 0o755);
    writeFileSync(join(hbaDir, 'pg_hba.conf'), 'local all all trust\nhost all postgres 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n', { mode: 0o644 });
    cluster = await PostgresCluster.start({ settings: { hba_file: join(hbaDir, 'pg_hba.conf') } });
    await cluster.query("CREATE ROLE kindling LOGIN PASSWORD 'right-one'");
    await cluster.query('CREATE DATABASE guarded OWNER kindling');
  });

  after(async () => {
    await cluster?.stop();
    rmSync(hbaDir, { recursive: true, force: true });
  });

  it('refuses what it cannot use, naming host:port/database but never the password', NOT_HUNG, async () => {
    const port = cluster.port;
    const cases = [
      { url: `postgres://kindling:hunter2@127.0.0.1:${port + 1}/kindling`, names: `127.0.0.1:${port + 1}/kindling`, says: /ECONNREFUSED/ },
      { url: `postgres://kindling:hunter2@127.0.0.1:${port}/guarded`, names: `127.0.0.1:${port}/guarded`, says: /password authentication failed/ },
      { url: `postgres://postgres:hunter2@127.0.0.1:${port}/missing`, names: `127.0.0.1:${port}/missing`, says: /does not exist/ },
      { url: 'mysql://root:hunter2@127.0.0.1/kindling', names: 'postgres://', says: /not a PostgreSQL connection string/ },
      { url: 'hunter2 is not a URL', names: 'postgres://', says: /not a PostgreSQL connection string/ },
    ];
    // A server that takes the connection and never answers: the connect timeout ends the wait.
    const silent = createServer((socket) => held.push(socket));
    const held: Socket[] = [];
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const silentPort = (silent.address() as AddressInfo).port;
    cases.push({ url: `postgres://kindling:hunter2@127.0.0.1:${silentPort}/kindling`, names: `127.0.0.1:${silentPort}/kindling`, says: /timeout/ });
    try {
      for (const { url, names, says } of cases) {
        const { err } = await refusal(url);
        assert.equal(err.code, 'ERR_STORE_UNAVAILABLE', url);
        assert.ok(err.message.includes(names), `${err.message} names ${names}`);
        assert.match(err.message, says);
        assert.doesNotMatch(err.message, /hunter2/);
      }
    } finally {
      for (const socket of held) socket.destroy();
      silent.close();
    }
  });

  it('opens with the right password, and refuses a database whose schema is newer than it knows', async () => {
    const url = `postgres://kindling:right-one@127.0.0.1:${cluster.port}/guarded`;
    const store = await openPostgresStore(url, { logger: silentLogger });
    await store.close();
    await store.close();
    await cluster.query('INSERT INTO kindling_schema_migrations (version, applied_at) VALUES (999, 0)', 'guarded');
    const { err } = await refusal(url);
    assert.equal(err.code, 'ERR_STORE_DAMAGED');
    assert.match(err.message, /version 999/);
  });

  it('rides out a server restart: calls fail with ERR_STORE_UNAVAILABLE, then the pool and the change feed come back with a resync', NOT_HUNG, async () => {
    const url = await cluster.createDatabase('restarts');
    const store: PostgresStore = await openPostgresStore(url, { logger: silentLogger, blobChunkBytes: 4 });
    try {
      const log = new ChangeLog(store.changes);
      await store.functions.insert(fn('f'));
      const first = await log.next((c) => c.name === 'f', 'for the insert');

      await cluster.stopServer('fast');
      await rejectsWithCode(store.functions.list(), 'ERR_STORE_UNAVAILABLE');
      await rejectsWithCode(store.events.enqueue([{ functionName: 'f', qualifier: '$LATEST', requestId: 'r', payload: Buffer.from('{}'), enqueuedAt: 1 }]), 'ERR_STORE_UNAVAILABLE');

      const resynced = new Promise<void>((resolve) => store.changes.subscribe({ change: () => {}, resync: resolve }));
      await cluster.startServer();
      await resynced;
      assert.equal(log.resyncs, 1);

      // The pool opens new connections by itself; the feed carries changes again.
      await store.functions.replace(fn('f', { description: 'after the restart' }));
      const second = await log.next((c) => c.name === 'f' && c.revision > first.revision, 'after the restart');
      assert.equal((await store.functions.snapshot('f')).revision, second.revision);
      assert.equal((await store.functions.get('f'))?.description, 'after the restart');

      // Blobs of several chunks (4 bytes each here) written and read across the new connections.
      const bytes = Buffer.from('chunked across rows');
      const key = createHash('sha256').update(bytes).digest('hex');
      await store.blobs.put(key, bytes);
      const read: Buffer[] = [];
      for await (const chunk of (await store.blobs.read(key))!) read.push(Buffer.from(chunk));
      assert.deepEqual(read.map((c) => c.length), [4, 4, 4, 4, 3]);
      assert.equal(Buffer.concat(read).toString(), 'chunked across rows');
    } finally {
      await store.close();
    }
  });
});
