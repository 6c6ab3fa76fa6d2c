/**
 * Per sandbox driver: cold-start latency (the first Invoke after CreateFunction, as a client sees
 * it) and the idle memory of one environment after an invoke. Drivers that cannot run here are
 * skipped with the reason. Run: `npm run build && node dist/bench/sandboxes.js [memoryMb ...] [driver ...]`
 * (default 128 and 1769 MB, every driver).
 */
import { CreateFunctionCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKindling, type Kindling } from '../src/app.js';
import { zipFiles } from '../src/code/index.js';
import { loadConfig, type KindlingConfig } from '../src/config/index.js';
import { createLogger } from '../src/shared/index.js';
import { descendants, memoryOf } from './support.js';

const DRIVERS: KindlingConfig['sandbox'][] = ['process', 'namespace', 'microvm'];
const FUNCTIONS = 10;
const ROLE = 'arn:aws:iam::000000000000:role/bench';
const HANDLER = 'exports.handler = async (event) => ({ ok: true, event });\n';
const MB = 1024 * 1024;

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}


async function measure(driver: KindlingConfig['sandbox'], memoryMb: number): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kindling-bench-sandboxes-'));
  let kindling: Kindling | undefined;
  try {
    try {
      kindling = await startKindling(loadConfig([], {}, { port: 0, dataDir, sandbox: driver }), { logger: createLogger('error') });
    } catch (err) {
      return `${driver.padEnd(9)} skipped: ${err instanceof Error ? err.message : String(err)}`;
    }
    const lambda = new LambdaClient({ endpoint: kindling.url, region: 'us-east-1', credentials: { accessKeyId: 'b', secretAccessKey: 'b' }, maxAttempts: 1 });
    const zip = await zipFiles({ 'index.js': HANDLER });
    const cold: number[] = [];
    for (let i = 0; i < FUNCTIONS; i++) {
      const name = `cold-${i}`;
      await lambda.send(new CreateFunctionCommand({ FunctionName: name, Runtime: 'nodejs20.x', Handler: 'index.handler', Role: ROLE, MemorySize: memoryMb, Code: { ZipFile: zip } }));
      const started = performance.now();
      const out = await lambda.send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from('{}'), LogType: 'Tail' }));
      cold.push(performance.now() - started);
      if (out.FunctionError) throw new Error(`${driver}: ${Buffer.from(out.Payload ?? []).toString()}\n${Buffer.from(out.LogResult ?? '', 'base64').toString()}`);
    }
    // Let start-up garbage settle before reading idle memory.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const { rss, pss } = memoryOf(descendants(process.pid));
    lambda.destroy();
    return (
      `${driver.padEnd(9)} cold start p50 ${percentile(cold, 50).toFixed(1)} ms  max ${Math.max(...cold).toFixed(1)} ms  ` +
      `idle per environment: RSS ${(rss / FUNCTIONS / MB).toFixed(1)} MB, PSS ${(pss / FUNCTIONS / MB).toFixed(1)} MB  (n=${FUNCTIONS})`
    );
  } finally {
    await kindling?.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const args = process.argv.slice(2);
const sizes = args.map(Number).filter((n) => n > 0);
const only = DRIVERS.filter((d) => args.includes(d));
for (const memoryMb of sizes.length > 0 ? sizes : [128, 1769]) {
  console.log(`sandboxes at MemorySize ${memoryMb} MB:`);
  for (const driver of only.length > 0 ? only : DRIVERS) console.log(`  ${await measure(driver, memoryMb)}`);
}
