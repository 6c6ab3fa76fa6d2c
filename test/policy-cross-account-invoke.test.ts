import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AddPermissionCommand, CreateFunctionCommand, InvokeCommand, RemovePermissionCommand, waitUntilFunctionActiveV2 } from '@aws-sdk/client-lambda';
import { startTestServer, type TestServer } from './support/kindling.js';
import { nodeFunction, rejectsWith } from './support/functions.js';
import { adminProfile, signedFetch, signedLambda, type Profile } from './support/auth.js';

const ARN = 'arn:aws:lambda:us-east-1:000000000000:function:shared';

describe('cross-account invoke through a resource policy', () => {
  let server: TestServer;
  let admin: Profile;
  let other: Profile;

  before(async () => {
    server = await startTestServer({ auth: 'sigv4' });
    admin = adminProfile(server.dataDir);
    const lambda = signedLambda(server.kindling.url, admin);
    await lambda.send(new CreateFunctionCommand(await nodeFunction('shared')));
    await waitUntilFunctionActiveV2({ client: lambda, maxWaitTime: 30 }, { FunctionName: 'shared' });
    const res = await signedFetch(server.kindling.url, admin, 'POST', '/kindling/keys', JSON.stringify({ AccountId: '111111111111', Admin: true }), 'kindling');
    assert.equal(res.status, 201, await res.clone().text());
    const key = (await res.json()) as { AccessKeyId: string; SecretAccessKey: string };
    other = { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey } as Profile;
  });
  after(() => server.close());

  it('is refused, allowed after AddPermission, refused again after RemovePermission', async () => {
    const invoke = () => signedLambda(server.kindling.url, other).send(new InvokeCommand({ FunctionName: ARN, Payload: Buffer.from('{"x":1}') }));
    await rejectsWith(invoke(), 'AccessDeniedException', 403);
    const owner = signedLambda(server.kindling.url, admin);
    await owner.send(new AddPermissionCommand({ FunctionName: 'shared', StatementId: 'other', Action: 'lambda:InvokeFunction', Principal: '111111111111' }));
    const out = await invoke();
    assert.deepEqual(JSON.parse(Buffer.from(out.Payload!).toString()), { ok: true, event: { x: 1 } });
    await owner.send(new RemovePermissionCommand({ FunctionName: 'shared', StatementId: 'other' }));
    await rejectsWith(invoke(), 'AccessDeniedException', 403);
  });
});
