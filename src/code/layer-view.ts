import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { chmod, mkdir, readdir, readlink, rename, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { FunctionLayer } from '../store/index.js';
import type { CodeStore } from './code-store.js';
import { markCommonjs } from './commonjs-marker.js';
import { syncPath, syncTree } from './durable.js';
import { resolveLink } from './link-resolution.js';
import { linkOrCopy } from './link-tree.js';

/** Linux gives up resolving a path after 40 links (MAXSYMLINKS). */

type Entry = { kind: 'dir' } | { kind: 'file'; source: string } | { kind: 'link'; target: string };

/**
 * What a function sees at /opt: its layers merged in order into one folder, later layers winning
 * on the same path, as Lambda extracts them. One folder per list of layers,
 * `<data>/opt/<sha256 of the keys>`, built once, atomically and durably; files are hard links into
 * the code store's unpacked trees (copies where links cannot be made), which the code store fetches
 * from the blob store when this machine has not unpacked a layer yet.
 */
export class LayerView {
  readonly #optDir: string;
  readonly #code: CodeStore;
  readonly #building = new Map<string, Promise<string>>();

  constructor(dataDir: string, code: CodeStore) {
    this.#optDir = join(dataDir, 'opt');
    this.#code = code;
    mkdirSync(this.#optDir, { recursive: true });
    markCommonjs(this.#optDir);
  }

  /** The merged folder for these layers (in this order), or undefined when there are none. */
  optDir(layers: readonly FunctionLayer[]): Promise<string | undefined> {
    if (layers.length === 0) return Promise.resolve(undefined);
    const keys = layers.map((layer) => layer.codeKey);
    const dir = join(this.#optDir, createHash('sha256').update(keys.join('\n')).digest('hex'));
    if (existsSync(dir)) return Promise.resolve(dir);
    let pending = this.#building.get(dir);
    if (!pending) {
      pending = this.#build(keys, dir).finally(() => this.#building.delete(dir));
      this.#building.set(dir, pending);
    }
    return pending;
  }

  async #build(keys: readonly string[], dir: string): Promise<string> {
    const merged = new Map<string, Entry>();
    for (const key of keys) await this.#overlay(await this.#code.ensure(key), '', merged);
    dropEscapingLinks(merged);

    const tmp = `${dir}.tmp-${randomBytes(6).toString('hex')}`;
    try {
      await mkdir(tmp);
      await chmod(tmp, 0o755);
      // A parent's path is a prefix of its children's, so sorted order creates parents first;
      // links go in last, so nothing is ever written through one.
      const paths = [...merged.keys()].sort();
      for (const path of paths) {
        const entry = merged.get(path)!;
        if (entry.kind === 'dir') {
          await mkdir(join(tmp, path));
          await chmod(join(tmp, path), 0o755);
        } else if (entry.kind === 'file') {
          await linkOrCopy(entry.source, join(tmp, path));
        }
      }
      for (const path of paths) {
        const entry = merged.get(path)!;
        if (entry.kind === 'link') await symlink(entry.target, join(tmp, path));
      }
      // Durable before it is visible: a power cut must not leave a half-built /opt in place.
      await syncTree(tmp);
      try {
        await rename(tmp, dir);
        await syncPath(this.#optDir);
      } catch (err) {
        // Built by someone else first: the same keys give the same content, so keep theirs.
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
        await rm(tmp, { recursive: true, force: true });
      }
      return dir;
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
  }


  /** Lays `root` over `merged`: a later entry replaces an earlier one; directories merge. */
  async #overlay(root: string, relative: string, merged: Map<string, Entry>): Promise<void> {
    for (const dirent of await readdir(join(root, relative), { withFileTypes: true })) {
      const path = relative === '' ? dirent.name : `${relative}/${dirent.name}`;
      const previous = merged.get(path);
      if (dirent.isDirectory()) {
        if (previous?.kind !== 'dir') merged.set(path, { kind: 'dir' });
        await this.#overlay(root, path, merged);
        continue;
      }
      // A file or link replacing a directory takes the whole directory's place.
      if (previous?.kind === 'dir') removeBelow(merged, path);
      if (dirent.isSymbolicLink()) merged.set(path, { kind: 'link', target: await readlink(join(root, path)) });
      else if (dirent.isFile()) merged.set(path, { kind: 'file', source: join(root, path) });
    }
  }
}

function removeBelow(merged: Map<string, Entry>, path: string): void {
  const prefix = `${path}/`;
  for (const key of merged.keys()) if (key.startsWith(prefix)) merged.delete(key);
}

/**
 * Each layer's links were checked to stay inside that layer when it was published, but merging can
 * change what a path resolves through (a later layer turns `d/up` into a link to `..`). A link that
 * now leaves /opt, or loops, is left out rather than pointing outside.
 */
function dropEscapingLinks(merged: Map<string, Entry>): void {
  const targets = new Map<string, string>();
  for (const [path, entry] of merged) if (entry.kind === 'link') targets.set(path, entry.target);
  for (const path of targets.keys()) {
    if (resolveLink(path, targets) !== 'inside') merged.delete(path);
  }
}
