import { readdirSync, readlinkSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ServeProcess } from './serve-process.js';
import { records } from './wait.js';

/** Events of `functionName` still queued on the server (Kindling's metrics route). */
export async function queuedEvents(url: string, functionName: string): Promise<number> {
  const res = await fetch(`${url}/kindling/functions/${functionName}/metrics`);
  return ((await res.json()) as { AsyncEventsQueued: number }).AsyncEventsQueued;
}

/**
 * kill -9 of the server, and of the runtimes it left behind (their own process groups): each pid a
 * test function wrote to its `record` file as `{pid}` lines.
 */
export async function crashServer(serve: ServeProcess, record: string, dataDir?: string): Promise<void> {
  serve.child.kill('SIGKILL');
  await serve.exited;
  for (const pid of new Set(records<{ pid: number }>(record).map((l) => l.pid))) kill(pid);
  if (dataDir !== undefined) await killWorkingIn(dataDir);
}

/**
 * Kills every process working in `dataDir` (the runtimes of a killed server, pre-started ones too,
 * which exit on their own moments later) and waits until none is left: a file system that is to be
 * cut off must not be held by one.
 */
async function killWorkingIn(dataDir: string): Promise<void> {
  for (let round = 0; round < 500; round++) {
    const left = readdirSync('/proc').filter((name) => /^\d+$/.test(name) && cwdOf(name)?.startsWith(`${dataDir}/`));
    if (left.length === 0) return;
    for (const pid of left) kill(Number(pid));
    await sleep(10);
  }
  throw new Error(`processes still work in ${dataDir}`);
}

function cwdOf(pid: string): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return undefined;
  }
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
