import {
  CreateFunctionCommand,
  GetFunctionCommand,
  InvokeCommand,
  PutFunctionConcurrencyCommand,
  waitUntilFunctionActiveV2,
} from '@aws-sdk/client-lambda';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { queuedEvents } from './support/crash.js';
import { nodeFunction, rejectsWith } from './support/functions.js';
import { json, startTestServer, type TestServer } from './support/kindling.js';
import { PostgresCluster, postgresUnavailable } from './support/postgres.js';
import { scratchDir, sharedFile } from './support/scratch.js';
import { eventuallyAsync, records } from './support/wait.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const unavailable = postgresUnavailable();

/** `kindling serve` that is expected to stop by itself: its exit code and what it printed. */
function serveFails(args: readonly string[]): Promise<{ code: number | null; output: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kindling-badstore-'));
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--data-dir', dataDir, '--sandbox', 'process', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      rmSync(dataDir, { recursive: true, force: true });
      resolve({ code, output });
    }),
  );
}

describe('a store that cannot be reached', { skip: unavailable || false }, () => {
  let cluster: PostgresCluster;
  before(async () => {
    cluster = await PostgresCluster.start();
  });
  after(async () => {
    await cluster?.stop();
  });

  it('a connection string that is not PostgreSQL is refused as a usage error', async () => {
    const { code, output } = await serveFails(['--store', 'mysql://root:hunter2@127.0.0.1/kindling']);
    assert.equal(code, 2, output);
    assert.match(output, /--store must be a PostgreSQL connection string/);
    assert.doesNotMatch(output, /hunter2/);
  });

  it('an unreachable database stops serve with a message, not a stack trace, and no password', async () => {
    const closed = `postgres://kindling:hunter2@127.0.0.1:${cluster.port + 1}/kindling`;
    const { code, output } = await serveFails(['--store', closed]);
    assert.notEqual(code, 0, output);
    assert.match(output, new RegExp(`127\\.0\\.0\\.1:${cluster.port + 1}`), output);
    assert.doesNotMatch(output, /hunter2/, output);
    assert.doesNotMatch(output, /\n\s+at /, `a stack trace: ${output}`);
  });

  it('a database that does not exist stops serve with a message naming it', async () => {
    const { code, output } = await serveFails(['--store', cluster.url('no_such_database')]);
    assert.notEqual(code, 0, output);
    assert.match(output, /no_such_database/, output);
    assert.doesNotMatch(output, /\n\s+at /, `a stack trace: ${output}`);
  });
});

/** Records each event's number in $RECORD_FILE. */
const RECORDER = `
const fs = require('fs');
exports.handler = async (event) => {
  if (event.n !== undefined) fs.appendFileSync(process.env.RECORD_FILE, JSON.stringify({ n: event.n }) + '\\n');
  return 'ok';
};
`;

describe('PostgreSQL restarting under Kindling', { skip: unavailable || false }, () => {
  let cluster: PostgresCluster;
  let server: TestServer;
  let record: string;
  let work: string;
  before(async () => {
    cluster = await PostgresCluster.start();
    work = scratchDir('kindling-pgfault-');
    record = sharedFile(join(work, 'record.jsonl'));
    server = await startTestServer({ store: await cluster.createDatabase('faults'), visibilityTimeoutMs: 2000, retryDelayScale: 0.001 });
    await server.lambda.send(new CreateFunctionCommand(await nodeFunction('steady', RECORDER, { Environment: { Variables: { RECORD_FILE: record } } })));
    await waitUntilFunctionActiveV2({ client: server.lambda, maxWaitTime: 10 }, { FunctionName: 'steady' });
  });
  after(async () => {
    await server?.close();
    await cluster?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('answers ServiceException while the database is down, serves warm invokes from its caches, and loses no accepted event', async () => {
    // Accepted (202) before the outage: all of them must run.
    const accepted = 200;
    await Promise.all(
      Array.from({ length: accepted }, (_, n) => server.lambda.send(new InvokeCommand({ FunctionName: 'steady', InvocationType: 'Event', Payload: JSON.stringify({ n }) }))),
    );
    assert.equal(json((await server.lambda.send(new InvokeCommand({ FunctionName: 'steady' }))).Payload), 'ok');

    await cluster.stopServer('immediate');
    // A write needs the database: Lambda's ServiceException, not a hang.
    await rejectsWith(server.lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'steady', ReservedConcurrentExecutions: 5 })), 'ServiceException', 500);
    await rejectsWith(
      server.lambda.send(new InvokeCommand({ FunctionName: 'steady', InvocationType: 'Event', Payload: '{"n":-1}' })),
      'ServiceException',
      500,
    );
    // What is cached keeps answering: the invoke path reads no store.
    assert.equal((await server.lambda.send(new GetFunctionCommand({ FunctionName: 'steady' }))).Configuration?.FunctionName, 'steady');
    assert.equal(json((await server.lambda.send(new InvokeCommand({ FunctionName: 'steady' }))).Payload), 'ok');

    await cluster.startServer();
    // Reconnected by itself: writes work again.
    await eventuallyAsync(
      () => server.lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'steady', ReservedConcurrentExecutions: 5 })).then(() => 'ok', (err: Error) => err.name),
      (outcome) => outcome === 'ok',
      'Kindling reconnected',
      30_000,
    );
    await eventuallyAsync(() => queuedEvents(server.kindling.url, 'steady'), (queued) => queued === 0, 'the queue drained', 60_000);
    const seen = new Set(records<{ n: number }>(record).map((line) => line.n));
    for (let n = 0; n < accepted; n++) assert.ok(seen.has(n), `event ${n} was accepted and never ran`);
    assert.ok(!seen.has(-1), 'an event refused during the outage ran');
  });
});
