import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { ImageSource } from './image-source.js';
import { ImageSourceError } from './image-source.js';
import { ImageFormatError, MAX_JSON_BYTES, parseJson, parseTopDocument, verifyBlob, type Descriptor } from './oci-manifest.js';

/** The annotation an OCI layout's index.json names its tags with. */
const REF_NAME = 'org.opencontainers.image.ref.name';

/** An OCI image layout directory (image-spec `image-layout.md`): `oci-layout`, `index.json`, `blobs/`. */
export class LayoutSource implements ImageSource {
  readonly #dir: string;
  readonly #selector: { readonly tag?: string; readonly digest?: string };
  readonly #label: string;

  private constructor(dir: string, selector: { tag?: string; digest?: string }, label: string) {
    this.#dir = dir;
    this.#selector = selector;
    this.#label = label;
  }

  /** `label` names the layout in messages (the archive it came from, say). */
  static async open(dir: string, selector: { tag?: string; digest?: string }, label = dir): Promise<LayoutSource> {
    const marker = await readLocal(join(dir, 'oci-layout'), `${label} is not an OCI image layout (it has no oci-layout file)`);
    const version = parseJson(marker, 'oci-layout file')['imageLayoutVersion'];
    if (typeof version !== 'string' || !version.startsWith('1.')) {
      throw new ImageFormatError(`${label} has the unsupported image layout version '${String(version)}'`);
    }
    return new LayoutSource(dir, selector, label);
  }

  async top(): Promise<{ bytes: Buffer; mediaType?: string }> {
    const index = parseTopDocument(await readLocal(join(this.#dir, 'index.json'), `${this.#label} has no index.json`));
    if (index.kind !== 'index') throw new ImageFormatError(`the index.json of ${this.#label} is not an image index`);
    const chosen = this.#choose(index.manifests);
    return { bytes: await this.readSmall(chosen), mediaType: chosen.mediaType };
  }

  async readSmall(descriptor: Descriptor): Promise<Buffer> {
    if (descriptor.size > MAX_JSON_BYTES) throw new ImageFormatError(`blob ${descriptor.digest} is larger than ${MAX_JSON_BYTES} bytes`);
    const bytes = await readLocal(this.#blobPath(descriptor), `blob ${descriptor.digest} is missing from ${this.#label}`);
    verifyBlob(descriptor, bytes);
    return bytes;
  }

  async openLayer(descriptor: Descriptor): Promise<Readable> {
    const path = this.#blobPath(descriptor);
    try {
      if (!(await stat(path)).isFile()) throw new ImageFormatError(`blob ${descriptor.digest} of ${this.#label} is not a file`);
    } catch (err) {
      if (err instanceof ImageFormatError) throw err;
      throw new ImageSourceError(`blob ${descriptor.digest} is missing from ${this.#label}`, false, { cause: err });
    }
    return createReadStream(path);
  }

  async close(): Promise<void> {}

  #choose(manifests: readonly Descriptor[]): Descriptor {
    const { tag, digest } = this.#selector;
    if (digest !== undefined) {
      const found = manifests.find((d) => d.digest === digest);
      if (!found) throw new ImageSourceError(`${this.#label} has no image with the digest ${digest}`, true);
      return found;
    }
    if (tag !== undefined) {
      const found = manifests.find((d) => d.annotations?.[REF_NAME] === tag);
      if (!found) throw new ImageSourceError(`${this.#label} has no image tagged '${tag}'`, true);
      return found;
    }
    const only = manifests[0];
    if (manifests.length !== 1 || !only) {
      throw new ImageSourceError(`${this.#label} holds ${manifests.length} images: name one with :<tag> or @sha256:<digest>`, manifests.length === 0);
    }
    return only;
  }

  #blobPath(descriptor: Descriptor): string {
    // Digests are checked against /^sha256:[a-f0-9]{64}$/ when parsed, so this stays under blobs/.
    const [algorithm, hex] = descriptor.digest.split(':') as [string, string];
    return join(this.#dir, 'blobs', algorithm, hex);
  }
}

/** Reads a (small) file of a local image; a missing one is the image's fault, not the server's. */
export async function readLocal(path: string, missing: string): Promise<Buffer> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new ImageSourceError(missing, true);
    if (info.size > MAX_JSON_BYTES) throw new ImageFormatError(`${path} is larger than ${MAX_JSON_BYTES} bytes`);
    return await readFile(path);
  } catch (err) {
    if (err instanceof ImageSourceError || err instanceof ImageFormatError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new ImageSourceError(code === 'ENOENT' || code === 'ENOTDIR' ? missing : `${missing} (${code ?? 'unreadable'})`, true, { cause: err });
  }
}
