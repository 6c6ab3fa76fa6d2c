import {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  ListFunctionsCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionActiveV2,
  waitUntilFunctionUpdatedV2,
  type CreateFunctionCommandInput,
} from '@aws-sdk/client-lambda';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { zipFiles } from '../src/code/index.js';
import { ROLE, startTestServer, type TestServer } from './support/kindling.js';

const HANDLER_JS = 'exports.handler = async (event) => ({ ok: true, event });\n';

async function fnInput(name: string, extra: Partial<CreateFunctionCommandInput> = {}): Promise<CreateFunctionCommandInput> {
  return {
    FunctionName: name,
    Runtime: 'nodejs20.x',
    Handler: 'index.handler',
    Role: ROLE,
    Code: { ZipFile: await zipFiles({ 'index.js': HANDLER_JS }) },
    ...extra,
  };
}

/** Asserts the SDK call fails with Lambda's error name and HTTP status. */
async function rejects(call: Promise<unknown>, name: string, status: number, message?: RegExp): Promise<void> {
  await assert.rejects(call, (err: Error & { $metadata?: { httpStatusCode?: number } }) => {
    assert.equal(err.name, name, `${err.name}: ${err.message}`);
    assert.equal(err.$metadata?.httpStatusCode, status);
    if (message) assert.match(err.message, message);
    return true;
  });
}

