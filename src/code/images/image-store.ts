import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { InvalidParameterValueException } from '../../shared/errors.js';
import type { BlobStore } from '../../store/index.js';
import type { CodeStore, ImageTreeBuilder } from '../code-store.js';
import { syncPath, syncTree, writeFileDurably } from '../durable.js';
import { openArchive } from './archive-source.js';
import { imageName, ImageUriError, parseImageUri, type ImageReference } from './image-reference.js';
import { loadImage, openLayerBlob, saveImage } from './image-blobs.js';
import { ImageSourceError, type ImageSource } from './image-source.js';
import { ImageBudget, layerTar } from './layer-stream.js';
import { LayoutSource } from './layout-source.js';
import { ImageFormatError, parseConfig, parseTopDocument, pickPlatform, sha256Digest, type ImageRunConfig, type Manifest } from './oci-manifest.js';
import { RegistrySource } from './registry-source.js';
import { RootfsBuilder } from './rootfs-builder.js';

const execFileAsync = promisify(execFile);

/** How deep an index may point to further indexes before it is refused. */
const MAX_INDEX_DEPTH = 3;

export interface ImageStoreOptions {
  /** Uncompressed bytes an image may unpack to (its layer tars together). */
  readonly maxImageBytes: number;
  /** Registry requests: wait for an answer, and for the next byte of a download. */
  readonly registryTimeoutMs: number;
  /** Registries spoken to over plain HTTP besides loopback ones (`host:port`). */
  readonly insecureRegistries: readonly string[];
}

/** An image, resolved to one manifest and unpacked. */
export interface PulledImage {
  /** Hex SHA-256 of the image manifest: the content address of the root file system. */
  readonly key: string;
  /** `sha256:<hex>` of the image manifest. */
  readonly digest: string;
  /** `<image>@sha256:<hex>`: the ImageUri pinned to what was pulled. */
  readonly resolvedUri: string;
  readonly config: ImageRunConfig;
  /** Bytes of the layers' tars, uncompressed. */
  readonly unpackedBytes: number;
  /** The unpacked root file system on the host. */
  readonly rootfs: string;
}

/** Lambda's architectures, as OCI platforms name them. */
const PLATFORM: Readonly<Record<string, string>> = { x86_64: 'amd64', arm64: 'arm64' };

/**
 * Container images (PackageType Image): resolved from an OCI layout, an archive or a registry,
 * checked, copied into the blob store (manifest, config and layers under their digests, see
 * image-blobs.ts), and unpacked from there once per manifest digest into the code store, at
 * `code/<hex digest>` — the same place as an unpacked zip, so everything that finds code by its
 * key finds an image's root file system, and another machine rebuilds it from the same blobs
 * (CodeStore.ensure calls `rebuild`). Unpacking happens in a temporary sibling that is synced and
 * renamed into place.
 */
export class ImageStore implements ImageTreeBuilder {
  readonly #code: CodeStore;
  readonly #blobs: BlobStore;
  readonly #options: ImageStoreOptions;
  readonly #metaDir: string;
  readonly #workDir: string;
  /** One copy into the blob store per manifest at a time: concurrent pulls of an image share it. */
  readonly #saving = new Map<string, Promise<void>>();

