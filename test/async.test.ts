import {
  CreateFunctionCommand,
  DeleteFunctionEventInvokeConfigCommand,
  GetFunctionEventInvokeConfigCommand,
  InvokeAsyncCommand,
  InvokeCommand,
  ListFunctionEventInvokeConfigsCommand,
  PutFunctionEventInvokeConfigCommand,
  UpdateFunctionConfigurationCommand,
  UpdateFunctionEventInvokeConfigCommand,
  waitUntilFunctionUpdatedV2,
} from '@aws-sdk/client-lambda';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { zipFiles } from '../src/code/index.js';
import { ROLE, startTestServer, type TestServer } from './support/kindling.js';
import { scratchDir, sharedFile } from './support/scratch.js';
import { eventually, eventuallyAsync, records } from './support/wait.js';

const ARN = 'arn:aws:lambda:us-east-1:000000000000:function:';
const QUEUE = 'arn:aws:sqs:us-east-1:000000000000:';
/** Delays of the retry policy run 200 times faster: 1 min becomes 300 ms. */
const SCALE = 0.005;

/** Appends what it saw to $RECORD_FILE; fails while $BROKEN_FILE exists or when FAIL is set. */
const RECORDER = `
const fs = require('fs');
exports.handler = async (event, context) => {
  fs.appendFileSync(process.env.RECORD_FILE, JSON.stringify({ t: Date.now(), requestId: context.awsRequestId, event }) + '\\n');
  console.log('ran ' + JSON.stringify(event));
  if (process.env.FAIL || (process.env.BROKEN_FILE && fs.existsSync(process.env.BROKEN_FILE))) throw new Error('nope');
  return { echoed: event };
};
`;

