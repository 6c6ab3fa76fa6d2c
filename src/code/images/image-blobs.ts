/**
 * An image as blobs: what another machine needs to build the same root file system. The manifest,
 * the config and each (compressed) layer are kept in the store's BlobStore under their own sha256
 * digests, so the manifest's digest, which is the function's code key, leads to everything else.
 */
import { pipeline, Readable } from 'node:stream';
import type { BlobStore } from '../../store/index.js';
import { codeMissing } from '../code-store.js';
import type { ImageSource } from './image-source.js';
import { checkBlob } from './layer-stream.js';
import { ImageFormatError, MAX_JSON_BYTES, parseConfig, parseTopDocument, sha256Digest, verifyBlob, type Descriptor, type ImageRunConfig, type Manifest } from './oci-manifest.js';

/** A descriptor's digest as a blob key (parsing checked it is `sha256:<64 hex>`). */
function keyOf(descriptor: Descriptor): string {
  return descriptor.digest.slice('sha256:'.length);
}

/**
 * Copies the image's blobs from its source into the blob store, layers streamed and checked against
 * their descriptors on the way (a lying source never fills the store). The manifest goes in last:
 * where it is, its config and layers are too. Blobs already there are not fetched again.
 */
export async function saveImage(blobs: BlobStore, source: ImageSource, manifest: { bytes: Buffer; manifest: Manifest }, config: Buffer): Promise<void> {
  const key = sha256Digest(manifest.bytes).slice('sha256:'.length);
  if (await blobs.has(key)) return;
  await blobs.put(keyOf(manifest.manifest.config), config);
  for (const layer of manifest.manifest.layers) {
    if (await blobs.has(keyOf(layer))) continue;
    const raw = await source.openLayer(layer);
    await blobs.put(keyOf(layer), pipeline(raw, checkBlob(layer), () => undefined));
  }
  await blobs.put(key, manifest.bytes);
}

/** The manifest and config of the image whose manifest is blob `key`. */
export async function loadImage(blobs: BlobStore, key: string): Promise<{ manifest: Manifest; config: ImageRunConfig }> {
  const bytes = await readSmall(blobs, key, 'image');
  if (sha256Digest(bytes) !== `sha256:${key}`) throw new ImageFormatError(`the blob store's manifest ${key} has another digest`);
  const doc = parseTopDocument(bytes);
  if (doc.kind !== 'manifest') throw new ImageFormatError(`blob ${key} is not an image manifest`);
  const configBytes = await readSmall(blobs, keyOf(doc.manifest.config), 'image config');
  verifyBlob(doc.manifest.config, configBytes);
  return { manifest: doc.manifest, config: parseConfig(configBytes) };
}

/** A layer's blob as the stream layerTar reads (which checks its digest again). */
export async function openLayerBlob(blobs: BlobStore, layer: Descriptor): Promise<Readable> {
  const blob = await blobs.read(keyOf(layer));
  if (!blob) throw codeMissing(keyOf(layer), 'image layer');
  return Readable.from(blob, { objectMode: false });
}

async function readSmall(blobs: BlobStore, key: string, what: string): Promise<Buffer> {
  const blob = await blobs.read(key);
  if (!blob) throw codeMissing(key, what);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of blob) {
    size += chunk.length;
    if (size > MAX_JSON_BYTES) throw new ImageFormatError(`blob ${key} is larger than ${MAX_JSON_BYTES} bytes`);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}
