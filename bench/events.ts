/**
 * Durable Event invokes accepted per second (issue 11): concurrency 32, bare keep-alive HTTP with
 * `X-Amz-Invocation-Type: Event` against a real `kindling serve` in its own process. Each 202 comes
 * only after the event's commit is fsynced (group commit). The pollers do not compete: there is one,
 * with a batch of one, and the function it runs takes longer than a measured round, so the figure
 * is acceptance alone. Then the drain: a second server with the default poller fleet, a no-op
 * function, DRAIN events offered at the same concurrency, timed from the first accept until the
 * last one is settled (deleted from the queue): events drained end to end per second.
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
const DRAIN = 20_000;

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

/** A server with one function (`handler`), and a way to offer it Event invokes; stopped and removed after `run`. */
async function withFunction(
  store: string | undefined,
  flags: readonly string[],
  handler: string,
  run: (accept: () => Promise<void>, queued: () => Promise<number>) => Promise<void>,
): Promise<void> {
  const storeFlags = store ? ['--store', store] : [];
  const dataDir = mkdtempSync(join(tmpdir(), 'kindling-bench-events-'));
  const server = await startServer(dataDir, 'process', [...storeFlags, ...flags]);
  const lambda = new LambdaClient({ endpoint: server.url, region: 'us-east-1', credentials: { accessKeyId: 'b', secretAccessKey: 'b' }, maxAttempts: 1 });
  // A name of its own: on a shared database, another run's function is not this one.
  const name = `bench-events-${process.pid}`;
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  try {
    await lambda.send(
      new CreateFunctionCommand({ FunctionName: name, Runtime: 'nodejs20.x', Handler: 'index.handler', Role: ROLE, Timeout: 60, Code: { ZipFile: await zipFiles({ 'index.js': handler }) } }),
    );
    await waitUntilFunctionActiveV2({ client: lambda, maxWaitTime: 30 }, { FunctionName: name });
    const url = new URL(server.url);
    const path = `/2015-03-31/functions/${name}/invocations`;
    const body = Buffer.from('{"bench":true}');
    const queued = async () => {
      const res = await fetch(`${server.url}/kindling/functions/${name}/metrics`);
      return ((await res.json()) as { AsyncEventsQueued: number }).AsyncEventsQueued;
    };
    await run(() => eventInvoke(agent, url, path, body), queued);
    await lambda.send(new DeleteFunctionCommand({ FunctionName: name }));
  } finally {
    agent.destroy();
    lambda.destroy();
    // A clean stop waits for the events in flight (up to SLEEP_MS).
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function bench(store: string | undefined): Promise<void> {
  const kind = store ? 'PostgreSQL' : 'SQLite (WAL, each commit fsynced before its 202)';
  console.log(`Durable Event invokes accepted, concurrency ${CONCURRENCY}, bare keep-alive HTTP, ${kind}, ${availableParallelism()} cores\n`);
  const sleeper = `exports.handler = async () => { await new Promise((r) => setTimeout(r, ${SLEEP_MS})); };\n`;
  await withFunction(store, ['--pollers', '1', '--poller-batch-size', '1'], sleeper, async (accept, queued) => {
    await load(CONCURRENCY, WARM_UP, accept);
    const all: number[] = [];
    for (let i = 1; i <= ROUNDS; i++) {
      const r = await load(CONCURRENCY, PER_ROUND, accept);
      all.push(...r.latencies);
      console.log(`round ${i}: ${PER_ROUND} events  ${r.perSecond.toFixed(0)} events/s  ${summary(r.latencies)}`);
    }
    console.log(`all rounds: ${summary(all)}; ${await queued()} of ${WARM_UP + ROUNDS * PER_ROUND} accepted events still queued (the poller ran the rest)`);
  });
  // The default poller fleet, a no-op function: offered and run side by side, as in production.
  await withFunction(store, [], 'exports.handler = async () => {};\n', async (accept, queued) => {
    const begin = performance.now();
    const offered = await load(CONCURRENCY, DRAIN, accept);
    while ((await queued()) > 0) await new Promise((r) => setTimeout(r, 100));
    const seconds = (performance.now() - begin) / 1000;
    console.log(`drain: ${DRAIN} events to a no-op function, default pollers: ${(DRAIN / seconds).toFixed(0)} events/s end to end (offered at ${offered.perSecond.toFixed(0)}/s)`);
  });
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
