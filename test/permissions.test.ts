import {
  AddLayerVersionPermissionCommand,
  AddPermissionCommand,
  CreateAliasCommand,
  CreateFunctionCommand,
  DeleteAliasCommand,
  DeleteFunctionCommand,
  DeleteLayerVersionCommand,
  GetLayerVersionPolicyCommand,
  GetPolicyCommand,
  PublishLayerVersionCommand,
  PublishVersionCommand,
  RemoveLayerVersionPermissionCommand,
  RemovePermissionCommand,
  waitUntilFunctionActiveV2,
  type AddPermissionCommandInput,
} from '@aws-sdk/client-lambda';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { zipFiles } from '../src/code/index.js';
import type { Caller } from '../src/identity/index.js';
import { nodeFunction, rejectsWith } from './support/functions.js';
import { startTestServer, type TestServer } from './support/kindling.js';

const ACCOUNT = '000000000000';
const OTHER = '222222222222';
const THIRD = '333333333333';
const FN_ARN = (name: string, qualifier?: string) => `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${name}${qualifier ? `:${qualifier}` : ''}`;
const user = (account: string): Caller => ({ accountId: account, arn: `arn:aws:iam::${account}:user/u`, policies: 'all' });
const NO_POLICY = /^No policy is associated with the given resource\.$/;

