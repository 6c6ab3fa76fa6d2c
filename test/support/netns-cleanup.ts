import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { processAlive } from '../../src/sandbox/process-alive.js';

/** Every lab namespace is `kindling-lab-<owner pid>-...` (test/support/netns.ts). */
export const PREFIX = 'kindling-lab-';
/** Bounds waits on the kernel (a link coming up, processes dying), not anything measured. */
export const SETTLE_LIMIT_MS = 10_000;
export const POLL_MS = 20;

/** Removes the namespaces of labs whose owning process is gone (a test run killed with -9). */
export function removeStaleLabs(): string[] {
  const removed: string[] = [];
  for (const ns of labNamespaces()) {
    const owner = Number(/^kindling-lab-(\d+)-/.exec(ns)?.[1]);
    if (!Number.isInteger(owner) || owner === process.pid || processAlive(owner)) continue;
    removeNamespaceSync(ns);
    removed.push(ns);
  }
  return removed;
}

/** Every namespace named like a lab's, whoever owns it. */
export function labNamespaces(): string[] {
  return ip(['netns', 'list'])
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter((name) => name.startsWith(PREFIX));
}

/**
 * Kills whatever runs in the namespace (servers' own children too, which the lab never spawned),
 * then deletes it: a namespace with a process left in it would outlive its name, veth and all.
 */
export function removeNamespaceSync(ns: string): void {
  if (!existsSync(`/run/netns/${ns}`)) return;
  const deadline = Date.now() + SETTLE_LIMIT_MS;
  for (;;) {
    let pids: number[];
    try {
      pids = ip(['netns', 'pids', ns])
        .split('\n')
        .map(Number)
        .filter((pid) => Number.isInteger(pid) && pid > 0);
    } catch {
      break;
    }
    if (pids.length === 0 || Date.now() > deadline) break;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
    // SIGKILL is delivered asynchronously: look again until the namespace is empty.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, POLL_MS);
  }
  try {
    ip(['netns', 'del', ns]);
  } catch {
    // Removed by someone else in the meantime.
  }
}

export function ip(args: readonly string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function ipAsync(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ip', args, { encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`ip ${args.join(' ')}: ${stderr || err.message}`, { cause: err }));
      else resolve(stdout);
    });
  });
}
