import { createHash } from 'node:crypto';
import { KindlingError } from '../../shared/index.js';
import type { BlobStore } from '../types.js';
import type { PgDatabase } from './database.js';

/** The advisory lock class of blob keys (the second key is the blob key's hash). */
const BLOB_LOCK = 0x426c6f62;

/**
 * Blobs in the database, so every machine can fetch what another stored: chunk rows, then one
 * `blobs` row in the same transaction, so a half-written blob is never seen. Streamed both ways,
 * one chunk in memory at a time.
 */
export class PgBlobStore implements BlobStore {
  readonly #db: PgDatabase;
  readonly #chunkBytes: number;

  constructor(db: PgDatabase, chunkBytes: number) {
    this.#db = db;
    this.#chunkBytes = chunkBytes;
  }

  async has(key: string): Promise<boolean> {
    return (await this.#db.query('SELECT 1 FROM blobs WHERE key = $1', [key])).length > 0;
  }

  async put(key: string, data: Buffer | AsyncIterable<Uint8Array>): Promise<void> {
    if (await this.has(key)) return;
    await this.#db.transaction(async (sql) => {
      // Two servers storing one key take turns; the second finds it stored and writes nothing.
      await sql.run('SELECT pg_advisory_xact_lock($1, hashtext($2))', [BLOB_LOCK, key]);
      if ((await sql.query('SELECT 1 FROM blobs WHERE key = $1', [key])).length > 0) return;
      const hash = createHash('sha256');
      let seq = 0;
      let size = 0;
      for await (const chunk of rechunk(Buffer.isBuffer(data) ? [data] : data, this.#chunkBytes)) {
        hash.update(chunk);
        size += chunk.length;
        await sql.run('INSERT INTO blob_chunks (key, seq, data) VALUES ($1, $2, $3)', [key, seq++, chunk]);
      }
      const digest = hash.digest('hex');
      // Thrown inside the transaction: the chunks written so far go with it.
      if (digest !== key) throw new KindlingError('ERR_BLOB_DIGEST', `The blob's bytes hash to ${digest}, not to its key ${key}`);
      await sql.run('INSERT INTO blobs (key, size) VALUES ($1, $2)', [key, size]);
    });
  }

  async read(key: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    const [row] = await this.#db.query<{ chunks: number }>(
      'SELECT (SELECT COUNT(*) FROM blob_chunks c WHERE c.key = b.key) AS chunks FROM blobs b WHERE b.key = $1',
      [key],
    );
    if (!row) return undefined;
    return this.#chunks(key, row.chunks);
  }

  /** A blob is immutable once its row is committed: its chunks can be read one query at a time. */
  async *#chunks(key: string, count: number): AsyncGenerator<Uint8Array> {
    for (let seq = 0; seq < count; seq++) {
      const [chunk] = await this.#db.query<{ data: Buffer }>('SELECT data FROM blob_chunks WHERE key = $1 AND seq = $2', [key, seq]);
      if (!chunk) throw new KindlingError('ERR_STORE_DAMAGED', `The blob ${key} lacks its chunk ${seq}`);
      yield chunk.data;
    }
  }
}

/** The input cut (or joined) into pieces of `size` bytes, the last one shorter. */
async function* rechunk(input: Iterable<Uint8Array> | AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const piece of input) {
    let rest = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    while (pendingBytes + rest.length >= size) {
      const take = size - pendingBytes;
      pending.push(rest.subarray(0, take));
      yield Buffer.concat(pending);
      pending = [];
      pendingBytes = 0;
      rest = rest.subarray(take);
    }
    if (rest.length > 0) {
      // Copied: the producer may reuse its buffer once we ask for the next piece.
      pending.push(Buffer.from(rest));
      pendingBytes += rest.length;
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending);
}
