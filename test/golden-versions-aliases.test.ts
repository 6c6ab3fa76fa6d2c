import {
  CreateAliasCommand,
  CreateFunctionCommand,
  GetAliasCommand,
  GetFunctionCommand,
  ListAliasesCommand,
  ListVersionsByFunctionCommand,
  PublishVersionCommand,
  UpdateAliasCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionActiveV2,
  waitUntilFunctionUpdatedV2,
} from '@aws-sdk/client-lambda';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { nodeFunction } from './support/functions.js';
import { ARN, golden, listed, nodeConfiguration, raw, userError } from './support/golden.js';
import { startTestServer, type TestServer } from './support/kindling.js';

/**
 * Golden answers of PublishVersion, ListVersionsByFunction, the alias operations and Invoke's
 * not-found answers (LocalStack's AWS-validated test_lambda_api snapshots, named per case).
 */
describe('golden answers: versions and aliases', () => {
  let server: TestServer;
  let size = 0;
  const v2Environment = { Variables: { STAGE: 'prod' } };

  before(async () => {
    server = await startTestServer();
    const input = await nodeFunction('g-ver');
    size = input.Code!.ZipFile!.length;
    await server.lambda.send(new CreateFunctionCommand(input));
    await waitUntilFunctionActiveV2({ client: server.lambda, maxWaitTime: 10 }, { FunctionName: 'g-ver' });
  });
  after(async () => {
    await server.close();
  });

  it('PublishVersion: the version, Active; again with nothing changed: the same version (test_version_lifecycle)', async () => {
    const v1 = await server.lambda.send(new PublishVersionCommand({ FunctionName: 'g-ver', Description: 'first' }));
    assert.equal(v1.$metadata.httpStatusCode, 201);
    const expected = nodeConfiguration('g-ver', size, { FunctionArn: `${ARN}g-ver:1`, Version: '1', Description: 'first' });
    golden(v1, expected);
    golden(await server.lambda.send(new PublishVersionCommand({ FunctionName: 'g-ver' })), expected);
  });

  it('ListVersionsByFunction: $LATEST as :$LATEST, entries trimmed (test_version_lifecycle)', async () => {
    await server.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'g-ver', Environment: v2Environment }));
    await waitUntilFunctionUpdatedV2({ client: server.lambda, maxWaitTime: 10 }, { FunctionName: 'g-ver' });
    await server.lambda.send(new PublishVersionCommand({ FunctionName: 'g-ver' }));
    golden((await server.lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'g-ver' }))).Versions, [
      listed(nodeConfiguration('g-ver', size, { FunctionArn: `${ARN}g-ver:$LATEST`, Environment: v2Environment })),
      listed(nodeConfiguration('g-ver', size, { FunctionArn: `${ARN}g-ver:1`, Version: '1', Description: 'first' })),
      listed(nodeConfiguration('g-ver', size, { FunctionArn: `${ARN}g-ver:2`, Version: '2', Environment: v2Environment })),
    ]);
  });

  it('CreateAlias / GetAlias / UpdateAlias / ListAliases: AliasConfiguration, RoutingConfig only when set (test_alias_lifecycle)', async () => {
    const created = await server.lambda.send(
      new CreateAliasCommand({ FunctionName: 'g-ver', Name: 'live', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 0.2 } } }),
    );
    assert.equal(created.$metadata.httpStatusCode, 201);
    const live = { AliasArn: `${ARN}g-ver:live`, Name: 'live', FunctionVersion: '1', Description: '', RoutingConfig: { AdditionalVersionWeights: { '2': 0.2 } }, RevisionId: '<uuid>' };
    golden(created, live);
    golden(await server.lambda.send(new GetAliasCommand({ FunctionName: 'g-ver', Name: 'live' })), live);
    const plain = { AliasArn: `${ARN}g-ver:plain`, Name: 'plain', FunctionVersion: '2', Description: 'custom-alias', RevisionId: '<uuid>' };
    golden(await server.lambda.send(new CreateAliasCommand({ FunctionName: 'g-ver', Name: 'plain', FunctionVersion: '2', Description: 'custom-alias' })), plain);
    golden(await server.lambda.send(new UpdateAliasCommand({ FunctionName: 'g-ver', Name: 'plain', Description: 'changed' })), { ...plain, Description: 'changed' });
    golden((await server.lambda.send(new ListAliasesCommand({ FunctionName: 'g-ver' }))).Aliases, [live, { ...plain, Description: 'changed' }]);
  });

  it('GetFunction on an alias: the alias-qualified FunctionArn, the version it points at (test_alias_lifecycle)', async () => {
    golden((await server.lambda.send(new GetFunctionCommand({ FunctionName: 'g-ver', Qualifier: 'live' }))).Configuration, {
      ...nodeConfiguration('g-ver', size, { FunctionArn: `${ARN}g-ver:live`, Version: '1', Description: 'first' }),
    });
    golden((await server.lambda.send(new GetFunctionCommand({ FunctionName: `${ARN}g-ver:live` }))).Configuration, {
      ...nodeConfiguration('g-ver', size, { FunctionArn: `${ARN}g-ver:live`, Version: '1', Description: 'first' }),
    });
  });

  const ERRORS: [string, string, string, unknown, number, string, unknown][] = [
    ['GetAlias of a missing alias', 'GET', '/2015-03-31/functions/g-ver/aliases/non-existent', undefined, 404, 'ResourceNotFoundException', userError(`Cannot find alias arn: ${ARN}g-ver:non-existent`, 'Message')],
    ['GetFunction of a missing alias', 'GET', '/2015-03-31/functions/g-ver?Qualifier=aliasdoesnotexist', undefined, 404, 'ResourceNotFoundException', userError(`Function not found: ${ARN}g-ver:aliasdoesnotexist`, 'Message')],
    ['CreateAlias of an existing name', 'POST', '/2015-03-31/functions/g-ver/aliases', { Name: 'live', FunctionVersion: '1' }, 409, 'ResourceConflictException', userError(`Alias already exists: ${ARN}g-ver:live`)],
    ['CreateAlias of a missing function', 'POST', '/2015-03-31/functions/g-ver-unknown/aliases', { Name: 'x', FunctionVersion: '1' }, 404, 'ResourceNotFoundException', userError(`Function not found: ${ARN}g-ver-unknown:1`, 'Message')],
    ['CreateAlias on a missing version', 'POST', '/2015-03-31/functions/g-ver/aliases', { Name: 'ten', FunctionVersion: '10' }, 404, 'ResourceNotFoundException', userError(`Function not found: ${ARN}g-ver:10`, 'Message')],
    [
      'two additional versions',
      'POST',
      '/2015-03-31/functions/g-ver/aliases',
      { Name: 'two', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 0.1, '3': 0.1 } } },
      400,
      'InvalidParameterValueException',
      userError('Number of items in AdditionalVersionWeights cannot be greater than 1'),
    ],
    [
      'a weight over 1',
      'POST',
      '/2015-03-31/functions/g-ver/aliases',
      { Name: 'heavy', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 2 } } },
      400,
      'ValidationException',
      {
        message:
          "1 validation error detected: Value '{2=2.0}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]",
      },
    ],
    [
      'the primary version as additional',
      'POST',
      '/2015-03-31/functions/g-ver/aliases',
      { Name: 'same', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '1': 0.5 } } },
      400,
      'InvalidParameterValueException',
      userError('Invalid function version 1. Function version 1 is already included in routing configuration.'),
    ],
    [
      '$LATEST as additional',
      'POST',
      '/2015-03-31/functions/g-ver/aliases',
      { Name: 'latest', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { $LATEST: 0.5 } } },
      400,
      'ValidationException',
      {
        message:
          "1 validation error detected: Value '{$LATEST=0.5}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 1024, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [0-9]+, Member must not be null]",
      },
    ],
    ['DeleteAlias of a missing alias', 'DELETE', '/2015-03-31/functions/g-ver/aliases/never', undefined, 204, '', undefined],
    ['Invoke of a missing function', 'POST', '/2015-03-31/functions/g-none/invocations', {}, 404, 'ResourceNotFoundException', userError(`Function not found: ${ARN}g-none:$LATEST`, 'Message')],
    ['Invoke of a missing version', 'POST', '/2015-03-31/functions/g-ver/invocations?Qualifier=9', {}, 404, 'ResourceNotFoundException', userError(`Function not found: ${ARN}g-ver:9`, 'Message')],
    [
      'Invoke with a malformed Qualifier',
      'POST',
      '/2015-03-31/functions/g-ver/invocations?Qualifier=a%3Ab',
      {},
      400,
      'ValidationException',
      { message: "1 validation error detected: Value 'a:b' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)" },
    ],
  ];
  for (const [what, method, path, body, status, errorType, expected] of ERRORS) {
    it(`${what}: ${status} ${errorType}`, async () => {
      assert.deepEqual(await raw(server, method, path, body), { status, errorType: errorType === '' ? null : errorType, body: expected });
    });
  }
});
