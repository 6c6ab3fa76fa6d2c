import {
  CreateAliasCommand,
  CreateFunctionCommand,
  DeleteProvisionedConcurrencyConfigCommand,
  GetProvisionedConcurrencyConfigCommand,
  InvokeCommand,
  ListProvisionedConcurrencyConfigsCommand,
  PublishVersionCommand,
  PutFunctionConcurrencyCommand,
  PutProvisionedConcurrencyConfigCommand,
} from '@aws-sdk/client-lambda';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { zipFiles } from '../src/code/index.js';
import { json, ROLE, startTestServer, type TestServer } from './support/kindling.js';
import { eventually, eventuallyAsync } from './support/wait.js';

describe('provisioned concurrency', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
    await server.lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'warm',
        Runtime: 'nodejs20.x',
        Handler: 'index.handler',
        Role: ROLE,
        Code: {
          ZipFile: await zipFiles({
            'index.js': 'exports.handler = async (e) => { if (e.exit) process.exit(1); return { type: process.env.AWS_LAMBDA_INITIALIZATION_TYPE, pid: process.pid }; };\n',
          }),
        },
      }),
    );
    await server.lambda.send(new PublishVersionCommand({ FunctionName: 'warm' }));
    await server.lambda.send(new CreateAliasCommand({ FunctionName: 'warm', Name: 'live', FunctionVersion: '1' }));
  });
  after(async () => {
    await server.close();
  });

  it('refuses $LATEST, unknown configs and more than the reserved concurrency', async () => {
    await assert.rejects(
      server.lambda.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: 'warm', Qualifier: '$LATEST', ProvisionedConcurrentExecutions: 1 })),
      { name: 'InvalidParameterValueException' },
    );
    await assert.rejects(server.lambda.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: 'warm', Qualifier: 'live' })), {
      name: 'ProvisionedConcurrencyConfigNotFoundException',
    });
    await server.lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'warm', ReservedConcurrentExecutions: 3 }));
    await assert.rejects(
      server.lambda.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: 'warm', Qualifier: 'live', ProvisionedConcurrentExecutions: 4 })),
      { name: 'InvalidParameterValueException' },
    );
  });

  it('initialises environments before the first invoke, and that invoke has no cold start', async () => {
    const put = await server.lambda.send(
      new PutProvisionedConcurrencyConfigCommand({ FunctionName: 'warm', Qualifier: 'live', ProvisionedConcurrentExecutions: 2 }),
    );
    assert.equal(put.RequestedProvisionedConcurrentExecutions, 2);
    assert.ok(put.Status === 'IN_PROGRESS' || put.Status === 'READY');
    const ready = await eventuallyAsync(
      () => server.lambda.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: 'warm', Qualifier: 'live' })),
      (c) => c.Status === 'READY',
      'the config is READY',
    );
    assert.equal(ready.AllocatedProvisionedConcurrentExecutions, 2);
    assert.equal(server.kindling.fleet!.stats('warm', '1').environments, 2, 'two environments before any invoke');

    const out = await server.lambda.send(new InvokeCommand({ FunctionName: 'warm', Qualifier: 'live', LogType: 'Tail' }));
    const log = Buffer.from(out.LogResult!, 'base64').toString();
    assert.match(log, /REPORT RequestId/);
    assert.doesNotMatch(log, /Init Duration/, 'no cold start on a provisioned environment');
    assert.equal((json(out.Payload) as Record<string, string>)['type'], 'provisioned-concurrency');
    assert.equal(server.kindling.fleet!.stats('warm', '1').environments, 2);

    const listed = await server.lambda.send(new ListProvisionedConcurrencyConfigsCommand({ FunctionName: 'warm' }));
    assert.equal(listed.ProvisionedConcurrencyConfigs?.[0]?.FunctionArn, 'arn:aws:lambda:us-east-1:000000000000:function:warm:live');
  });

  it('replaces a provisioned environment that dies', async () => {
    const crashed = await server.lambda.send(new InvokeCommand({ FunctionName: 'warm', Qualifier: 'live', Payload: Buffer.from('{"exit":true}') }));
    assert.equal(crashed.FunctionError, 'Unhandled');
    await eventuallyAsync(
      () => server.lambda.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: 'warm', Qualifier: 'live' })),
      (c) => c.Status === 'READY' && server.kindling.fleet!.stats('warm', '1').environments === 2,
      'the environment is replaced',
    );
  });

  it('lets the environments go when the config is deleted', async () => {
    await server.lambda.send(new DeleteProvisionedConcurrencyConfigCommand({ FunctionName: 'warm', Qualifier: 'live' }));
    await eventually(() => server.kindling.fleet!.stats('warm', '1').environments === 0, 'the provisioned environments stop');
  });
});
