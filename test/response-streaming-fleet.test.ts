import { CreateFunctionCommand, InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fleetSkip, TestFleet, type FleetNode } from './support/fleet.js';
import { clientFor, json, ROLE } from './support/kindling.js';
import { scratchDir } from './support/scratch.js';
import { streamingFunction, streamInvoke } from './support/streaming-bootstrap.js';

function payload(event: unknown): Buffer {
  return Buffer.from(JSON.stringify(event));
}

describe('response streaming over the fleet wire: an api node streams what a worker runs', { skip: fleetSkip() }, () => {
  let fleet: TestFleet;
  let worker: FleetNode;
  let lambda: LambdaClient;
  const dir = scratchDir('kindling-fleet-streaming-');

  before(async () => {
    fleet = await TestFleet.start();
    worker = await fleet.node('worker');
    const api = await fleet.node('api');
    lambda = clientFor(api.kindling.url);
    await lambda.send(new CreateFunctionCommand(await streamingFunction('fleet-streamer', ROLE, 2)));
  });

  after(async () => {
    lambda?.destroy();
    await fleet?.stop();
  });

  it('passes each chunk on as the worker gets it: the first reaches the client before the function finishes', async () => {
    const signal = join(dir, 'go');
    const order: string[] = [];
    const { events, executedVersion } = await streamInvoke(
      lambda,
      { FunctionName: 'fleet-streamer', Payload: payload({ chunks: ['first', 'second', 'third'], waitFor: signal }), LogType: 'Tail' },
      (chunk) => {
        order.push(`chunk ${chunk}`);
        if (!existsSync(signal)) {
          order.push('signal');
          writeFileSync(signal, 'go');
        }
      },
    );
    assert.deepEqual(order, ['chunk first', 'signal', 'chunk second', 'chunk third']);
    assert.equal(executedVersion, '$LATEST');
    // The result crossed the wire after the body (trailers): the log tail came with it.
    assert.match(Buffer.from(events.at(-1)!.complete!.LogResult ?? '', 'base64').toString('utf8'), /REPORT RequestId/);
    assert.equal(worker.kindling.fleet!.stats('fleet-streamer').environments, 1);
  });

  it('an error mid-stream and a timeout mid-stream arrive as InvokeComplete after the chunks', async () => {
    const failed = await streamInvoke(lambda, { FunctionName: 'fleet-streamer', Payload: payload({ chunks: ['a', 'b'], fail: true }) });
    assert.deepEqual(failed.events, [{ chunk: 'a' }, { chunk: 'b' }, { complete: { ErrorCode: 'StreamBroke', ErrorDetails: 'the stream broke after 2 chunks' } }]);
    const timedOut = await streamInvoke(lambda, { FunctionName: 'fleet-streamer', Payload: payload({ chunks: ['partial'], hang: true }) });
    assert.deepEqual(timedOut.events[0], { chunk: 'partial' });
    assert.equal(timedOut.events[1]!.complete!.ErrorCode, 'Sandbox.Timedout');
  });

  it('a function that answers whole, and Invoke of a streaming function, cross the wire as before', async () => {
    const whole = await streamInvoke(lambda, { FunctionName: 'fleet-streamer', Payload: payload({ buffered: [1, 2] }) });
    assert.deepEqual(whole.events, [{ chunk: '[1,2]' }, { complete: {} }]);
    const gathered = await lambda.send(new InvokeCommand({ FunctionName: 'fleet-streamer', Payload: payload({ chunks: ['{"x":', '"y"}'] }) }));
    assert.deepEqual(json(gathered.Payload), { x: 'y' });
  });
});
