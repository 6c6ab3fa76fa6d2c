/**
 * Overload: 200 concurrent synchronous invokes of a 3-second function, every one a cold start,
 * against a real `kindling serve` in its own process, while a client asks ListFunctions and
 * GetFunction one after the other. Prints the control plane's latency during the burst and what
 * became of the invokes, with the Init gate at its defaults (one Init per core) and without it
 * (`--max-concurrent-inits 10000`, every cold start at once, as before issue #9).
 * Run: `npm run build && node dist/bench/overload.js [process|namespace]` (default namespace where
 * it works, Kindling's own default, else process).
 */
import { CreateFunctionCommand, GetFunctionCommand, LambdaClient, ListFunctionsCommand, waitUntilFunctionActiveV2 } from '@aws-sdk/client-lambda';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipFiles } from '../src/code/index.js';
import { NamespaceSandboxDriver } from '../src/sandbox/namespace/namespace-driver.js';
import { ROLE, startServer, summary } from './support.js';

const BURST = 200;
const SLEEP_MS = 3000;
const HANDLER = `exports.handler = async () => { await new Promise((r) => setTimeout(r, ${SLEEP_MS})); return 'done'; };\n`;

/** One invoke over its own connection; what became of it, in a word. */
async function invoke(url: string): Promise<string> {
  try {
    const res = await fetch(`${url}/2015-03-31/functions/burst/invocations`, { method: 'POST', body: '{}' });
    const body = await res.text();
    if (res.status === 429) return `throttled (${(JSON.parse(body) as { Reason: string }).Reason})`;
    if (res.status !== 200) return `HTTP ${res.status}`;
    if (res.headers.get('x-amz-function-error') === null) return 'succeeded';
    const error = JSON.parse(body) as { errorType: string; errorMessage: string };
    return `${error.errorType}${error.errorMessage.startsWith('INIT') ? ' (Init)' : ''}`;
  } catch (err) {
    return `client error: ${(err as Error).message}`;
  }
}

async function scenario(label: string, sandbox: string, flags: string[]): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kindling-bench-overload-'));
  const server = await startServer(dataDir, sandbox, flags);
  const lambda = new LambdaClient({ endpoint: server.url, region: 'us-east-1', credentials: { accessKeyId: 'b', secretAccessKey: 'b' }, maxAttempts: 1 });
  try {
    const zip = await zipFiles({ 'index.js': HANDLER });
    await lambda.send(new CreateFunctionCommand({ FunctionName: 'burst', Runtime: 'nodejs20.x', Handler: 'index.handler', Role: ROLE, Timeout: 10, Code: { ZipFile: zip } }));
    await waitUntilFunctionActiveV2({ client: lambda, maxWaitTime: 30 }, { FunctionName: 'burst' });
    // Warm the control plane path (and the SDK), and measure it idle: the machine's own noise.
    for (let i = 0; i < 20; i++) await lambda.send(new ListFunctionsCommand({}));
    const idle: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t = performance.now();
      await lambda.send(new ListFunctionsCommand({}));
      idle.push(performance.now() - t);
    }

    let done = false;
    const began = performance.now();
    const burst = Promise.all(Array.from({ length: BURST }, () => invoke(server.url))).finally(() => (done = true));
    const list: number[] = [];
    const get: number[] = [];
    while (!done) {
      let t = performance.now();
      await lambda.send(new ListFunctionsCommand({}));
      list.push(performance.now() - t);
      t = performance.now();
      await lambda.send(new GetFunctionCommand({ FunctionName: 'burst' }));
      get.push(performance.now() - t);
    }
    const outcomes = await burst;
    const seconds = (performance.now() - began) / 1000;
    const counts = new Map<string, number>();
    for (const o of outcomes) counts.set(o, (counts.get(o) ?? 0) + 1);
    console.log(`${label}:`);
    console.log(`  ListFunctions before the burst: ${summary(idle)}`);
    console.log(`  ListFunctions during the burst: ${summary(list)}  max ${Math.max(...list).toFixed(1)} ms`);
    console.log(`  GetFunction during the burst:   ${summary(get)}  max ${Math.max(...get).toFixed(1)} ms`);
    console.log(`  ${BURST} invokes in ${seconds.toFixed(1)} s: ${[...counts].map(([o, n]) => `${n} ${o}`).join(', ')}`);
  } finally {
    lambda.destroy();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const [first, ...rest] = process.argv.slice(2);
  const named = first !== undefined && !first.startsWith('--');
  const sandbox = named ? first : (await new NamespaceSandboxDriver().unavailable()) ? 'process' : 'namespace';
  // Anything else is passed to `kindling serve` in place of the defaults (e.g. --max-concurrent-inits 4).
  const flags = named ? rest : process.argv.slice(2);
  console.log(`Overload: ${BURST} concurrent cold invokes of a ${SLEEP_MS / 1000}-second function, ${sandbox} sandbox, ${availableParallelism()} cores\n`);
  const label = flags.length > 0 ? `Init gate with ${flags.join(' ')}` : `Init gate at its defaults (${availableParallelism()} Inits at once, ${64 * availableParallelism()} queued)`;
  await scenario(label, sandbox, flags);
  await scenario('no Init gate (--max-concurrent-inits 10000: every cold start at once)', sandbox, ['--max-concurrent-inits', '10000']);
}

await main();
