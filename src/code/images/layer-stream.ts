/**
 * A layer blob turned into its tar: decompressed by what its first bytes say (gzip, zstd or
 * none), with its digest, size, diff id and the image's byte budget checked as bytes go by.
 */
import { createHash } from 'node:crypto';
import { pipeline, Readable, Transform } from 'node:stream';
import * as zlib from 'node:zlib';
import { ImageFormatError, type Descriptor } from './oci-manifest.js';

const GZIP = [0x1f, 0x8b];
const ZSTD = [0x28, 0xb5, 0x2f, 0xfd];

/** Bytes of uncompressed layers an image may unpack to, across all its layers. */
export class ImageBudget {
  #spent = 0;

  constructor(readonly limit: number) {}

  get spent(): number {
    return this.#spent;
  }

  spend(bytes: number): void {
    this.#spent += bytes;
    if (this.#spent > this.limit) throw new ImageFormatError(`the image unpacks to more than the ${this.limit} bytes allowed`);
  }
}

/** The layer's uncompressed tar. Stream errors are ImageFormatError when the data is at fault. */
export function layerTar(raw: Readable, layer: Descriptor, diffId: string | undefined, budget: ImageBudget): Readable {
  return pipeline(raw, checkBlob(layer), decompressed, checkTar(layer, diffId, budget), () => undefined);
}

/** Data sniffed for gzip or zstd and decompressed; anything else passes as it is. */
export async function* decompressed(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const iterator = source[Symbol.asyncIterator]();
  let head = Buffer.alloc(0);
  let ended = false;
  while (head.length < ZSTD.length) {
    const next = await iterator.next();
    if (next.done) {
      ended = true;
      break;
    }
    head = Buffer.concat([head, next.value]);
  }
  const whole = (async function* () {
    if (head.length > 0) yield head;
    if (!ended) for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
  })();
  const inflate = decompressorFor(head);
  if (!inflate) {
    yield* whole;
    return;
  }
  inflate.on('error', () => undefined);
  const output = pipeline(Readable.from(whole), inflate, () => undefined);
  try {
    for await (const chunk of output as AsyncIterable<Buffer>) yield chunk;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code?.startsWith('Z_') || (err as NodeJS.ErrnoException).code?.startsWith('ERR_ZSTD')) {
      throw new ImageFormatError(`the data is not valid compressed data: ${(err as Error).message}`, { cause: err });
    }
    throw err;
  }
}

function decompressorFor(head: Buffer): Transform | undefined {
  if (GZIP.every((byte, i) => head[i] === byte)) return zlib.createGunzip();
  if (ZSTD.every((byte, i) => head[i] === byte)) {
    // zstd is in node:zlib from Node 22.15 / 23.8; on older Node such layers are refused.
    const create = (zlib as unknown as { createZstdDecompress?: () => Transform }).createZstdDecompress;
    if (!create) throw new ImageFormatError(`zstd-compressed layers need Node.js 22.15 or later (this is ${process.version})`);
    return create();
  }
  return undefined;
}

/** The blob is exactly the bytes its descriptor names. */
export function checkBlob(layer: Descriptor): Transform {
  const hash = createHash('sha256');
  let size = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      if (size > layer.size) return done(new ImageFormatError(`layer ${layer.digest} is larger than the ${layer.size} bytes its descriptor says`));
      hash.update(chunk);
      done(null, chunk);
    },
    flush(done) {
      if (size !== layer.size) return done(new ImageFormatError(`layer ${layer.digest} is ${size} bytes, its descriptor says ${layer.size}`));
      const digest = `sha256:${hash.digest('hex')}`;
      done(digest === layer.digest ? null : new ImageFormatError(`layer ${layer.digest} has the digest ${digest}`));
    },
  });
}

/** The uncompressed tar matches the config's diff id, and stays within the image's budget. */
function checkTar(layer: Descriptor, diffId: string | undefined, budget: ImageBudget): Transform {
  const hash = createHash('sha256');
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      try {
        budget.spend(chunk.length);
      } catch (err) {
        return done(err as Error);
      }
      hash.update(chunk);
      done(null, chunk);
    },
    flush(done) {
      if (diffId === undefined) return done();
      const actual = `sha256:${hash.digest('hex')}`;
      done(actual === diffId ? null : new ImageFormatError(`layer ${layer.digest} unpacks to ${actual}, not the diff id ${diffId} its config names`));
    },
  });
}
