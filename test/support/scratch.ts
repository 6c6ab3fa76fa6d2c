import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Scratch space that functions in the process sandbox may use. Run as root, Kindling runs each
 * environment as a uid of its own (docs/sandboxes.md), so a test's files are out of its reach
 * unless the test opens them: the directory is writable by all, sticky as /tmp is, and a file
 * several environments append to is made beforehand, writable by every uid (sharedFile).
 */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o1777);
  return dir;
}

/** An empty file any function may append to; returns its path. */
export function sharedFile(path: string): string {
  writeFileSync(path, '');
  chmodSync(path, 0o666);
  return path;
}
