import type { Readable } from 'node:stream';
import type { Descriptor } from './oci-manifest.js';

/**
 * Where an image's documents and layers come from: an OCI layout, an archive, a registry. Every
 * source hands out blobs by descriptor; the image store checks digests and sizes.
 */
export interface ImageSource {
  /** The manifest or index that the reference names, and the media type the transport gave it. */
  top(): Promise<{ readonly bytes: Buffer; readonly mediaType?: string }>;
  /** A small blob (a manifest, a config), already checked against its descriptor. */
  readSmall(descriptor: Descriptor): Promise<Buffer>;
  /** A layer blob as a stream; the reader checks its digest and size as it goes. */
  openLayer(descriptor: Descriptor): Promise<Readable>;
  /** Releases what the source holds (temporary files). Idempotent. */
  close(): Promise<void>;
}

/**
 * The image could not be read from where the ImageUri points (missing file, unreachable or
 * refusing registry). `missing` when the image itself does not exist there.
 */
export class ImageSourceError extends Error {
  constructor(
    message: string,
    readonly missing = false,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
