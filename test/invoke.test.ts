import {
  CreateFunctionCommand,
  InvokeCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionUpdatedV2,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { zipFiles } from '../src/code/index.js';
import { json, ROLE, startTestServer, type TestServer } from './support/kindling.js';

const FUNCTIONS: Record<string, { files: Record<string, string>; handler?: string; timeout?: number; env?: Record<string, string> }> = {
  echo: {
    files: {
      'index.js': `
        let coldStarts = 0; coldStarts++;
        const pid = process.pid;
        exports.handler = async (event, context) => {
          console.log('echoing', JSON.stringify(event));
          return {
            event, pid, coldStarts,
            requestId: context.awsRequestId,
            functionName: context.functionName,
            arn: context.invokedFunctionArn,
            memory: context.memoryLimitInMB,
            remaining: context.getRemainingTimeInMillis(),
            clientContext: context.clientContext,
            env: {
              name: process.env.AWS_LAMBDA_FUNCTION_NAME, version: process.env.AWS_LAMBDA_FUNCTION_VERSION,
              memory: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE, group: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
              stream: process.env.AWS_LAMBDA_LOG_STREAM_NAME, handler: process.env._HANDLER, region: process.env.AWS_REGION,
              execEnv: process.env.AWS_EXECUTION_ENV, taskRoot: process.env.LAMBDA_TASK_ROOT, runtimeApi: process.env.AWS_LAMBDA_RUNTIME_API,
              custom: process.env.CUSTOM, tz: process.env.TZ,
            },
          };
        };`,
    },
    env: { CUSTOM: 'yes' },
  },
  esm: { files: { 'app.mjs': 'export const handler = async () => ({ module: "esm" });\n' }, handler: 'app.handler' },
  thrower: {
    files: { 'index.js': 'class BadThing extends Error { constructor(m) { super(m); this.name = "BadThing"; } }\nexports.handler = async () => { throw new BadThing("it broke"); };\n' },
  },
  sleeper: {
    files: { 'index.js': 'exports.handler = async (e) => { await new Promise((r) => setTimeout(r, e.ms)); return { pid: process.pid }; };\n' },
    timeout: 1,
  },
  exiter: { files: { 'index.js': 'exports.handler = async () => { process.exit(3); };\n' } },
  missing: { files: { 'index.js': 'exports.handler = async () => 1;\n' }, handler: 'nothere.handler' },
  noexport: { files: { 'index.js': 'exports.other = async () => 1;\n' } },
  importfail: { files: { 'index.js': 'require("left-pad-that-does-not-exist");\nexports.handler = async () => 1;\n' } },
  bigresponse: { files: { 'index.js': 'exports.handler = async () => "x".repeat(7 * 1024 * 1024);\n' } },
  callback: {
    files: { 'index.js': 'exports.handler = (event, context, callback) => { setTimeout(() => callback(null, { via: "callback" }), 5); };\n' },
  },
};

async function invoke(lambda: LambdaClient, name: string, payload: unknown = {}, extra: Record<string, unknown> = {}) {
  return lambda.send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from(JSON.stringify(payload)), ...extra }));
}

