/**
 * Applies an image's layers, in order, to one folder: its root file system.
 *
 * Layer tars are applied the way container runtimes apply them (OCI image spec, "Applying
 * Changesets"): later entries replace earlier ones, directories merge, `.wh.<name>` deletes a
 * lower layer's `<name>` and `.wh..wh..opq` empties a directory of what lower layers put there.
 *
 * Nothing is ever written outside the root: names with `..` or a leading `/` are refused, and a
 * path through a symbolic link is resolved as the kernel will resolve it once the root is the
 * sandbox's `/`: an absolute target starts again at the root, `..` stops there. Links themselves
 * are kept as the image has them (absolute targets are normal in images, `/bin -> usr/bin`); they
 * only mean anything inside the sandbox, where the root is `/`. Device nodes are not created.
 */
import { chmod, link, lstat, mkdir, open, readdir, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ImageFormatError } from './oci-manifest.js';
import { eachTarEntry, entrySegments, MAX_NAME, refuse, show, type TarHeader } from './tar-entries.js';

/** Linux gives up resolving a path after 40 links (MAXSYMLINKS). */
const MAX_LINK_HOPS = 40;
/** Entries across all layers: far beyond real images, a stop for archives of millions of empty files. */
export const MAX_ENTRIES = 1_000_000;
const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';

/**
 * Mount points every unpacked image has as real directories and files, whatever its layers say,
 * so that a sandbox can mount over them in a read-only root (see docs/images.md).
 */
export const MOUNT_POINTS = {
  dirs: ['proc', 'dev', 'tmp', 'run', 'etc'],
  files: ['etc/passwd', 'etc/group', 'etc/hosts', 'etc/resolv.conf'],
} as const;

export class RootfsBuilder {
  readonly #root: string;
  /** Modes of the directories the layers named, applied at the end (the tree is written first). */
  readonly #dirModes = new Map<string, number>();
  #entries = 0;

  constructor(root: string) {
    this.#root = root;
  }

