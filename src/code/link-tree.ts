import { chmodSync, copyFileSync, linkSync, mkdirSync, readdirSync, readlinkSync, statSync, symlinkSync } from 'node:fs';
import { chmod, copyFile, link, mkdir, readdir, readlink, stat, symlink } from 'node:fs/promises';
import { join } from 'node:path';

/** A hard link to `source` at `dest`, or a copy where a link cannot be made (another file system). */
export async function linkOrCopy(source: string, dest: string): Promise<void> {
  try {
    await link(source, dest);
  } catch (err) {
    if (!linkRefused(err)) throw err;
    await copyFile(source, dest);
  }
}

/** The file system will not make this hard link (another file system, no links, too many): copy. */
function linkRefused(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'EXDEV' || code === 'EPERM' || code === 'EMLINK';
}

/**
 * Recreates the tree at `source` inside the existing directory `target`: directories made with
 * their modes, files hard-linked (no bytes copied), symbolic links recreated as they are (the code
 * store keeps only links that stay inside their tree). The files stay shared with `source`, so
 * `target` must be shown read-only to whoever runs from it.
 */
export async function linkTree(source: string, target: string): Promise<void> {
  const entries = await readdir(source, { withFileTypes: true });
  await Promise.all(
    entries.map(async (entry) => {
      const from = join(source, entry.name);
      const to = join(target, entry.name);
      if (entry.isDirectory()) {
        await mkdir(to);
        await chmod(to, (await stat(from)).mode & 0o7777);
        await linkTree(from, to);
      } else if (entry.isSymbolicLink()) {
        await symlink(await readlink(from), to);
      } else if (entry.isFile()) {
        await linkOrCopy(from, to);
      }
    }),
  );
}

/**
 * linkTree without leaving the thread: for a small tree (a few files) the thread pool's round
 * trips cost more than the links, and a cold start waits for them.
 */
export function linkTreeSync(source: string, target: string): void {
  for (const entry of readdirSync(source, { withFileTypes: true })) {
    const from = join(source, entry.name);
    const to = join(target, entry.name);
    if (entry.isDirectory()) {
      mkdirSync(to);
      chmodSync(to, statSync(from).mode & 0o7777);
      linkTreeSync(from, to);
    } else if (entry.isSymbolicLink()) {
      symlinkSync(readlinkSync(from), to);
    } else if (entry.isFile()) {
      try {
        linkSync(from, to);
      } catch (err) {
        if (!linkRefused(err)) throw err;
        copyFileSync(from, to);
      }
    }
  }
}
