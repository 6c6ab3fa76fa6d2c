import { AddPermissionCommand, CreateFunctionCommand, CreateFunctionUrlConfigCommand, waitUntilFunctionActiveV2 } from '@aws-sdk/client-lambda';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { nodeFunction } from './support/functions.js';
import { adminProfile, createKey, localFetch, signedFetch, type Profile } from './support/auth.js';
import { startTestServer, type TestServer } from './support/kindling.js';

const ECHO = `exports.handler = async (event) => ({ statusCode: 200, body: JSON.stringify({ iam: event.requestContext.authorizer?.iam ?? null, body: event.body ?? null }) });\n`;

describe('function URLs with AuthType AWS_IAM (--auth sigv4)', () => {
  let server: TestServer;
  let admin: Profile;
  let url: string;

  before(async () => {
    server = await startTestServer({ auth: 'sigv4' });
    admin = adminProfile(server.dataDir);
    await server.lambda.send(new CreateFunctionCommand(await nodeFunction('private', ECHO)));
    await waitUntilFunctionActiveV2({ client: server.lambda, maxWaitTime: 30 }, { FunctionName: 'private' });
    url = (await server.lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: 'private', AuthType: 'AWS_IAM' }))).FunctionUrl!;
  });
  after(() => server.close());

  const call = (key: Profile, body = '{"n":1}') => signedFetch(url, key, 'POST', '/path?q=1', body);

  it('runs a request signed by a key allowed lambda:InvokeFunctionUrl, and tells the function who called', async () => {
    const res = await call(admin);
    assert.equal(res.status, 200, await res.clone().text());
    const seen = (await res.json()) as { iam: Record<string, string>; body: string };
    assert.equal(seen.body, '{"n":1}');
    assert.equal(seen.iam['accessKey'], admin.accessKeyId);
    assert.equal(seen.iam['accountId'], '000000000000');
    assert.match(seen.iam['userArn']!, /^arn:aws:iam::000000000000:/);
  });

  it('refuses unsigned, tampered and wrongly signed requests with 403 before the function runs', async () => {
    const unsigned = await localFetch(url, { method: 'POST', body: '{}' });
    assert.equal(unsigned.status, 403);
    assert.ok(((await unsigned.json()) as { Message: string }).Message);
    const tampered = await signedFetch(url, admin, 'POST', '/path', '{"n":1}', 'lambda', () => '{"n":2}');
    assert.equal(tampered.status, 403);
    const wrongSecret = await call({ ...admin, secretAccessKey: 'not-the-secret' });
    assert.equal(wrongSecret.status, 403);
    assert.equal(wrongSecret.headers.get('x-amzn-errortype'), 'InvalidSignatureException');
  });

  it('refuses a key whose policies allow Invoke but not InvokeFunctionUrl', async () => {
    const invoker = await createKey(server.kindling.url, admin, {
      UserName: 'invoker',
      Policies: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: '*' }] }],
    });
    const refused = await call(invoker);
    assert.equal(refused.status, 403);
    assert.equal(refused.headers.get('x-amzn-errortype'), 'AccessDeniedException');
    const urlUser = await createKey(server.kindling.url, admin, {
      UserName: 'url-user',
      Policies: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'lambda:InvokeFunctionUrl', Resource: 'arn:aws:lambda:us-east-1:000000000000:function:private' }] }],
    });
    assert.equal((await call(urlUser)).status, 200);
  });

  it('refuses another account’s key until the function’s resource policy allows that account', async () => {
    const stranger = await createKey(server.kindling.url, admin, { AccountId: '111111111111', Admin: true });
    assert.equal((await call(stranger)).status, 403);
    await server.lambda.send(new AddPermissionCommand({ FunctionName: 'private', StatementId: 'url', Action: 'lambda:InvokeFunctionUrl', Principal: '111111111111', FunctionUrlAuthType: 'AWS_IAM' }));
    const allowed = await call(stranger);
    assert.equal(allowed.status, 200, await allowed.clone().text());
    assert.equal(((await allowed.json()) as { iam: { accountId: string } }).iam.accountId, '111111111111');
  });
});
