import { CreateFunctionCommand, PublishLayerVersionCommand, waitUntilFunctionActiveV2 } from '@aws-sdk/client-lambda';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { zipFiles } from '../src/code/index.js';
import { nodeFunction } from './support/functions.js';
import { ACCOUNT, REGION, createRequestBody, golden, raw, userError } from './support/golden.js';
import { startTestServer, type TestServer } from './support/kindling.js';

const LAYER_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:layer:`;

/**
 * Golden error answers on the wire: status, X-Amzn-ErrorType and the exact body, whose members
 * differ by exception (LAMBDA.md 1.2): `{Type, Message}` for ResourceNotFoundException,
 * `{Type, message}` for Lambda's other exceptions, `{message}` alone for what AWS's request layer
 * refuses before Lambda (model validation). Plus the layer operations' answers
 * (LocalStack's AWS-validated test_lambda_api snapshots: test_layer_exceptions, test_layer_lifecycle).
 */
describe('golden answers: error bodies and layers', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer();
    await server.lambda.send(new CreateFunctionCommand(await nodeFunction('g-err')));
    await waitUntilFunctionActiveV2({ client: server.lambda, maxWaitTime: 10 }, { FunctionName: 'g-err' });
  });
  after(async () => {
    await server.close();
  });

  it('ResourceConflictException: {Type, message}', async () => {
    assert.deepEqual(await raw(server, 'POST', '/2015-03-31/functions', await createRequestBody('g-err')), {
      status: 409,
      errorType: 'ResourceConflictException',
      body: userError('Function already exist: g-err'),
    });
  });

  it('PreconditionFailedException: {Type, message} (test_publish_with_wrong_revisionid)', async () => {
    assert.deepEqual(await raw(server, 'POST', '/2015-03-31/functions/g-err/versions', { RevisionId: 'stale' }), {
      status: 412,
      errorType: 'PreconditionFailedException',
      body: userError('The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id'),
    });
  });

  it('ValidationException: {message} only (test_create_lambda_exceptions)', async () => {
    assert.deepEqual(await raw(server, 'POST', '/2015-03-31/functions', await createRequestBody('g-role', { Role: 'r1' })), {
      status: 400,
      errorType: 'ValidationException',
      body: {
        message:
          "1 validation error detected: Value 'r1' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+",
      },
    });
  });

  it('InvalidParameterValueException for an unreadable zip (test_create_lambda_exceptions)', async () => {
    const answer = await raw(server, 'POST', '/2015-03-31/functions', await createRequestBody('g-zip', { Code: { ZipFile: Buffer.from('not a zip').toString('base64') } }));
    assert.equal(answer.status, 400);
    assert.equal(answer.errorType, 'InvalidParameterValueException');
    assert.deepEqual(Object.keys(answer.body as object).sort(), ['Type', 'message']);
  });

  it('TooManyRequestsException: {Type, message, Reason} and Retry-After, with reserved concurrency 0', async () => {
    assert.equal((await raw(server, 'PUT', '/2017-10-31/functions/g-err/concurrency', { ReservedConcurrentExecutions: 0 })).status, 200);
    const res = await fetch(`${server.kindling.url}/2015-03-31/functions/g-err/invocations`, { method: 'POST', body: '{}' });
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('x-amzn-errortype'), 'TooManyRequestsException');
    assert.match(res.headers.get('retry-after') ?? '', /^\d+$/);
    assert.deepEqual(await res.json(), { Type: 'User', message: 'Rate Exceeded.', Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' });
    assert.equal((await raw(server, 'DELETE', '/2017-10-31/functions/g-err/concurrency')).status, 204);
  });

  it('PublishLayerVersion / GetLayerVersion: LayerVersion shape, fields left out when not given (test_layer_lifecycle)', async () => {
    const zip = await zipFiles({ 'nodejs/x.js': '' });
    const published = await server.lambda.send(
      new PublishLayerVersionCommand({ LayerName: 'g-layer', Content: { ZipFile: zip }, CompatibleRuntimes: ['nodejs20.x'], CompatibleArchitectures: ['x86_64'] }),
    );
    const expected = {
      Content: { Location: '<location>', CodeSha256: '<code-sha256>', CodeSize: zip.length },
      LayerArn: `${LAYER_ARN}g-layer`,
      LayerVersionArn: `${LAYER_ARN}g-layer:1`,
      Version: 1,
      Description: '',
      CreatedDate: '<date>',
      CompatibleRuntimes: ['nodejs20.x'],
      CompatibleArchitectures: ['x86_64'],
    };
    golden(published, expected);
    golden((await raw(server, 'GET', '/2018-10-31/layers/g-layer/versions/1')).body, expected);
  });

  const LAYER_ERRORS: [string, string, string, number, string, unknown][] = [
    ['GetLayerVersion of a missing layer', 'GET', '/2018-10-31/layers/g-nolayer/versions/1', 404, 'ResourceNotFoundException', userError('The resource you requested does not exist.', 'Message')],
    ['GetLayerVersion of version 0', 'GET', '/2018-10-31/layers/g-layer/versions/0', 400, 'InvalidParameterValueException', userError('Layer Version Cannot be less than 1')],
    ['DeleteLayerVersion of a missing version', 'DELETE', '/2018-10-31/layers/g-layer/versions/9', 204, '', undefined],
    ['ListLayerVersions of a missing layer', 'GET', '/2018-10-31/layers/g-nolayer/versions', 200, '', { LayerVersions: [] }],
    [
      'ListLayers with an unknown architecture',
      'GET',
      '/2018-10-31/layers?CompatibleArchitecture=archdoesnotexist',
      400,
      'ValidationException',
      { message: "1 validation error detected: Value 'archdoesnotexist' at 'compatibleArchitecture' failed to satisfy constraint: Member must satisfy enum value set: [x86_64, arm64]" },
    ],
  ];
  for (const [what, method, path, status, errorType, expected] of LAYER_ERRORS) {
    it(`${what}: ${status} ${errorType}`, async () => {
      assert.deepEqual(await raw(server, method, path), { status, errorType: errorType === '' ? null : errorType, body: expected });
    });
  }
});
