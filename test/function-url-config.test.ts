import {
  CreateAliasCommand,
  CreateFunctionCommand,
  CreateFunctionUrlConfigCommand,
  DeleteAliasCommand,
  DeleteFunctionCommand,
  DeleteFunctionUrlConfigCommand,
  GetFunctionUrlConfigCommand,
  ListFunctionUrlConfigsCommand,
  PublishVersionCommand,
  UpdateFunctionUrlConfigCommand,
  type CreateFunctionUrlConfigCommandInput,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { serveUsage } from '../src/cli/serve-usage.js';
import { ConfigError, loadConfig } from '../src/config/index.js';
import { urlIdOfHost } from '../src/control-plane/index.js';
import { adminProfile, signedFetch, signedLambda, type Profile } from './support/auth.js';
import { nodeFunction, rejectsWith } from './support/functions.js';
import { startTestServer, testStoreBase, type TestServer } from './support/kindling.js';
import { dropDatabase, ensureDatabase, PostgresCluster, postgresUnavailable, uniqueDatabaseName } from './support/postgres.js';
import { eventuallyAsync } from './support/wait.js';

const URL_SHAPE = /^http:\/\/([a-z0-9]{32})\.lambda-url\.us-east-1\.localhost:\d+\/$/;
const ARN = 'arn:aws:lambda:us-east-1:000000000000:function:';
const NO_RESOURCE = /^The resource you requested does not exist\.$/;
const NO_FUNCTION = /^Function does not exist$/;

function urlIdOf(url: string | undefined): string {
  const match = URL_SHAPE.exec(url ?? '');
  assert.ok(match, `a function URL: ${url}`);
  return match[1]!;
}

describe('FunctionUrlConfig through the AWS SDK', () => {
  let server: TestServer;
  let lambda: LambdaClient;

  before(async () => {
    server = await startTestServer();
    lambda = server.lambda;
    await lambda.send(new CreateFunctionCommand(await nodeFunction('web')));
    const { Version } = await lambda.send(new PublishVersionCommand({ FunctionName: 'web' }));
    await lambda.send(new CreateAliasCommand({ FunctionName: 'web', Name: 'live', FunctionVersion: Version }));
  });
  after(() => server.close());

  it('creates (201, no LastModifiedTime), refuses a second, gets, updates, lists, deletes; the url-id is stable', async () => {
    const created = await lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: 'web', AuthType: 'NONE', Cors: { AllowOrigins: ['https://example.com'], MaxAge: 300 } }));
    assert.equal(created.$metadata.httpStatusCode, 201);
    const id = urlIdOf(created.FunctionUrl);
    assert.equal(created.FunctionArn, `${ARN}web`);
    assert.equal(created.AuthType, 'NONE');
    assert.equal(created.InvokeMode, 'BUFFERED');
    assert.deepEqual(created.Cors, { AllowOrigins: ['https://example.com'], MaxAge: 300 });
    assert.ok(!Number.isNaN(Date.parse(created.CreationTime!)));
    assert.equal((created as { LastModifiedTime?: string }).LastModifiedTime, undefined);

    await rejectsWith(
      lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: 'web', AuthType: 'NONE' })),
      'ResourceConflictException',
      409,
      /^Failed to create function url config for \[functionArn = arn:aws:lambda:us-east-1:000000000000:function:web\]\. Error message: {2}FunctionUrlConfig exists for this Lambda function$/,
    );
    const got = await lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: `${ARN}web` }));
    assert.equal(got.FunctionUrl, created.FunctionUrl);
    assert.equal(got.LastModifiedTime, got.CreationTime);

    // A Cors given replaces the old one whole; what is not named stays.
    const updated = await lambda.send(new UpdateFunctionUrlConfigCommand({ FunctionName: 'web', Cors: { AllowMethods: ['GET', 'POST'] }, InvokeMode: 'RESPONSE_STREAM' }));
    assert.deepEqual(updated.Cors, { AllowMethods: ['GET', 'POST'] });
    assert.equal(updated.InvokeMode, 'RESPONSE_STREAM');
    assert.equal(updated.AuthType, 'NONE');
    assert.equal(updated.FunctionUrl, created.FunctionUrl);
    assert.ok(Date.parse(updated.LastModifiedTime!) >= Date.parse(updated.CreationTime!));

    const alias = await lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: 'web', Qualifier: 'live', AuthType: 'NONE' }));
    assert.equal(alias.FunctionArn, `${ARN}web:live`);
    assert.notEqual(urlIdOf(alias.FunctionUrl), id);
    const all = await lambda.send(new ListFunctionUrlConfigsCommand({ FunctionName: 'web' }));
    assert.deepEqual(all.FunctionUrlConfigs?.map((c) => c.FunctionArn), [`${ARN}web`, `${ARN}web:live`]);
    assert.equal(all.NextMarker, undefined);
    const first = await lambda.send(new ListFunctionUrlConfigsCommand({ FunctionName: 'web', MaxItems: 1 }));
    assert.equal(first.FunctionUrlConfigs?.length, 1);
    const second = await lambda.send(new ListFunctionUrlConfigsCommand({ FunctionName: 'web', MaxItems: 1, Marker: first.NextMarker }));
    assert.deepEqual(second.FunctionUrlConfigs?.map((c) => c.FunctionArn), [`${ARN}web:live`]);
    assert.equal(second.NextMarker, undefined);

    const deleted = await lambda.send(new DeleteFunctionUrlConfigCommand({ FunctionName: 'web' }));
    assert.equal(deleted.$metadata.httpStatusCode, 204);
    await rejectsWith(lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: 'web' })), 'ResourceNotFoundException', 404, NO_RESOURCE);
    const again = await lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: 'web', AuthType: 'NONE' }));
    assert.equal(again.FunctionUrl, created.FunctionUrl, 'the same function and qualifier get the same URL again');
    assert.equal(again.Cors, undefined);
    await lambda.send(new DeleteFunctionUrlConfigCommand({ FunctionName: 'web', Qualifier: 'live' }));
    await lambda.send(new DeleteFunctionUrlConfigCommand({ FunctionName: 'web' }));
  });

  it("resolves a url-id to its function and settings, at once after a change, and a URL goes with its alias and its function", async () => {
    const urls = server.kindling.services.functionUrls;
    await lambda.send(new CreateFunctionCommand(await nodeFunction('gone')));
    await lambda.send(new CreateAliasCommand({ FunctionName: 'gone', Name: 'blue', FunctionVersion: '$LATEST' }));
    const latest = urlIdOf((await lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: 'gone', AuthType: 'NONE' }))).FunctionUrl);
    const blue = urlIdOf((await lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: 'gone:blue', AuthType: 'NONE', InvokeMode: 'RESPONSE_STREAM' }))).FunctionUrl);
    const found = await urls.resolve(blue);
    assert.deepEqual(
      { account: found?.accountId, fn: found?.functionName, q: found?.qualifier, arn: found?.functionArn, auth: found?.authType, mode: found?.invokeMode },
      { account: '000000000000', fn: 'gone', q: 'blue', arn: `${ARN}gone:blue`, auth: 'NONE', mode: 'RESPONSE_STREAM' },
    );
    assert.equal(urlIdOfHost(`${blue}.lambda-url.us-east-1.localhost:9003`, 'us-east-1'), blue);
    assert.equal(urlIdOfHost(`${blue}.lambda-url.eu-west-1.localhost`, 'us-east-1'), undefined, 'another region');
    assert.equal(await urls.resolve('x'.repeat(32)), undefined);
    assert.equal(await urls.resolve('not-an-id'), undefined);

    await lambda.send(new UpdateFunctionUrlConfigCommand({ FunctionName: 'gone', Qualifier: 'blue', InvokeMode: 'BUFFERED' }));
    assert.equal((await urls.resolve(blue))?.invokeMode, 'BUFFERED', 'an update is seen at once');
    await lambda.send(new DeleteAliasCommand({ FunctionName: 'gone', Name: 'blue' }));
    assert.equal(await urls.resolve(blue), undefined, "the alias's URL went with it");
    await rejectsWith(lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: 'gone', Qualifier: 'blue' })), 'ResourceNotFoundException', 404);
    assert.equal((await urls.resolve(latest))?.qualifier, '$LATEST');
    await lambda.send(new DeleteFunctionCommand({ FunctionName: 'gone' }));
    assert.equal(await urls.resolve(latest), undefined, "the function's URL went with it");
    await lambda.send(new CreateFunctionCommand(await nodeFunction('gone')));
    assert.deepEqual((await lambda.send(new ListFunctionUrlConfigsCommand({ FunctionName: 'gone' }))).FunctionUrlConfigs, [], 'a function made again has none');
    // The port in FunctionUrl is the one the URL server bound (--url-port 0 picks it at start).
    urls.setPort(4567);
    assert.equal(urls.urlOf(blue), `http://${blue}.lambda-url.us-east-1.localhost:4567/`);
  });

  it('answers bad input with Lambda’s error and status, and writes nothing', async () => {
    const create = (input: Partial<CreateFunctionUrlConfigCommandInput>) =>
      lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: 'web', AuthType: 'NONE', ...input } as CreateFunctionUrlConfigCommandInput));
    const invalid = [
      [{ AuthType: undefined }, /Value null at 'authType' failed to satisfy constraint: Member must not be null/],
      [{ AuthType: 'BASIC' }, /Value 'BASIC' at 'authType' failed to satisfy constraint: Member must satisfy enum value set: \[NONE, AWS_IAM\]/],
      [{ InvokeMode: 'FAST' }, /at 'invokeMode' failed to satisfy constraint: Member must satisfy enum value set: \[BUFFERED, RESPONSE_STREAM\]/],
      [{ Cors: { MaxAge: 86_401 } }, /at 'cors.maxAge' failed to satisfy constraint: Member must have value less than or equal to 86400/],
      [{ Cors: { MaxAge: -1 } }, /at 'cors.maxAge' failed to satisfy constraint: Member must have value greater than or equal to 0/],
      [{ Cors: { AllowMethods: ['GET', 'PUT', 'POST', 'HEAD', 'PATCH', 'DELETE', 'OPTIONS'] } }, /at 'cors.allowMethods' .*less than or equal to 6/],
      [{ Cors: { AllowMethods: ['CONNECTX'] } }, /at 'cors.allowMethods' .*less than or equal to 6/],
      [{ Cors: { AllowOrigins: Array.from({ length: 101 }, (_, i) => `https://${i}.example`) } }, /at 'cors.allowOrigins' .*less than or equal to 100/],
      [{ Cors: { AllowOrigins: [''] } }, /at 'cors.allowOrigins' .*greater than or equal to 1/],
      [{ Cors: { AllowOrigins: [`https://${'a'.repeat(250)}`] } }, /at 'cors.allowOrigins' .*less than or equal to 253/],
      [{ Cors: { AllowHeaders: Array.from({ length: 101 }, (_, i) => `x-h${i}`) } }, /at 'cors.allowHeaders' .*less than or equal to 100/],
      [{ Cors: { ExposeHeaders: ['x'.repeat(1025)] } }, /at 'cors.exposeHeaders' .*less than or equal to 1024/],
      [{ Qualifier: '1' }, /Value '1' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern/],
    ] as const;
    for (const [input, message] of invalid) {
      await rejectsWith(create(input as Partial<CreateFunctionUrlConfigCommandInput>), 'ValidationException', 400, message);
    }
    await rejectsWith(create({ AuthType: 'AWS_IAM' }), 'InvalidParameterValueException', 400, /--auth sigv4/);
    await rejectsWith(create({ FunctionName: 'web:live', Qualifier: 'other' }), 'InvalidParameterValueException', 400, /does not match the specified qualifier/);
    await rejectsWith(create({ FunctionName: 'nope' }), 'ResourceNotFoundException', 404, NO_FUNCTION);
    await rejectsWith(create({ Qualifier: 'nope' }), 'ResourceNotFoundException', 404, NO_FUNCTION);
    // None of it wrote a URL.
    assert.deepEqual((await lambda.send(new ListFunctionUrlConfigsCommand({ FunctionName: 'web' }))).FunctionUrlConfigs, []);

    await rejectsWith(lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: 'web' })), 'ResourceNotFoundException', 404, NO_RESOURCE);
    await rejectsWith(lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: 'nope' })), 'ResourceNotFoundException', 404, NO_RESOURCE);
    await rejectsWith(lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: 'web', Qualifier: '3' })), 'ValidationException', 400);
    await rejectsWith(lambda.send(new UpdateFunctionUrlConfigCommand({ FunctionName: 'web', AuthType: 'NONE' })), 'ResourceNotFoundException', 404, NO_RESOURCE);
    await rejectsWith(lambda.send(new UpdateFunctionUrlConfigCommand({ FunctionName: 'nope', AuthType: 'NONE' })), 'ResourceNotFoundException', 404, NO_FUNCTION);
    await rejectsWith(lambda.send(new DeleteFunctionUrlConfigCommand({ FunctionName: 'web', Qualifier: 'live' })), 'ResourceNotFoundException', 404, NO_RESOURCE);
    await rejectsWith(lambda.send(new ListFunctionUrlConfigsCommand({ FunctionName: 'nope' })), 'ResourceNotFoundException', 404, NO_FUNCTION);
    await rejectsWith(lambda.send(new ListFunctionUrlConfigsCommand({ FunctionName: 'web', MaxItems: 51 })), 'ValidationException', 400);

    // An update refused leaves the URL as it was.
    await create({ Cors: { AllowOrigins: ['*'] } });
    await rejectsWith(lambda.send(new UpdateFunctionUrlConfigCommand({ FunctionName: 'web', AuthType: 'NONE', Cors: { MaxAge: 90_000 } })), 'ValidationException', 400);
    assert.deepEqual((await lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: 'web' }))).Cors, { AllowOrigins: ['*'] });
    await lambda.send(new DeleteFunctionUrlConfigCommand({ FunctionName: 'web' }));
  });
});

