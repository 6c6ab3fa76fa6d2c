import { CreateFunctionCommand, InvokeCommand, PutFunctionEventInvokeConfigCommand, UpdateFunctionCodeCommand, waitUntilFunctionUpdatedV2 } from '@aws-sdk/client-lambda';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { zipFiles } from '../src/code/index.js';
import { kindling } from './support/cli.js';
import { ROLE, startTestServer, type TestServer } from './support/kindling.js';
import { eventuallyAsync } from './support/wait.js';

describe('kindling dlq', () => {
  let server: TestServer;
  const cli = (...args: string[]) => kindling([...args, '--endpoint', server.kindling.url]);

  before(async () => {
    server = await startTestServer({ retryDelayScale: 0.001 });
    await server.lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'sad',
        Runtime: 'nodejs20.x',
        Handler: 'index.handler',
        Role: ROLE,
        Code: { ZipFile: await zipFiles({ 'index.js': 'exports.handler = async () => { throw new Error("sad"); };\n' }) },
      }),
    );
    await server.lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'sad', MaximumRetryAttempts: 0 }));
  });
  after(async () => {
    await server.close();
  });

  it('lists, shows and redrives the events that failed for good', async () => {
    await server.lambda.send(new InvokeCommand({ FunctionName: 'sad', InvocationType: 'Event', Payload: Buffer.from('{"order":42}') }));
    const listed = await eventuallyAsync(() => cli('dlq', 'ls', 'sad'), (run) => run.stdout.split('\n').length > 2, 'the event is dropped');
    assert.equal(listed.code, 0, listed.stderr);
    const [header, row] = listed.stdout.trim().split('\n');
    assert.match(header!, /^ID\s+KIND\s+QUEUE\s+CONDITION\s+ATTEMPTS/);
    assert.match(row!, /^\d+\s+dropped\s+-\s+RetriesExhausted\s+1\s/);
    const id = row!.split(/\s+/)[0]!;

    const shown = await cli('dlq', 'show', 'sad', id);
    assert.equal(shown.code, 0, shown.stderr);
    assert.deepEqual(JSON.parse(JSON.parse(shown.stdout).RequestPayload), { order: 42 });

    // Fix the function, then send the event back through it: it succeeds and leaves the store.
    await server.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'sad', ZipFile: await zipFiles({ 'index.js': 'exports.handler = async (e) => e;\n' }) }));
    await waitUntilFunctionUpdatedV2({ client: server.lambda, maxWaitTime: 10 }, { FunctionName: 'sad' });
    const redriven = await cli('dlq', 'redrive', 'sad', '--id', id);
    assert.equal(redriven.code, 0, redriven.stderr);
    assert.match(redriven.stdout, /1 event sent back through sad/);
    const empty = await eventuallyAsync(() => cli('dlq', 'ls', 'sad'), (run) => run.stdout.trim().split('\n').length === 1, 'the store is empty');
    assert.match(empty.stdout, /^ID\s+KIND/);
    const metrics = (await (await fetch(`${server.kindling.url}/kindling/functions/sad/metrics`)).json()) as Record<string, number>;
    assert.equal(metrics['AsyncEventsQueued'], 0);
    assert.equal(metrics['AsyncEventsDropped'], 1, 'the redriven event succeeded: no second drop');
  });

  it('reports errors the way the other commands do', async () => {
    const unknown = await cli('dlq', 'ls', 'ghost');
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^kindling: ResourceNotFoundException: /);
    const missing = await cli('dlq', 'show', 'sad', '999999');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /ResourceNotFoundException/);
    const bad = await cli('dlq', 'purge', 'sad');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /expected ls, show or redrive/);
  });
});
