import {
  CreateAliasCommand,
  CreateFunctionCommand,
  DeleteAliasCommand,
  DeleteFunctionCommand,
  GetAliasCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  ListAliasesCommand,
  ListFunctionsCommand,
  ListVersionsByFunctionCommand,
  PublishVersionCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
  waitUntilFunctionUpdatedV2,
} from '@aws-sdk/client-lambda';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { zipFiles } from '../src/code/index.js';
import { json, ROLE, startTestServer, type TestServer } from './support/kindling.js';

const ARN = 'arn:aws:lambda:us-east-1:000000000000:function:';
const code = (label: string) =>
  zipFiles({ 'index.js': `exports.handler = async (e, c) => ({ label: ${JSON.stringify(label)}, version: process.env.AWS_LAMBDA_FUNCTION_VERSION, arn: c.invokedFunctionArn, pid: process.pid });\n` });

describe('versions and aliases', () => {
  let server: TestServer;
  const invoke = async (qualifier?: string) => {
    const out = await server.lambda.send(new InvokeCommand({ FunctionName: 'ver', ...(qualifier ? { Qualifier: qualifier } : {}) }));
    return { out, body: json(out.Payload) as Record<string, any> };
  };
  const setCode = async (label: string) => {
    await server.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'ver', ZipFile: await code(label) }));
    await waitUntilFunctionUpdatedV2({ client: server.lambda, maxWaitTime: 10 }, { FunctionName: 'ver' });
  };

  before(async () => {
    server = await startTestServer();
    await server.lambda.send(
      new CreateFunctionCommand({ FunctionName: 'ver', Runtime: 'nodejs20.x', Handler: 'index.handler', Role: ROLE, Code: { ZipFile: await code('one') } }),
    );
  });
  after(async () => {
    await server.close();
  });

  it('publishes immutable versions, and nothing when nothing changed', async () => {
    const v1 = await server.lambda.send(new PublishVersionCommand({ FunctionName: 'ver', Description: 'first' }));
    assert.equal(v1.Version, '1');
    assert.equal(v1.FunctionArn, `${ARN}ver:1`);
    assert.equal(v1.Description, 'first');
    const again = await server.lambda.send(new PublishVersionCommand({ FunctionName: 'ver' }));
    assert.equal(again.Version, '1', 'no change since version 1: Lambda answers with it');

    await setCode('two');
    await assert.rejects(server.lambda.send(new PublishVersionCommand({ FunctionName: 'ver', CodeSha256: v1.CodeSha256! })), {
      name: 'InvalidParameterValueException',
    });
    await assert.rejects(server.lambda.send(new PublishVersionCommand({ FunctionName: 'ver', RevisionId: 'stale' })), {
      name: 'PreconditionFailedException',
    });
    const v2 = await server.lambda.send(new PublishVersionCommand({ FunctionName: 'ver' }));
    assert.equal(v2.Version, '2');
    await setCode('three');

    const listed = await server.lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'ver' }));
    assert.deepEqual(listed.Versions?.map((v) => v.Version), ['$LATEST', '1', '2']);
    const got = await server.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'ver', Qualifier: '1' }));
    assert.equal(got.CodeSha256, v1.CodeSha256);
    const all = await server.lambda.send(new ListFunctionsCommand({ FunctionVersion: 'ALL' }));
    assert.deepEqual(all.Functions?.filter((f) => f.FunctionName === 'ver').map((f) => f.Version), ['$LATEST', '1', '2']);
  });

  it('invokes a version, $LATEST and qualified ARNs, each in its own environments', async () => {
    const v1 = await invoke('1');
    assert.equal(v1.body['label'], 'one');
    assert.equal(v1.body['version'], '1');
    assert.equal(v1.out.ExecutedVersion, '1');
    const latest = await invoke();
    assert.equal(latest.body['label'], 'three');
    assert.equal(latest.out.ExecutedVersion, '$LATEST');
    assert.notEqual(latest.body['pid'], v1.body['pid']);
    const byArn = await server.lambda.send(new InvokeCommand({ FunctionName: `${ARN}ver:2` }));
    assert.equal((json(byArn.Payload) as Record<string, string>)['label'], 'two');
    assert.equal((json(byArn.Payload) as Record<string, string>)['arn'], `${ARN}ver:2`);
    await assert.rejects(invoke('9'), { name: 'ResourceNotFoundException' });
  });

  it('manages aliases and routes a weighted alias between two versions in proportion', async () => {
    const created = await server.lambda.send(new CreateAliasCommand({ FunctionName: 'ver', Name: 'live', FunctionVersion: '1', Description: 'prod' }));
    assert.equal(created.AliasArn, `${ARN}ver:live`);
    await assert.rejects(server.lambda.send(new CreateAliasCommand({ FunctionName: 'ver', Name: 'live', FunctionVersion: '1' })), {
      name: 'ResourceConflictException',
    });
    await assert.rejects(server.lambda.send(new CreateAliasCommand({ FunctionName: 'ver', Name: '123', FunctionVersion: '1' })), {
      name: 'ValidationException',
    });
    await assert.rejects(server.lambda.send(new CreateAliasCommand({ FunctionName: 'ver', Name: 'bad', FunctionVersion: '7' })), {
      name: 'ResourceNotFoundException',
    });
    const viaAlias = await invoke('live');
    assert.equal(viaAlias.body['label'], 'one');
    assert.equal(viaAlias.body['arn'], `${ARN}ver:live`);
    assert.equal(viaAlias.out.ExecutedVersion, '1');

    const updated = await server.lambda.send(
      new UpdateAliasCommand({ FunctionName: 'ver', Name: 'live', RoutingConfig: { AdditionalVersionWeights: { '2': 0.3 } } }),
    );
    assert.deepEqual(updated.RoutingConfig?.AdditionalVersionWeights, { '2': 0.3 });
    await assert.rejects(
      server.lambda.send(new UpdateAliasCommand({ FunctionName: 'ver', Name: 'live', RoutingConfig: { AdditionalVersionWeights: { '2': 1.5 } } })),
      { name: 'ValidationException' },
    );
    const counts = { '1': 0, '2': 0 } as Record<string, number>;
    const pids = { '1': new Set<number>(), '2': new Set<number>() } as Record<string, Set<number>>;
    const n = 400;
    for (let i = 0; i < n; i++) {
      const { out, body } = await invoke('live');
      assert.equal(body['version'], out.ExecutedVersion, 'X-Amz-Executed-Version names the version that ran');
      counts[out.ExecutedVersion!]!++;
      pids[out.ExecutedVersion!]!.add(body['pid']);
    }
    // 30 % of 400 is 120; a binomial standard deviation is about 9, so 4 sigma either way.
    assert.ok(counts['2']! > 84 && counts['2']! < 156, `version 2 ran ${counts['2']} of ${n} times`);
    for (const pid of pids['1']!) assert.equal(pids['2']!.has(pid), false, 'environments are never shared between versions');

    const got = await server.lambda.send(new GetAliasCommand({ FunctionName: 'ver', Name: 'live' }));
    assert.equal(got.FunctionVersion, '1');
    const listed = await server.lambda.send(new ListAliasesCommand({ FunctionName: 'ver' }));
    assert.deepEqual(listed.Aliases?.map((a) => a.Name), ['live']);
    await assert.rejects(server.lambda.send(new DeleteFunctionCommand({ FunctionName: 'ver', Qualifier: '2' })), {
      name: 'ResourceConflictException',
    });
  });

  it('deletes aliases and versions, never reusing a version number', async () => {
    await server.lambda.send(new DeleteAliasCommand({ FunctionName: 'ver', Name: 'live' }));
    await assert.rejects(server.lambda.send(new GetAliasCommand({ FunctionName: 'ver', Name: 'live' })), { name: 'ResourceNotFoundException' });
    await server.lambda.send(new DeleteFunctionCommand({ FunctionName: 'ver', Qualifier: '2' }));
    await assert.rejects(invoke('2'), { name: 'ResourceNotFoundException' });
    await assert.rejects(server.lambda.send(new DeleteFunctionCommand({ FunctionName: 'ver', Qualifier: '$LATEST' })), {
      name: 'InvalidParameterValueException',
    });
    const v3 = await server.lambda.send(new PublishVersionCommand({ FunctionName: 'ver' }));
    assert.equal(v3.Version, '3');
  });
});
