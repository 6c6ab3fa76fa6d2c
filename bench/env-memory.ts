/**
 * Idle memory per namespace environment (issue 13: ≤ 10 MB PSS): a real `kindling serve --sandbox
 * namespace`, a no-op Node.js function, N environments warmed by N invokes side by side, then left
 * idle. PSS (proportional set size: shared pages split between their users) is summed over every
 * process of each environment, from /proc/<pid>/smaps_rollup: the outer bwrap and its PID
 * namespace's init, the shell that becomes the inner bwrap, the socat bridge and the runtime; and
 * split by process, to show where it goes; USS (private pages alone) beside it, the part that does
 * not depend on how many other node processes on the machine share node's own pages. Then the warm latency of the same environments.
 * Run: `npm run build && node dist/bench/env-memory.js [environments] [memoryMb]` (default 10, 128 MB;
 * needs root). At 128 MB the CPU cap (7% of a CPU, as on Lambda) dominates the warm latency.
 * KINDLING_BENCH_NODE_OPTIONS sets the function's NODE_OPTIONS, to try runtime flags.
 */
import { CreateFunctionCommand, LambdaClient, waitUntilFunctionActiveV2 } from '@aws-sdk/client-lambda';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { zipFiles } from '../src/code/index.js';
import { descendants, load, memoryOf, ROLE, startServer, summary } from './support.js';

const MB = 1024 * 1024;
/** A no-op that holds its environment for `hold` ms when asked: the warm-up's invokes each get their own. */
const HANDLER = 'exports.handler = async (event) => { if (event && event.hold) await new Promise((r) => setTimeout(r, event.hold)); };\n';
const IDLE_MS = 3000;
const WARM_INVOKES = 300;

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) return void console.log('env-memory skipped: the namespace sandbox needs root');
  const count = Number(process.argv[2] ?? 10);
  const memoryMb = Number(process.argv[3] ?? 128);
  const nodeOptions = process.env['KINDLING_BENCH_NODE_OPTIONS'];
  const dataDir = mkdtempSync(join(tmpdir(), 'kindling-bench-memory-'));
  const server = await startServer(dataDir, 'namespace');
  const lambda = new LambdaClient({ endpoint: server.url, region: 'us-east-1', credentials: { accessKeyId: 'b', secretAccessKey: 'b' }, maxAttempts: 1 });
  const invoke = async (payload: object) => {
    const res = await fetch(`${server.url}/2015-03-31/functions/bench-memory/invocations`, { method: 'POST', body: JSON.stringify(payload) });
    await res.arrayBuffer();
    if (res.status !== 200 || res.headers.get('x-amz-function-error')) throw new Error(`invoke answered ${res.status}`);
  };
  try {
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'bench-memory',
        Runtime: 'nodejs20.x',
        Handler: 'index.handler',
        Role: ROLE,
        MemorySize: memoryMb,
        Code: { ZipFile: await zipFiles({ 'index.js': HANDLER }) },
        ...(nodeOptions ? { Environment: { Variables: { NODE_OPTIONS: nodeOptions } } } : {}),
      }),
    );
    await waitUntilFunctionActiveV2({ client: lambda, maxWaitTime: 30 }, { FunctionName: 'bench-memory' });
    await Promise.all(Array.from({ length: count }, () => invoke({ hold: 1500 })));
    await sleep(IDLE_MS);

    // One sandbox is one process the server started (the outer bwrap) and everything below it.
    const sandboxes = descendants(server.pid).filter((pid) => commandOf(pid) === 'bwrap' && parentOf(pid) === server.pid);
    const byProcess = new Map<string, { pss: number; uss: number }>();
    const total = { pss: 0, uss: 0 };
    for (const root of sandboxes) {
      const pids = [root, ...descendants(root)];
      pids.forEach((pid, i) => {
        const { pss, uss } = memoryOf([pid]);
        const name = `${i}:${commandOf(pid)}`;
        const sum = byProcess.get(name) ?? { pss: 0, uss: 0 };
        byProcess.set(name, { pss: sum.pss + pss, uss: sum.uss + uss });
        total.pss += pss;
        total.uss += uss;
      });
    }
    const n = sandboxes.length;
    console.log(`Idle namespace environments, no-op Node.js function (${memoryMb} MB)${nodeOptions ? `, NODE_OPTIONS=${nodeOptions}` : ''}: ${n} sandboxes`);
    const mb = (bytes: number) => `${(bytes / n / MB).toFixed(2)} MB`.padStart(9);
    console.log(`per environment:    PSS ${mb(total.pss)}   USS ${mb(total.uss)}`);
    for (const [name, sum] of byProcess) console.log(`  ${name.padEnd(16)} PSS ${mb(sum.pss)}   USS ${mb(sum.uss)}`);
    const warm = await load(1, WARM_INVOKES, () => invoke({}));
    console.log(`warm invoke, sequential: ${summary(warm.latencies)}`);
  } finally {
    lambda.destroy();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

await main();
