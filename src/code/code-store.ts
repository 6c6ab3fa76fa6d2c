import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { RequestEntityTooLargeException } from '../shared/index.js';
import { writeFileDurably, writeFileDurablySync } from './durable.js';
import { extractZip } from './zip-intake.js';

/** Lambda's limit on a function's unzipped code (and, later, its layers together). */
export const MAX_UNZIPPED_BYTES = 262_144_000;
/**
 * Lambda's limit on a zip uploaded directly (50 MB, the quotas page). AWS mostly enforces it through
 * the request size (70167211 bytes of JSON with the zip in base64); this catches the few zips just
 * over 50 MB whose request still fits.
 */
export const MAX_ZIPPED_BYTES = 52_428_800;

const COMMONJS_MARKER = '{"type":"commonjs"}\n';

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

/**
 * Content-addressed code: each zip is kept once under `blobs/<hex sha256>.zip` and unpacked once
 * under `code/<hex sha256>/`. The same zip uploaded twice costs nothing the second time.
 */
export class CodeStore {
  readonly #blobDir: string;
  readonly #codeDir: string;
  readonly #unpacking = new Map<string, Promise<number>>();

  constructor(dataDir: string) {
    this.#blobDir = join(dataDir, 'blobs');
    this.#codeDir = join(dataDir, 'code');
    mkdirSync(this.#blobDir, { recursive: true });
    mkdirSync(this.#codeDir, { recursive: true });
    // Node decides whether a `.js` file is CommonJS from the nearest package.json; this one stops
    // the search here, so a project's own `"type": "module"` above the data dir never leaks into
    // function code (Lambda's /var/task has nothing above it).
    // Checked on every start: a power cut can leave it empty, and an empty package.json breaks
    // every function's import.
    const marker = join(this.#codeDir, 'package.json');
    if (!existsSync(marker) || readFileSync(marker, 'utf8') !== COMMONJS_MARKER) writeFileDurablySync(marker, COMMONJS_MARKER);
  }

  static describe(zip: Buffer): StoredCode {
    const digest = createHash('sha256').update(zip).digest();
    return { key: digest.toString('hex'), sha256: digest.toString('base64'), size: zip.length };
  }

  /**
   * Checks and unpacks the zip (refusing unsafe archives with nothing left behind), then keeps the
   * zip itself. Both steps are idempotent per content.
   */
  async put(zip: Buffer): Promise<UnpackedCode> {
    if (zip.length > MAX_ZIPPED_BYTES) {
      throw new RequestEntityTooLargeException(`Zipped size must be smaller than ${MAX_ZIPPED_BYTES} bytes`);
    }
    const code = CodeStore.describe(zip);
    const unzippedSize = await this.#unpack(code.key, zip);
    const blob = this.blobPath(code.key);
    if (!existsSync(blob)) await writeFileDurably(blob, zip);
    return { ...code, unzippedSize };
  }

  blobPath(key: string): string {
    return join(this.#blobDir, `${key}.zip`);
  }

  /** The folder holding the unpacked tree of `key`. */
  codePath(key: string): string {
    return join(this.#codeDir, key);
  }

  /** Unpacks once per content; resolves to the unpacked size. */
  #unpack(key: string, zip: Buffer): Promise<number> {
    const dir = this.codePath(key);
    if (existsSync(dir)) return treeSize(dir);
    let pending = this.#unpacking.get(key);
    if (!pending) {
      pending = extractZip(zip, dir, { maxUnzippedBytes: MAX_UNZIPPED_BYTES })
        .then((result) => result.bytes)
        .finally(() => this.#unpacking.delete(key));
      this.#unpacking.set(key, pending);
    }
    return pending;
  }
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
