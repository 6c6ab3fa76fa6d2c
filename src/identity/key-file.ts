import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { KindlingError } from '../shared/index.js';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * The master key kept outside the database (`--key-file`): access keys' secrets are sealed with a
 * key derived from it, so a copy of the database alone reveals no secret. Made on first start
 * (0600); every api node of a fleet must have the same file, or it cannot open the secrets.
 */
export class KeyFile {
  readonly #master: Buffer;
  readonly #sealing: Buffer;

  private constructor(master: Buffer) {
    this.#master = master;
    this.#sealing = this.deriveKey('kindling/access-key-secrets');
  }

  /** Reads the file, or makes it (32 random bytes, base64, mode 0600) when it does not exist. */
  static openOrCreate(path: string): { keyFile: KeyFile; created: boolean } {
    let text: string;
    let created = false;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw unusable(path, (err as Error).message, err);
      mkdirSync(dirname(path), { recursive: true });
      text = `${randomBytes(KEY_BYTES).toString('base64')}\n`;
      try {
        // `wx`: two processes starting at once never overwrite each other's key.
        writeFileSync(path, text, { mode: 0o600, flag: 'wx' });
        created = true;
      } catch (writeErr) {
        if ((writeErr as NodeJS.ErrnoException).code !== 'EEXIST') throw unusable(path, (writeErr as Error).message, writeErr);
        text = readFileSync(path, 'utf8');
      }
    }
    if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
    const master = Buffer.from(text.trim(), 'base64');
    if (master.length !== KEY_BYTES) throw unusable(path, `it must hold ${KEY_BYTES} bytes in base64, it holds ${master.length}`);
    return { keyFile: new KeyFile(master), created };
  }

  /** A key of `length` bytes for one purpose (HKDF-SHA256 of the master key, `label` as info). */
  deriveKey(label: string, length = 32): Buffer {
    return Buffer.from(hkdfSync('sha256', this.#master, Buffer.alloc(0), label, length));
  }

  /** AES-256-GCM: iv, tag, ciphertext. `context` (the key id) is bound in, so a sealed secret cannot be moved to another row. */
  seal(plaintext: string, context: string): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#sealing, iv);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]);
  }

  open(sealed: Buffer, context: string): string {
    const decipher = createDecipheriv('aes-256-gcm', this.#sealing, sealed.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch (err) {
      throw new KindlingError('ERR_KEY_FILE', `An access key's secret cannot be opened with this key file (is it the one the key was made with?)`, { cause: err });
    }
  }
}

function unusable(path: string, why: string, cause?: unknown): KindlingError {
  return new KindlingError('ERR_KEY_FILE', `The key file ${path} cannot be used: ${why}`, cause === undefined ? undefined : { cause });
}
