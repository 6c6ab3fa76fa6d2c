/**
 * `npm run bench` (fleet): issue 12's figures, in one run on one machine, every node its own process
 * on one throwaway PostgreSQL:
 * - warm invoke p50 (sequential) and invokes/s at concurrency 32 through an `api` node to one
 *   worker and to two workers, beside `--role all` on the same PostgreSQL;
 * - cold starts placed per second (new functions, 8 at a time, on workers with room);
 * - how long a killed worker takes to leave routing when nothing calls it (its heartbeat stops).
 */
import { CreateFunctionCommand, LambdaClient, waitUntilFunctionActiveV2 } from '@aws-sdk/client-lambda';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipFiles } from '../src/code/index.js';
import { PostgresCluster, postgresUnavailable } from '../test/support/postgres.js';
import { load, percentile, ROLE, startServer, summary } from './support.js';

const SEQUENTIAL = 2000;
const CONCURRENT = 4000;
const COLD = 24;
const NODE_READY = /Kindling node \S+ \(([^)]*)\) is running/;

type Server = Awaited<ReturnType<typeof startServer>>;

async function createFunction(url: string, name: string): Promise<void> {
  const lambda = new LambdaClient({ endpoint: url, region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' }, maxAttempts: 1 });
  const ZipFile = await zipFiles({ 'index.js': 'exports.handler = async () => "ok";\n' });
  await lambda.send(new CreateFunctionCommand({ FunctionName: name, Runtime: 'nodejs20.x', Handler: 'index.handler', Role: ROLE, Code: { ZipFile } }));
  await waitUntilFunctionActiveV2({ client: lambda, maxWaitTime: 30 }, { FunctionName: name });
  lambda.destroy();
}

function invoker(url: string, name: string, sockets: number): { call(): Promise<void>; close(): void } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  const base = new URL(url);
  const path = `/2015-03-31/functions/${name}/invocations`;
  return {
    call: () =>
      new Promise((resolve, reject) => {
        const req = http.request({ agent, host: base.hostname, port: base.port, method: 'POST', path }, (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
        });
        req.on('error', reject);
        req.end('{}');
      }),
    close: () => agent.destroy(),
  };
}

async function sequential(call: () => Promise<void>, count: number): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    await call();
    latencies.push(performance.now() - t);
  }
  return latencies;
}

async function main(): Promise<void> {
  const why = postgresUnavailable();
  if (why) {
    process.stdout.write(`fleet bench skipped: ${why}\n`);
    return;
  }
  const pg = await PostgresCluster.start();
  const dirs: string[] = [];
  const servers: Server[] = [];
  const dir = () => {
    const d = mkdtempSync(join(tmpdir(), 'kindling-bench-fleet-'));
    dirs.push(d);
    return d;
  };
  const node = async (db: string, role: string, flags: string[] = []) => {
    const server = await startServer(dir(), 'process', ['--store', db, '--role', role, '--fleet-port', '0', ...flags], role.includes('api') ? undefined : NODE_READY);
    servers.push(server);
    return server;
  };
  try {
    const all = await startServer(dir(), 'process', ['--store', await pg.createDatabase('bench_all')]);
    servers.push(all);
    const db1 = await pg.createDatabase('bench_one');
    await node(db1, 'worker');
    const one = await node(db1, 'api');
    // Two workers with 16 environments' memory each: 32 at once need both.
    const db2 = await pg.createDatabase('bench_two');
    await node(db2, 'worker', ['--worker-memory', String(16 * 128)]);
    const worker2 = await node(db2, 'worker', ['--worker-memory', String(16 * 128)]);
    const two = await node(db2, 'api');
    const setups = { 'role all': all.url, 'api → 1 worker': one.url, 'api → 2 workers': two.url };
    for (const url of Object.values(setups)) await createFunction(url, 'warm');
    const callers = Object.fromEntries(Object.entries(setups).map(([label, url]) => [label, invoker(url, 'warm', 32)]));
    for (const caller of Object.values(callers)) await sequential(caller.call, 200);

    process.stdout.write(`Fleet (every node its own process, one PostgreSQL; ${SEQUENTIAL} sequential warm invokes, then ${CONCURRENT} at concurrency 32)\n`);
    // Alternating blocks, so that whatever else the machine does falls on every setup alike.
    const seq: Record<string, number[]> = Object.fromEntries(Object.keys(setups).map((label) => [label, []]));
    for (let block = 0; block < 8; block++) {
      for (const [label, caller] of Object.entries(callers)) seq[label]!.push(...(await sequential(caller.call, SEQUENTIAL / 8)));
    }
    const base = percentile([...seq['role all']!].sort((a, b) => a - b), 50);
    for (const [label, samples] of Object.entries(seq)) {
      const p50 = percentile([...samples].sort((a, b) => a - b), 50);
      process.stdout.write(`  sequential ${label.padEnd(16)} ${summary(samples)}  (+${(p50 - base).toFixed(3)} ms over role all)\n`);
    }
    // Cold starts: new functions, each invoked once, 8 at a time (before the load below fills the
    // two workers' memory, which would make every cold start shut an idle environment down first).
    for (const [label, url] of [['role all', all.url], ['api → 2 workers', two.url]] as const) {
      const names = Array.from({ length: COLD }, (_, i) => `cold${i}`);
      for (const name of names) await createFunction(url, name);
      let next = 0;
      const begin = performance.now();
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (next < names.length) {
            const caller = invoker(url, names[next++]!, 1);
            await caller.call();
            caller.close();
          }
        }),
      );
      const seconds = (performance.now() - begin) / 1000;
      process.stdout.write(`  cold starts ${label.padEnd(16)} ${(COLD / seconds).toFixed(1)} placed and run per second (${COLD} functions, 8 at a time)\n`);
    }

    for (const [label, caller] of Object.entries(callers)) {
      const { latencies, perSecond } = await load(32, CONCURRENT, caller.call);
      process.stdout.write(`  c=32       ${label.padEnd(16)} ${perSecond.toFixed(0)} invokes/s  ${summary(latencies)}\n`);
    }
    for (const caller of Object.values(callers)) caller.close();

    // A worker killed with nothing calling it: how long until the api node shows it out of routing.
    const killedAt = performance.now();
    worker2.kill();
    const nodesUrl = `${two.url}/kindling/cluster/nodes`;
    for (;;) {
      const res = (await (await fetch(nodesUrl)).json()) as { Nodes: { Roles: string[]; State: string }[] };
      if (res.Nodes.some((n) => n.Roles.includes('worker') && n.State === 'down')) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    process.stdout.write(`  a killed worker out of routing (no traffic to it): ${((performance.now() - killedAt) / 1000).toFixed(2)} s (a call that finds it dead takes it out at once)\n`);
  } finally {
    await Promise.allSettled(servers.map((server) => server.stop()));
    await pg.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

await main();
