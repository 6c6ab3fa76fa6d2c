import { CloudWatchLogsClient, DescribeLogGroupsCommand, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  AddLayerVersionPermissionCommand,
  AddPermissionCommand,
  CreateFunctionCommand,
  DeleteFunctionCommand,
  GetFunctionCommand,
  InvokeCommand,
  ListFunctionsCommand,
  ListLayersCommand,
  PublishLayerVersionCommand,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { zipFiles } from '../src/code/index.js';
import { adminProfile, signedFetch, signedLambda, type Profile } from './support/auth.js';
import { nodeFunction, rejectsWith } from './support/functions.js';
import { startTestServer, type TestServer } from './support/kindling.js';
import { eventuallyAsync } from './support/wait.js';

/**
 * Two accounts through the real API under `--auth sigv4`: the default account's administrator key
 * and an administrator key of another account, each with the AWS SDK. Each creates `hello`, and
 * neither sees, invokes or reads the logs of the other's.
 */
const A = '000000000000';
const B = '111111111111';

const WHOSE = (who: string) =>
  `exports.handler = async () => { console.log('line-from-${who}'); return { who: '${who}', name: process.env.AWS_LAMBDA_FUNCTION_NAME }; };\n`;

describe('accounts through the API (--auth sigv4)', () => {
  let server: TestServer;
  let lambdaA: LambdaClient;
  let lambdaB: LambdaClient;
  let logsA: CloudWatchLogsClient;
  let logsB: CloudWatchLogsClient;

  before(async () => {
    server = await startTestServer({ auth: 'sigv4' });
    const admin = adminProfile(server.dataDir);
    const res = await signedFetch(server.kindling.url, admin, 'POST', '/kindling/keys', JSON.stringify({ AccountId: B, Admin: true }), 'kindling');
    assert.equal(res.status, 201, await res.clone().text());
    const created = (await res.json()) as { AccessKeyId: string; SecretAccessKey: string };
    const keyB: Profile = { accessKeyId: created.AccessKeyId, secretAccessKey: created.SecretAccessKey };
    lambdaA = signedLambda(server.kindling.url, admin);
    lambdaB = signedLambda(server.kindling.url, keyB);
    const logsFor = (credentials: Profile) => new CloudWatchLogsClient({ endpoint: server.kindling.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    logsA = logsFor(admin);
    logsB = logsFor(keyB);
    await lambdaA.send(new CreateFunctionCommand(await nodeFunction('hello', WHOSE('A'))));
    const ofB = await lambdaB.send(new CreateFunctionCommand(await nodeFunction('hello', WHOSE('B'))));
    assert.equal(ofB.FunctionArn, `arn:aws:lambda:us-east-1:${B}:function:hello`);
  });
  after(async () => {
    for (const client of [lambdaA, lambdaB, logsA, logsB]) client.destroy();
    await server.close();
  });

  it('lists and invokes each account its own hello', async () => {
    for (const [lambda, account, who] of [[lambdaA, A, 'A'], [lambdaB, B, 'B']] as const) {
      const { Functions } = await lambda.send(new ListFunctionsCommand({}));
      assert.deepEqual(Functions?.map((fn) => fn.FunctionArn), [`arn:aws:lambda:us-east-1:${account}:function:hello`]);
      const out = await lambda.send(new InvokeCommand({ FunctionName: 'hello', Payload: Buffer.from('{}') }));
      assert.deepEqual(JSON.parse(Buffer.from(out.Payload!).toString()), { who, name: 'hello' });
    }
  });

  it("refuses each account the other's function by ARN (no resource policy allows it)", async () => {
    await rejectsWith(lambdaB.send(new GetFunctionCommand({ FunctionName: `arn:aws:lambda:us-east-1:${A}:function:hello` })), 'AccessDeniedException', 403);
    await rejectsWith(lambdaA.send(new InvokeCommand({ FunctionName: `${B}:function:hello`, Payload: Buffer.from('{}') })), 'AccessDeniedException', 403);
    await rejectsWith(lambdaB.send(new DeleteFunctionCommand({ FunctionName: `arn:aws:lambda:us-east-1:${A}:function:hello` })), 'AccessDeniedException', 403);
    // A key spelled as a name is no way around it.
    await rejectsWith(lambdaA.send(new GetFunctionCommand({ FunctionName: `${B}:hello` })), 'ResourceNotFoundException', 404);
  });

  it("keeps each account's /aws/lambda/hello to itself", async () => {
    for (const [logs, account, who, other] of [[logsA, A, 'A', 'B'], [logsB, B, 'B', 'A']] as const) {
      const out = await eventuallyAsync(
        () => logs.send(new FilterLogEventsCommand({ logGroupName: '/aws/lambda/hello' })),
        (found) => (found.events ?? []).some((event) => event.message?.includes(`line-from-${who}`)),
        `${who}'s lines are stored`,
      );
      assert.ok(!(out.events ?? []).some((event) => event.message?.includes(`line-from-${other}`)));
      const groups = await logs.send(new DescribeLogGroupsCommand({}));
      assert.deepEqual(groups.logGroups?.map((group) => group.logGroupArn), [`arn:aws:logs:us-east-1:${account}:log-group:/aws/lambda/hello`]);
    }
  });

  it('keeps layers of one name apart', async () => {
    const Content = { ZipFile: await zipFiles({ 'lib/x.js': 'module.exports = 1;\n' }) };
    await lambdaA.send(new PublishLayerVersionCommand({ LayerName: 'lib', Content }));
    const ofB = await lambdaB.send(new PublishLayerVersionCommand({ LayerName: 'lib', Content }));
    assert.equal(ofB.LayerVersionArn, `arn:aws:lambda:us-east-1:${B}:layer:lib:1`, 'B numbers its own layer from 1');
    const listed = await lambdaB.send(new ListLayersCommand({}));
    assert.deepEqual(listed.Layers?.map((layer) => layer.LayerArn), [`arn:aws:lambda:us-east-1:${B}:layer:lib`]);
    // A's function cannot take B's layer until B allows A's account.
    const withLayer = async () => nodeFunction('with-layer', undefined, { Layers: [`arn:aws:lambda:us-east-1:${B}:layer:lib:1`] });
    await rejectsWith(lambdaA.send(new CreateFunctionCommand(await withLayer())), 'InvalidParameterValueException', 400);
    await lambdaB.send(new AddLayerVersionPermissionCommand({ LayerName: 'lib', VersionNumber: 1, StatementId: 'a', Action: 'lambda:GetLayerVersion', Principal: A }));
    const created = await lambdaA.send(new CreateFunctionCommand(await withLayer()));
    assert.deepEqual(created.Layers?.map((layer) => layer.Arn), [`arn:aws:lambda:us-east-1:${B}:layer:lib:1`]);
  });

  it("lets A invoke B's hello once B's policy allows A's account", async () => {
    const arn = `arn:aws:lambda:us-east-1:${B}:function:hello`;
    await lambdaB.send(new AddPermissionCommand({ FunctionName: 'hello', StatementId: 'a', Action: 'lambda:InvokeFunction', Principal: A }));
    const out = await lambdaA.send(new InvokeCommand({ FunctionName: arn, Payload: Buffer.from('{}') }));
    assert.deepEqual(JSON.parse(Buffer.from(out.Payload!).toString()), { who: 'B', name: 'hello' });
    await rejectsWith(lambdaA.send(new GetFunctionCommand({ FunctionName: arn })), 'AccessDeniedException', 403);
  });

  it("deletes B's hello and leaves A's", async () => {
    await lambdaB.send(new DeleteFunctionCommand({ FunctionName: 'hello' }));
    await rejectsWith(lambdaB.send(new GetFunctionCommand({ FunctionName: 'hello' })), 'ResourceNotFoundException', 404);
    const out = await lambdaA.send(new InvokeCommand({ FunctionName: 'hello', Payload: Buffer.from('{}') }));
    assert.deepEqual(JSON.parse(Buffer.from(out.Payload!).toString()), { who: 'A', name: 'hello' });
  });
});
