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
export async function crashServer(serve: ServeProcess, record: string): Promise<void> {
  serve.child.kill('SIGKILL');
  await serve.exited;
  for (const pid of new Set(records<{ pid: number }>(record).map((l) => l.pid))) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