describe('synchronous Invoke through the AWS SDK', () => {
  let server: TestServer;
  before(async () => {
    // Enough Init slots for the concurrent cold starts below to start at once, whatever the cores.
    server = await startTestServer({ idleTimeoutMs: 60_000, maxConcurrentInits: 8 });
    for (const [name, spec] of Object.entries(FUNCTIONS)) {
      await server.lambda.send(
        new CreateFunctionCommand({
          FunctionName: name,
          Runtime: 'nodejs20.x',
          Handler: spec.handler ?? 'index.handler',
          Role: ROLE,
          Timeout: spec.timeout ?? 10,
          Code: { ZipFile: await zipFiles(spec.files) },
          ...(spec.env ? { Environment: { Variables: spec.env } } : {}),
        }),
      );
    }
  });
  after(async () => {
    await server.close();
  });

  it('runs a function cold, then warm in the same environment', async () => {
    const cold = await invoke(server.lambda, 'echo', { n: 1 });
    assert.equal(cold.StatusCode, 200);
    assert.equal(cold.FunctionError, undefined);
    assert.equal(cold.ExecutedVersion, '$LATEST');
    const first = json(cold.Payload) as Record<string, any>;
    assert.deepEqual(first['event'], { n: 1 });
    assert.equal(first['functionName'], 'echo');
    assert.equal(first['arn'], 'arn:aws:lambda:us-east-1:000000000000:function:echo');
    assert.equal(first['memory'], '128');
    assert.ok(first['remaining'] > 9000 && first['remaining'] <= 10_000);
    assert.equal(first['env'].name, 'echo');
    assert.equal(first['env'].version, '$LATEST');
    assert.equal(first['env'].memory, '128');
    assert.equal(first['env'].group, '/aws/lambda/echo');
    assert.match(first['env'].stream, /^\d{4}\/\d\d\/\d\d\/\[\$LATEST\][0-9a-f]{32}$/);
    assert.equal(first['env'].handler, 'index.handler');
    assert.equal(first['env'].region, 'us-east-1');
    assert.equal(first['env'].execEnv, 'AWS_Lambda_nodejs20.x');
    assert.equal(first['env'].custom, 'yes');
    assert.equal(first['env'].tz, ':UTC');
    assert.match(first['env'].runtimeApi, /^127\.0\.0\.1:\d+$/);

    const warm = json((await invoke(server.lambda, 'echo', { n: 2 })).Payload) as Record<string, any>;
    assert.equal(warm['pid'], first['pid'], 'the warm invoke reuses the environment');
    assert.equal(warm['coldStarts'], 1);
    assert.notEqual(warm['requestId'], first['requestId']);
  });

  it('returns the log tail with START, the function output, END and REPORT', async () => {
    const out = await invoke(server.lambda, 'echo', { tail: true }, { LogType: 'Tail' });
    const log = Buffer.from(out.LogResult!, 'base64').toString('utf8');
    const requestId = (json(out.Payload) as Record<string, string>)['requestId']!;
    assert.match(log, new RegExp(`START RequestId: ${requestId} Version: \\$LATEST`));
    assert.match(log, new RegExp(`\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\t${requestId}\\tINFO\\techoing {"tail":true}`));
    assert.match(log, new RegExp(`END RequestId: ${requestId}`));
    assert.match(log, new RegExp(`REPORT RequestId: ${requestId}\\tDuration: [\\d.]+ ms\\tBilled Duration: \\d+ ms\\tMemory Size: 128 MB\\tMax Memory Used: \\d+ MB`));
    assert.doesNotMatch(log, /Init Duration/, 'a warm invoke has no Init Duration');
    assert.ok(Buffer.byteLength(log) <= 4096);
  });

  it('reports Init Duration on a cold start only', async () => {
    const out = await invoke(server.lambda, 'esm', {}, { LogType: 'Tail' });
    assert.deepEqual(json(out.Payload), { module: 'esm' });
    assert.match(Buffer.from(out.LogResult!, 'base64').toString(), /Init Duration: [\d.]+ ms/);
    const again = await invoke(server.lambda, 'esm', {}, { LogType: 'Tail' });
    assert.doesNotMatch(Buffer.from(again.LogResult!, 'base64').toString(), /Init Duration/);
  });

  it('passes the client context to the runtime', async () => {
    const context = { custom: { who: 'test' }, client: { app_title: 'kindling' } };
    const out = await invoke(server.lambda, 'echo', {}, { ClientContext: Buffer.from(JSON.stringify(context)).toString('base64') });
    assert.deepEqual((json(out.Payload) as Record<string, unknown>)['clientContext'], context);
  });

  it('runs callback-style handlers', async () => {
    const out = await invoke(server.lambda, 'callback');
    assert.deepEqual(json(out.Payload), { via: 'callback' });
  });

  it('answers a function error as 200 with X-Amz-Function-Error: Unhandled', async () => {
    const out = await invoke(server.lambda, 'thrower');
    assert.equal(out.StatusCode, 200);
    assert.equal(out.FunctionError, 'Unhandled');
    const body = json(out.Payload) as Record<string, unknown>;
    assert.equal(body['errorType'], 'BadThing');
    assert.equal(body['errorMessage'], 'it broke');
    assert.ok(Array.isArray(body['trace']));
  });

  it('times out with Sandbox.Timedout and replaces the environment', async () => {
    const warm = json((await invoke(server.lambda, 'sleeper', { ms: 1 })).Payload) as Record<string, number>;
    const started = Date.now();
    // It would sleep 10 minutes: only being stopped at its 1 s timeout answers this invoke.
    const out = await invoke(server.lambda, 'sleeper', { ms: 600_000 });
    assert.equal(out.FunctionError, 'Unhandled');
    const body = json(out.Payload) as Record<string, string>;
    assert.equal(body['errorType'], 'Sandbox.Timedout');
    assert.match(body['errorMessage']!, /^RequestId: [0-9a-f-]{36} Error: Task timed out after 1\.00 seconds$/);
    assert.ok(Date.now() - started >= 1000, 'answered before the timeout');
    const next = json((await invoke(server.lambda, 'sleeper', { ms: 1 })).Payload) as Record<string, number>;
    assert.notEqual(next['pid'], warm['pid'], 'a new environment serves the next request');
  });

  it('reports Runtime.ExitError when the runtime exits mid-invoke, then recovers', async () => {
    const out = await invoke(server.lambda, 'exiter');
    assert.equal(out.FunctionError, 'Unhandled');
    const body = json(out.Payload) as Record<string, string>;
    assert.equal(body['errorType'], 'Runtime.ExitError');
    assert.match(body['errorMessage']!, /Runtime exited with error: exit status 3/);
    const again = json((await invoke(server.lambda, 'exiter')).Payload) as Record<string, string>;
    assert.equal(again['errorType'], 'Runtime.ExitError');
  });

  it('reports init failures with Lambda error types, and retries Init on the next invoke', async () => {
    const missing = await invoke(server.lambda, 'missing');
    assert.equal(missing.FunctionError, 'Unhandled');
    assert.equal((json(missing.Payload) as Record<string, string>)['errorType'], 'Runtime.ImportModuleError');
    const noexport = json((await invoke(server.lambda, 'noexport')).Payload) as Record<string, string>;
    assert.equal(noexport['errorType'], 'Runtime.HandlerNotFound');
    const importfail = json((await invoke(server.lambda, 'importfail')).Payload) as Record<string, string>;
    assert.equal(importfail['errorType'], 'Runtime.ImportModuleError');
    assert.match(importfail['errorMessage']!, /left-pad-that-does-not-exist/);

    // Fix the code: the next invoke runs Init again and succeeds.
    await server.lambda.send(
      new UpdateFunctionCodeCommand({ FunctionName: 'noexport', ZipFile: await zipFiles({ 'index.js': 'exports.handler = async () => "fixed";\n' }) }),
    );
    await waitUntilFunctionUpdatedV2({ client: server.lambda, maxWaitTime: 10 }, { FunctionName: 'noexport' });
    const fixed = await invoke(server.lambda, 'noexport');
    assert.equal(fixed.FunctionError, undefined);
    assert.equal(json(fixed.Payload), 'fixed');
  });

  it('enforces the 6 MB request and response limits', async () => {
    const big = Buffer.from(JSON.stringify({ data: 'x'.repeat(6 * 1024 * 1024) }));
    await assert.rejects(
      server.lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: big })),
      (err: Error & { $metadata?: { httpStatusCode?: number } }) => {
        assert.equal(err.name, 'RequestTooLargeException');
        assert.equal(err.$metadata?.httpStatusCode, 413);
        return true;
      },
    );
    const out = await invoke(server.lambda, 'bigresponse');
    assert.equal(out.FunctionError, 'Unhandled');
    assert.equal((json(out.Payload) as Record<string, string>)['errorType'], 'Function.ResponseSizeTooLarge');
  });

  it('answers DryRun with 204 after checking the function exists', async () => {
    const out = await server.lambda.send(new InvokeCommand({ FunctionName: 'echo', InvocationType: 'DryRun' }));
    assert.equal(out.StatusCode, 204);
    await assert.rejects(server.lambda.send(new InvokeCommand({ FunctionName: 'ghost', InvocationType: 'DryRun' })), { name: 'ResourceNotFoundException' });
  });

  it('refuses bad invoke input with Lambda errors', async () => {
    await assert.rejects(invoke(server.lambda, 'ghost'), { name: 'ResourceNotFoundException' });
    await assert.rejects(invoke(server.lambda, 'echo', {}, { Qualifier: '7' }), { name: 'ResourceNotFoundException' });
    await assert.rejects(
      server.lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from('{not json') })),
      { name: 'InvalidRequestContentException' },
    );
  });

  it('retires environments when the configuration changes', async () => {
    const before = json((await invoke(server.lambda, 'echo')).Payload) as Record<string, any>;
    await server.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'echo', Environment: { Variables: { CUSTOM: 'changed' } } }));
    await waitUntilFunctionUpdatedV2({ client: server.lambda, maxWaitTime: 10 }, { FunctionName: 'echo' });
    const afterUpdate = json((await invoke(server.lambda, 'echo')).Payload) as Record<string, any>;
    assert.equal(afterUpdate['env'].custom, 'changed');
    assert.notEqual(afterUpdate['pid'], before['pid']);
  });

  it('runs concurrent invokes in separate environments', async () => {
    // With a slot for each, four concurrent cold starts get four environments: none waits long
    // enough to be handed one that finished (the Init gate's own tests cover that handoff).
    const results = await Promise.all(
      Array.from({ length: 4 }, () => invoke(server.lambda, 'sleeper', { ms: 800 }).then((o) => json(o.Payload) as Record<string, number>)),
    );
    assert.equal(new Set(results.map((r) => r['pid'])).size, 4);
  });

  it('stores START / END / REPORT lines per environment log stream', async () => {
    await invoke(server.lambda, 'esm');
    await server.kindling.logs.flush();
    const streams = await server.kindling.store.logs.listStreams('/aws/lambda/esm');
    assert.ok(streams.length >= 1);
    const events = (await Promise.all(streams.map((s) => server.kindling.store.logs.getEvents('/aws/lambda/esm', s.logStreamName)))).flat();
    const messages = events.map((e) => e.message);
    assert.ok(messages.some((m) => m.startsWith('START RequestId:')));
    assert.ok(messages.some((m) => m.startsWith('END RequestId:')));
    assert.ok(messages.filter((m) => m.startsWith('REPORT RequestId:')).length >= 2);
    assert.equal(messages.filter((m) => m.includes('Init Duration')).length, streams.length);
  });
});