describe('function URLs across a restart', () => {
  it('keeps each URL, at the same url-id, and a server on the same data directory resolves it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kindling-url-restart-'));
    let server = await startTestServer({}, dir);
    try {
      await server.lambda.send(new CreateFunctionCommand(await nodeFunction('kept')));
      const created = await server.lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: 'kept', AuthType: 'NONE', Cors: { AllowOrigins: ['*'] } }));
      await server.close();
      server = await startTestServer({}, dir);
      const got = await server.lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: 'kept' }));
      // The same url-id (the port is the URL server's, which a test server picks anew).
      const urlId = urlIdOf(created.FunctionUrl);
      assert.deepEqual([urlIdOf(got.FunctionUrl), got.Cors, got.CreationTime], [urlId, created.Cors, created.CreationTime]);
      assert.equal((await server.kindling.services.functionUrls.resolve(urlId))?.functionName, 'kept');
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('function URLs on two servers sharing PostgreSQL (fleet api nodes)', { skip: postgresUnavailable() || false }, () => {
  it('derive the same url-ids from the shared key file, and each sees the other’s writes', async () => {
    const own = testStoreBase() === undefined ? await PostgresCluster.start() : undefined;
    const base = testStoreBase() ?? own!.baseUrl;
    const name = uniqueDatabaseName('kindling_urls');
    const dir = mkdtempSync(join(tmpdir(), 'kindling-url-fleet-'));
    const shared = { store: await ensureDatabase(base, name), keyFile: join(dir, 'kindling.key') };
    const servers: TestServer[] = [];
    try {
      servers.push(await startTestServer(shared), await startTestServer(shared));
      const [a, b] = servers as [TestServer, TestServer];
      await a.lambda.send(new CreateFunctionCommand(await nodeFunction('shared')));
      const created = await a.lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: 'shared', AuthType: 'NONE' }));
      const urlId = urlIdOf(created.FunctionUrl);
      const onB = await eventuallyAsync(() => b.kindling.services.functionUrls.resolve(urlId), (url) => url !== undefined, 'B finds the URL A made');
      assert.equal(onB?.functionName, 'shared');
      assert.equal(urlIdOf((await b.lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: 'shared' }))).FunctionUrl), urlId);
      await a.lambda.send(new UpdateFunctionUrlConfigCommand({ FunctionName: 'shared', InvokeMode: 'RESPONSE_STREAM' }));
      await eventuallyAsync(() => b.kindling.services.functionUrls.resolve(urlId), (url) => url?.invokeMode === 'RESPONSE_STREAM', "B sees A's update");
      await b.lambda.send(new DeleteFunctionCommand({ FunctionName: 'shared' }));
      await eventuallyAsync(() => a.kindling.services.functionUrls.resolve(urlId), (url) => url === undefined, 'A finds the URL gone with the function B deleted');
    } finally {
      for (const server of servers) await server.close();
      await dropDatabase(base, name);
      await own?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const AWS = '/usr/bin/aws';

describe('FunctionUrlConfig through the AWS CLI', { skip: existsSync(AWS) ? false : `${AWS} is not installed` }, () => {
  let server: TestServer;
  let home: string;
  const aws = async (...args: string[]) => {
    const { stdout } = await promisify(execFile)(AWS, ['--endpoint-url', server.kindling.url, '--output', 'json', 'lambda', ...args], {
      env: { PATH: process.env['PATH'] ?? '', HOME: home, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_DEFAULT_REGION: 'us-east-1', AWS_PAGER: '' },
    });
    return stdout.trim() === '' ? {} : (JSON.parse(stdout) as Record<string, any>);
  };

  before(async () => {
    server = await startTestServer({ urlDomain: 'fn.example.com' });
    home = mkdtempSync(join(tmpdir(), 'kindling-awscli-url-'));
    await server.lambda.send(new CreateFunctionCommand(await nodeFunction('cli-web')));
  });
  after(async () => {
    await server.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('creates, gets, updates, lists and deletes a URL; with --url-domain it is https on that domain', async () => {
    const created = await aws('create-function-url-config', '--function-name', 'cli-web', '--auth-type', 'NONE', '--cors', '{"AllowOrigins":["*"],"AllowCredentials":true}');
    assert.match(String(created['FunctionUrl']), /^https:\/\/[a-z0-9]{32}\.lambda-url\.us-east-1\.fn\.example\.com\/$/);
    assert.deepEqual(created['Cors'], { AllowOrigins: ['*'], AllowCredentials: true });
    const got = await aws('get-function-url-config', '--function-name', 'cli-web');
    assert.equal(got['FunctionUrl'], created['FunctionUrl']);
    const updated = await aws('update-function-url-config', '--function-name', 'cli-web', '--cors', '{"MaxAge":600}');
    assert.deepEqual(updated['Cors'], { MaxAge: 600 });
    const listed = await aws('list-function-url-configs', '--function-name', 'cli-web');
    assert.deepEqual((listed['FunctionUrlConfigs'] as { FunctionUrl: string }[]).map((c) => c.FunctionUrl), [created['FunctionUrl']]);
    await assert.rejects(aws('create-function-url-config', '--function-name', 'cli-web', '--auth-type', 'NONE'), /ResourceConflictException/);
    await aws('delete-function-url-config', '--function-name', 'cli-web');
    await assert.rejects(aws('get-function-url-config', '--function-name', 'cli-web'), /ResourceNotFoundException/);
  });
});

describe('FunctionUrlConfig between accounts and keys (--auth sigv4)', () => {
  const B = '111111111111';
  let server: TestServer;
  let lambdaA: LambdaClient;
  let lambdaB: LambdaClient;
  let admin: Profile;

  const newKey = async (body: Record<string, unknown>): Promise<Profile> => {
    const res = await signedFetch(server.kindling.url, admin, 'POST', '/kindling/keys', JSON.stringify(body), 'kindling');
    assert.equal(res.status, 201, await res.clone().text());
    const created = (await res.json()) as { AccessKeyId: string; SecretAccessKey: string };
    return { accessKeyId: created.AccessKeyId, secretAccessKey: created.SecretAccessKey };
  };

  before(async () => {
    server = await startTestServer({ auth: 'sigv4' });
    admin = adminProfile(server.dataDir);
    lambdaA = signedLambda(server.kindling.url, admin);
    lambdaB = signedLambda(server.kindling.url, await newKey({ AccountId: B, Admin: true }));
    await lambdaA.send(new CreateFunctionCommand(await nodeFunction('hello')));
    await lambdaB.send(new CreateFunctionCommand(await nodeFunction('hello')));
  });
  after(async () => {
    lambdaA.destroy();
    lambdaB.destroy();
    await server.close();
  });

  it("each account has its own URL for its own hello; neither sees nor changes the other's", async () => {
    const ofA = await lambdaA.send(new CreateFunctionUrlConfigCommand({ FunctionName: 'hello', AuthType: 'AWS_IAM' }));
    assert.equal(ofA.AuthType, 'AWS_IAM', 'AWS_IAM is accepted where signatures are checked');
    const arnA = `arn:aws:lambda:us-east-1:000000000000:function:hello`;
    await rejectsWith(lambdaB.send(new GetFunctionUrlConfigCommand({ FunctionName: arnA })), 'AccessDeniedException', 403);
    await rejectsWith(lambdaB.send(new UpdateFunctionUrlConfigCommand({ FunctionName: arnA, AuthType: 'NONE' })), 'AccessDeniedException', 403);
    await rejectsWith(lambdaB.send(new DeleteFunctionUrlConfigCommand({ FunctionName: arnA })), 'AccessDeniedException', 403);
    await rejectsWith(lambdaB.send(new ListFunctionUrlConfigsCommand({ FunctionName: arnA })), 'AccessDeniedException', 403);
    await rejectsWith(lambdaB.send(new CreateFunctionUrlConfigCommand({ FunctionName: `${arnA}:other`, AuthType: 'NONE' })), 'AccessDeniedException', 403);
    // By name, B reaches only its own hello, which has no URL yet.
    await rejectsWith(lambdaB.send(new GetFunctionUrlConfigCommand({ FunctionName: 'hello' })), 'ResourceNotFoundException', 404);
    // A key spelled as a name is no way around it.
    await rejectsWith(lambdaB.send(new GetFunctionUrlConfigCommand({ FunctionName: '000000000000:hello' })), 'ResourceNotFoundException', 404);
    await rejectsWith(lambdaB.send(new GetFunctionUrlConfigCommand({ FunctionName: '000000000000:function:hello' })), 'AccessDeniedException', 403);
    const ofB = await lambdaB.send(new CreateFunctionUrlConfigCommand({ FunctionName: 'hello', AuthType: 'NONE' }));
    assert.equal(ofB.FunctionArn, `arn:aws:lambda:us-east-1:${B}:function:hello`);
    assert.notEqual(ofB.FunctionUrl, ofA.FunctionUrl);
    const resolved = await server.kindling.services.functionUrls.resolve(new URL(ofB.FunctionUrl!).hostname.split('.')[0]!);
    assert.equal(resolved?.accountId, B);
    assert.equal((await lambdaA.send(new GetFunctionUrlConfigCommand({ FunctionName: 'hello' }))).AuthType, 'AWS_IAM', "A's URL is as it was");
  });

  it('an invoke-only key cannot create, change or read a URL config', async () => {
    const invoker = signedLambda(server.kindling.url, await newKey({ UserName: 'invoker', Policies: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'lambda:Invoke*', Resource: '*' }] }] }));
    try {
      await rejectsWith(
        invoker.send(new CreateFunctionUrlConfigCommand({ FunctionName: 'hello', AuthType: 'NONE' })),
        'AccessDeniedException',
        403,
        /is not authorized to perform: lambda:CreateFunctionUrlConfig on resource: arn:aws:lambda:us-east-1:000000000000:function:hello/,
      );
      await rejectsWith(invoker.send(new UpdateFunctionUrlConfigCommand({ FunctionName: 'hello', AuthType: 'NONE' })), 'AccessDeniedException', 403);
      await rejectsWith(invoker.send(new DeleteFunctionUrlConfigCommand({ FunctionName: 'hello' })), 'AccessDeniedException', 403);
      await rejectsWith(invoker.send(new GetFunctionUrlConfigCommand({ FunctionName: 'hello' })), 'AccessDeniedException', 403);
    } finally {
      invoker.destroy();
    }
  });
});

describe('function URL settings (--url-port, --url-domain)', () => {
  it('reads the flags and their variables, with 9003 and localhost by default', () => {
    assert.equal(loadConfig([]).urlPort, 9003);
    assert.equal(loadConfig([]).urlDomain, undefined);
    assert.equal(loadConfig(['--url-port', '0']).urlPort, 0);
    assert.equal(loadConfig([], { KINDLING_URL_PORT: '9100', KINDLING_URL_DOMAIN: 'fn.example.com' }).urlPort, 9100);
    assert.equal(loadConfig(['--url-domain', 'a.example'], { KINDLING_URL_DOMAIN: 'b.example' }).urlDomain, 'a.example');
    for (const bad of [['--url-port', '70000'], ['--url-port', 'x'], ['--url-domain', 'Not A Domain'], ['--url-domain', 'https://x.example']]) {
      assert.throws(() => loadConfig(bad), ConfigError, bad.join(' '));
    }
    assert.match(serveUsage(), /--url-port <port> .*KINDLING_URL_PORT/);
    assert.match(serveUsage(), /--url-domain <domain> .*KINDLING_URL_DOMAIN/);
  });
});