describe('control plane through the AWS SDK', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });

  it('creates a function with the fields Lambda fills, and it becomes Active', async () => {
    const zip = await zipFiles({ 'index.js': HANDLER_JS });
    const created = await server.lambda.send(
      new CreateFunctionCommand({
        ...(await fnInput('create-me')),
        Code: { ZipFile: zip },
        Timeout: 10,
        MemorySize: 256,
        Description: 'hello',
        Environment: { Variables: { GREETING: 'hi' } },
        Tags: { team: 'core' },
      }),
    );
    assert.equal(created.FunctionArn, 'arn:aws:lambda:us-east-1:000000000000:function:create-me');
    assert.equal(created.CodeSha256, createHash('sha256').update(zip).digest('base64'));
    assert.equal(created.CodeSize, zip.length);
    assert.equal(created.State, 'Pending');
    assert.equal(created.Version, '$LATEST');
    assert.equal(created.Timeout, 10);
    assert.equal(created.MemorySize, 256);
    assert.deepEqual(created.Environment?.Variables, { GREETING: 'hi' });
    assert.match(created.LastModified!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);
    assert.ok(created.RevisionId);

    await waitUntilFunctionActiveV2({ client: server.lambda, maxWaitTime: 10 }, { FunctionName: 'create-me' });
    const got = await server.lambda.send(new GetFunctionCommand({ FunctionName: 'create-me' }));
    assert.equal(got.Configuration?.State, 'Active');
    assert.equal(got.Configuration?.LastUpdateStatus, 'Successful');
    assert.deepEqual(got.Tags, { team: 'core' });
    // Code.Location serves the very zip that was uploaded.
    const download = await fetch(got.Code!.Location!);
    assert.equal(download.status, 200);
    assert.deepEqual(Buffer.from(await download.arrayBuffer()), zip);
  });

  it('accepts full and partial ARNs wherever a name goes', async () => {
    await server.lambda.send(new CreateFunctionCommand(await fnInput('arn-named')));
    const full = await server.lambda.send(
      new GetFunctionConfigurationCommand({ FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:arn-named' }),
    );
    assert.equal(full.FunctionName, 'arn-named');
    const partial = await server.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: '000000000000:function:arn-named' }));
    assert.equal(partial.FunctionName, 'arn-named');
  });

  it('refuses a duplicate name with ResourceConflictException', async () => {
    await server.lambda.send(new CreateFunctionCommand(await fnInput('dup')));
    await rejects(server.lambda.send(new CreateFunctionCommand(await fnInput('dup'))), 'ResourceConflictException', 409, /already exist/);
  });

  it('answers an unknown function with ResourceNotFoundException', async () => {
    await rejects(
      server.lambda.send(new GetFunctionCommand({ FunctionName: 'nope' })),
      'ResourceNotFoundException',
      404,
      /Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope/,
    );
  });

  it('validates inputs the way Lambda does', async () => {
    const cases: [Partial<CreateFunctionCommandInput>, string, RegExp][] = [
      [{ FunctionName: 'bad name!' }, 'ValidationException', /functionName/],
      // Lambda's own name-length check: InvalidParameterValueException worded as a validation error (test_function_arns).
      [{ FunctionName: 'x'.repeat(65) }, 'InvalidParameterValueException', /length less than or equal to 64/],
      // AWS answers an unknown runtime with InvalidParameterValueException, not a model ValidationException.
      [{ Runtime: 'cobol1.x' as never }, 'InvalidParameterValueException', /Value cobol1\.x at 'runtime' failed to satisfy constraint/],
      [{ Runtime: 'java21' }, 'InvalidParameterValueException', /java21/],
      [{ Handler: 'has space.handler' }, 'ValidationException', /handler/],
      [{ Timeout: 0 }, 'ValidationException', /greater than or equal to 1/],
      [{ Timeout: 901 }, 'ValidationException', /less than or equal to 900/],
      [{ MemorySize: 127 }, 'ValidationException', /greater than or equal to 128/],
      [{ MemorySize: 10241 }, 'ValidationException', /less than or equal to 10240/],
      [{ Role: 'not-a-role' }, 'ValidationException', /role/],
      [{ Environment: { Variables: { BIG: 'x'.repeat(4100) } } }, 'InvalidParameterValueException', /4KB/],
      [{ Environment: { Variables: { AWS_REGION: 'eu-west-1' } } }, 'InvalidParameterValueException', /reserved keys/],
      [{ Code: { ZipFile: Buffer.from('not a zip') } }, 'InvalidParameterValueException', /Could not unzip/],
      [{ Tags: { 'kindling:sandbox': 'warp-drive' } }, 'InvalidParameterValueException', /kindling:sandbox/],
      [{ Tags: { 'kindling:network': 'everything' } }, 'InvalidParameterValueException', /kindling:network/],
    ];
    for (const [extra, name, message] of cases) {
      await rejects(server.lambda.send(new CreateFunctionCommand(await fnInput('valid-fn', extra))), name, 400, message);
    }
    // Nothing half-made: the name is still free and no code was left behind for the bad zip.
    await rejects(server.lambda.send(new GetFunctionCommand({ FunctionName: 'valid-fn' })), 'ResourceNotFoundException', 404);
    const leftovers = readdirSync(join(server.dataDir, 'code')).filter((entry) => entry.includes('.tmp-'));
    assert.deepEqual(leftovers, []);
  });

  it('refuses an unsafe zip and leaves nothing behind', async () => {
    // A link out of the code directory: yazl writes it as a symlink entry.
    const zip = await zipFiles({ 'index.js': HANDLER_JS, escape: { content: '../../../etc/passwd', mode: 0o120777 } });
    await rejects(
      server.lambda.send(new CreateFunctionCommand(await fnInput('unsafe', { Code: { ZipFile: zip } }))),
      'InvalidParameterValueException',
      400,
    );
    const key = createHash('sha256').update(zip).digest('hex');
    assert.equal(existsSync(join(server.dataDir, 'code', key)), false);
    await rejects(server.lambda.send(new GetFunctionCommand({ FunctionName: 'unsafe' })), 'ResourceNotFoundException', 404);
  });

  it('refuses an upload over the request limit with RequestEntityTooLargeException 413', async () => {
    const body = JSON.stringify({ FunctionName: 'huge', Runtime: 'nodejs20.x', Handler: 'index.handler', Role: ROLE, Code: { ZipFile: 'A'.repeat(71_000_000) } });
    const res = await fetch(`${server.kindling.url}/2015-03-31/functions`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 413);
    // AWS's request layer answers before Lambda: RequestEntityTooLargeException, `message` only
    // (LocalStack's AWS-validated snapshot, test_oversized_request_create_lambda).
    assert.equal(res.headers.get('x-amzn-errortype'), 'RequestEntityTooLargeException');
    const parsed = (await res.json()) as Record<string, unknown>;
    assert.deepEqual(parsed, { message: 'Request must be smaller than 70167211 bytes for the CreateFunction operation' });
  });

  it('lists functions with Marker / MaxItems paging', async () => {
    for (const n of ['page-a', 'page-b', 'page-c']) await server.lambda.send(new CreateFunctionCommand(await fnInput(n)));
    const names: string[] = [];
    let marker: string | undefined;
    let pages = 0;
    do {
      const page = await server.lambda.send(new ListFunctionsCommand({ MaxItems: 2, ...(marker ? { Marker: marker } : {}) }));
      assert.ok((page.Functions?.length ?? 0) <= 2);
      names.push(...(page.Functions ?? []).map((f) => f.FunctionName!));
      marker = page.NextMarker;
      pages++;
    } while (marker);
    assert.ok(pages >= 2);
    for (const n of ['page-a', 'page-b', 'page-c']) assert.ok(names.includes(n));
    assert.equal(new Set(names).size, names.length);
  });

  it('updates configuration and code with RevisionId preconditions', async () => {
    const created = await server.lambda.send(new CreateFunctionCommand(await fnInput('upd')));
    await waitUntilFunctionActiveV2({ client: server.lambda, maxWaitTime: 10 }, { FunctionName: 'upd' });
    await rejects(
      server.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'upd', Timeout: 5, RevisionId: created.RevisionId! })),
      'PreconditionFailedException',
      412,
    );
    const current = await server.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'upd' }));
    const updated = await server.lambda.send(
      new UpdateFunctionConfigurationCommand({ FunctionName: 'upd', Timeout: 5, RevisionId: current.RevisionId! }),
    );
    assert.equal(updated.Timeout, 5);
    assert.equal(updated.LastUpdateStatus, 'InProgress');
    await waitUntilFunctionUpdatedV2({ client: server.lambda, maxWaitTime: 10 }, { FunctionName: 'upd' });
    await rejects(
      server.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'upd', MemorySize: 64 })),
      'ValidationException',
      400,
    );
    const zip = await zipFiles({ 'index.js': 'exports.handler = async () => 2;\n' });
    const code = await server.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'upd', ZipFile: zip }));
    assert.equal(code.CodeSha256, createHash('sha256').update(zip).digest('base64'));
    await waitUntilFunctionUpdatedV2({ client: server.lambda, maxWaitTime: 10 }, { FunctionName: 'upd' });
    const after = await server.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'upd' }));
    assert.equal(after.Timeout, 5);
    assert.equal(after.CodeSha256, code.CodeSha256);
  });

  it('deletes a function', async () => {
    await server.lambda.send(new CreateFunctionCommand(await fnInput('gone')));
    await server.lambda.send(new DeleteFunctionCommand({ FunctionName: 'gone' }));
    await rejects(server.lambda.send(new GetFunctionCommand({ FunctionName: 'gone' })), 'ResourceNotFoundException', 404);
    await rejects(server.lambda.send(new DeleteFunctionCommand({ FunctionName: 'gone' })), 'ResourceNotFoundException', 404);
  });

  it('keeps everything across a restart', async () => {
    const dataDir = server.dataDir;
    const first = await startTestServer({}, join(dataDir, 'restart'));
    await first.lambda.send(new CreateFunctionCommand(await fnInput('durable', { Description: 'kept' })));
    await waitUntilFunctionActiveV2({ client: first.lambda, maxWaitTime: 10 }, { FunctionName: 'durable' });
    await first.close();
    const second = await startTestServer({}, join(dataDir, 'restart'));
    try {
      const got = await second.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'durable' }));
      assert.equal(got.Description, 'kept');
      assert.equal(got.State, 'Active');
    } finally {
      await second.close();
    }
  });
});
