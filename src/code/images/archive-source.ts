/**
 * Image archives on the server's machine: `oci-archive:` (an OCI layout in a tar) and
 * `docker-archive:` (what `docker save` writes). The archive is unpacked into a private work
 * folder, flat files only, and read from there.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { link, mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { LocalReference } from './image-reference.js';
import { ImageSourceError, type ImageSource } from './image-source.js';
import { decompressed } from './layer-stream.js';
import { LayoutSource, readLocal } from './layout-source.js';
import { ImageFormatError, MEDIA_TYPES, type Descriptor } from './oci-manifest.js';
import { eachTarEntry, entrySegments } from './tar-entries.js';

/** Linux gives up resolving a path after 40 links (MAXSYMLINKS). */
const MAX_LINK_HOPS = 40;

export async function openArchive(ref: LocalReference, workDir: string, maxBytes: number): Promise<ImageSource> {
  const label = `${ref.kind}:${ref.path}`;
  await unpackArchive(ref.path, workDir, maxBytes, label);
  if (ref.kind === 'oci-archive') {
    return LayoutSource.open(workDir, { ...(ref.tag ? { tag: ref.tag } : {}), ...(ref.digest ? { digest: ref.digest } : {}) }, label);
  }
  return DockerArchiveSource.open(workDir, ref, label);
}

/**
 * `docker save`'s format: `manifest.json` lists each image's config file and layer tars. It has no
 * registry manifest, so one is made here the way skopeo makes one when it copies such an image
 * (schema 2, uncompressed layers as they are): the same archive always gives the same digest.
 */
class DockerArchiveSource implements ImageSource {
  readonly #dir: string;
  readonly #files: Map<string, string>;
  readonly #manifest: Buffer;

  private constructor(dir: string, manifest: Buffer, files: Map<string, string>) {
    this.#dir = dir;
    this.#manifest = manifest;
    this.#files = files;
  }

  static async open(dir: string, ref: LocalReference, label: string): Promise<DockerArchiveSource> {
    const doc = parseJsonList(await readLocal(join(dir, 'manifest.json'), `${label} has no manifest.json: it is not a docker-archive`));
    if (!Array.isArray(doc)) throw new ImageFormatError(`the manifest.json of ${label} is not a list`);
    const entry = pick(doc, ref, label);
    const files = new Map<string, string>();
    const describe = async (name: unknown, mediaType: (head: Buffer) => string): Promise<Descriptor> => {
      if (typeof name !== 'string') throw new ImageFormatError(`the manifest.json of ${label} names a file that is not a string`);
      const path = join(dir, ...entrySegments(name, label));
      const { digest, size, head } = await hashFile(path, `${label} has no file '${name}'`);
      files.set(digest, path);
      return { mediaType: mediaType(head), digest, size };
    };
    const config = await describe(entry['Config'], () => MEDIA_TYPES.dockerConfig);
    if (!Array.isArray(entry['Layers'])) throw new ImageFormatError(`the manifest.json of ${label} has no Layers list`);
    const layers: Descriptor[] = [];
    for (const layer of entry['Layers'] as unknown[]) {
      layers.push(await describe(layer, (head) => (head[0] === 0x1f && head[1] === 0x8b ? MEDIA_TYPES.dockerLayerGzip : MEDIA_TYPES.dockerLayer)));
    }
    const manifest = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.dockerManifest,
      config: { mediaType: config.mediaType, size: config.size, digest: config.digest },
      layers: layers.map((d) => ({ mediaType: d.mediaType, size: d.size, digest: d.digest })),
    };
    return new DockerArchiveSource(dir, Buffer.from(JSON.stringify(manifest)), files);
  }

  async top(): Promise<{ bytes: Buffer; mediaType: string }> {
    return { bytes: this.#manifest, mediaType: MEDIA_TYPES.dockerManifest };
  }

  async readSmall(descriptor: Descriptor): Promise<Buffer> {
    return readLocal(this.#path(descriptor), `blob ${descriptor.digest} is missing`);
  }

  async openLayer(descriptor: Descriptor): Promise<Readable> {
    return createReadStream(this.#path(descriptor));
  }

  async close(): Promise<void> {}

  #path(descriptor: Descriptor): string {
    const path = this.#files.get(descriptor.digest);
    if (path === undefined) throw new ImageSourceError(`${this.#dir} has no blob ${descriptor.digest}`);
    return path;
  }
}

function parseJsonList(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    throw new ImageFormatError('the manifest.json of the docker-archive is not valid JSON');
  }
}

