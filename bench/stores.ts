/**
 * `npm run bench` (stores): issue 11's figures. Warm invoke p50 on SQLite and on PostgreSQL (the
 * invoke path reads no store, so they should match), and how long a change made through one server
 * takes to reach another on the same PostgreSQL (p50 and max). Servers run as their own processes;
 * PostgreSQL is a throwaway cluster from Debian's package (test/support/postgres.ts).
 */
import { CreateFunctionCommand, LambdaClient, UpdateFunctionConfigurationCommand, waitUntilFunctionActiveV2, waitUntilFunctionUpdatedV2 } from '@aws-sdk/client-lambda';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipFiles } from '../src/code/index.js';
import { PostgresCluster, postgresUnavailable } from '../test/support/postgres.js';
import { percentile, ROLE, startServer, summary } from './support.js';

const WARM_INVOKES = 2000;
const PROPAGATION_ROUNDS = 50;

function client(url: string): LambdaClient {
  return new LambdaClient({ endpoint: url, region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' }, maxAttempts: 1 });
}

function request(agent: http.Agent, url: URL, method: string, path: string, body?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request({ agent, host: url.hostname, port: url.port, method, path }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`status ${res.statusCode}: ${text}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function createFunction(lambda: LambdaClient, name: string): Promise<void> {
  const ZipFile = await zipFiles({ 'index.js': 'exports.handler = async () => "ok";\n' });
  await lambda.send(new CreateFunctionCommand({ FunctionName: name, Runtime: 'nodejs20.x', Handler: 'index.handler', Role: ROLE, Code: { ZipFile } }));
  await waitUntilFunctionActiveV2({ client: lambda, maxWaitTime: 30 }, { FunctionName: name });
}

/** A function to invoke warm on the server at `url`, and a function that times `count` sequential invokes of it. */
async function warmInvoker(url: string): Promise<{ run(count: number): Promise<number[]>; close(): void }> {
  const lambda = client(url);
  await createFunction(lambda, 'warm');
  lambda.destroy();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const base = new URL(url);
  const path = '/2015-03-31/functions/warm/invocations';
  for (let i = 0; i < 200; i++) await request(agent, base, 'POST', path, '{}');
  return {
    run: async (count) => {
      const latencies: number[] = [];
      for (let i = 0; i < count; i++) {
        const t = performance.now();
        await request(agent, base, 'POST', path, '{}');
        latencies.push(performance.now() - t);
      }
      return latencies;
    },
    close: () => agent.destroy(),
  };
}

/**
 * Warm invokes on both servers in alternating blocks, so that whatever else the (shared) machine
 * does falls on both alike.
 */
async function warmInvokes(urls: { sqlite: string; postgres: string }): Promise<{ sqlite: number[]; postgres: number[] }> {
  const sqlite = await warmInvoker(urls.sqlite);
  const postgres = await warmInvoker(urls.postgres);
  const result = { sqlite: [] as number[], postgres: [] as number[] };
  const blocks = 8;
  for (let block = 0; block < blocks; block++) {
    result.sqlite.push(...(await sqlite.run(WARM_INVOKES / blocks)));
    result.postgres.push(...(await postgres.run(WARM_INVOKES / blocks)));
  }
  sqlite.close();
  postgres.close();
  return result;
}

/** A configuration change made on A, timed until B's GetFunction shows it. */
async function propagation(urlA: string, urlB: string): Promise<number[]> {
  const lambdaA = client(urlA);
  await createFunction(lambdaA, 'spread');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const b = new URL(urlB);
  const delays: number[] = [];
  for (let round = 0; round < PROPAGATION_ROUNDS; round++) {
    const description = `round ${round}`;
    await lambdaA.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'spread', Description: description }));
    const answered = performance.now();
    for (;;) {
      const fn = JSON.parse(await request(agent, b, 'GET', '/2015-03-31/functions/spread')) as { Configuration: { Description: string } };
      if (fn.Configuration.Description === description) break;
    }
    delays.push(performance.now() - answered);
    await waitUntilFunctionUpdatedV2({ client: lambdaA, maxWaitTime: 30 }, { FunctionName: 'spread' });
  }
  agent.destroy();
  lambdaA.destroy();
  return delays;
}

async function main(): Promise<void> {
  const dirs: string[] = [];
  const dataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'kindling-bench-store-'));
    dirs.push(dir);
    return dir;
  };
  try {
    const why = postgresUnavailable();
    if (why) {
      console.log(`PostgreSQL figures skipped: ${why}`);
      return;
    }
    // fsync stays on: these are the settings a real deployment has.
    const cluster = await PostgresCluster.start({ settings: { fsync: 'on', synchronous_commit: 'on', full_page_writes: 'on' } });
    try {
      const url = await cluster.createDatabase('bench_stores');
      const sqlite = await startServer(dataDir());
      const a = await startServer(dataDir(), 'process', ['--store', url]);
      try {
        const warm = await warmInvokes({ sqlite: sqlite.url, postgres: a.url });
        console.log(`warm invoke, SQLite:      ${summary(warm.sqlite)}`);
        console.log(`warm invoke, PostgreSQL:  ${summary(warm.postgres)}`);
        const p50 = (samples: number[]) => percentile([...samples].sort((x, y) => x - y), 50);
        console.log(`  PostgreSQL / SQLite p50: ${((p50(warm.postgres) / p50(warm.sqlite)) * 100).toFixed(0)}%`);
        await sqlite.stop();
        const b = await startServer(dataDir(), 'process', ['--store', url]);
        try {
          const delays = await propagation(a.url, b.url);
          const sorted = [...delays].sort((x, y) => x - y);
          console.log(`change propagation A → B: p50 ${percentile(sorted, 50).toFixed(1)} ms  max ${sorted[sorted.length - 1]!.toFixed(1)} ms  (n=${delays.length})`);
        } finally {
          await b.stop();
        }
      } finally {
        await a.stop();
      }
    } finally {
      await cluster.stop();
    }
  } finally {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
