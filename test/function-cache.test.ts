import {
  CreateFunctionCommand,
  GetAliasCommand,
  GetFunctionCommand,
  GetFunctionConcurrencyCommand,
  InvokeCommand,
  PublishVersionCommand,
  waitUntilFunctionActiveV2,
} from '@aws-sdk/client-lambda';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { nodeFunction, rejectsWith } from './support/functions.js';
import { json, startTestServer, type TestServer } from './support/kindling.js';
import { eventuallyAsync } from './support/wait.js';

// The store is the source of truth: what another server sharing it writes reaches this server's
// caches through the change feed. Here the "other server" writes straight into the store.
describe('caches follow the store', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
    await server.lambda.send(new CreateFunctionCommand(await nodeFunction('followed', 'exports.handler = async () => "v1";\n')));
    await waitUntilFunctionActiveV2({ client: server.lambda, maxWaitTime: 10 }, { FunctionName: 'followed' });
  });
  after(async () => {
    await server.close();
  });

  const invoke = async (qualifier?: string) =>
    json((await server.lambda.send(new InvokeCommand({ FunctionName: 'followed', ...(qualifier ? { Qualifier: qualifier } : {}) }))).Payload);

  it('new code written to the store runs on the next invoke, in a new environment', async () => {
    assert.equal(await invoke(), 'v1');
    const { store } = server.kindling;
    // The code the other server's UpdateFunctionCode stored (another function with that zip stores it here).
    const other = await server.lambda.send(new CreateFunctionCommand(await nodeFunction('same-code', 'exports.handler = async () => "v2";\n')));
    const code = (await store.functions.get('same-code'))!;
    assert.equal(code.codeSha256, other.CodeSha256);
    const current = (await store.functions.get('followed'))!;
    await store.functions.replace({ ...current, codeKey: code.codeKey, codeSha256: code.codeSha256, codeSize: code.codeSize, revisionId: 'other-server' });
    await eventuallyAsync(
      () => server.lambda.send(new GetFunctionCommand({ FunctionName: 'followed' })),
      (fn) => fn.Configuration?.RevisionId === 'other-server',
      'the change reached the cache',
    );
    assert.equal(await invoke(), 'v2');
  });

  it('a version, an alias and reserved concurrency written to the store are served', async () => {
    const { store } = server.kindling;
    const latest = (await store.functions.get('followed'))!;
    await store.versions.insert({ ...latest, version: '7' });
    await store.aliases.put({ functionName: 'followed', name: 'live', functionVersion: '7', description: '', revisionId: 'r1' });
    await store.concurrency.putReserved('followed', 5);
    await eventuallyAsync(
      () => server.lambda.send(new GetAliasCommand({ FunctionName: 'followed', Name: 'live' })).catch(() => undefined),
      (alias) => alias?.FunctionVersion === '7',
      'the alias reached the cache',
    );
    assert.equal(await invoke('live'), 'v2');
    assert.equal((await server.lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: 'followed' }))).ReservedConcurrentExecutions, 5);
  });

  it('a function deleted in the store is gone at once from every cache', async () => {
    await server.kindling.store.functions.delete('followed');
    await eventuallyAsync(
      () => server.lambda.send(new GetFunctionCommand({ FunctionName: 'followed' })).catch(() => undefined),
      (fn) => fn === undefined,
      'the deletion reached the cache',
    );
    await rejectsWith(server.lambda.send(new InvokeCommand({ FunctionName: 'followed' })), 'ResourceNotFoundException', 404);
    await rejectsWith(server.lambda.send(new InvokeCommand({ FunctionName: 'followed', Qualifier: 'live' })), 'ResourceNotFoundException', 404);
    await rejectsWith(server.lambda.send(new PublishVersionCommand({ FunctionName: 'followed' })), 'ResourceNotFoundException', 404);
    // Nothing of it is left in the store either: one transaction took it all.
    const snapshot = await server.kindling.store.functions.snapshot('followed');
    assert.deepEqual(
      { fn: snapshot.function, versions: snapshot.versions, aliases: snapshot.aliases, reserved: snapshot.reserved },
      { fn: undefined, versions: [], aliases: [], reserved: undefined },
    );
    assert.ok(snapshot.revision > 0);
  });
});
