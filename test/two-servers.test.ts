import {
  CreateAliasCommand,
  CreateFunctionCommand,
  DeleteFunctionCommand,
  GetFunctionCommand,
  InvokeCommand,
  LambdaClient,
  PublishVersionCommand,
  UpdateFunctionCodeCommand,
  waitUntilFunctionActiveV2,
  waitUntilFunctionUpdatedV2,
} from '@aws-sdk/client-lambda';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { zipFiles } from '../src/code/index.js';
import { queuedEvents } from './support/crash.js';
import { nodeFunction, rejectsWith } from './support/functions.js';
import { clientFor, json, startTestServer, type TestServer } from './support/kindling.js';
import { PostgresCluster, postgresUnavailable } from './support/postgres.js';
import { scratchDir, sharedFile } from './support/scratch.js';
import { spawnServe, type ServeProcess } from './support/serve-process.js';
import { eventuallyAsync, records } from './support/wait.js';

const unavailable = postgresUnavailable();

/** kill -9 of a server and every process under it (its runtimes), as a machine that dies. */
async function killTree(serve: ServeProcess): Promise<void> {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // pid (comm) state ppid ...: comm may hold spaces, so read after its closing parenthesis.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const tree = new Set([serve.child.pid!]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, ppid] of parents) if (tree.has(ppid) && !tree.has(pid)) (tree.add(pid), (grew = true));
  }
  for (const pid of tree) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  await serve.exited;
}

/** Returns its version's word; records each event's number (and its pid, for crashServer). */
const counter = (word: string) => `
const fs = require('fs');
exports.handler = async (event) => {
  if (event.n !== undefined) fs.appendFileSync(process.env.RECORD_FILE, JSON.stringify({ n: event.n, pid: process.pid }) + '\\n');
  return '${word}';
};
`;

// Lambda is a fleet: front ends on many machines share one view of every function and every
// queued event. Two Kindling servers, each with its own data directory, share one PostgreSQL.
describe('two servers on one PostgreSQL', { skip: unavailable || false }, () => {
  let cluster: PostgresCluster;
  let a: ServeProcess;
  let lambdaA: LambdaClient;
  let b: TestServer;
  let work: string;
  let record: string;
  const dirs: string[] = [];

  before(async () => {
    cluster = await PostgresCluster.start();
    const url = await cluster.createDatabase('two_servers');
    work = scratchDir('kindling-two-');
    record = sharedFile(join(work, 'record.jsonl'));
    const dirA = mkdtempSync(join(tmpdir(), 'kindling-a-'));
    dirs.push(dirA);
    // A is its own process, for kill -9; a short lease, so its events are B's soon after it dies.
    a = await spawnServe(['--data-dir', dirA, '--store', url, '--visibility-timeout', '2', '--pollers', '2', '--poller-batch-size', '10', '--retry-delay-scale', '0.001']);
    lambdaA = clientFor(a.url);
    b = await startTestServer({ store: url, visibilityTimeoutMs: 2000, retryDelayScale: 0.001 });
  });
  after(async () => {
    lambdaA?.destroy();
    if (a && a.child.exitCode === null && a.child.signalCode === null) {
      a.child.kill('SIGTERM');
      await a.exited;
    }
    await b?.close();
    await cluster?.stop();
    for (const dir of [...dirs, work]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const invoke = async (client: LambdaClient, qualifier?: string) =>
    json((await client.send(new InvokeCommand({ FunctionName: 'shared', ...(qualifier ? { Qualifier: qualifier } : {}) }))).Payload);

  it('a function created on A is invoked on B', async () => {
    await lambdaA.send(new CreateFunctionCommand(await nodeFunction('shared', counter('one'), { Environment: { Variables: { RECORD_FILE: record } } })));
    await waitUntilFunctionActiveV2({ client: lambdaA, maxWaitTime: 10 }, { FunctionName: 'shared' });
    assert.equal(await invoke(b.lambda), 'one');
  });

  it("code updated on B runs on A's next invoke", async () => {
    assert.equal(await invoke(lambdaA), 'one'); // A has a warm environment of the old code
    await b.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'shared', ZipFile: await zipFiles({ 'index.js': counter('two') }) }));
    await waitUntilFunctionUpdatedV2({ client: b.lambda, maxWaitTime: 10 }, { FunctionName: 'shared' });
    assert.equal(await invoke(lambdaA), 'two');
  });

  it('a version and an alias published on B are invoked on A', async () => {
    const version = await b.lambda.send(new PublishVersionCommand({ FunctionName: 'shared' }));
    await b.lambda.send(new CreateAliasCommand({ FunctionName: 'shared', Name: 'live', FunctionVersion: version.Version! }));
    // Seen by A within a second of B's answer (the change feed), then served from A's cache.
    const answer = await eventuallyAsync(
      () => invoke(lambdaA, 'live').catch((err: Error) => err.name),
      (value) => value === 'two',
      "A serves B's alias",
      1000,
    );
    assert.equal(answer, 'two');
  });

  it('a function deleted on A is ResourceNotFoundException on B', async () => {
    await lambdaA.send(new CreateFunctionCommand(await nodeFunction('doomed', counter('doomed'))));
    await waitUntilFunctionActiveV2({ client: lambdaA, maxWaitTime: 10 }, { FunctionName: 'doomed' });
    assert.equal(json((await b.lambda.send(new InvokeCommand({ FunctionName: 'doomed' }))).Payload), 'doomed'); // warm on B
    await lambdaA.send(new DeleteFunctionCommand({ FunctionName: 'doomed' }));
    const answer = await eventuallyAsync(
      () => b.lambda.send(new InvokeCommand({ FunctionName: 'doomed' })).then(() => 'still there', (err: Error) => err.name),
      (name) => name !== 'still there',
      "B sees A's deletion",
      1000,
    );
    assert.equal(answer, 'ResourceNotFoundException');
    await rejectsWith(b.lambda.send(new GetFunctionCommand({ FunctionName: 'doomed' })), 'ResourceNotFoundException', 404);
  });

  it('1,000 events accepted by A are all delivered after A is killed (-9)', async () => {
    const total = 1000;
    for (let start = 0; start < total; start += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          lambdaA.send(new InvokeCommand({ FunctionName: 'shared', InvocationType: 'Event', Payload: JSON.stringify({ n: start + i }) })),
        ),
      );
    }
    await killTree(a);
    await eventuallyAsync(() => queuedEvents(b.kindling.url, 'shared'), (queued) => queued === 0, 'B drained the queue', 120_000);
    const seen = records<{ n: number }>(record).map((line) => line.n);
    const distinct = new Set(seen);
    assert.equal(distinct.size, total, `delivered ${distinct.size} of ${total}`);
    // At least once: only events in flight on A when it died (its pollers × batch) may run twice.
    assert.ok(seen.length - total <= 2 * 10, `${seen.length - total} duplicates`);
  });
});