  /** Applies one layer's (uncompressed) tar; `where` names the layer in messages. */
  async apply(tar: Readable, where: string): Promise<void> {
    // Paths this layer wrote: its whiteouts only hide what lower layers put there.
    const written = new Set<string>();
    await eachTarEntry(tar, where, (header, data) => this.#entry(header, data, written, where));
  }

  /** Mount points, directory modes: run once after the last layer. */
  async finish(): Promise<void> {
    for (const dir of MOUNT_POINTS.dirs) await this.#ensure(dir, 'dir');
    for (const file of MOUNT_POINTS.files) await this.#ensure(file, 'file');
    const byDepth = [...this.#dirModes].sort((a, b) => b[0].split('/').length - a[0].split('/').length);
    for (const [rel, mode] of byDepth) {
      const path = join(this.#root, rel);
      // chmod follows links: only a directory still standing there gets its mode.
      if ((await lstat(path).catch(() => undefined))?.isDirectory()) await chmod(path, mode);
    }
    await chmod(this.#root, 0o755);
  }

  async #entry(header: TarHeader, data: AsyncIterable<Buffer>, written: Set<string>, where: string): Promise<void> {
    if (++this.#entries > MAX_ENTRIES) throw new ImageFormatError(`the image has more than ${MAX_ENTRIES} entries`);
    const segments = entrySegments(header.name, where);
    const name = segments.pop();
    if (name === undefined) return; // the root itself
    if (name.startsWith(WHITEOUT)) return this.#whiteout(segments, name, written, where, header.name);

    const parent = await this.#resolveDir(segments, written, where, header.name);
    if (parent === undefined) throw refuse(where, header.name, 'has a parent that is not a directory');
    const rel = [...parent, name].join('/');
    const path = join(this.#root, rel);
    const existing = await lstat(path).catch(() => undefined);
    switch (header.type) {
      case 'directory':
        if (!existing?.isDirectory()) {
          if (existing) await rm(path, { recursive: true, force: true });
          await mkdir(path);
          await chmod(path, 0o755);
        }
        this.#dirModes.set(rel, (header.mode ?? 0o755) & 0o755);
        break;
      case 'file':
      case 'contiguous-file':
        if (existing) await rm(path, { recursive: true, force: true });
        await writeData(path, data);
        // Kept: the exec bits. Dropped: setuid/setgid/sticky and group/world write (the tree lives
        // in the server's data directory; the sandbox sees it read-only anyway).
        await chmod(path, (header.mode ?? 0o644) & 0o755);
        break;
      case 'symlink': {
        const target = header.linkname ?? '';
        if (target === '' || target.includes('\0') || target.length > MAX_NAME) throw refuse(where, header.name, 'is a symbolic link with an invalid target');
        if (existing) await rm(path, { recursive: true, force: true });
        await symlink(target, path);
        break;
      }
      case 'link': {
        const target = await this.#hardLinkTarget(header, where);
        if (target === path) break;
        if (existing) await rm(path, { recursive: true, force: true });
        await link(target, path);
        break;
      }
      case 'character-device':
      case 'block-device':
      case 'fifo':
        // A sandbox gets its own /dev; device nodes from an image are never made.
        return;
      default:
        throw refuse(where, header.name, `has an unsupported type (${String(header.type)})`);
    }
    written.add(rel);
  }

  async #whiteout(parentSegments: string[], name: string, written: Set<string>, where: string, raw: string): Promise<void> {
    const parent = await this.#resolveDir(parentSegments, undefined, where, raw);
    if (parent === undefined) return; // nothing below to hide
    if (name === OPAQUE) return this.#opaque(parent.join('/'), written);
    if (name.startsWith(`${WHITEOUT}${WHITEOUT}`)) return; // other AUFS bookkeeping
    const hidden = name.slice(WHITEOUT.length);
    if (hidden === '' || hidden === '.' || hidden === '..') throw refuse(where, raw, 'is a whiteout of nothing');
    const rel = [...parent, hidden].join('/');
    if (!written.has(rel)) await rm(join(this.#root, rel), { recursive: true, force: true });
  }

  /** Deletes what lower layers put under `dir`, keeping what this layer wrote. */
  async #opaque(dir: string, written: Set<string>): Promise<void> {
    const entries = await readdir(join(this.#root, dir), { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const rel = dir === '' ? entry.name : `${dir}/${entry.name}`;
      if (!written.has(rel)) await rm(join(this.#root, rel), { recursive: true, force: true });
      else if (entry.isDirectory()) await this.#opaque(rel, written);
    }
  }

  /** The file a hard link names: inside the root, existing, not a directory. */
  async #hardLinkTarget(header: TarHeader, where: string): Promise<string> {
    const segments = entrySegments(header.linkname ?? '', where);
    const name = segments.pop();
    if (name === undefined) throw refuse(where, header.name, 'is a hard link to the image root');
    const parent = await this.#resolveDir(segments, undefined, where, header.name);
    const target = parent === undefined ? undefined : join(this.#root, ...parent, name);
    const info = target === undefined ? undefined : await lstat(target).catch(() => undefined);
    if (!target || !info || info.isDirectory()) {
      throw refuse(where, header.name, `is a hard link to '${show(header.linkname ?? '')}', which is not a file in the image`);
    }
    return target;
  }

  /**
   * The real path (segments from the root) of the directory `segments` names, following links
   * inside the root. Missing directories are made when `created` collects them, else the answer
   * is undefined; so it is when the path runs into a file.
   */
  async #resolveDir(segments: readonly string[], created: Set<string> | undefined, where: string, raw: string): Promise<string[] | undefined> {
    const current: string[] = [];
    const pending = [...segments];
    let hops = 0;
    for (let segment = pending.shift(); segment !== undefined; segment = pending.shift()) {
      if (segment === '' || segment === '.') continue;
      if (segment === '..') {
        current.pop(); // `..` at the root stays at the root, as in the sandbox
        continue;
      }
      const path = join(this.#root, ...current, segment);
      const info = await lstat(path).catch(() => undefined);
      if (!info) {
        if (!created) return undefined;
        await mkdir(path);
        await chmod(path, 0o755);
        current.push(segment);
        created.add(current.join('/'));
        continue;
      }
      if (info.isSymbolicLink()) {
        if (++hops > MAX_LINK_HOPS) throw refuse(where, raw, 'is reached through too many levels of symbolic links');
        const target = await readlink(path);
        if (target.startsWith('/')) current.length = 0;
        pending.unshift(...target.split('/'));
        continue;
      }
      if (!info.isDirectory()) return undefined;
      current.push(segment);
    }
    return current;
  }

  async #ensure(rel: string, kind: 'dir' | 'file'): Promise<void> {
    const path = join(this.#root, rel);
    const info = await lstat(path).catch(() => undefined);
    if (kind === 'dir') {
      // Whatever mode the image gave it, the sandbox's user must be able to reach a mount point.
      this.#dirModes.set(rel, 0o755);
      if (info?.isDirectory()) return;
      if (info) await rm(path, { recursive: true, force: true });
      await mkdir(path);
    } else if (!info?.isFile()) {
      if (info) await rm(path, { recursive: true, force: true });
      await writeFile(path, '', { mode: 0o644 });
    }
  }
}

async function writeData(path: string, data: AsyncIterable<Buffer>): Promise<void> {
  // O_EXCL: whatever stood here was removed; nothing is ever written through a link.
  const handle = await open(path, 'wx', 0o600);
  try {
    for await (const chunk of data) await handle.write(chunk);
  } finally {
    await handle.close();
  }
}