  constructor(dataDir: string, code: CodeStore, blobs: BlobStore, options: ImageStoreOptions) {
    this.#code = code;
    this.#blobs = blobs;
    this.#options = options;
    this.#metaDir = join(dataDir, 'images');
    this.#workDir = join(dataDir, 'images', 'work');
    // Work folders (unpacked archives) only live during a pull: what a crash left is garbage.
    rmSync(this.#workDir, { recursive: true, force: true });
    mkdirSync(this.#workDir, { recursive: true });
  }

  /**
   * Resolves and unpacks the image `uri` for `architecture` (x86_64 or arm64). Whatever is wrong
   * with the image or where it points is an InvalidParameterValueException; nothing is left behind.
   */
  async pull(uri: string, architecture: string): Promise<PulledImage> {
    let ref: ImageReference;
    try {
      ref = parseImageUri(uri);
    } catch (err) {
      if (err instanceof ImageUriError) throw new InvalidParameterValueException(`The image URI '${uri}' is not valid: ${err.message}.`, { cause: err });
      throw err;
    }
    const work = await mkdtemp(join(this.#workDir, 'pull-'));
    let source: ImageSource | undefined;
    try {
      source = await this.#open(ref, work);
      const { manifest, digest, bytes } = await resolveManifest(source, PLATFORM[architecture] ?? architecture);
      const configBytes = await source.readSmall(manifest.config);
      const config = parseConfig(configBytes);
      checkPlatform(config, PLATFORM[architecture] ?? architecture);
      if (config.diffIds && config.diffIds.length !== manifest.layers.length) {
        throw new ImageFormatError(`the image config names ${config.diffIds.length} layers, its manifest ${manifest.layers.length}`);
      }
      const key = digest.slice('sha256:'.length);
      checkDeclaredSize(manifest, this.#options.maxImageBytes);
      await this.#saveOnce(key, () => saveImage(this.#blobs, source!, { bytes, manifest }, configBytes));
      const rootfs = await this.#code.ensure(key, 'Image');
      return { key, digest, resolvedUri: `${imageName(ref)}@${digest}`, config, unpackedBytes: this.#recordedSize(key), rootfs };
    } catch (err) {
      throw asApiError(uri, err);
    } finally {
      await source?.close();
      await rm(work, { recursive: true, force: true });
    }
  }

  #open(ref: ImageReference, work: string): Promise<ImageSource> {
    switch (ref.kind) {
      case 'registry':
        return Promise.resolve(new RegistrySource(ref, { timeoutMs: this.#options.registryTimeoutMs, insecureRegistries: this.#options.insecureRegistries }));
      case 'oci':
        return LayoutSource.open(ref.path, { ...(ref.tag ? { tag: ref.tag } : {}), ...(ref.digest ? { digest: ref.digest } : {}) }, `oci:${ref.path}`);
      default:
        return openArchive(ref, work, this.#options.maxImageBytes);
    }
  }

  #saveOnce(key: string, save: () => Promise<void>): Promise<void> {
    let pending = this.#saving.get(key);
    if (!pending) {
      pending = save().finally(() => this.#saving.delete(key));
      this.#saving.set(key, pending);
    }
    return pending;
  }

  /**
   * Builds the root file system of the image whose manifest is blob `key` into `rootfs`, from the
   * blob store (CodeStore.ensure runs this once per key); resolves to its size.
   */
  async rebuild(key: string, rootfs: string): Promise<number> {
    const { manifest, config } = await loadImage(this.#blobs, key);
    checkDeclaredSize(manifest, this.#options.maxImageBytes);
    await mkdir(dirname(rootfs), { recursive: true });
    const tmp = `${rootfs}.tmp-${randomBytes(6).toString('hex')}`;
    await mkdir(tmp);
    try {
      const budget = new ImageBudget(this.#options.maxImageBytes);
      const builder = new RootfsBuilder(tmp);
      for (const [i, layer] of manifest.layers.entries()) {
        const raw = await openLayerBlob(this.#blobs, layer);
        await builder.apply(layerTar(raw, layer, config.diffIds?.[i], budget), `layer ${i + 1} (${layer.digest})`);
      }
      await builder.finish();
      // Durable before it is visible: a power cut must not leave a half-written image in place.
      await syncWholeTree(tmp);
      try {
        await rename(tmp, rootfs);
        await syncPath(dirname(rootfs));
      } catch (err) {
        // Unpacked by someone else first (another server on this data dir): keep theirs.
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
        await rm(tmp, { recursive: true, force: true });
      }
      await writeFileDurably(this.#metaPath(key), Buffer.from(JSON.stringify({ unpackedBytes: budget.spent })));
      return budget.spent;
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
  }

  #recordedSize(key: string): number {
    try {
      const meta = JSON.parse(readFileSync(this.#metaPath(key), 'utf8')) as { unpackedBytes?: unknown };
      return typeof meta.unpackedBytes === 'number' ? meta.unpackedBytes : 0;
    } catch {
      return 0; // unpacked, but the note of its size was lost to a crash: only reporting uses it
    }
  }

  #metaPath(key: string): string {
    return join(this.#metaDir, `${key}.json`);
  }
}

/**
 * One syncfs(2) (coreutils `sync -f`) makes a tree of any size durable at once; an fsync per file,
 * as for zips, takes minutes for an image of 100,000 files. Per-file fsync is the fallback.
 */
async function syncWholeTree(dir: string): Promise<void> {
  try {
    await execFileAsync('sync', ['-f', dir]);
  } catch {
    await syncTree(dir);
  }
}

/** Refused before anything is fetched: the layers' declared (compressed) sizes already pass the limit. */
function checkDeclaredSize(manifest: Manifest, limit: number): void {
  const declared = manifest.layers.reduce((sum, layer) => sum + layer.size, 0);
  if (declared > limit) throw new ImageFormatError(`the image's layers are ${declared} bytes, more than the ${limit} bytes allowed`);
}

/** Follows indexes to the manifest for the platform; the digest is the manifest's own. */
async function resolveManifest(source: ImageSource, platform: string): Promise<{ manifest: Manifest; digest: string; bytes: Buffer }> {
  let { bytes, mediaType } = await source.top();
  for (let depth = 0; depth <= MAX_INDEX_DEPTH; depth++) {
    const doc = parseTopDocument(bytes, mediaType);
    if (doc.kind === 'manifest') return { manifest: doc.manifest, digest: sha256Digest(bytes), bytes };
    const chosen = pickPlatform(doc.manifests, platform);
    bytes = await source.readSmall(chosen);
    mediaType = chosen.mediaType;
  }
  throw new ImageFormatError(`the image's indexes nest deeper than ${MAX_INDEX_DEPTH} levels`);
}

/** Lambda refuses an image built for another architecture than the function's. */
function checkPlatform(config: ImageRunConfig, platform: string): void {
  if (config.os !== undefined && config.os !== 'linux') throw new ImageFormatError(`the image is built for ${config.os}, not linux`);
  if (config.architecture !== undefined && config.architecture !== platform) {
    throw new ImageFormatError(`the image is built for ${config.architecture}, but the function's architecture needs ${platform}`);
  }
}

/** The image's (or its source's) fault is the caller's 400; the server's own failures stay 500s. */
function asApiError(uri: string, err: unknown): unknown {
  if (err instanceof ImageSourceError) {
    return new InvalidParameterValueException(
      err.missing ? `Source image ${uri} does not exist. Provide a valid source image: ${err.message}.` : `Source image ${uri} could not be read: ${err.message}.`,
      { cause: err },
    );
  }
  if (err instanceof ImageFormatError) {
    return new InvalidParameterValueException(`Source image ${uri} is not valid: ${err.message}.`, { cause: err });
  }
  return err;
}
