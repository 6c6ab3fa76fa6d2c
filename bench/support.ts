/** What the benchmarks share: a `kindling serve` child process and latency summaries. */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
export const ROLE = 'arn:aws:iam::000000000000:role/bench';

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function summary(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  return `p50 ${percentile(sorted, 50).toFixed(3)} ms  p99 ${percentile(sorted, 99).toFixed(3)} ms  (n=${samples.length})`;
}

/** `total` calls, `concurrency` at a time: their latencies, and the rate over the whole load. */
export async function load(concurrency: number, total: number, call: () => Promise<void>): Promise<{ latencies: number[]; perSecond: number }> {
  const latencies: number[] = [];
  let started = 0;
  const begin = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (started < total) {
        started++;
        const t = performance.now();
        await call();
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { latencies, perSecond: (total / (performance.now() - begin)) * 1000 };
}

/**
 * A `kindling serve` child process; resolves once it prints `ready` (default: the API's URL, which is
 * `url` then; a fleet node without the API prints its roles instead).
 */
export async function startServer(
  dataDir: string,
  sandbox = 'process',
  flags: readonly string[] = [],
  ready = /on (http:\/\/[^\s]+)/,
): Promise<{ url: string; pid: number; stop(): Promise<void>; kill(): void }> {
  // KINDLING_BENCH_PROFILE=dir writes a CPU profile of the server there (node --cpu-prof).
  const profile = process.env['KINDLING_BENCH_PROFILE'];
  const nodeArgs = profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [];
  const child = spawn(process.execPath, [...nodeArgs, CLI, 'serve', '--port', '0', '--url-port', '0', '--data-dir', dataDir, '--log-level', 'warn', '--sandbox', sandbox, ...flags], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let seen = '';
    child.stdout.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const match = ready.exec(seen);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`kindling serve exited with ${code}`)));
  });
  return {
    url,
    pid: child.pid!,
    kill: () => void child.kill('SIGKILL'),
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}


/** Every process below `root` (a server's sandboxes), from /proc. */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/**
 * Resident, proportional and unique set sizes (kB fields of smaps_rollup) summed over processes.
 * USS (private pages) does not move with how many other processes share a binary's pages; PSS does.
 */
export function memoryOf(pids: number[]): { rss: number; pss: number; uss: number } {
  let rss = 0;
  let pss = 0;
  let uss = 0;
  for (const pid of pids) {
    try {
      const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      rss += Number(/^Rss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0) * 1024;
      pss += Number(/^Pss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0) * 1024;
      uss += (Number(/^Private_Clean:\s+(\d+)/m.exec(rollup)?.[1] ?? 0) + Number(/^Private_Dirty:\s+(\d+)/m.exec(rollup)?.[1] ?? 0)) * 1024;
    } catch {
      // gone, or a kernel thread
    }
  }
  return { rss, pss, uss };
}
