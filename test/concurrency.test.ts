import {
  CreateFunctionCommand,
  DeleteFunctionConcurrencyCommand,
  GetAccountSettingsCommand,
  GetFunctionConcurrencyCommand,
  InvokeCommand,
  PutFunctionConcurrencyCommand,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { zipFiles } from '../src/code/index.js';
import { ROLE, startTestServer, type TestServer } from './support/kindling.js';
import { scratchDir, sharedFile } from './support/scratch.js';
import { eventually, records } from './support/wait.js';

const SLEEPER = `
const fs = require('fs');
exports.handler = async (event, context) => {
  if (process.env.RECORD_FILE) fs.appendFileSync(process.env.RECORD_FILE, JSON.stringify({ id: context.awsRequestId }) + '\\n');
  await new Promise((r) => setTimeout(r, event.ms || 0));
  return 'done';
};
`;

async function create(lambda: LambdaClient, name: string, env: Record<string, string> = {}): Promise<void> {
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: 'nodejs20.x',
      Handler: 'index.handler',
      Role: ROLE,
      Code: { ZipFile: await zipFiles({ 'index.js': SLEEPER }) },
      Environment: { Variables: env },
    }),
  );
}

/** Fires `count` invokes at once; resolves with 'ok' or the throttle Reason of each. */
async function burst(url: string, name: string, count: number, ms: number): Promise<string[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const res = await fetch(`${url}/2015-03-31/functions/${name}/invocations`, { method: 'POST', body: JSON.stringify({ ms }) });
      if (res.status === 200) {
        await res.arrayBuffer();
        return 'ok';
      }
      assert.equal(res.status, 429);
      assert.equal(res.headers.get('x-amzn-errortype'), 'TooManyRequestsException');
      assert.equal(res.headers.get('retry-after'), '1');
      const body = (await res.json()) as Record<string, string>;
      assert.equal(body['Type'], 'User');
      assert.equal(body['message'], 'Rate Exceeded.');
      return body['Reason']!;
    }),
  );
}

const count = (results: string[], what: string) => results.filter((r) => r === what).length;

describe('reserved concurrency', () => {
  let server: TestServer;
  let dir: string;
  before(async () => {
    dir = scratchDir('kindling-conc-');
    // Throttle backoff (1 s doubling to 5 min) 500 times faster; the 6-hour event age becomes 43 s.
    server = await startTestServer({ retryDelayScale: 0.002 });
    await create(server.lambda, 'limited');
    await create(server.lambda, 'paused');
    await create(server.lambda, 'single', { RECORD_FILE: sharedFile(join(dir, 'single.jsonl')) });
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('never runs more than N at once, and answers the rest 429 with Lambda’s Reason', async () => {
    const put = await server.lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'limited', ReservedConcurrentExecutions: 2 }));
    assert.equal(put.ReservedConcurrentExecutions, 2);
    const got = await server.lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: 'limited' }));
    assert.equal(got.ReservedConcurrentExecutions, 2);
    const results = await burst(server.kindling.url, 'limited', 6, 600);
    assert.equal(count(results, 'ok'), 2);
    assert.equal(count(results, 'ReservedFunctionConcurrentInvocationLimitExceeded'), 4);
    // The SDK surfaces it as TooManyRequestsException with the Reason.
    const slow = server.lambda.send(new InvokeCommand({ FunctionName: 'limited', Payload: Buffer.from('{"ms":400}') }));
    const slow2 = server.lambda.send(new InvokeCommand({ FunctionName: 'limited', Payload: Buffer.from('{"ms":400}') }));
    await new Promise((r) => setTimeout(r, 100));
    await assert.rejects(server.lambda.send(new InvokeCommand({ FunctionName: 'limited' })), (err: Error & { Reason?: string }) => {
      assert.equal(err.name, 'TooManyRequestsException');
      assert.equal(err.Reason, 'ReservedFunctionConcurrentInvocationLimitExceeded');
      return true;
    });
    await Promise.all([slow, slow2]);
  });

  it('stops a function at reserved concurrency 0, and DeleteFunctionConcurrency lifts it', async () => {
    await server.lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'paused', ReservedConcurrentExecutions: 0 }));
    assert.deepEqual(await burst(server.kindling.url, 'paused', 1, 0), ['ReservedFunctionConcurrentInvocationLimitExceeded']);
    await server.lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: 'paused' }));
    assert.deepEqual(await burst(server.kindling.url, 'paused', 1, 0), ['ok']);
    const none = await server.lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: 'paused' }));
    assert.equal(none.ReservedConcurrentExecutions, undefined);
  });

  it('loses no invoke of an event burst against reserved concurrency 1: throttled events are retried', async () => {
    await server.lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'single', ReservedConcurrentExecutions: 1 }));
    const ids = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const out = await server.lambda.send(
          new InvokeCommand({ FunctionName: 'single', InvocationType: 'Event', Payload: Buffer.from('{"ms":30}') }),
        );
        return out.$metadata.requestId!;
      }),
    );
    await eventually(() => records(join(dir, 'single.jsonl')).length >= 20, 'every event ran', 30_000);
    const ran = new Set(records(join(dir, 'single.jsonl')).map((r) => r['id']));
    for (const id of ids) assert.ok(ran.has(id), `event ${id} ran`);
    const metrics = (await (await fetch(`${server.kindling.url}/kindling/functions/single/metrics`)).json()) as Record<string, number>;
    assert.ok(metrics['Retries']! > 0, 'some events were throttled and retried');
    assert.equal(metrics['AsyncEventsDropped'], 0);
  });
});

describe('the account concurrency limit', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ accountConcurrency: 6, unreservedMinimum: 2 });
    await create(server.lambda, 'mine');
    await create(server.lambda, 'shared');
  });
  after(async () => {
    await server.close();
  });

  it('keeps the unreserved minimum and reports it in GetAccountSettings', async () => {
    await assert.rejects(server.lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'mine', ReservedConcurrentExecutions: 5 })), {
      name: 'InvalidParameterValueException',
      message: /below its minimum value of \[2\]/,
    });
    await server.lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'mine', ReservedConcurrentExecutions: 3 }));
    const settings = await server.lambda.send(new GetAccountSettingsCommand({}));
    assert.equal(settings.AccountLimit?.ConcurrentExecutions, 6);
    assert.equal(settings.AccountLimit?.UnreservedConcurrentExecutions, 3);
    assert.equal(settings.AccountUsage?.FunctionCount, 2);
  });

  it('throttles the unreserved pool at its share while a reserved function keeps its own', async () => {
    const [shared, mine] = await Promise.all([burst(server.kindling.url, 'shared', 5, 700), burst(server.kindling.url, 'mine', 3, 700)]);
    assert.equal(count(shared, 'ok'), 3);
    assert.equal(count(shared, 'ConcurrentInvocationLimitExceeded'), 2);
    assert.deepEqual(mine, ['ok', 'ok', 'ok'], 'the rest never take its share');
  });
});
