/**
 * Cold starts (issue 13): the first invoke after CreateFunction of a no-op function, per runtime
 * (Node.js, Python) and sandbox driver (process, namespace), from pre-started runtimes (the pool
 * has one ready: the bench waits for its refill between functions) and with `--prewarm 0` (every
 * runtime started on demand). Bare HTTP client against a real `kindling serve` in its own process.
 * The client-side time is what a caller waits; Init Duration is the REPORT line's. A cold start
 * counts as a pool hit when the function's process is older than the function.
 */
import { CreateFunctionCommand, LambdaClient, waitUntilFunctionActiveV2, type Runtime } from '@aws-sdk/client-lambda';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { zipFiles } from '../src/code/index.js';
import { NamespaceSandboxDriver } from '../src/sandbox/namespace/namespace-driver.js';
import { ROLE, startServer, summary } from './support.js';

const FUNCTIONS = Number(process.env['KINDLING_BENCH_COLD'] ?? 12);
/** Long enough for the pool to start the runtime that replaces the one taken, on a busy machine too. */
const REFILL_MS = 1000;

const RUNTIMES: Record<string, { runtime: Runtime; handler: string; files: Record<string, string> }> = {
  'nodejs20.x': {
    runtime: 'nodejs20.x',
    handler: 'index.handler',
    files: { 'index.js': 'const started = Date.now() - process.uptime() * 1000;\nexports.handler = async () => ({ started });\n' },
  },
  'python3.12': {
    runtime: 'python3.12',
    handler: 'app.handler',
    files: {
      'app.py': [
        'import os, time',
        'with open("/proc/uptime") as f: _up = float(f.read().split()[0])',
        'with open("/proc/self/stat") as f: _ticks = int(f.read().rsplit(")", 1)[1].split()[19])',
        'STARTED = (time.time() - (_up - _ticks / os.sysconf("SC_CLK_TCK"))) * 1000',
        'def handler(event, context):',
        '    return {"started": STARTED}',
        '',
      ].join('\n'),
    },
  },
};

/** One bare invoke with its log tail; the wall time, the REPORT's Init Duration, and when the function's process started. */
function bareInvoke(agent: http.Agent, url: URL, name: string): Promise<{ ms: number; initMs: number | undefined; started: number }> {
  const t = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(
      { agent, host: url.hostname, port: url.port, method: 'POST', path: `/2015-03-31/functions/${name}/invocations`, headers: { 'Content-Length': 2, 'X-Amz-Log-Type': 'Tail' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const ms = performance.now() - t;
          const body = Buffer.concat(chunks).toString();
          const log = Buffer.from(String(res.headers['x-amz-log-result'] ?? ''), 'base64').toString();
          const initMs = /Init Duration: ([\d.]+) ms/.exec(log)?.[1];
          if (res.statusCode !== 200 || res.headers['x-amz-function-error'] !== undefined) reject(new Error(`${res.statusCode}: ${body}`));
          else resolve({ ms, initMs: initMs === undefined ? undefined : Number(initMs), started: (JSON.parse(body) as { started: number }).started });
        });
      },
    );
    req.on('error', reject);
    req.end('{}');
  });
}

async function measure(sandbox: string, prewarm: boolean): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kindling-bench-cold-'));
  const server = await startServer(dataDir, sandbox, prewarm ? [] : ['--prewarm', '0']);
  const lambda = new LambdaClient({ endpoint: server.url, region: 'us-east-1', credentials: { accessKeyId: 'b', secretAccessKey: 'b' }, maxAttempts: 1 });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const url = new URL(server.url);
  try {
    // The seeds start with the server.
    if (prewarm) await sleep(REFILL_MS * 2);
    for (const [label, spec] of Object.entries(RUNTIMES)) {
      const zip = await zipFiles(spec.files);
      const wall: number[] = [];
      const init: number[] = [];
      let hits = 0;
      for (let i = 0; i < FUNCTIONS; i++) {
        const name = `cold-${label.replace('.', '-')}-${i}`;
        const created = Date.now();
        await lambda.send(new CreateFunctionCommand({ FunctionName: name, Runtime: spec.runtime, Handler: spec.handler, Role: ROLE, Code: { ZipFile: zip } }));
        await waitUntilFunctionActiveV2({ client: lambda, maxWaitTime: 30 }, { FunctionName: name });
        const first = await bareInvoke(agent, url, name);
        wall.push(first.ms);
        if (first.initMs !== undefined) init.push(first.initMs);
        if (first.started < created) hits++;
        if (prewarm) await sleep(REFILL_MS);
      }
      const mode = prewarm ? 'pre-started pool' : '--prewarm 0     ';
      console.log(`cold start ${label.padEnd(10)} ${sandbox.padEnd(9)} ${mode}: ${summary(wall)}`);
      console.log(`    Init Duration: ${summary(init)}  pool hits ${hits}/${FUNCTIONS}`);
    }
  } finally {
    agent.destroy();
    lambda.destroy();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const drivers = ['process'];
  const why = await new NamespaceSandboxDriver().unavailable();
  if (why === undefined) drivers.push('namespace');
  else console.log(`namespace sandbox not measured: ${why}`);
  for (const sandbox of drivers) {
    await measure(sandbox, true);
    await measure(sandbox, false);
  }
}

await main();
