import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Secrets written so a power cut leaves the old file or the whole new one, never an empty one
 * (the data is synced before it gets its name, and the name before we go on). The key file and
 * the credentials file matter most after a crash: without them no one can sign in.
 */
function writeTemporary(path: string, data: string, mode: number): string {
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const fd = openSync(temporary, 'wx', mode);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return temporary;
}

function syncDirectory(path: string): void {
  const fd = openSync(dirname(path), 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Replaces `path` whole. */
export function replaceFileDurably(path: string, data: string, mode: number): void {
  const temporary = writeTemporary(path, data, mode);
  renameSync(temporary, path);
  syncDirectory(path);
}

/** Creates `path` whole, or answers false when it exists (two processes starting at once: one wins, the other reads a whole file). */
export function createFileDurably(path: string, data: string, mode: number): boolean {
  const temporary = writeTemporary(path, data, mode);
  try {
    linkSync(temporary, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    unlinkSync(temporary);
    syncDirectory(path);
  }
}
