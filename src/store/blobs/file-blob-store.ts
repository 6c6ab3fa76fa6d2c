import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { KindlingError } from '../../shared/index.js';
import type { BlobStore } from '../types.js';

/** Keys are hex SHA-256 digests; anything else could name a path outside the folder. */
const KEY = /^[0-9a-f]{64}$/;

/** The embedded blob store: one file per blob under `<data dir>/blobs/<hex sha256>.zip`, fsynced. */
export class FileBlobStore implements BlobStore {
  readonly #dir: string;

  constructor(dataDir: string) {
    this.#dir = join(dataDir, 'blobs');
    mkdirSync(this.#dir, { recursive: true });
  }

  path(key: string): string {
    return join(this.#dir, `${key}.zip`);
  }

  async has(key: string): Promise<boolean> {
    return KEY.test(key) && existsSync(this.path(key));
  }

  async put(key: string, data: Buffer | AsyncIterable<Uint8Array>): Promise<void> {
    if (!KEY.test(key)) throw new KindlingError('ERR_BLOB_DIGEST', `A blob's key is the hex SHA-256 of its bytes, not '${key}'`);
    const path = this.path(key);
    if (existsSync(path)) return;
    const tmp = `${path}.tmp-${randomBytes(6).toString('hex')}`;
    const hash = createHash('sha256');
    const file = await open(tmp, 'w');
    try {
      for await (const chunk of Buffer.isBuffer(data) ? [data] : data) {
        hash.update(chunk);
        await file.write(chunk);
      }
      await file.sync();
      await file.close();
      const digest = hash.digest('hex');
      if (digest !== key) throw new KindlingError('ERR_BLOB_DIGEST', `The blob's bytes hash to ${digest}, not to its key ${key}`);
      await rename(tmp, path);
    } catch (err) {
      await file.close().catch(() => {});
      await rm(tmp, { force: true });
      throw err;
    }
    const dir = await open(dirname(path), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  async read(key: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    const path = this.path(key);
    return KEY.test(key) && existsSync(path) ? createReadStream(path) : undefined;
  }
}
