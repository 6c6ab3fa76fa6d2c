import {
  CreateFunctionCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  ListFunctionsCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionActiveV2,
  waitUntilFunctionUpdatedV2,
} from '@aws-sdk/client-lambda';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { zipFiles } from '../src/code/index.js';
import { nodeFunction } from './support/functions.js';
import { ARN, createRequestBody, creating, golden, listed, nodeConfiguration, raw, userError } from './support/golden.js';
import { startTestServer, type TestServer } from './support/kindling.js';

/**
 * Golden answers of the function operations (Create / Get / GetConfiguration / Update / List /
 * Delete), each from LocalStack's AWS-validated test_lambda_api snapshot named beside it.
 */
describe('golden answers: functions', () => {
  let server: TestServer;
  const create = async (name: string, extra: Parameters<typeof nodeFunction>[2] = {}) => {
    const input = await nodeFunction(name, undefined, extra);
    const answer = await server.lambda.send(new CreateFunctionCommand(input));
    return { answer, size: input.Code!.ZipFile!.length };
  };
  const settled = (name: string) => waitUntilFunctionActiveV2({ client: server.lambda, maxWaitTime: 10 }, { FunctionName: name });
  const updated = (name: string) => waitUntilFunctionUpdatedV2({ client: server.lambda, maxWaitTime: 10 }, { FunctionName: name });

  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });

  it('CreateFunction: Pending, no LastUpdateStatus, nothing empty (test_lambda_code_location_zipfile)', async () => {
    const { answer, size } = await create('g-plain');
    golden(answer, creating('g-plain', size));
  });

  it('GetFunction: Active, no Tags when there are none; a qualifier named is in the ARN (test_publish_version_on_create)', async () => {
    const { size } = await create('g-get');
    await settled('g-get');
    golden(await server.lambda.send(new GetFunctionCommand({ FunctionName: 'g-get' })), {
      Configuration: nodeConfiguration('g-get', size),
      Code: { RepositoryType: 'S3', Location: '<location>' },
    });
    golden(
      await server.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'g-get', Qualifier: '$LATEST' })),
      nodeConfiguration('g-get', size, { FunctionArn: `${ARN}g-get:$LATEST` }),
    );
  });

  it('on the wire, with no member the SDK would drop unseen: GetFunctionConfiguration and ListVersionsByFunction', async () => {
    const { size } = await create('g-wire');
    await settled('g-wire');
    const got = await raw(server, 'GET', '/2015-03-31/functions/g-wire/configuration');
    assert.equal(got.status, 200);
    golden(got.body, nodeConfiguration('g-wire', size));
    const versions = await raw(server, 'GET', '/2015-03-31/functions/g-wire/versions');
    golden(versions.body, { Versions: [listed(nodeConfiguration('g-wire', size, { FunctionArn: `${ARN}g-wire:$LATEST` }))] });
  });

  it('an Environment given empty is sent back empty; Tags appear once set (test_create_tag_on_fn_create)', async () => {
    const { answer, size } = await create('g-env', { Environment: { Variables: {} }, Tags: { team: 'a' } });
    golden(answer, creating('g-env', size, { Environment: { Variables: {} } }));
    await settled('g-env');
    golden(await server.lambda.send(new GetFunctionCommand({ FunctionName: 'g-env' })), {
      Configuration: nodeConfiguration('g-env', size, { Environment: { Variables: {} } }),
      Code: { RepositoryType: 'S3', Location: '<location>' },
      Tags: { team: 'a' },
    });
  });

  it('UpdateFunctionConfiguration: InProgress in AWS\'s words (test_function_lifecycle)', async () => {
    const { size } = await create('g-upd');
    await settled('g-upd');
    const answer = await server.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'g-upd', Description: 'changed', Environment: { Variables: { ENV_A: 'a' } } }));
    golden(
      answer,
      nodeConfiguration('g-upd', size, {
        Description: 'changed',
        Environment: { Variables: { ENV_A: 'a' } },
        LastUpdateStatus: 'InProgress',
        LastUpdateStatusReason: 'The function is being created.',
        LastUpdateStatusReasonCode: 'Creating',
      }),
    );
    await updated('g-upd');
    golden(
      await server.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'g-upd' })),
      nodeConfiguration('g-upd', size, { Description: 'changed', Environment: { Variables: { ENV_A: 'a' } } }),
    );
  });

  it('LoggingConfig is kept as given, JSON with INFO levels by default', async () => {
    const { answer, size } = await create('g-log', { LoggingConfig: { LogFormat: 'JSON' } });
    golden(answer, creating('g-log', size, { LoggingConfig: { LogFormat: 'JSON', ApplicationLogLevel: 'INFO', SystemLogLevel: 'INFO', LogGroup: '/aws/lambda/g-log' } }));
    const refused = await raw(server, 'POST', '/2015-03-31/functions', await createRequestBody('g-log-text', { LoggingConfig: { LogFormat: 'Text', ApplicationLogLevel: 'DEBUG' } }));
    assert.deepEqual(refused, {
      status: 400,
      errorType: 'InvalidParameterValueException',
      body: userError('LogLevel is not supported when LogFormat is set to "Text". Remove LogLevel from your request or change the LogFormat to "JSON" and try again.'),
    });
  });

  it('Publish on CreateFunction and UpdateFunctionCode publishes a version (test_publish_version_on_create, test_publish_with_update)', async () => {
    const { answer, size } = await create('g-pub', { Publish: true });
    golden(answer, creating('g-pub', size, { Version: '1' }));
    await settled('g-pub');
    golden(
      (await server.lambda.send(new GetFunctionCommand({ FunctionName: 'g-pub', Qualifier: '1' }))).Configuration,
      nodeConfiguration('g-pub', size, { FunctionArn: `${ARN}g-pub:1`, Version: '1' }),
    );
    const zip = await zipFiles({ 'index.js': 'exports.handler = async () => 2;\n' });
    const code = await server.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'g-pub', ZipFile: zip, Publish: true }));
    golden(code, creating('g-pub', zip.length, { FunctionArn: `${ARN}g-pub:2`, Version: '2' }));
    await updated('g-pub');
    const v2 = await server.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'g-pub', Qualifier: '2' }));
    golden(v2, nodeConfiguration('g-pub', zip.length, { FunctionArn: `${ARN}g-pub:2`, Version: '2' }));
  });

  it('ListFunctions: trimmed entries; FunctionVersion=ALL names $LATEST; anything else refused (test_list_functions)', async () => {
    const { size } = await create('g-list', { Publish: true });
    await settled('g-list');
    const all = (await server.lambda.send(new ListFunctionsCommand({}))).Functions ?? [];
    golden(
      all.find((fn) => fn.FunctionName === 'g-list'),
      listed(nodeConfiguration('g-list', size)),
    );
    const every = ((await server.lambda.send(new ListFunctionsCommand({ FunctionVersion: 'ALL' }))).Functions ?? []).filter((fn) => fn.FunctionName === 'g-list');
    golden(every, [
      listed(nodeConfiguration('g-list', size, { FunctionArn: `${ARN}g-list:$LATEST` })),
      listed(nodeConfiguration('g-list', size, { FunctionArn: `${ARN}g-list:1`, Version: '1' })),
    ]);
    assert.deepEqual(await raw(server, 'GET', '/2015-03-31/functions?FunctionVersion=invalid'), {
      status: 400,
      errorType: 'ValidationException',
      body: { message: "1 validation error detected: Value 'invalid' at 'functionVersion' failed to satisfy constraint: Member must satisfy enum value set: [ALL]" },
    });
  });

  it('DeleteFunction: a missing version is 204, $LATEST is refused (test_delete_on_nonexisting_version, test_ops_with_arn_qualifier_mismatch)', async () => {
    await create('g-del');
    assert.deepEqual(await raw(server, 'DELETE', '/2015-03-31/functions/g-del?Qualifier=1221'), { status: 204, errorType: null, body: undefined });
    assert.deepEqual(await raw(server, 'DELETE', '/2015-03-31/functions/g-del?Qualifier=$LATEST'), {
      status: 400,
      errorType: 'InvalidParameterValueException',
      body: userError('$LATEST version cannot be deleted without deleting the function.'),
    });
    assert.deepEqual(await raw(server, 'DELETE', '/2015-03-31/functions/g-missing?Qualifier=1'), {
      status: 404,
      errorType: 'ResourceNotFoundException',
      body: userError(`Function not found: ${ARN}g-missing`, 'Message'),
    });
  });

  const NOT_FOUND: [string, string, string][] = [
    ['a missing function (test_ops_on_nonexisting_fn)', '/2015-03-31/functions/g-nothing', `Function not found: ${ARN}g-nothing`],
    ['a missing version (test_ops_on_nonexisting_version)', '/2015-03-31/functions/g-plain?Qualifier=1221', `Function not found: ${ARN}g-plain:1221`],
    ['a name longer than 64 (looked up, not refused)', `/2015-03-31/functions/${'n'.repeat(65)}`, `Function not found: ${ARN}${'n'.repeat(65)}`],
    [
      "another region's ARN (test_get_function_wrong_region)",
      `/2015-03-31/functions/${encodeURIComponent('arn:aws:lambda:eu-west-1:000000000000:function:g-plain')}`,
      "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')",
    ],
  ];
  for (const [what, path, message] of NOT_FOUND) {
    it(`GetFunction of ${what}: 404 {Type, Message}`, async () => {
      assert.deepEqual(await raw(server, 'GET', path), { status: 404, errorType: 'ResourceNotFoundException', body: userError(message, 'Message') });
    });
  }

  it('a qualifier in the name and another in Qualifier is refused (test_ops_with_arn_qualifier_mismatch)', async () => {
    assert.deepEqual(await raw(server, 'GET', `/2015-03-31/functions/${encodeURIComponent(`${ARN}g-plain:1`)}?Qualifier=2`), {
      status: 400,
      errorType: 'InvalidParameterValueException',
      body: userError('The derived qualifier from the function name does not match the specified qualifier.'),
    });
  });

  const RUNTIME_REFUSALS: [string, string][] = [
    ['python3.7', 'The runtime parameter of python3.7 is no longer supported for creating or updating AWS Lambda functions. We recommend you use the new runtime (python3.13) while creating or updating functions.'],
    ['nodejs16.x', 'The runtime parameter of nodejs16.x is no longer supported for creating or updating AWS Lambda functions. We recommend you use the new runtime (nodejs22.x) while creating or updating functions.'],
  ];
  for (const [runtime, message] of RUNTIME_REFUSALS) {
    it(`a retired runtime (${runtime}) gets AWS's deprecation message, on create and update`, async () => {
      const body = await createRequestBody(`g-${runtime.replace('.', '-')}`, { Runtime: runtime });
      assert.deepEqual(await raw(server, 'POST', '/2015-03-31/functions', body), { status: 400, errorType: 'InvalidParameterValueException', body: userError(message) });
      assert.deepEqual(await raw(server, 'PUT', '/2015-03-31/functions/g-plain/configuration', { Runtime: runtime }), {
        status: 400,
        errorType: 'InvalidParameterValueException',
        body: userError(message),
      });
    });
  }

  it('CreateFunction refuses a name over 64 with InvalidParameterValueException, a bad name with ValidationException (test_function_arns)', async () => {
    const long = 'a'.repeat(65);
    assert.deepEqual(await raw(server, 'POST', '/2015-03-31/functions', await createRequestBody(long)), {
      status: 400,
      errorType: 'InvalidParameterValueException',
      body: userError(`1 validation error detected: Value '${long}' at 'functionName' failed to satisfy constraint: Member must have length less than or equal to 64`),
    });
    assert.deepEqual(await raw(server, 'POST', '/2015-03-31/functions', await createRequestBody('invalid:function:name')), {
      status: 400,
      errorType: 'ValidationException',
      body: {
        message:
          "1 validation error detected: Value 'invalid:function:name' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?",
      },
    });
  });

  it('a zip over 50 MB is RequestEntityTooLargeException, message only (test_oversized_zipped_create_lambda)', async () => {
    // Random bytes do not compress: the archive is just over 52428800 bytes, yet its request fits.
    const zip = await zipFiles({ 'index.js': '', 'big.bin': randomBytes(52_430_000) });
    assert.ok(zip.length > 52_428_800 && Buffer.from(zip).toString('base64').length < 70_000_000);
    const answer = await raw(server, 'POST', '/2015-03-31/functions', await createRequestBody('g-big', { Code: { ZipFile: Buffer.from(zip).toString('base64') } }));
    assert.deepEqual(answer, { status: 413, errorType: 'RequestEntityTooLargeException', body: { message: 'Zipped size must be smaller than 52428800 bytes' } });
  });

  it('an unknown runtime is InvalidParameterValueException on update too (test_update_lambda_exceptions)', async () => {
    const answer = await raw(server, 'PUT', '/2015-03-31/functions/g-plain/configuration', { Runtime: 'non-existent-runtime' });
    assert.equal(answer.status, 400);
    assert.equal(answer.errorType, 'InvalidParameterValueException');
    assert.match(
      (answer.body as { message: string }).message,
      /^Value non-existent-runtime at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: \[[a-z0-9., ]+\] or be a valid ARN$/,
    );
  });
});
