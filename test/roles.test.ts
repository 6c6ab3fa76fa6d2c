import { CreateFunctionCommand, DeleteFunctionCommand, InvokeCommand, UpdateFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Roles, SessionIssuer } from '../src/identity/index.js';
import { SqliteStore } from '../src/store/index.js';
import { systemClock } from '../src/shared/index.js';
import { kindling } from './support/cli.js';
import { nodeFunction } from './support/functions.js';
import { json, startTestServer, type TestServer } from './support/kindling.js';
import { scratchDir } from './support/scratch.js';
import { FakeClock } from './support/fake-clock.js';

const ACCOUNT = '000000000000';
const POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:*` }],
});

describe('execution roles: policies through the kindling CLI', () => {
  let server: TestServer;
  let env: Record<string, string>;
  let dir: string;

  before(async () => {
    server = await startTestServer();
    env = { KINDLING_ENDPOINT: server.kindling.url };
    dir = scratchDir('roles');
  });
  after(() => server.close());

  it('put-policy, get-policy, ls and rm-policy, in the caller’s account', async () => {
    const file = join(dir, 'policy.json');
    writeFileSync(file, POLICY);
    const put = await kindling(['roles', 'put-policy', `arn:aws:iam::${ACCOUNT}:role/service/caller`, file], env);
    assert.equal(put.code, 0, put.stderr);
    assert.match(put.stdout, /Put policy kindling on role caller/);
    const got = await kindling(['roles', 'get-policy', 'caller'], env);
    assert.equal(got.code, 0, got.stderr);
    assert.deepEqual(JSON.parse(got.stdout), JSON.parse(POLICY));
    const ls = await kindling(['roles', 'ls'], env);
    assert.match(ls.stdout, /caller\s+arn:aws:iam::000000000000:role\/caller\s+kindling/);
    const rm = await kindling(['roles', 'rm-policy', 'caller'], env);
    assert.equal(rm.code, 0, rm.stderr);
    const gone = await kindling(['roles', 'get-policy', 'caller'], env);
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, /NoSuchEntity.*kindling cannot be found for role caller/s);
  });

  it('a malformed policy is refused with IAM’s error and nothing is stored', async () => {
    for (const [document, why] of [
      ['{not json', /Syntax errors/],
      [JSON.stringify({ Statement: [{ Effect: 'Maybe', Action: 'lambda:*', Resource: '*' }] }), /Effect/],
      [JSON.stringify({ Statement: [{ Effect: 'Allow', Resource: '*' }] }), /must contain actions/],
      [JSON.stringify({ Statement: [{ Effect: 'Allow', Action: 'InvokeFunction', Resource: '*' }] }), /prefaced by a vendor/],
      [JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: '*', Action: 'lambda:*', Resource: '*' }] }), /principal/],
    ] as const) {
      const file = join(dir, 'bad.json');
      writeFileSync(file, document);
      const out = await kindling(['roles', 'put-policy', 'broken', file], env);
      assert.notEqual(out.code, 0, document);
      assert.match(out.stderr, /MalformedPolicyDocument/, document);
      assert.match(out.stderr, why, document);
    }
    const ls = await kindling(['roles', 'ls'], env);
    assert.doesNotMatch(ls.stdout, /broken/);
  });

  it('a bad role name is a validation error', async () => {
    const file = join(dir, 'ok.json');
    writeFileSync(file, POLICY);
    const out = await kindling(['roles', 'put-policy', 'no spaces allowed', file], env);
    assert.notEqual(out.code, 0);
    assert.match(out.stderr, /ValidationException/);
  });
});

for (const sandbox of ['process', 'namespace'] as const) describe(`execution roles: credentials in the environment (${sandbox} sandbox)`, () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ sandbox });
  });
  after(() => server.close());

  it('a function sees temporary credentials for its role, and the AWS SDK as Lambda’s Node.js runtime has it', async () => {
    await server.lambda.send(
      new CreateFunctionCommand(
        await nodeFunction(
          'whoami',
          `const { LambdaClient } = require('@aws-sdk/client-lambda');
exports.handler = async () => ({
  keyId: process.env.AWS_ACCESS_KEY_ID,
  secret: (process.env.AWS_SECRET_ACCESS_KEY || '').length,
  token: (process.env.AWS_SESSION_TOKEN || '').length > 0,
  sdk: typeof LambdaClient,
});\n`,
          { Role: `arn:aws:iam::${ACCOUNT}:role/whoami-role` },
        ),
      ),
    );
    const out = json((await server.lambda.send(new InvokeCommand({ FunctionName: 'whoami' }))).Payload) as Record<string, unknown>;
    assert.match(String(out['keyId']), /^ASIA[A-Z2-7]{16}$/);
    assert.equal(out['secret'], 40);
    assert.equal(out['token'], true);
    assert.equal(out['sdk'], 'function');
  });
});

describe('session credentials', () => {
  const dir = scratchDir('sessions');
  const store = new SqliteStore(join(dir, 'kindling.db'));
  const clock = new FakeClock();
  const roles = new Roles({ table: store.rolePolicies, clock });
  const fnArn = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:f`;
  let role: string | undefined = `arn:aws:iam::${ACCOUNT}:role/r`;
  const issuer = new SessionIssuer({ key: Buffer.alloc(32, 7), clock, roles, roleOf: (arn) => (arn === fnArn ? role : undefined) });
  after(() => store.close());

  it('resolve gives the assumed-role caller with the role’s policies, read at each request', async () => {
    const creds = issuer.issue(fnArn, role!, 3600_000)!;
    const none = await issuer.resolve(creds.accessKeyId, creds.sessionToken);
    assert.equal(none?.caller.arn, `arn:aws:sts::${ACCOUNT}:assumed-role/r/f`);
    assert.equal(none?.secretAccessKey, creds.secretAccessKey);
    assert.deepEqual(none?.caller.policies, [], 'a role with no policy may do nothing');
    await roles.putPolicy(ACCOUNT, 'r', 'p', POLICY);
    const some = await issuer.resolve(creds.accessKeyId, creds.sessionToken);
    assert.deepEqual(some?.caller.policies, [JSON.parse(POLICY)]);
    assert.equal(some?.expiresAt, clock.now() + 3600_000);
  });

  it('a tampered token, another key id, no token, or a function that lost its role resolve to nothing', async () => {
    const creds = issuer.issue(fnArn, role!, 3600_000)!;
    const [body, mac] = creds.sessionToken.split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString()) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...claims, r: 'admin' })).toString('base64url');
    assert.equal(await issuer.resolve(creds.accessKeyId, `${forged}.${mac}`), undefined);
    const other = issuer.issue(fnArn, role!, 3600_000)!;
    assert.equal(await issuer.resolve(other.accessKeyId, creds.sessionToken), undefined);
    assert.equal(await issuer.resolve(creds.accessKeyId), undefined);
    const elsewhere = new SessionIssuer({ key: Buffer.alloc(32, 8), clock, roles, roleOf: () => role });
    assert.equal(await elsewhere.resolve(creds.accessKeyId, creds.sessionToken), undefined, 'another key file verifies nothing');
    role = `arn:aws:iam::${ACCOUNT}:role/other`;
    assert.equal(await issuer.resolve(creds.accessKeyId, creds.sessionToken), undefined);
    role = undefined;
    assert.equal(await issuer.resolve(creds.accessKeyId, creds.sessionToken), undefined);
    role = `arn:aws:iam::${ACCOUNT}:role/r`;
    assert.ok(await issuer.resolve(creds.accessKeyId, creds.sessionToken));
  });
});
