import { CreateFunctionCommand, InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { zipFiles } from '../src/code/index.js';
import { ricForTest } from './support/aws-lambda-ric.js';
import { json, ROLE, startTestServer, type TestServer } from './support/kindling.js';

/**
 * AWS's own Node.js runtime interface client (the npm package `aws-lambda-ric`, built at install
 * with its native addon) is the function's runtime, unchanged: its files go into the zip, and a
 * custom-runtime `bootstrap` starts it as AWS's base images do. It reads _HANDLER,
 * LAMBDA_TASK_ROOT and AWS_LAMBDA_RUNTIME_API from the environment Kindling gives it. The package
 * is installed into a cache, not with Kindling's dependencies (test/support/aws-lambda-ric.ts).
 */
const ric = await ricForTest();
if ('unavailable' in ric) console.log(`# aws-lambda-ric tests skipped: ${ric.unavailable}`);
const RIC_DIR = 'dir' in ric ? ric.dir : '';

const HANDLER = `
class OrderRejected extends Error { constructor(message) { super(message); this.name = 'OrderRejected'; } }
let invocations = 0;
exports.handler = async (event, context) => {
  invocations++;
  console.log('ric handling', JSON.stringify(event));
  if (event.reject) throw new OrderRejected('order ' + event.reject + ' rejected');
  return {
    event, invocations, pid: process.pid,
    requestId: context.awsRequestId,
    functionName: context.functionName,
    arn: context.invokedFunctionArn,
    memory: context.memoryLimitInMB,
    remaining: context.getRemainingTimeInMillis(),
  };
};
`;

async function invoke(lambda: LambdaClient, payload: unknown, name = 'ric') {
  const out = await lambda.send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from(JSON.stringify(payload)), LogType: 'Tail' }));
  return { ...out, body: json(out.Payload), log: Buffer.from(out.LogResult ?? '', 'base64').toString('utf8') };
}

describe('the stock aws-lambda-ric as a custom runtime, through the AWS SDK', { skip: 'unavailable' in ric ? ric.unavailable : false }, () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ idleTimeoutMs: 60_000 });
    const files = {
      // `node` is the server's own (Node 20; the package asks for 22 but runs on it).
      bootstrap: { content: `#!/bin/sh\nexec ${process.execPath} "$LAMBDA_TASK_ROOT/ric/index.mjs" "$_HANDLER"\n`, mode: 0o755 },
      'ric/index.mjs': readFileSync(join(RIC_DIR, 'index.mjs')),
      'ric/rapid-client.node': { content: readFileSync(join(RIC_DIR, 'rapid-client.node')), mode: 0o755 },
      'index.js': HANDLER,
    };
    for (const [name, handler] of [['ric', 'index.handler'], ['ric-missing', 'nothere.handler']]) {
      await server.lambda.send(
        new CreateFunctionCommand({
          FunctionName: name,
          Runtime: 'provided.al2023',
          Handler: handler,
          Role: ROLE,
          Timeout: 10,
          Code: { ZipFile: await zipFiles(files) },
        }),
      );
    }
  });
  after(() => server.close());

  it('answers invokes, cold then warm, with the context it built from the Runtime API headers', async () => {
    const cold = await invoke(server.lambda, { order: 1 });
    assert.equal(cold.StatusCode, 200);
    assert.equal(cold.FunctionError, undefined, JSON.stringify(cold.body));
    const first = cold.body as Record<string, unknown>;
    assert.deepEqual(first['event'], { order: 1 });
    assert.equal(first['invocations'], 1);
    assert.equal(first['requestId'], cold.$metadata.requestId);
    assert.equal(first['functionName'], 'ric');
    assert.equal(first['arn'], 'arn:aws:lambda:us-east-1:000000000000:function:ric');
    assert.equal(first['memory'], '128');
    const remaining = first['remaining'] as number;
    assert.ok(remaining > 0 && remaining <= 10_000, `remaining ${remaining}`);

    const warm = await invoke(server.lambda, { order: 2 });
    const second = warm.body as Record<string, unknown>;
    assert.equal(second['pid'], first['pid']);
    assert.equal(second['invocations'], 2);
  });

  it('returns a thrown error as FunctionError Unhandled with its errorType', async () => {
    const out = await invoke(server.lambda, { reject: 7 });
    assert.equal(out.StatusCode, 200);
    assert.equal(out.FunctionError, 'Unhandled');
    const body = out.body as { errorType: string; errorMessage: string; trace: string[] };
    assert.equal(body.errorType, 'OrderRejected');
    assert.equal(body.errorMessage, 'order 7 rejected');
    assert.ok(Array.isArray(body.trace) && body.trace[0]?.startsWith('OrderRejected: order 7 rejected'), JSON.stringify(body));
    // The client reports the error and goes on serving: the environment stays warm.
    const next = await invoke(server.lambda, { order: 3 });
    assert.equal(next.FunctionError, undefined);
    assert.ok((next.body as { invocations: number }).invocations >= 2);
  });

  it("shows the handler's console output in the Tail log, in Lambda's format", async () => {
    const out = await invoke(server.lambda, { order: 4 });
    const requestId = out.$metadata.requestId!;
    const line = out.log.split('\n').find((l) => l.includes('ric handling'));
    assert.ok(line, out.log);
    // <ISO time>\t<request id>\tINFO\t<message>
    assert.match(line, new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\t${requestId}\\tINFO\\tric handling \\{"order":4\\}$`));
    assert.match(out.log, new RegExp(`^START RequestId: ${requestId}`, 'm'));
    assert.match(out.log, new RegExp(`^REPORT RequestId: ${requestId}`, 'm'));
  });

  it('returns the init error it posts for a handler that cannot be found', async () => {
    const out = await invoke(server.lambda, {}, 'ric-missing');
    assert.equal(out.StatusCode, 200);
    assert.equal(out.FunctionError, 'Unhandled');
    const body = out.body as { errorType: string; errorMessage: string };
    assert.equal(body.errorType, 'Runtime.ImportModuleError', JSON.stringify(body));
    assert.match(body.errorMessage, /nothere/);
  });
});
