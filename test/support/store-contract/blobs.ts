import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { it } from 'node:test';
import type { BlobStore } from '../../../src/store/index.js';
import type { ContractContext } from './context.js';
import { rejectsWithCode } from './records.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

async function readAll(blobs: BlobStore, key: string): Promise<Buffer | undefined> {
  const stream = await blobs.read(key);
  if (stream === undefined) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

async function* chunked(data: Buffer, size: number): AsyncIterable<Uint8Array> {
  for (let at = 0; at < data.length; at += size) yield data.subarray(at, at + size);
}

export function blobContract(t: ContractContext): void {
  it('blobs: put a Buffer or a stream, has, read back streamed and equal; a second put of a key is harmless', async () => {
    const store = await t.store();
    const one = Buffer.from('PK\u0003\u0004 a zip, say');
    const two = randomBytes(100_000);
    assert.equal(await store.blobs.has(sha256(one)), false);
    assert.equal(await store.blobs.read(sha256(one)), undefined);
    await store.blobs.put(sha256(one), one);
    await store.blobs.put(sha256(two), chunked(two, 4096));
    assert.equal(await store.blobs.has(sha256(one)), true);
    assert.equal(await store.blobs.has(sha256(two)), true);
    assert.ok((await readAll(store.blobs, sha256(one)))!.equals(one));
    assert.ok((await readAll(store.blobs, sha256(two)))!.equals(two));
    await store.blobs.put(sha256(one), one);
    assert.ok((await readAll(store.blobs, sha256(one)))!.equals(one));
    const empty = Buffer.alloc(0);
    await store.blobs.put(sha256(empty), empty);
    assert.equal((await readAll(store.blobs, sha256(empty)))?.length, 0, 'an empty blob is a blob');
  });

  it('blobs: bytes that do not hash to the key are refused with ERR_BLOB_DIGEST, and nothing is stored', async () => {
    const store = await t.store();
    const data = randomBytes(50_000);
    const wrong = sha256(Buffer.from('something else'));
    await rejectsWithCode(store.blobs.put(wrong, data), 'ERR_BLOB_DIGEST');
    await rejectsWithCode(store.blobs.put(wrong, chunked(data, 1000)), 'ERR_BLOB_DIGEST');
    assert.equal(await store.blobs.has(wrong), false);
    assert.equal(await store.blobs.read(wrong), undefined);
    // The key's own bytes are still welcome afterwards.
    await store.blobs.put(sha256(data), data);
    assert.ok((await readAll(store.blobs, sha256(data)))!.equals(data));
  });

  it('blobs: a 20 MB blob streamed in and out', async () => {
    const db = await t.database();
    const store = await db.open();
    const data = randomBytes(20 * 1024 * 1024);
    const key = sha256(data);
    await store.blobs.put(key, chunked(data, 64 * 1024));
    // Read where shared from another store: every machine can fetch what one stored.
    const reader = t.shared ? await db.open() : store;
    const stream = await reader.blobs.read(key);
    assert.ok(stream);
    const hash = createHash('sha256');
    let size = 0;
    let chunks = 0;
    for await (const chunk of stream) {
      hash.update(chunk);
      size += chunk.length;
      chunks++;
    }
    assert.equal(size, data.length);
    assert.equal(hash.digest('hex'), key);
    assert.ok(chunks > 1, `streamed, not handed over whole (${chunks} chunk)`);
  });
}
