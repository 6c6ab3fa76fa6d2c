import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CloudWatchLogsClient, DescribeLogGroupsCommand, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateFunctionCommand, GetFunctionConfigurationCommand, InvokeCommand, ListFunctionsCommand } from '@aws-sdk/client-lambda';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { startTestServer, type TestServer } from './support/kindling.js';
import { nodeFunction, rejectsWith } from './support/functions.js';
import type { CredentialSource, PolicyDocument, PolicyStatement } from '../src/identity/index.js';
import { adminProfile, createKey, signedFetch, signedLambda, type Profile } from './support/auth.js';

const policy = (...statements: PolicyStatement[]): PolicyDocument => ({ Version: '2012-10-17', Statement: statements });

describe('SigV4 authentication (--auth sigv4)', () => {
  let server: TestServer;
  let admin: Profile;

  before(async () => {
    server = await startTestServer({ auth: 'sigv4' });
    admin = adminProfile(server.dataDir);
    await signedLambda(server.kindling.url, admin).send(new CreateFunctionCommand(await nodeFunction('hello')));
  });
  after(() => server.close());

  it('the administrator key written at first start works through the SDK', async () => {
    const { Functions } = await signedLambda(server.kindling.url, admin).send(new ListFunctionsCommand({}));
    assert.deepEqual(Functions?.map((f) => f.FunctionName), ['hello']);
    const out = await signedLambda(server.kindling.url, admin).send(new InvokeCommand({ FunctionName: 'hello', Payload: Buffer.from('{"a":1}') }));
    assert.deepEqual(JSON.parse(Buffer.from(out.Payload!).toString()), { ok: true, event: { a: 1 } });
  });

  it('an unsigned request is MissingAuthenticationTokenException (403, no Type)', async () => {
    const res = await fetch(`${server.kindling.url}/2015-03-31/functions/`);
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('x-amzn-errortype'), 'MissingAuthenticationTokenException');
    assert.deepEqual(await res.json(), { message: 'Missing Authentication Token' });
  });

  it('a wrong secret is InvalidSignatureException, an unknown key UnrecognizedClientException', async () => {
    await rejectsWith(
      signedLambda(server.kindling.url, { ...admin, secretAccessKey: `${admin.secretAccessKey.slice(0, -1)}${admin.secretAccessKey.endsWith('x') ? 'y' : 'x'}` }).send(new ListFunctionsCommand({})),
      'InvalidSignatureException',
      403,
      /^The request signature we calculated does not match the signature you provided\./,
    );
    await rejectsWith(
      signedLambda(server.kindling.url, { accessKeyId: 'AKIAZZZZZZZZZZZZZZZZ', secretAccessKey: admin.secretAccessKey }).send(new ListFunctionsCommand({})),
      'UnrecognizedClientException',
      403,
      /^The security token included in the request is invalid\.$/,
    );
  });

  it('a clock ten minutes off is "Signature expired" / "not yet current"', async () => {
    await rejectsWith(
      signedLambda(server.kindling.url, admin, { systemClockOffset: -10 * 60_000 }).send(new ListFunctionsCommand({})),
      'InvalidSignatureException',
      403,
      /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 5 min\.\)$/,
    );
    await rejectsWith(
      signedLambda(server.kindling.url, admin, { systemClockOffset: 10 * 60_000 }).send(new ListFunctionsCommand({})),
      'InvalidSignatureException',
      403,
      /^Signature not yet current: /,
    );
  });

  it('a body changed after signing is refused; the signed one goes through', async () => {
    const path = '/2015-03-31/functions/hello/invocations';
    const ok = await signedFetch(server.kindling.url, admin, 'POST', path, '{"n":1}');
    assert.equal(ok.status, 200);
    const tampered = await signedFetch(server.kindling.url, admin, 'POST', path, '{"n":1}', 'lambda', () => '{"n":2}');
    assert.equal(tampered.status, 403);
    assert.equal(tampered.headers.get('x-amzn-errortype'), 'InvalidSignatureException');
    const lying = await signedFetch(server.kindling.url, admin, 'POST', path, '{"n":1}', 'lambda', (headers) => {
      headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
      return '{"n":1}';
    });
    assert.equal(lying.status, 403, 'UNSIGNED-PAYLOAD is not taken on a header-signed Lambda request');
  });

  it('a presigned URL works until tampered with or expired', async () => {
    const target = new URL('/2015-03-31/functions/hello/configuration', server.kindling.url);
    const signer = new SignatureV4({ credentials: admin, region: 'us-east-1', service: 'lambda', sha256: Sha256 });
    const presign = (signingDate?: Date) =>
      signer.presign(
        { method: 'GET', protocol: 'http:', hostname: target.hostname, port: Number(target.port), path: target.pathname, query: {}, headers: { host: target.host } },
        { expiresIn: 60, ...(signingDate ? { signingDate } : {}) },
      );
    const url = (q: Record<string, string | string[] | null>) => `${target}?${new URLSearchParams(q as Record<string, string>)}`;
    const good = await presign();
    const res = await fetch(url(good.query ?? {}));
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(((await res.json()) as { FunctionName: string }).FunctionName, 'hello');
    const forged = await fetch(url({ ...(good.query ?? {}), 'X-Amz-Expires': '3600' }));
    assert.equal(forged.status, 403);
    assert.equal(forged.headers.get('x-amzn-errortype'), 'InvalidSignatureException');
    const other = await fetch(url(good.query ?? {}).replace('/hello/', '/other/'));
    assert.equal(other.status, 403);
    const old = await presign(new Date(Date.now() - 120_000));
    const expired = await fetch(url(old.query ?? {}));
    assert.equal(expired.status, 403);
    assert.match(((await expired.json()) as { message: string }).message, /^Signature expired: /);
  });

  it("an invoke-only key invokes, and CreateFunction is AccessDeniedException in Lambda's words", async () => {
    const key = await createKey(server.kindling.url, admin, {
      UserName: 'invoker',
      Policies: [policy({ Effect: 'Allow', Action: 'lambda:Invoke*', Resource: '*' })],
    });
    const lambda = signedLambda(server.kindling.url, key);
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'hello', Payload: Buffer.from('{}') }));
    assert.equal(out.StatusCode, 200);
    await rejectsWith(
      lambda.send(new CreateFunctionCommand(await nodeFunction('sneaky'))),
      'AccessDeniedException',
      403,
      /^User: arn:aws:iam::000000000000:user\/invoker is not authorized to perform: lambda:CreateFunction on resource: arn:aws:lambda:us-east-1:000000000000:function:sneaky because no identity-based policy allows the lambda:CreateFunction action$/,
    );
    await rejectsWith(lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'hello' })), 'AccessDeniedException', 403);
    // Nor may it manage keys.
    const res = await signedFetch(server.kindling.url, key, 'GET', '/kindling/keys', undefined, 'kindling');
    assert.equal(res.status, 403);
  });

  it('an explicit Deny wins over an Allow', async () => {
    const key = await createKey(server.kindling.url, admin, {
      UserName: 'almost',
      Policies: [
        policy({ Effect: 'Allow', Action: 'lambda:*', Resource: '*' }),
        policy({ Effect: 'Deny', Action: 'LAMBDA:invokefunction', Resource: 'arn:aws:lambda:us-east-1:000000000000:function:h?llo*' }),
      ],
    });
    const lambda = signedLambda(server.kindling.url, key);
    await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'hello' }));
    await rejectsWith(
      lambda.send(new InvokeCommand({ FunctionName: 'hello', Qualifier: '$LATEST' })),
      'AccessDeniedException',
      403,
      /on resource: arn:aws:lambda:us-east-1:000000000000:function:hello:\$LATEST with an explicit deny in an identity-based policy$/,
    );
  });

  it("another account's key cannot reach this account's function by its ARN", async () => {
    const key = await createKey(server.kindling.url, admin, { AccountId: '111111111111', Admin: true });
    await rejectsWith(
      signedLambda(server.kindling.url, key).send(new GetFunctionConfigurationCommand({ FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:hello' })),
      'AccessDeniedException',
      403,
      /^User: arn:aws:iam::111111111111:user\/admin is not authorized to perform: lambda:GetFunctionConfiguration on resource: arn:aws:lambda:us-east-1:000000000000:function:hello because no resource-based policy allows/,
    );
  });

  it('a removed key stops working at once', async () => {
    const key = await createKey(server.kindling.url, admin, { UserName: 'brief', Policies: [policy({ Effect: 'Allow', Action: 'lambda:List*', Resource: '*' })] });
    const lambda = signedLambda(server.kindling.url, key);
    await lambda.send(new ListFunctionsCommand({}));
    const res = await signedFetch(server.kindling.url, admin, 'DELETE', `/kindling/keys/${key.AccessKeyId}`, undefined, 'kindling');
    assert.equal(res.status, 204);
    await rejectsWith(lambda.send(new ListFunctionsCommand({})), 'UnrecognizedClientException', 403);
  });
});

describe('session credentials and the Logs API under --auth sigv4', () => {
  let server: TestServer;
  let now = Date.now();
  // A stand-in for the session credentials the lead's roles hand to functions (ASIA keys with a token).
  const session = { accessKeyId: 'ASIAEXAMPLESESSION01', secretAccessKey: 'session-secret-0123456789', sessionToken: 'token-of-the-session' };
  const sessions: CredentialSource = {
    resolve: async (id) =>
      id === session.accessKeyId
        ? {
            secretAccessKey: session.secretAccessKey,
            sessionToken: session.sessionToken,
            expiresAt: now,
            caller: { accountId: '000000000000', arn: 'arn:aws:sts::000000000000:assumed-role/reader/fn', accessKeyId: id, policies: [policy({ Effect: 'Allow', Action: 'lambda:List*', Resource: '*' })] },
          }
        : undefined,
  };

  before(async () => {
    server = await startTestServer({ auth: 'sigv4' }, undefined, { credentialSources: [sessions] });
  });
  after(() => server.close());

  it('a session key works with its token only, and is ExpiredTokenException once expired', async () => {
    now = Date.now() + 600_000;
    await signedLambda(server.kindling.url, session).send(new ListFunctionsCommand({}));
    await rejectsWith(
      signedLambda(server.kindling.url, { ...session, sessionToken: 'someone-elses' }).send(new ListFunctionsCommand({})),
      'UnrecognizedClientException',
      403,
      /^The security token included in the request is invalid\.$/,
    );
    const { sessionToken: _t, ...noToken } = session;
    await rejectsWith(signedLambda(server.kindling.url, noToken).send(new ListFunctionsCommand({})), 'UnrecognizedClientException', 403);
    await rejectsWith(
      signedLambda(server.kindling.url, session).send(new CreateFunctionCommand(await nodeFunction('nope'))),
      'AccessDeniedException',
      403,
      /^User: arn:aws:sts::000000000000:assumed-role\/reader\/fn is not authorized to perform: lambda:CreateFunction/,
    );
    now = Date.now() - 1;
    await rejectsWith(signedLambda(server.kindling.url, session).send(new ListFunctionsCommand({})), 'ExpiredTokenException', 403, /^The security token included in the request is expired$/);
  });

  it('the Logs API answers auth errors its own way (400, __type), and authorizes on the log group', async () => {
    const logs = (credentials: Profile) => new CloudWatchLogsClient({ endpoint: server.kindling.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    const unknown = logs({ accessKeyId: 'AKIAZZZZZZZZZZZZZZZZ', secretAccessKey: 'x' });
    await rejectsWith(unknown.send(new DescribeLogGroupsCommand({})), 'UnrecognizedClientException', 400, /^The security token included in the request is invalid\.$/);
    const unsigned = await fetch(server.kindling.url, { method: 'POST', headers: { 'x-amz-target': 'Logs_20140328.DescribeLogGroups', 'content-type': 'application/x-amz-json-1.1' }, body: '{}' });
    assert.equal(unsigned.status, 400);
    assert.deepEqual(await unsigned.json(), { __type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' });
    const admin = adminProfile(server.dataDir);
    const reader = await createKey(server.kindling.url, admin, {
      UserName: 'log-reader',
      Policies: [policy({ Effect: 'Allow', Action: 'logs:FilterLogEvents', Resource: 'arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/mine:*' })],
    });
    // The group need not exist: being allowed, the call reaches the Logs API, which says so.
    await rejectsWith(logs(reader).send(new FilterLogEventsCommand({ logGroupName: '/aws/lambda/mine' })), 'ResourceNotFoundException', 400);
    await rejectsWith(
      logs(reader).send(new FilterLogEventsCommand({ logGroupName: '/aws/lambda/theirs' })),
      'AccessDeniedException',
      400,
      /^User: arn:aws:iam::000000000000:user\/log-reader is not authorized to perform: logs:FilterLogEvents on resource: arn:aws:logs:us-east-1:000000000000:log-group:\/aws\/lambda\/theirs:\* because no identity-based policy allows the logs:FilterLogEvents action$/,
    );
  });
});