function pick(entries: unknown[], ref: LocalReference, label: string): Record<string, unknown> {
  const records = entries.filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null && !Array.isArray(e));
  if (ref.index !== undefined) {
    const found = records[ref.index];
    if (!found) throw new ImageSourceError(`${label} has no image @${ref.index} (it holds ${records.length})`, true);
    return found;
  }
  if (ref.tag !== undefined) {
    // docker names a tagless reference ':latest'.
    const wanted = ref.tag.includes(':') ? ref.tag : `${ref.tag}:latest`;
    const found = records.find((e) => Array.isArray(e['RepoTags']) && (e['RepoTags'] as unknown[]).includes(wanted));
    if (!found) throw new ImageSourceError(`${label} has no image tagged '${wanted}'`, true);
    return found;
  }
  const only = records[0];
  if (records.length !== 1 || !only) {
    throw new ImageSourceError(`${label} holds ${records.length} images: name one with :<repo>:<tag> or :@<index>`, records.length === 0);
  }
  return only;
}

async function hashFile(path: string, missing: string): Promise<{ digest: string; size: number; head: Buffer }> {
  try {
    if (!(await stat(path)).isFile()) throw new ImageSourceError(missing, true);
  } catch (err) {
    if (err instanceof ImageSourceError) throw err;
    throw new ImageSourceError(missing, true, { cause: err });
  }
  const hash = createHash('sha256');
  let size = 0;
  let head = Buffer.alloc(0);
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    if (head.length < 4) head = Buffer.concat([head, chunk.subarray(0, 4)]);
    size += chunk.length;
  }
  return { digest: `sha256:${hash.digest('hex')}`, size, head };
}

/**
 * Unpacks the archive's regular files into `dir`. Links (docker save links repeated layers) become
 * hard links to the file they name inside the archive; a link leading anywhere else is refused.
 */
async function unpackArchive(archive: string, dir: string, maxBytes: number, label: string): Promise<void> {
  let input: Readable;
  try {
    const info = await stat(archive);
    if (!info.isFile()) throw new ImageSourceError(`${archive} is not a file`, true);
    input = createReadStream(archive);
  } catch (err) {
    if (err instanceof ImageSourceError) throw err;
    throw new ImageSourceError(`${archive} does not exist or cannot be read`, true, { cause: err });
  }
  let spent = 0;
  const files = new Set<string>();
  const links: { path: string; target: string; symbolic: boolean; name: string }[] = [];
  await eachTarEntry(Readable.from(decompressed(input)), label, async (header, data) => {
    const segments = entrySegments(header.name, label);
    if (segments.length === 0) return;
    const path = segments.join('/');
    if (header.type === 'directory') {
      await mkdir(join(dir, path), { recursive: true });
    } else if (header.type === 'file' || header.type === 'contiguous-file') {
      if (files.has(path)) throw new ImageFormatError(`${label}: '${path}' appears more than once`);
      await mkdir(dirname(join(dir, path)), { recursive: true });
      const budget = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          spent += chunk.length;
          done(spent > maxBytes ? new ImageFormatError(`${label} holds more than ${maxBytes} bytes`) : null, chunk);
        },
      });
      await pipeline(data, budget, createWriteStream(join(dir, path), { flags: 'wx' }));
      files.add(path);
    } else if ((header.type === 'symlink' || header.type === 'link') && header.linkname) {
      links.push({ path, target: header.linkname, symbolic: header.type === 'symlink', name: header.name });
    }
  });
  for (const entry of links) {
    const target = resolveInside(entry, links, label);
    if (!files.has(target)) continue; // a link to nothing the image uses
    await mkdir(dirname(join(dir, entry.path)), { recursive: true });
    await link(join(dir, target), join(dir, entry.path));
    files.add(entry.path);
  }
  if (files.size === 0) throw new ImageFormatError(`${label} holds no files`);
}

/** The archive path a link leads to, followed through the archive's other links, never outside it. */
function resolveInside(entry: { path: string; target: string; symbolic: boolean; name: string }, links: readonly { path: string; target: string; symbolic: boolean }[], label: string): string {
  let current = entry;
  for (let hops = 0; hops < MAX_LINK_HOPS; hops++) {
    // A hard link names a path from the archive's root; a symbolic one is relative to its folder.
    const base = current.symbolic ? current.path.split('/').slice(0, -1) : [];
    if (current.target.startsWith('/')) throw new ImageFormatError(`${label}: link '${entry.name}' leads outside the archive`);
    for (const segment of current.target.split('/')) {
      if (segment === '' || segment === '.') continue;
      if (segment === '..') {
        if (base.pop() === undefined) throw new ImageFormatError(`${label}: link '${entry.name}' leads outside the archive`);
      } else base.push(segment);
    }
    const resolved = base.join('/');
    const next = links.find((l) => l.path === resolved);
    if (!next) return resolved;
    current = { ...next, name: entry.name };
  }
  throw new ImageFormatError(`${label}: link '${entry.name}' has too many levels of links`);
}
