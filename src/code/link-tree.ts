import { chmod, copyFile, link, mkdir, readdir, readlink, stat, symlink } from 'node:fs/promises';
import { join } from 'node:path';

/** A hard link to `source` at `dest`, or a copy where a link cannot be made (another file system). */
export async function linkOrCopy(source: string, dest: string): Promise<void> {
  try {
    await link(source, dest);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK') throw err;
    await copyFile(source, dest);
  }
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