describe('resource policies through the AWS SDK', () => {
  let server: TestServer;
  /** Any command, for the calls whose answer the test does not read. */
  const send = (command: object): Promise<unknown> => server.lambda.send(command as never);
  const add = (input: Partial<AddPermissionCommandInput> & { FunctionName: string }) =>
    server.lambda.send(new AddPermissionCommand({ StatementId: 'cross', Action: 'lambda:InvokeFunction', Principal: OTHER, ...input }));
  const policyOf = async (FunctionName: string, Qualifier?: string) => {
    const got = await server.lambda.send(new GetPolicyCommand({ FunctionName, ...(Qualifier ? { Qualifier } : {}) }));
    return { policy: JSON.parse(got.Policy!) as { Version: string; Id: string; Statement: Record<string, unknown>[] }, revisionId: got.RevisionId! };
  };
  const allows = (arn: string, account: string, extra: { sourceArn?: string; sourceAccount?: string } = {}) =>
    server.kindling.resourcePolicies.allows(arn, { caller: user(account), action: 'lambda:InvokeFunction', ...extra });
  const create = async (name: string) => {
    await server.lambda.send(new CreateFunctionCommand(await nodeFunction(name)));
    await waitUntilFunctionActiveV2({ client: server.lambda, maxWaitTime: 30 }, { FunctionName: name });
  };

  before(async () => {
    server = await startTestServer();
    await create('shared');
  });
  after(() => server.close());

  it('adds a statement Lambda’s way, reads the policy back, and the cache allows the account it names', async () => {
    await rejectsWith(send(new GetPolicyCommand({ FunctionName: 'shared' })), 'ResourceNotFoundException', 404, NO_POLICY);
    const added = await add({ FunctionName: 'shared', SourceArn: `arn:aws:events:us-east-1:${OTHER}:rule/nightly`, SourceAccount: OTHER });
    const statement = JSON.parse(added.Statement!);
    assert.deepEqual(statement, {
      Sid: 'cross',
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${OTHER}:root` },
      Action: 'lambda:InvokeFunction',
      Resource: FN_ARN('shared'),
      Condition: { StringEquals: { 'AWS:SourceAccount': OTHER }, ArnLike: { 'AWS:SourceArn': `arn:aws:events:us-east-1:${OTHER}:rule/nightly` } },
    });
    const { policy, revisionId } = await policyOf('shared');
    assert.deepEqual(policy, { Version: '2012-10-17', Id: 'default', Statement: [statement] });
    assert.match(revisionId, /^[0-9a-f-]{36}$/);
    const source = { sourceArn: `arn:aws:events:us-east-1:${OTHER}:rule/nightly`, sourceAccount: OTHER };
    assert.equal(allows(FN_ARN('shared'), OTHER, source), true);
    assert.equal(allows(FN_ARN('shared'), OTHER), false, 'the conditions must hold');
    assert.equal(allows(FN_ARN('shared'), THIRD, source), false);

    // A second statement: a new revision each time, both statements kept in order.
    await add({ FunctionName: FN_ARN('shared'), StatementId: 'public-ish', Principal: THIRD });
    const second = await policyOf('shared');
    assert.notEqual(second.revisionId, revisionId);
    assert.deepEqual(second.policy.Statement.map((s) => s['Sid']), ['cross', 'public-ish']);
    assert.equal(allows(FN_ARN('shared'), THIRD), true);

    await send(new RemovePermissionCommand({ FunctionName: 'shared', StatementId: 'public-ish' }));
    assert.equal(allows(FN_ARN('shared'), THIRD), false, 'removed at once from what Invoke asks');
    await send(new RemovePermissionCommand({ FunctionName: 'shared', StatementId: 'cross' }));
    // The last statement gone, there is no policy at all.
    await rejectsWith(send(new GetPolicyCommand({ FunctionName: 'shared' })), 'ResourceNotFoundException', 404, NO_POLICY);
    await rejectsWith(send(new RemovePermissionCommand({ FunctionName: 'shared', StatementId: 'cross' })), 'ResourceNotFoundException', 404, NO_POLICY);
  });

  it('refuses a duplicate statement id, a stale RevisionId and an unknown statement, and writes nothing', async () => {
    await add({ FunctionName: 'shared', StatementId: 'one' });
    const before = await policyOf('shared');
    await rejectsWith(
      add({ FunctionName: 'shared', StatementId: 'one', Principal: THIRD }),
      'ResourceConflictException',
      409,
      /^The statement id \(sid\) provided already exists\. Please choose a new statement id, or remove the existing statement\.$/,
    );
    await rejectsWith(
      add({ FunctionName: 'shared', StatementId: 'two', RevisionId: 'not-the-revision' }),
      'PreconditionFailedException',
      412,
      /^The Revision Id provided does not match the latest Revision Id\. Call the GetPolicy API to retrieve the latest Revision Id$/,
    );
    await rejectsWith(send(new RemovePermissionCommand({ FunctionName: 'shared', StatementId: 'one', RevisionId: 'stale' })), 'PreconditionFailedException', 412);
    await rejectsWith(send(new RemovePermissionCommand({ FunctionName: 'shared', StatementId: 'nope' })), 'ResourceNotFoundException', 404, /^Statement nope is not found in resource policy\.$/);
    assert.deepEqual(await policyOf('shared'), before);
    assert.equal(allows(FN_ARN('shared'), THIRD), false);

    // With the right revision, both go through.
    await add({ FunctionName: 'shared', StatementId: 'two', RevisionId: before.revisionId });
    const { revisionId } = await policyOf('shared');
    await send(new RemovePermissionCommand({ FunctionName: 'shared', StatementId: 'two', RevisionId: revisionId }));
    await send(new RemovePermissionCommand({ FunctionName: 'shared', StatementId: 'one' }));
  });

  it('refuses bad input with AWS’s errors', async () => {
    const cases: [Partial<AddPermissionCommandInput>, string, number, RegExp][] = [
      [{ StatementId: 'bad id' }, 'ValidationException', 400, /Value 'bad id' at 'statementId' failed to satisfy constraint: Member must satisfy regular expression pattern: \(\[a-zA-Z0-9-_\]\+\)/],
      [{ Action: 'iam:PassRole' }, 'ValidationException', 400, /at 'action' failed to satisfy constraint/],
      [{ Principal: 'somebody' }, 'InvalidParameterValueException', 400, /^The provided principal was invalid\. Please check the principal and try again\.$/],
      [{ SourceAccount: '1234' }, 'ValidationException', 400, /at 'sourceAccount'/],
      [{ Qualifier: '$LATEST' }, 'InvalidParameterValueException', 400, /^We currently do not support adding policies for \$LATEST\.$/],
      [{ Qualifier: '42' }, 'ResourceNotFoundException', 404, /Function not found: arn:aws:lambda:us-east-1:000000000000:function:shared:42/],
      [{ Qualifier: 'nosuchalias' }, 'ResourceNotFoundException', 404, /Function not found/],
    ];
    for (const [input, name, status, message] of cases) await rejectsWith(add({ FunctionName: 'shared', ...input }), name, status, message);
    await rejectsWith(add({ FunctionName: 'missing' }), 'ResourceNotFoundException', 404, /Function not found: arn:aws:lambda:us-east-1:000000000000:function:missing/);
    await rejectsWith(add({ FunctionName: 'shared:v1', Qualifier: 'v2' }), 'InvalidParameterValueException', 400, /derived qualifier/);
    await rejectsWith(send(new GetPolicyCommand({ FunctionName: 'shared' })), 'ResourceNotFoundException', 404, NO_POLICY);
    const big = 'x'.repeat(1000);
    for (let i = 0; i < 16; i++) await add({ FunctionName: 'shared', StatementId: `big-${i}`, SourceArn: `arn:aws:s3:::${big}` });
    await rejectsWith(
      add({ FunctionName: 'shared', StatementId: 'big-last', SourceArn: `arn:aws:s3:::${big}` }),
      'PolicyLengthExceededException',
      400,
      /^The final policy size \(\d+\) is bigger than the limit \(20480\)\.$/,
    );
    assert.equal((await policyOf('shared')).policy.Statement.length, 16);
    for (let i = 0; i < 16; i++) await send(new RemovePermissionCommand({ FunctionName: 'shared', StatementId: `big-${i}` }));
  });

  it('keeps a version’s and an alias’s policy apart from the function’s, and drops each with its owner', async () => {
    await create('scoped');
    const { Version } = await server.lambda.send(new PublishVersionCommand({ FunctionName: 'scoped' }));
    await server.lambda.send(new CreateAliasCommand({ FunctionName: 'scoped', Name: 'live', FunctionVersion: Version! }));
    await add({ FunctionName: 'scoped', Qualifier: 'live', StatementId: 'alias-only' });
    await add({ FunctionName: `scoped:${Version!}`, StatementId: 'version-only', Principal: THIRD });
    const aliasPolicy = await policyOf('scoped', 'live');
    assert.equal(aliasPolicy.policy.Statement[0]!['Resource'], FN_ARN('scoped', 'live'));
    assert.equal((await policyOf(FN_ARN('scoped', Version!))).policy.Statement[0]!['Resource'], FN_ARN('scoped', Version!));
    await rejectsWith(send(new GetPolicyCommand({ FunctionName: 'scoped' })), 'ResourceNotFoundException', 404, NO_POLICY);
    assert.equal(allows(FN_ARN('scoped', 'live'), OTHER), true);
    assert.equal(allows(FN_ARN('scoped'), OTHER), false, 'an alias’s grant is not the function’s');
    assert.equal(allows(FN_ARN('scoped', Version!), THIRD), true);
    // The alias goes, and its policy with it: an alias made again under that name starts with none.
    await send(new DeleteAliasCommand({ FunctionName: 'scoped', Name: 'live' }));
    assert.equal(allows(FN_ARN('scoped', 'live'), OTHER), false);
    await server.lambda.send(new CreateAliasCommand({ FunctionName: 'scoped', Name: 'live', FunctionVersion: Version! }));
    await rejectsWith(send(new GetPolicyCommand({ FunctionName: 'scoped', Qualifier: 'live' })), 'ResourceNotFoundException', 404, NO_POLICY);
    // The function goes: every policy of it goes too, and a function made again has none.
    await add({ FunctionName: 'scoped', StatementId: 'fn' });
    await send(new DeleteFunctionCommand({ FunctionName: 'scoped' }));
    assert.equal(allows(FN_ARN('scoped'), OTHER), false);
    assert.equal(allows(FN_ARN('scoped', Version!), THIRD), false);
    assert.deepEqual(await server.kindling.store.policies.listOwner('scoped'), []);
    await create('scoped');
    await rejectsWith(send(new GetPolicyCommand({ FunctionName: 'scoped' })), 'ResourceNotFoundException', 404, NO_POLICY);
  });

  it('shares a layer version with another account, and forgets it with the version', async () => {
    const zip = await zipFiles({ 'nodejs/node_modules/lib/index.js': 'module.exports = 1;\n' });
    const { Version, LayerVersionArn } = await server.lambda.send(new PublishLayerVersionCommand({ LayerName: 'lib', Content: { ZipFile: zip } }));
    const params = { LayerName: 'lib', VersionNumber: Version! };
    await rejectsWith(send(new GetLayerVersionPolicyCommand(params)), 'ResourceNotFoundException', 404, NO_POLICY);
    const added = await server.lambda.send(new AddLayerVersionPermissionCommand({ ...params, StatementId: 'share', Action: 'lambda:GetLayerVersion', Principal: OTHER }));
    assert.deepEqual(JSON.parse(added.Statement!), {
      Sid: 'share',
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${OTHER}:root` },
      Action: 'lambda:GetLayerVersion',
      Resource: LayerVersionArn,
    });
    const got = await server.lambda.send(new GetLayerVersionPolicyCommand(params));
    assert.equal(got.RevisionId, added.RevisionId);
    assert.deepEqual(JSON.parse(got.Policy!).Statement, [JSON.parse(added.Statement!)]);
    const getLayer = (account: string) => server.kindling.resourcePolicies.allows(LayerVersionArn!, { caller: user(account), action: 'lambda:GetLayerVersion' });
    assert.equal(getLayer(OTHER), true);
    assert.equal(getLayer(THIRD), false);

    await rejectsWith(
      send(new AddLayerVersionPermissionCommand({ ...params, StatementId: 'share', Action: 'lambda:GetLayerVersion', Principal: '*' })),
      'ResourceConflictException',
      409,
    );
    await rejectsWith(
      send(new AddLayerVersionPermissionCommand({ ...params, StatementId: 'all', Action: 'lambda:GetLayerVersion', Principal: '*', RevisionId: 'stale' })),
      'PreconditionFailedException',
      412,
    );
    await rejectsWith(
      send(new AddLayerVersionPermissionCommand({ ...params, StatementId: 'x', Action: 'lambda:InvokeFunction', Principal: '*' })),
      'ValidationException',
      400,
      /at 'action' failed to satisfy constraint: Member must satisfy regular expression pattern: lambda:GetLayerVersion/,
    );
    await rejectsWith(
      send(new AddLayerVersionPermissionCommand({ LayerName: 'lib', VersionNumber: 99, StatementId: 'x', Action: 'lambda:GetLayerVersion', Principal: '*' })),
      'ResourceNotFoundException',
      404,
    );
    await rejectsWith(send(new RemoveLayerVersionPermissionCommand({ ...params, StatementId: 'share', RevisionId: 'stale' })), 'PreconditionFailedException', 412);
    await send(new RemoveLayerVersionPermissionCommand({ ...params, StatementId: 'share', RevisionId: got.RevisionId! }));
    assert.equal(getLayer(OTHER), false);
    await rejectsWith(send(new GetLayerVersionPolicyCommand(params)), 'ResourceNotFoundException', 404, NO_POLICY);

    await server.lambda.send(new AddLayerVersionPermissionCommand({ ...params, StatementId: 'org', Action: 'lambda:GetLayerVersion', Principal: '*', OrganizationId: 'o-abcdefghij' }));
    await send(new DeleteLayerVersionCommand(params));
    assert.deepEqual(await server.kindling.store.policies.list().then((all) => all.filter((p) => p.resourceArn === LayerVersionArn)), []);
  });
});
