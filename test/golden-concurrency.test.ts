import {
  CreateAliasCommand,
  CreateFunctionCommand,
  DeleteFunctionConcurrencyCommand,
  GetAccountSettingsCommand,
  GetFunctionCommand,
  GetFunctionConcurrencyCommand,
  GetFunctionEventInvokeConfigCommand,
  ListFunctionEventInvokeConfigsCommand,
  PublishVersionCommand,
  PutFunctionConcurrencyCommand,
  PutFunctionEventInvokeConfigCommand,
  UpdateFunctionEventInvokeConfigCommand,
  waitUntilFunctionActiveV2,
} from '@aws-sdk/client-lambda';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { nodeFunction } from './support/functions.js';
import { ARN, golden, raw, userError } from './support/golden.js';
import { startTestServer, type TestServer } from './support/kindling.js';
import { eventuallyAsync } from './support/wait.js';

/**
 * Golden answers of reserved and provisioned concurrency, event invoke configs and
 * GetAccountSettings (LocalStack's AWS-validated test_lambda_api snapshots, named per case).
 */
describe('golden answers: concurrency, event invoke configs, account settings', () => {
  let server: TestServer;
  let size = 0;

  before(async () => {
    server = await startTestServer();
    for (const name of ['g-conc', 'g-dest']) {
      const input = await nodeFunction(name);
      size = input.Code!.ZipFile!.length;
      await server.lambda.send(new CreateFunctionCommand(input));
      await waitUntilFunctionActiveV2({ client: server.lambda, maxWaitTime: 10 }, { FunctionName: name });
    }
    await server.lambda.send(new PublishVersionCommand({ FunctionName: 'g-conc' }));
    await server.lambda.send(new CreateAliasCommand({ FunctionName: 'g-conc', Name: 'live', FunctionVersion: '1' }));
  });
  after(async () => {
    await server.close();
  });

  it('Put / Get / DeleteFunctionConcurrency; GetFunction then carries Concurrency (test_function_concurrency)', async () => {
    golden(await server.lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'g-conc', ReservedConcurrentExecutions: 5 })), { ReservedConcurrentExecutions: 5 });
    golden(await server.lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: 'g-conc' })), { ReservedConcurrentExecutions: 5 });
    const got = await server.lambda.send(new GetFunctionCommand({ FunctionName: 'g-conc' }));
    assert.deepEqual(got.Concurrency, { ReservedConcurrentExecutions: 5 });
    assert.deepEqual(await raw(server, 'DELETE', '/2017-10-31/functions/g-conc/concurrency'), { status: 204, errorType: null, body: undefined });
    assert.deepEqual(await raw(server, 'GET', '/2019-09-30/functions/g-conc/concurrency'), { status: 200, errorType: null, body: {} });
    assert.equal((await server.lambda.send(new GetFunctionCommand({ FunctionName: 'g-conc' }))).Concurrency, undefined);
  });

  it('GetAccountSettings: TotalCodeSize counts $LATEST and each published version', async () => {
    const settings = await server.lambda.send(new GetAccountSettingsCommand({}));
    golden(settings, {
      AccountLimit: {
        TotalCodeSize: 80_530_636_800,
        CodeSizeUnzipped: 262_144_000,
        CodeSizeZipped: 52_428_800,
        ConcurrentExecutions: settings.AccountLimit!.ConcurrentExecutions,
        UnreservedConcurrentExecutions: settings.AccountLimit!.ConcurrentExecutions,
      },
      AccountUsage: { TotalCodeSize: 3 * size, FunctionCount: 2 },
    });
  });

  it('event invoke configs: both destination sides always sent, epoch-second LastModified (test_lambda_eventinvokeconfig_exceptions)', async () => {
    const put = await server.lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'g-conc', MaximumRetryAttempts: 1 }));
    const latest = { FunctionArn: `${ARN}g-conc:$LATEST`, LastModified: '<epoch-seconds>', MaximumRetryAttempts: 1, DestinationConfig: { OnSuccess: {}, OnFailure: {} } };
    golden(put, latest);
    const onVersion = await server.lambda.send(
      new PutFunctionEventInvokeConfigCommand({ FunctionName: 'g-conc', Qualifier: '1', DestinationConfig: { OnSuccess: { Destination: `${ARN}g-dest` } } }),
    );
    const version = { FunctionArn: `${ARN}g-conc:1`, LastModified: '<epoch-seconds>', DestinationConfig: { OnSuccess: { Destination: `${ARN}g-dest` }, OnFailure: {} } };
    golden(onVersion, version);
    const updated = await server.lambda.send(new UpdateFunctionEventInvokeConfigCommand({ FunctionName: 'g-conc', MaximumEventAgeInSeconds: 60 }));
    golden(updated, { ...latest, MaximumEventAgeInSeconds: 60 });
    golden(await server.lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: 'g-conc', Qualifier: '1' })), version);
    golden((await server.lambda.send(new ListFunctionEventInvokeConfigsCommand({ FunctionName: 'g-conc' }))).FunctionEventInvokeConfigs, [
      { ...latest, MaximumEventAgeInSeconds: 60 },
      version,
    ]);
  });

  const DOESNT_EXIST = userError("The function doesn't exist.", 'Message');
  const ERRORS: [string, string, string, unknown, number, string, unknown][] = [
    // Reserved concurrency (test_function_concurrency_exceptions).
    ['PutFunctionConcurrency of a missing function', 'PUT', '/2017-10-31/functions/g-none/concurrency', { ReservedConcurrentExecutions: 1 }, 404, 'ResourceNotFoundException', userError(`Function not found: ${ARN}g-none:$LATEST`, 'Message')],
    [
      'PutFunctionConcurrency on a qualified ARN',
      'PUT',
      `/2017-10-31/functions/${encodeURIComponent(`${ARN}g-conc:$LATEST`)}/concurrency`,
      { ReservedConcurrentExecutions: 1 },
      400,
      'InvalidParameterValueException',
      userError('This operation is permitted on Lambda functions only. Aliases and versions do not support this operation. Please specify either a function name or an unqualified function ARN.'),
    ],
    ['GetFunctionConcurrency of a missing function', 'GET', '/2019-09-30/functions/g-none/concurrency', undefined, 404, 'ResourceNotFoundException', userError(`Function not found: ${ARN}g-none`, 'Message')],
    // Event invoke configs (test_lambda_eventinvokeconfig_exceptions).
    ['PutFunctionEventInvokeConfig of a missing function, nothing set', 'PUT', '/2019-09-25/functions/g-none/event-invoke-config', {}, 400, 'InvalidParameterValueException', userError('You must specify at least one of error handling or destination setting.')],
    ['PutFunctionEventInvokeConfig of a missing function', 'PUT', '/2019-09-25/functions/g-none/event-invoke-config', { MaximumRetryAttempts: 1 }, 404, 'ResourceNotFoundException', DOESNT_EXIST],
    ['PutFunctionEventInvokeConfig of a missing alias', 'PUT', '/2019-09-25/functions/g-conc/event-invoke-config?Qualifier=nothere', { MaximumRetryAttempts: 1 }, 404, 'ResourceNotFoundException', DOESNT_EXIST],
    [
      'PutFunctionEventInvokeConfig to a missing function',
      'PUT',
      '/2019-09-25/functions/g-conc/event-invoke-config',
      { DestinationConfig: { OnSuccess: { Destination: `${ARN}doesnotexist` } } },
      400,
      'InvalidParameterValueException',
      userError(`The destination ARN ${ARN}doesnotexist is invalid.`),
    ],
    [
      'PutFunctionEventInvokeConfig to itself',
      'PUT',
      '/2019-09-25/functions/g-conc/event-invoke-config',
      { DestinationConfig: { OnSuccess: { Destination: `${ARN}g-conc` } } },
      400,
      'InvalidParameterValueException',
      userError("You can't specify the function as a destination for itself."),
    ],
    ['UpdateFunctionEventInvokeConfig of a missing function', 'POST', '/2019-09-25/functions/g-none/event-invoke-config', { MaximumRetryAttempts: 1 }, 404, 'ResourceNotFoundException', DOESNT_EXIST],
    [
      'UpdateFunctionEventInvokeConfig with no config',
      'POST',
      '/2019-09-25/functions/g-conc/event-invoke-config?Qualifier=live',
      { MaximumRetryAttempts: 1 },
      404,
      'ResourceNotFoundException',
      userError(`The function ${ARN}g-conc:live doesn't have an EventInvokeConfig`, 'Message'),
    ],
    ['GetFunctionEventInvokeConfig of a missing function', 'GET', '/2019-09-25/functions/g-none/event-invoke-config', undefined, 404, 'ResourceNotFoundException', userError(`The function ${ARN}g-none:$LATEST doesn't have an EventInvokeConfig`, 'Message')],
    ['ListFunctionEventInvokeConfigs of a missing function', 'GET', '/2019-09-25/functions/g-none/event-invoke-config/list', undefined, 404, 'ResourceNotFoundException', DOESNT_EXIST],
    // Provisioned concurrency (test_provisioned_concurrency_exceptions, test_lambda_provisioned_lifecycle).
    ['GetProvisionedConcurrencyConfig with none', 'GET', '/2019-09-30/functions/g-conc/provisioned-concurrency?Qualifier=1', undefined, 404, 'ProvisionedConcurrencyConfigNotFoundException', userError('No Provisioned Concurrency Config found for this function')],
    ['GetProvisionedConcurrencyConfig of a missing alias', 'GET', '/2019-09-30/functions/g-conc/provisioned-concurrency?Qualifier=noalias', undefined, 404, 'ResourceNotFoundException', userError(`Cannot find alias arn: ${ARN}g-conc:noalias`, 'Message')],
    ['GetProvisionedConcurrencyConfig of a missing function', 'GET', '/2019-09-30/functions/g-none/provisioned-concurrency?Qualifier=noalias', undefined, 404, 'ResourceNotFoundException', userError(`Cannot find alias arn: ${ARN}g-none:noalias`, 'Message')],
    ['GetProvisionedConcurrencyConfig of a missing version', 'GET', '/2019-09-30/functions/g-conc/provisioned-concurrency?Qualifier=10', undefined, 404, 'ResourceNotFoundException', userError(`Function not found: ${ARN}g-conc:10`, 'Message')],
    ['GetProvisionedConcurrencyConfig of $LATEST', 'GET', '/2019-09-30/functions/g-conc/provisioned-concurrency?Qualifier=$LATEST', undefined, 400, 'InvalidParameterValueException', userError('The function resource provided must be an alias or a published version.')],
    ['DeleteProvisionedConcurrencyConfig with none', 'DELETE', '/2019-09-30/functions/g-conc/provisioned-concurrency?Qualifier=1', undefined, 204, '', undefined],
    ['PutProvisionedConcurrencyConfig on $LATEST', 'PUT', '/2019-09-30/functions/g-conc/provisioned-concurrency?Qualifier=$LATEST', { ProvisionedConcurrentExecutions: 1 }, 400, 'InvalidParameterValueException', userError('Provisioned Concurrency Configs cannot be applied to unpublished function versions.')],
    [
      'PutProvisionedConcurrencyConfig of 0',
      'PUT',
      '/2019-09-30/functions/g-conc/provisioned-concurrency?Qualifier=1',
      { ProvisionedConcurrentExecutions: 0 },
      400,
      'ValidationException',
      { message: "1 validation error detected: Value '0' at 'provisionedConcurrentExecutions' failed to satisfy constraint: Member must have value greater than or equal to 1" },
    ],
    ['ListProvisionedConcurrencyConfigs of a missing function', 'GET', '/2019-09-30/functions/g-none/provisioned-concurrency?List=ALL', undefined, 404, 'ResourceNotFoundException', userError(`Function not found: ${ARN}g-none`, 'Message')],
  ];
  for (const [what, method, path, body, status, errorType, expected] of ERRORS) {
    it(`${what}: ${status} ${errorType}`, async () => {
      assert.deepEqual(await raw(server, method, path, body), { status, errorType: errorType === '' ? null : errorType, body: expected });
    });
  }

  it('one provisioned config per version, whichever qualifier reaches it (test_lambda_provisioned_lifecycle)', async () => {
    // Each config is let reach READY before it is removed: the environments it starts then stop cleanly.
    const ready = (qualifier: string) =>
      eventuallyAsync(
        () => raw(server, 'GET', `/2019-09-30/functions/g-conc/provisioned-concurrency?Qualifier=${qualifier}`),
        (answer) => (answer.body as { Status?: string }).Status === 'READY',
        `the config on ${qualifier} is READY`,
      );
    const onVersion = await raw(server, 'PUT', '/2019-09-30/functions/g-conc/provisioned-concurrency?Qualifier=1', { ProvisionedConcurrentExecutions: 1 });
    assert.equal(onVersion.status, 202);
    golden(onVersion.body, {
      RequestedProvisionedConcurrentExecutions: 1,
      AvailableProvisionedConcurrentExecutions: 0,
      AllocatedProvisionedConcurrentExecutions: 0,
      Status: 'IN_PROGRESS',
      LastModified: '<date>',
    });
    await ready('1');
    assert.deepEqual(await raw(server, 'PUT', '/2019-09-30/functions/g-conc/provisioned-concurrency?Qualifier=live', { ProvisionedConcurrentExecutions: 1 }), {
      status: 409,
      errorType: 'ResourceConflictException',
      body: userError("Alias can't be used for Provisioned Concurrency configuration on an already Provisioned version"),
    });
    assert.equal((await raw(server, 'DELETE', '/2019-09-30/functions/g-conc/provisioned-concurrency?Qualifier=1')).status, 204);
    assert.equal((await raw(server, 'PUT', '/2019-09-30/functions/g-conc/provisioned-concurrency?Qualifier=live', { ProvisionedConcurrentExecutions: 1 })).status, 202);
    await ready('live');
    assert.deepEqual(await raw(server, 'PUT', '/2019-09-30/functions/g-conc/provisioned-concurrency?Qualifier=1', { ProvisionedConcurrentExecutions: 1 }), {
      status: 409,
      errorType: 'ResourceConflictException',
      body: userError('Version is pointed by a Provisioned Concurrency alias'),
    });
    assert.equal((await raw(server, 'DELETE', '/2019-09-30/functions/g-conc/provisioned-concurrency?Qualifier=live')).status, 204);
  });
});
