/**
 * `npm run bench`: the invoke figures issue #2 names, measured against a real `kindling serve`
 * running in its own process (so the load generator does not share its event loop).
 */
import {
  CreateFunctionCommand,
  GetProvisionedConcurrencyConfigCommand,
  InvokeCommand,
  LambdaClient,
  PublishVersionCommand,
  PutProvisionedConcurrencyConfigCommand,
  waitUntilFunctionActiveV2,
} from '@aws-sdk/client-lambda';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipFiles } from '../src/code/index.js';
import { load, ROLE, startServer, summary } from './support.js';


/** One bare keep-alive HTTP invoke (event mode with `event`). */
function bareInvoke(agent: http.Agent, url: URL, path: string, body: Buffer, event = false): Promise<void> {
  const headers: http.OutgoingHttpHeaders = { 'Content-Length': body.length };
  if (event) headers['X-Amz-Invocation-Type'] = 'Event';
  const expected = event ? 202 : 200;
  return new Promise((resolve, reject) => {
    const req = http.request(
      { agent, host: url.hostname, port: url.port, method: 'POST', path, headers },
      (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === expected ? resolve() : reject(new Error(`status ${res.statusCode}`))));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * The same load from wrk (Debian package `wrk`), a C load generator: on 2 cores a Node.js client
 * takes a good share of the CPU the server needs, so wrk shows more of what the server can do.
 */
function wrkFigures(url: string, dataDir: string, concurrency: number): string | undefined {
  const wrk = ['/usr/bin/wrk', '/usr/local/bin/wrk'].find((path) => existsSync(path));
  if (!wrk) return undefined;
  const script = join(dataDir, 'post.lua');
  writeFileSync(script, 'wrk.method = "POST"\nwrk.body = "{}"\n');
  const out = execFileSync(wrk, ['-t1', `-c${concurrency}`, '-d5s', '--latency', '-s', script, url], { encoding: 'utf8' });
  const p50 = /50%\s+(\S+)/.exec(out)?.[1];
  const p99 = /99%\s+(\S+)/.exec(out)?.[1];
  const rate = /Requests\/sec:\s+(\S+)/.exec(out)?.[1];
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1];
  return `p50 ${p50}  p99 ${p99}  ${Number(rate).toFixed(0)} invokes/s${errors ? `  (${errors} non-2xx!)` : ''}`;
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kindling-bench-'));
  const server = await startServer(dataDir);
  const lambda = new LambdaClient({
    endpoint: server.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
    maxAttempts: 1,
  });
  try {
    const zip = await zipFiles({ 'index.js': 'exports.handler = async () => null;\n' });
    const create = async (name: string) => {
      await lambda.send(new CreateFunctionCommand({ FunctionName: name, Runtime: 'nodejs20.x', Handler: 'index.handler', Role: ROLE, Code: { ZipFile: zip } }));
      await waitUntilFunctionActiveV2({ client: lambda, maxWaitTime: 30 }, { FunctionName: name });
    };
    await create('noop');
    const url = new URL(server.url);
    const path = '/2015-03-31/functions/noop/invocations';
    const body = Buffer.from('{}');
    const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    const bare = () => bareInvoke(agent, url, path, body);
    const sdk = async () => {
      await lambda.send(new InvokeCommand({ FunctionName: 'noop', Payload: body }));
    };

    console.log('Kindling invoke benchmark (no-op Node.js function, process sandbox)\n');
    // Warm up: environments for concurrency 32, and the JIT of both sides.
    await load(32, 2000, bare);

    const bare1 = await load(1, 3000, bare);
    console.log(`warm invoke, bare HTTP, concurrency 1:   ${summary(bare1.latencies)}  ${bare1.perSecond.toFixed(0)} invokes/s`);
    const bare32 = await load(32, 20_000, bare);
    console.log(`warm invoke, bare HTTP, concurrency 32:  ${summary(bare32.latencies)}  ${bare32.perSecond.toFixed(0)} invokes/s`);
    for (const concurrency of [1, 32]) {
      const figures = wrkFigures(`${server.url}${path}`, dataDir, concurrency);
      if (figures) console.log(`warm invoke, wrk,      concurrency ${String(concurrency).padEnd(2)}:  ${figures}`);
    }
    const sdk1 = await load(1, 2000, sdk);
    console.log(`warm invoke, AWS SDK,   concurrency 1:   ${summary(sdk1.latencies)}  ${sdk1.perSecond.toFixed(0)} invokes/s`);
    const sdk32 = await load(32, 10_000, sdk);
    console.log(`warm invoke, AWS SDK,   concurrency 32:  ${summary(sdk32.latencies)}  ${sdk32.perSecond.toFixed(0)} invokes/s`);

    const cold: number[] = [];
    for (let i = 0; i < 20; i++) {
      const name = `cold-${i}`;
      await create(name);
      const t = performance.now();
      await bareInvoke(agent, url, `/2015-03-31/functions/${name}/invocations`, body);
      cold.push(performance.now() - t);
    }
    console.log(`cold start (first invoke), bare HTTP:    ${summary(cold)}`);

    // Provisioned concurrency: the first invoke lands on an environment initialised ahead of time.
    const provisionedFirst: number[] = [];
    for (let i = 0; i < 10; i++) {
      const name = `prov-${i}`;
      await create(name);
      await lambda.send(new PublishVersionCommand({ FunctionName: name }));
      await lambda.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: name, Qualifier: '1', ProvisionedConcurrentExecutions: 1 }));
      for (;;) {
        const config = await lambda.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: name, Qualifier: '1' }));
        if (config.Status === 'READY') break;
        await new Promise((r) => setTimeout(r, 10));
      }
      const t = performance.now();
      await bareInvoke(agent, url, `/2015-03-31/functions/${name}/invocations?Qualifier=1`, body);
      provisionedFirst.push(performance.now() - t);
    }
    console.log(`first invoke, provisioned environment:  ${summary(provisionedFirst)}  (cold start above)`);

    // Event mode: 202 only after the event is fsynced (group commit); the pollers run them meanwhile.
    await create('events');
    const eventsPath = '/2015-03-31/functions/events/invocations';
    const queued = async () => {
      const res = await fetch(`${server.url}/kindling/functions/events/metrics`);
      return ((await res.json()) as { AsyncEventsQueued: number }).AsyncEventsQueued;
    };
    const total = 10_000;
    const began = performance.now();
    const accepted = await load(32, total, () => bareInvoke(agent, url, eventsPath, body, true));
    console.log(`events accepted (durable), concurrency 32: ${summary(accepted.latencies)}  ${accepted.perSecond.toFixed(0)} events/s`);
    while ((await queued()) > 0) await new Promise((r) => setTimeout(r, 20));
    const ranPerSecond = (total / (performance.now() - began)) * 1000;
    console.log(`events run end to end (no-op function):   ${ranPerSecond.toFixed(0)} events/s (${total} events, accepted and run)`);
    agent.destroy();
  } finally {
    lambda.destroy();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
