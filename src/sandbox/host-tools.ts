import type { ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

/** The first executable `name` in `dirs` (absolute: never looked up in anyone's PATH), or an error saying where it was sought. */
export function findTool(name: string, dirs: readonly string[]): string {
  for (const dir of dirs) {
    try {
      accessSync(`${dir}/${name}`, constants.X_OK);
      return `${dir}/${name}`;
    } catch {
      // look further
    }
  }
  throw new Error(`${name} is not installed (looked in ${dirs.join(', ')})`);
}

/** Settles once the child runs, or fails to start (its 'error'). */
export function spawned(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
}