describe('event invocations', () => {
  let server: TestServer;
  let dir: string;
  let logs: CloudWatchLogsClient;
  const file = (name: string) => join(dir, `${name}.jsonl`);

  async function createRecorder(name: string, env: Record<string, string> = {}, extra: Record<string, unknown> = {}): Promise<void> {
    await server.lambda.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Runtime: 'nodejs20.x',
        Handler: 'index.handler',
        Role: ROLE,
        Code: { ZipFile: await zipFiles({ 'index.js': RECORDER }) },
        Environment: { Variables: { RECORD_FILE: sharedFile(file(name)), ...env } },
        ...extra,
      }),
    );
  }

  async function sendEvent(name: string, payload: unknown): Promise<string> {
    const out = await server.lambda.send(
      new InvokeCommand({ FunctionName: name, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(payload)) }),
    );
    assert.equal(out.StatusCode, 202);
    return out.$metadata.requestId!;
  }

  async function kindling(path: string, init?: RequestInit): Promise<any> {
    const res = await fetch(`${server.kindling.url}${path}`, init);
    assert.equal(res.status, 200, await res.clone().text());
    return res.json();
  }

  before(async () => {
    dir = scratchDir('kindling-async-');
    server = await startTestServer({ retryDelayScale: SCALE });
    logs = new CloudWatchLogsClient({ endpoint: server.kindling.url, region: 'us-east-1', credentials: { accessKeyId: 't', secretAccessKey: 't' } });
    await createRecorder('dest');
  });
  after(async () => {
    logs.destroy();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 202, runs the event, and its output shows in FilterLogEvents', async () => {
    await createRecorder('runs');
    const requestId = await sendEvent('runs', { marker: 'event-one' });
    await eventually(() => records(file('runs')).length === 1, 'the event ran');
    assert.equal(records(file('runs'))[0]!['requestId'], requestId);
    const messages = await eventuallyAsync(
      async () => {
        await server.kindling.logs.flush();
        const found = await logs.send(new FilterLogEventsCommand({ logGroupName: '/aws/lambda/runs', filterPattern: '"event-one"' }));
        return (found.events ?? []).map((e) => e.message ?? '');
      },
      (lines) => lines.some((m) => m.includes(requestId)),
      'the output shows in FilterLogEvents',
    );
    assert.ok(messages.some((m) => m.includes(`${requestId}\tINFO\tran {"marker":"event-one"}`)), messages.join('\n'));
  });

  it('retries a failing event MaximumRetryAttempts times on schedule, then sends the failure record', async () => {
    await createRecorder('failer', { FAIL: '1' });
    await server.lambda.send(
      new PutFunctionEventInvokeConfigCommand({
        FunctionName: 'failer',
        MaximumRetryAttempts: 2,
        DestinationConfig: { OnFailure: { Destination: `${ARN}dest` } },
      }),
    );
    const requestId = await sendEvent('failer', { order: 7 });
    await eventually(() => records(file('dest')).some((r) => r['event'].requestContext?.requestId === requestId), 'the failure record arrives');
    const attempts = records(file('failer'));
    assert.equal(attempts.length, 3, 'tried 1 + MaximumRetryAttempts times');
    assert.ok(attempts.every((a) => a['requestId'] === requestId), 'retries keep the request id');
    const gap1 = attempts[1]!['t'] - attempts[0]!['t'];
    const gap2 = attempts[2]!['t'] - attempts[1]!['t'];
    assert.ok(gap1 >= 300 && gap1 < 2000, `1 minute (scaled: 300 ms) before the 2nd attempt, was ${gap1} ms`);
    assert.ok(gap2 >= 600 && gap2 < 2500, `2 minutes (scaled: 600 ms) before the 3rd attempt, was ${gap2} ms`);

    const record = records(file('dest')).find((r) => r['event'].requestContext?.requestId === requestId)!['event'];
    assert.equal(record.version, '1.0');
    assert.match(record.timestamp, /^\d{4}-\d\d-\d\dT/);
    assert.deepEqual(record.requestContext, {
      requestId,
      functionArn: `${ARN}failer:$LATEST`,
      condition: 'RetriesExhausted',
      approximateInvokeCount: 3,
    });
    assert.deepEqual(record.requestPayload, { order: 7 });
    assert.deepEqual(record.responseContext, { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' });
    assert.equal(record.responsePayload.errorType, 'Error');
    assert.equal(record.responsePayload.errorMessage, 'nope');
    assert.equal(await server.kindling.store.events.count('failer'), 0);
  });

  it('sends an event past MaximumEventAgeInSeconds to the failure destination as EventAgeExceeded', async () => {
    await createRecorder('aging', { FAIL: '1' });
    await server.lambda.send(
      new PutFunctionEventInvokeConfigCommand({
        FunctionName: 'aging',
        MaximumRetryAttempts: 2,
        MaximumEventAgeInSeconds: 60,
        DestinationConfig: { OnFailure: { Destination: `${ARN}dest` } },
      }),
    );
    const requestId = await sendEvent('aging', { old: true });
    await eventually(() => records(file('dest')).some((r) => r['event'].requestContext?.requestId === requestId), 'the failure record arrives');
    const record = records(file('dest')).find((r) => r['event'].requestContext?.requestId === requestId)!['event'];
    assert.equal(record.requestContext.condition, 'EventAgeExceeded');
    assert.equal(record.requestContext.approximateInvokeCount, 1);
    assert.equal(records(file('aging')).length, 1, 'the retry came due after the age limit: no second attempt');
  });

  it('sends successes to the OnSuccess destination with the response', async () => {
    await createRecorder('happy');
    await server.lambda.send(
      new PutFunctionEventInvokeConfigCommand({ FunctionName: 'happy', DestinationConfig: { OnSuccess: { Destination: `${ARN}dest` } } }),
    );
    const requestId = await sendEvent('happy', { n: 1 });
    await eventually(() => records(file('dest')).some((r) => r['event'].requestContext?.requestId === requestId), 'the success record arrives');
    const record = records(file('dest')).find((r) => r['event'].requestContext?.requestId === requestId)!['event'];
    assert.equal(record.requestContext.condition, 'Success');
    assert.equal(record.requestContext.approximateInvokeCount, 1);
    assert.deepEqual(record.responseContext, { statusCode: 200, executedVersion: '$LATEST' });
    assert.deepEqual(record.responsePayload, { echoed: { n: 1 } });
  });

  it('dead-letters to a Kindling queue, and redrive sends the event back through the function', async () => {
    const broken = join(dir, 'broken');
    writeFileSync(broken, 'yes');
    await createRecorder('flaky', { BROKEN_FILE: broken }, { DeadLetterConfig: { TargetArn: `${QUEUE}flaky-dlq` } });
    await server.lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'flaky', MaximumRetryAttempts: 0 }));
    const requestId = await sendEvent('flaky', { please: 'retry me' });
    const listed = await eventuallyAsync(() => kindling('/kindling/functions/flaky/dead-letters'), (l) => l.DeadLetters.length > 0, 'dead-lettered');
    assert.equal(listed.DeadLetters.length, 1);
    const letter = listed.DeadLetters[0];
    assert.equal(letter.Kind, 'dead-letter');
    assert.equal(letter.Queue, 'flaky-dlq');
    assert.equal(letter.RequestId, requestId);
    assert.equal(letter.Condition, 'RetriesExhausted');
    const shown = await kindling(`/kindling/functions/flaky/dead-letters/${letter.Id}`);
    assert.deepEqual(JSON.parse(shown.Body), { please: 'retry me' }, 'the dead-letter queue receives the payload itself');

    unlinkSync(broken);
    const redriven = await kindling('/kindling/functions/flaky/dead-letters/redrive', { method: 'POST', body: '{}' });
    assert.equal(redriven.Redriven.length, 1);
    await eventually(() => records(file('flaky')).length === 2, 'the redriven event ran');
    assert.deepEqual(records(file('flaky'))[1]!['event'], { please: 'retry me' });
    assert.equal((await kindling('/kindling/functions/flaky/dead-letters')).DeadLetters.length, 0);
  });

  it('records an event that failed for good with nowhere to go as dropped: in the logs and the metrics', async () => {
    await createRecorder('doomed', { FAIL: '1' });
    await server.lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'doomed', MaximumRetryAttempts: 0 }));
    const requestId = await sendEvent('doomed', {});
    const metrics = await eventuallyAsync(() => kindling('/kindling/functions/doomed/metrics'), (m) => m.AsyncEventsDropped > 0, 'dropped');
    assert.equal(metrics.AsyncEventsReceived, 1);
    assert.equal(metrics.AsyncEventsDropped, 1);
    assert.equal(metrics.DroppedEventsKept, 1);
    const letters = (await kindling('/kindling/functions/doomed/dead-letters')).DeadLetters;
    assert.equal(letters[0].Kind, 'dropped');
    await server.kindling.logs.flush();
    const lines = (await server.kindling.store.logs.getEvents('/aws/lambda/doomed', 'kindling/async-events')).map((e) => e.message);
    assert.ok(lines.some((l) => l.includes(`Dropped event ${requestId} (RetriesExhausted)`)), lines.join('\n'));
  });

  it('manages event invoke configs with Lambda validation', async () => {
    await createRecorder('configured');
    const put = await server.lambda.send(
      new PutFunctionEventInvokeConfigCommand({ FunctionName: 'configured', MaximumRetryAttempts: 1, MaximumEventAgeInSeconds: 600 }),
    );
    assert.equal(put.FunctionArn, `${ARN}configured:$LATEST`);
    assert.ok(put.LastModified instanceof Date && Math.abs(put.LastModified.getTime() - Date.now()) < 60_000);
    const updated = await server.lambda.send(
      new UpdateFunctionEventInvokeConfigCommand({ FunctionName: 'configured', DestinationConfig: { OnFailure: { Destination: `${QUEUE}q1` } } }),
    );
    assert.equal(updated.MaximumRetryAttempts, 1, 'update keeps what it does not name');
    assert.equal(updated.DestinationConfig?.OnFailure?.Destination, `${QUEUE}q1`);
    const got = await server.lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: 'configured' }));
    assert.equal(got.MaximumEventAgeInSeconds, 600);
    const listed = await server.lambda.send(new ListFunctionEventInvokeConfigsCommand({ FunctionName: 'configured' }));
    assert.equal(listed.FunctionEventInvokeConfigs?.length, 1);

    for (const [input, name] of [
      [{ MaximumRetryAttempts: 3 }, 'ValidationException'],
      [{ MaximumEventAgeInSeconds: 59 }, 'ValidationException'],
      [{ MaximumEventAgeInSeconds: 21_601 }, 'ValidationException'],
      [{ DestinationConfig: { OnFailure: { Destination: 'arn:aws:sns:us-east-1:000000000000:topic' } } }, 'InvalidParameterValueException'],
      [{ DestinationConfig: { OnFailure: { Destination: 'not-an-arn' } } }, 'ValidationException'],
    ] as const) {
      await assert.rejects(server.lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'configured', ...input })), { name });
    }
    await assert.rejects(server.lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'ghost', MaximumRetryAttempts: 1 })), {
      name: 'ResourceNotFoundException',
    });
    await server.lambda.send(new DeleteFunctionEventInvokeConfigCommand({ FunctionName: 'configured' }));
    await assert.rejects(server.lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: 'configured' })), {
      name: 'ResourceNotFoundException',
    });
  });

  it('validates DeadLetterConfig targets', async () => {
    await assert.rejects(
      server.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'configured', DeadLetterConfig: { TargetArn: 'arn:aws:sns:us-east-1:000000000000:t' } })),
      { name: 'InvalidParameterValueException' },
    );
    const ok = await server.lambda.send(
      new UpdateFunctionConfigurationCommand({ FunctionName: 'configured', DeadLetterConfig: { TargetArn: `${QUEUE}dlq` } }),
    );
    assert.equal(ok.DeadLetterConfig?.TargetArn, `${QUEUE}dlq`);
    await waitUntilFunctionUpdatedV2({ client: server.lambda, maxWaitTime: 10 }, { FunctionName: 'configured' });
  });

  it('refuses an event payload over 1 MB, and takes the legacy InvokeAsync', async () => {
    await assert.rejects(
      server.lambda.send(
        new InvokeCommand({ FunctionName: 'runs', InvocationType: 'Event', Payload: Buffer.from(JSON.stringify({ x: 'y'.repeat(1024 * 1024) })) }),
      ),
      (err: Error & { $metadata?: { httpStatusCode?: number } }) => err.name === 'RequestTooLargeException' && err.$metadata?.httpStatusCode === 413,
    );
    const before = records(file('runs')).length;
    const out = await server.lambda.send(new InvokeAsyncCommand({ FunctionName: 'runs', InvokeArgs: Buffer.from('{"legacy":true}') }));
    assert.equal(out.Status, 202);
    await eventually(() => records(file('runs')).length === before + 1, 'the legacy event ran');
  });
});
