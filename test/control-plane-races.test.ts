import {
  CreateAliasCommand,
  CreateFunctionCommand,
  DeleteFunctionCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  ListAliasesCommand,
  ListVersionsByFunctionCommand,
  PublishVersionCommand,
  PutFunctionConcurrencyCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionActiveV2,
  waitUntilFunctionUpdatedV2,
} from '@aws-sdk/client-lambda';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KeyedLock } from '../src/shared/index.js';
import { nodeFunction } from './support/functions.js';
import { startTestServer, type TestServer } from './support/kindling.js';
import { openSlowStore } from './support/slow-store.js';

/** Each call's error name, or 'ok': what a burst of calls made at once came to. */
async function outcomes(calls: Promise<unknown>[]): Promise<string[]> {
  const settled = await Promise.allSettled(calls);
  return settled.map((s) => (s.status === 'fulfilled' ? 'ok' : (s.reason as Error).name));
}

// The store answers through Promises: a check and the write it guards span an await. Calls made at
// once must still come out as they did when the store answered at once, never as a 500. The store
// here answers late, as one across a network would, so that the await is a real gap.
describe('control-plane calls made at once', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ accountConcurrency: 300, unreservedMinimum: 100 }, undefined, { openStore: openSlowStore() });
  });
  after(async () => {
    await server.close();
  });

  it('CreateFunction of one name: one is created, the others are told it exists', async () => {
    const input = await nodeFunction('twin');
    const results = await outcomes(Array.from({ length: 4 }, () => server.lambda.send(new CreateFunctionCommand(input))));
    assert.deepEqual(results.filter((r) => r === 'ok').length, 1, results.join());
    assert.deepEqual(new Set(results.filter((r) => r !== 'ok')), new Set(['ResourceConflictException']));
  });

  it('PublishVersion of an unchanged function: every call answers the one version', async () => {
    await waitUntilFunctionActiveV2({ client: server.lambda, maxWaitTime: 10 }, { FunctionName: 'twin' });
    const published = await Promise.all(Array.from({ length: 5 }, () => server.lambda.send(new PublishVersionCommand({ FunctionName: 'twin' }))));
    assert.deepEqual(new Set(published.map((v) => v.Version)), new Set(['1']));
    const listed = await server.lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'twin' }));
    assert.deepEqual(listed.Versions?.map((v) => v.Version), ['$LATEST', '1']);
  });

  it('UpdateFunctionConfiguration: the others wait for the update in progress, and the function settles', async () => {
    const results = await outcomes(
      [1, 2, 3].map((n) => server.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'twin', Description: `update ${n}` }))),
    );
    assert.ok(results.includes('ok'), results.join());
    assert.ok(results.every((r) => r === 'ok' || r === 'ResourceConflictException'), results.join());
    await waitUntilFunctionUpdatedV2({ client: server.lambda, maxWaitTime: 10 }, { FunctionName: 'twin' });
    const fn = await server.lambda.send(new GetFunctionCommand({ FunctionName: 'twin' }));
    assert.equal(fn.Configuration?.LastUpdateStatus, 'Successful');
  });

  it('PutFunctionConcurrency on two functions: together they may not break the unreserved minimum', async () => {
    await server.lambda.send(new CreateFunctionCommand(await nodeFunction('other')));
    // 300 in the account, 100 kept unreserved: 150 each would leave 0.
    const results = await outcomes(
      ['twin', 'other'].map((name) => server.lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: name, ReservedConcurrentExecutions: 150 }))),
    );
    assert.deepEqual([...results].sort(), ['InvalidParameterValueException', 'ok']);
  });

  it('DeleteFunction while aliases are created: nothing of the function is left for a new one of its name', async () => {
    await waitUntilFunctionActiveV2({ client: server.lambda, maxWaitTime: 10 }, { FunctionName: 'other' });
    await server.lambda.send(new PublishVersionCommand({ FunctionName: 'other' }));
    await outcomes([
      ...['a', 'b', 'c'].map((name) => server.lambda.send(new CreateAliasCommand({ FunctionName: 'other', Name: name, FunctionVersion: '1' }))),
      server.lambda.send(new DeleteFunctionCommand({ FunctionName: 'other' })),
    ]);
    await server.lambda.send(new CreateFunctionCommand(await nodeFunction('other')));
    const aliases = await server.lambda.send(new ListAliasesCommand({ FunctionName: 'other' }));
    assert.deepEqual(aliases.Aliases, []);
    const versions = await server.lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'other' }));
    assert.deepEqual(versions.Versions?.map((v) => v.Version), ['$LATEST']);
  });

  // The answer to a create or update says Pending / InProgress, as Lambda's does; the move to
  // Active / Successful is a store write of its own. It is made before the answer goes out, so the
  // caller's next call finds the function settled however long the store takes to answer.
  it('CreateFunction and updates: the answer says Pending / InProgress, the next call finds the function settled', async () => {
    const created = await server.lambda.send(new CreateFunctionCommand(await nodeFunction('eager')));
    assert.equal(created.State, 'Pending');
    const got = await server.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'eager' }));
    assert.equal(got.State, 'Active');
    assert.equal(got.LastUpdateStatus, 'Successful');

    const configured = await server.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'eager', Description: 'next' }));
    assert.equal(configured.LastUpdateStatus, 'InProgress');
    const coded = await server.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'eager', ZipFile: (await nodeFunction('eager', 'exports.handler = async () => 2;\n')).Code!.ZipFile! }));
    assert.equal(coded.LastUpdateStatus, 'InProgress');
    const published = await server.lambda.send(new PublishVersionCommand({ FunctionName: 'eager' }));
    assert.equal(published.Version, '1');
    const after = await server.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'eager' }));
    assert.equal(after.Description, 'next');
    assert.equal(after.LastUpdateStatus, 'Successful');
  });
});

describe('KeyedLock', () => {
  it('runs tasks of one key one at a time, in order, and goes on after a failure', async () => {
    const lock = new KeyedLock();
    const seen: string[] = [];
    const step = (label: string, ms: number) => async () => {
      seen.push(`${label} start`);
      await new Promise((resolve) => setTimeout(resolve, ms));
      seen.push(`${label} end`);
      return label;
    };
    const a = lock.run('k', step('a', 20));
    const b = lock.run('k', () => Promise.reject(new Error('b fails')));
    const c = lock.run('k', step('c', 1));
    const other = lock.run('other', step('x', 1));
    assert.equal(await a, 'a');
    await assert.rejects(b, /b fails/);
    assert.equal(await c, 'c');
    await other;
    assert.deepEqual(
      seen.filter((s) => !s.startsWith('x')),
      ['a start', 'a end', 'c start', 'c end'],
    );
    assert.ok(seen.indexOf('x end') < seen.indexOf('a end'), 'another key does not wait');
  });
});
