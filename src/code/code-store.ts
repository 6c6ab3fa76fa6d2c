import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { KindlingError, RequestEntityTooLargeException } from '../shared/index.js';
import type { BlobStore } from '../store/index.js';
import { markCommonjs } from './commonjs-marker.js';
import { extractZip } from './zip-intake.js';

/** Lambda's limit on a function's unzipped code (and, later, its layers together). */
export const MAX_UNZIPPED_BYTES = 262_144_000;
/**
 * Lambda's limit on a zip uploaded directly (50 MB, the quotas page). AWS mostly enforces it through
 * the request size (70167211 bytes of JSON with the zip in base64); this catches the few zips just
 * over 50 MB whose request still fits.
 */
export const MAX_ZIPPED_BYTES = 52_428_800;

const KEY = /^[0-9a-f]{64}$/;

export interface StoredCode {
  /** Hex SHA-256: the content address. */
  key: string;
  /** Base64 SHA-256, as Lambda's CodeSha256 reports it. */
  sha256: string;
  size: number;
}

export interface UnpackedCode extends StoredCode {
  /** Bytes of the unpacked tree (files and link targets), for the 250 MB limit. */
  unzippedSize: number;
}

/** Builds an image's root file system from the blobs it was pulled into (images/image-store.ts). */
export interface ImageTreeBuilder {
  /** Writes the tree of the image whose manifest is blob `key` to `dir`; resolves to its size. */
  rebuild(key: string, dir: string): Promise<number>;
}

/**
 * Content-addressed code. The artifact itself (a zip, or an image's manifest, config and layers) is
 * a blob in the store's BlobStore, which every machine shares; the unpacked tree under
 * `code/<hex sha256>/` is this machine's cache of it, filled on first use. The same zip uploaded
 * twice costs nothing the second time.
 */
export class CodeStore {
  readonly #blobs: BlobStore;
  readonly #codeDir: string;
  /** One unpack per key at a time: concurrent callers share it. */
  readonly #unpacking = new Map<string, Promise<number>>();
  #images: ImageTreeBuilder | undefined;

  constructor(dataDir: string, blobs: BlobStore) {
    this.#blobs = blobs;
    this.#codeDir = join(dataDir, 'code');
    mkdirSync(this.#codeDir, { recursive: true });
    markCommonjs(this.#codeDir);
  }

  static describe(zip: Buffer): StoredCode {
    const digest = createHash('sha256').update(zip).digest();
    return { key: digest.toString('hex'), sha256: digest.toString('base64'), size: zip.length };
  }

  /** Who rebuilds the trees of PackageType Image functions (the image store). */
  buildImagesWith(images: ImageTreeBuilder): void {
    this.#images = images;
  }

  /**
   * Checks and unpacks the zip (refusing unsafe archives with nothing left behind), then keeps the
   * zip itself in the blob store. Both steps are idempotent per content.
   */
  async put(zip: Buffer): Promise<UnpackedCode> {
    if (zip.length > MAX_ZIPPED_BYTES) {
      throw new RequestEntityTooLargeException(`Zipped size must be smaller than ${MAX_ZIPPED_BYTES} bytes`);
    }
    const code = CodeStore.describe(zip);
    const dir = this.codePath(code.key);
    const unzippedSize = await this.#unpackOnce(code.key, () => extractZip(zip, dir, { maxUnzippedBytes: MAX_UNZIPPED_BYTES }).then((r) => r.bytes));
    await this.#blobs.put(code.key, zip);
    return { ...code, unzippedSize };
  }

  /**
   * The unpacked tree of `key` on this machine, fetched from the blob store and unpacked first when
   * this machine has not seen it yet (a function created through another server). A key the blob
   * store does not hold is a KindlingError `ERR_CODE_MISSING`.
   */
  async ensure(key: string, packageType: 'Zip' | 'Image' = 'Zip'): Promise<string> {
    if (!KEY.test(key)) throw new KindlingError('ERR_CODE_MISSING', `'${key}' is not a code key (a hex SHA-256)`);
    const dir = this.codePath(key);
    if (existsSync(dir)) return dir;
    await this.#unpackOnce(key, () => (packageType === 'Image' ? this.#rebuildImage(key, dir) : this.#fetchZip(key, dir)));
    return dir;
  }

  /** A zip (a function's or a layer's) as uploaded, streamed from the blob store; undefined if unknown. */
  readZip(key: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    return KEY.test(key) ? this.#blobs.read(key) : Promise.resolve(undefined);
  }

  /** The folder holding the unpacked tree of `key` (which may not be there yet: see `ensure`). */
  codePath(key: string): string {
    return join(this.#codeDir, key);
  }

  /** Unpacks once per content; resolves to the unpacked size. */
  #unpackOnce(key: string, unpack: () => Promise<number>): Promise<number> {
    const dir = this.codePath(key);
    let pending = this.#unpacking.get(key);
    if (pending) return pending;
    if (existsSync(dir)) return treeSize(dir);
    pending = unpack().finally(() => this.#unpacking.delete(key));
    this.#unpacking.set(key, pending);
    return pending;
  }

  /**
   * Streams the zip to a temporary file beside the tree and unpacks it from there: yauzl reads the
   * central directory and each member from the file, so a 250 MB layer never sits in memory. The
   * unpack runs every intake check again, and the bytes must still hash to their key.
   */
  async #fetchZip(key: string, dir: string): Promise<number> {
    const blob = await this.#blobs.read(key);
    if (!blob) throw codeMissing(key, 'zip');
    const tmp = `${dir}.zip.tmp-${randomBytes(6).toString('hex')}`;
    try {
      const hash = createHash('sha256');
      await pipeline(
        blob,
        async function* (source: AsyncIterable<Uint8Array>) {
          for await (const chunk of source) {
            hash.update(chunk);
            yield chunk;
          }
        },
        createWriteStream(tmp, { flags: 'wx', mode: 0o600 }),
      );
      const digest = hash.digest('hex');
      if (digest !== key) throw new KindlingError('ERR_BLOB_DIGEST', `The blob store's bytes for code ${key} hash to ${digest}`);
      return (await extractZip(tmp, dir, { maxUnzippedBytes: MAX_UNZIPPED_BYTES })).bytes;
    } finally {
      await rm(tmp, { force: true });
    }
  }

  async #rebuildImage(key: string, dir: string): Promise<number> {
    if (!this.#images) throw new KindlingError('ERR_CODE_MISSING', `Image ${key} cannot be unpacked: this server has no image store`);
    return this.#images.rebuild(key, dir);
  }
}

export function codeMissing(key: string, what: string): KindlingError {
  return new KindlingError(
    'ERR_CODE_MISSING',
    `The ${what} ${key} is neither unpacked on this machine nor in the blob store (lost from the store's blobs, or a data directory moved without them)`,
  );
}

/** What extractZip counted for a tree already unpacked: file sizes plus link target lengths. */
async function treeSize(dir: string): Promise<number> {
  let bytes = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) bytes += await treeSize(path);
    else bytes += (await lstat(path)).size;
  }
  return bytes;
}
