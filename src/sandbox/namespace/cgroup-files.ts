import { closeSync, openSync, readdirSync, readFileSync, readSync, rmdirSync, statSync } from 'node:fs';

/**
 * Reads a cgroup's peak-memory file through one descriptor opened once: it is read after every
 * invocation (Max Memory Used). Keeps the highest reading, which stands once the cgroup is gone.
 */
export class PeakReader {
  readonly #path: string;
  readonly #buffer = Buffer.allocUnsafe(32);
  #fd: number | undefined;
  #closed = false;
  #peak = 0;

  constructor(path: string) {
    this.#path = path;
  }

  read(): number {
    if (this.#closed) return this.#peak;
    try {
      this.#fd ??= openSync(this.#path, 'r');
      const length = readSync(this.#fd, this.#buffer, 0, this.#buffer.length, 0);
      const value = Number(this.#buffer.toString('latin1', 0, length).trim());
      if (Number.isFinite(value)) this.#peak = Math.max(this.#peak, value);
    } catch {
      // the cgroup is gone; the last reading stands
    }
    return this.#peak;
  }

  close(): void {
    this.read();
    this.#closed = true;
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}

/** The processes in a cgroup (its `cgroup.procs`); none once it is gone. */
export function readProcs(dir: string): number[] {
  try {
    return readFileSync(`${dir}/cgroup.procs`, 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * Whether the OOM killer killed in a cgroup: the `oom_kill N` line of `file` (v1's
 * memory.oom_control, Linux 4.13+; v2's memory.events).
 */
export function oomKilledIn(file: string): boolean {
  try {
    return Number(/^oom_kill (\d+)$/m.exec(readFileSync(file, 'utf8'))?.[1] ?? 0) > 0;
  } catch {
    return false;
  }
}

/** Removes cgroup directories; false while one still holds processes (EBUSY). Gone ones count as removed. */
export function removeDirs(dirs: readonly string[]): boolean {
  let all = true;
  for (const dir of dirs) {
    try {
      rmdirSync(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') all = false;
    }
  }
  return all;
}

/**
 * Removes the empty cgroups named `<prefix>...` under `parents` that are older than `olderThanMs`:
 * those of sandboxes whose server died without cleaning up. A live sandbox's cgroup is never
 * empty after its first milliseconds, and the kernel refuses to remove a populated one.
 * Returns the names removed.
 */
export function sweepDirs(parents: readonly string[], prefix: string, olderThanMs: number): string[] {
  const removed = new Set<string>();
  const cutoff = Date.now() - olderThanMs;
  for (const parent of parents) {
    let names: string[];
    try {
      names = readdirSync(parent).filter((name) => name.startsWith(prefix));
    } catch {
      continue;
    }
    for (const name of names) {
      try {
        if (statSync(`${parent}/${name}`).mtimeMs > cutoff) continue;
        rmdirSync(`${parent}/${name}`);
        removed.add(name);
      } catch {
        // in use, or gone
      }
    }
  }
  return [...removed];
}
