/**
 * Durable Event invokes accepted per second (issue 11): concurrency 32, bare keep-alive HTTP with
 * `X-Amz-Invocation-Type: Event` against a real `kindling serve` in its own process. Each 202 comes
 * only after the event's commit is fsynced (group commit). The pollers do not compete: there is one,
 * with a batch of one, and the function it runs takes longer than a measured round, so the figure
 * is acceptance alone.
 *
 * SQLite in a fresh data directory by default; `KINDLING_BENCH_STORE=postgres://...` runs the same
 * rounds on PostgreSQL (use a scratch database: the bench's events are left to be dropped as
 * FunctionNotFound once it deletes its function).
 * Run: `npm run build && node dist/bench/events.js`.
 */
import { CreateFunctionCommand, DeleteFunctionCommand, LambdaClient, waitUntilFunctionActiveV2 } from '@aws-sdk/client-lambda';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipFiles } from '../src/code/index.js';
import { PostgresCluster, postgresUnavailable } from '../test/support/postgres.js';
import { load, ROLE, startServer, summary } from './support.js';

const CONCURRENCY = 32;
const WARM_UP = 2_000;
const ROUNDS = 3;
const PER_ROUND = 10_000;
/** Longer than a round takes: the one poller holds one event and leases nothing else meanwhile. */
const SLEEP_MS = 10_000;

/** One Event invoke over the shared keep-alive agent; resolves on its 202. */
function eventInvoke(agent: http.Agent, url: URL, path: string, body: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { agent, host: url.hostname, port: url.port, method: 'POST', path, headers: { 'Content-Length': body.length, 'X-Amz-Invocation-Type': 'Event' } },
      (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 202 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function bench(store: string | undefined): Promise<void> {
  const storeFlags = store ? ['--store', store] : [];
  const kind = store ? 'PostgreSQL' : 'SQLite (synchronous=FULL, WAL)';
  const dataDir = mkdtempSync(join(tmpdir(), 'kindling-bench-events-'));
  const server = await startServer(dataDir, 'process', [...storeFlags, '--pollers', '1', '--poller-batch-size', '1']);
  const lambda = new LambdaClient({ endpoint: server.url, region: 'us-east-1', credentials: { accessKeyId: 'b', secretAccessKey: 'b' }, maxAttempts: 1 });
  // A name of its own: on a shared database, another run's function is not this one.
  const name = `bench-events-${process.pid}`;
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  try {
    const handler = `exports.handler = async () => { await new Promise((r) => setTimeout(r, ${SLEEP_MS})); };\n`;
    await lambda.send(
      new CreateFunctionCommand({ FunctionName: name, Runtime: 'nodejs20.x', Handler: 'index.handler', Role: ROLE, Timeout: 60, Code: { ZipFile: await zipFiles({ 'index.js': handler }) } }),
    );
    await waitUntilFunctionActiveV2({ client: lambda, maxWaitTime: 30 }, { FunctionName: name });
    const url = new URL(server.url);
    const path = `/2015-03-31/functions/${name}/invocations`;
    const body = Buffer.from('{"bench":true}');
    const accept = () => eventInvoke(agent, url, path, body);

    console.log(`Durable Event invokes accepted, concurrency ${CONCURRENCY}, bare keep-alive HTTP, ${kind}, ${availableParallelism()} cores\n`);
    await load(CONCURRENCY, WARM_UP, accept);
    const all: number[] = [];
    for (let i = 1; i <= ROUNDS; i++) {
      const r = await load(CONCURRENCY, PER_ROUND, accept);
      all.push(...r.latencies);
      console.log(`round ${i}: ${PER_ROUND} events  ${r.perSecond.toFixed(0)} events/s  ${summary(r.latencies)}`);
    }
    const res = await fetch(`${server.url}/kindling/functions/${name}/metrics`);
    const queued = ((await res.json()) as { AsyncEventsQueued: number }).AsyncEventsQueued;
    console.log(`all rounds: ${summary(all)}; ${queued} of ${WARM_UP + ROUNDS * PER_ROUND} accepted events still queued (the poller ran the rest)`);
    await lambda.send(new DeleteFunctionCommand({ FunctionName: name }));
  } finally {
    agent.destroy();
    lambda.destroy();
    // A clean stop waits for the one event in flight (up to SLEEP_MS).
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * SQLite, then PostgreSQL: the database in KINDLING_BENCH_STORE, or else a throwaway cluster from
 * Debian's package with fsync on (a real deployment's durability), when PostgreSQL is installed.
 */
async function main(): Promise<void> {
  await bench(undefined);
  const given = process.env['KINDLING_BENCH_STORE'];
  if (given) return bench(given);
  const why = postgresUnavailable();
  if (why) return void console.log(`\nPostgreSQL skipped: ${why}`);
  const cluster = await PostgresCluster.start({ settings: { fsync: 'on', synchronous_commit: 'on', full_page_writes: 'on' } });
  try {
    console.log('');
    await bench(await cluster.createDatabase('bench_events'));
  } finally {
    await cluster.stop();
  }
}

await main();
