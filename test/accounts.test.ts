import { CloudWatchLogsClient, DescribeLogGroupsCommand, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateFunctionCommand, GetFunctionCommand, InvokeCommand, ListFunctionsCommand, ListLayersCommand, PublishLayerVersionCommand } from '@aws-sdk/client-lambda';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { zipFiles } from '../src/code/index.js';
import { toConfiguration } from '../src/control-plane/index.js';
import { ConcurrencyLimiter } from '../src/invoke/index.js';
import type { KindlingServices } from '../src/app.js';
import { json, ROLE, startTestServer, type TestServer } from './support/kindling.js';
import { eventuallyAsync } from './support/wait.js';

/**
 * Two accounts on one server. The API authenticates only the default account under `--auth none`,
 * so account B acts through the services the API calls (the same objects, with B's account as the
 * caller's), and the default account through the real API with the AWS SDK.
 */
const A = '000000000000';
const B = '111122223333';
const PARTITION = { region: 'us-east-1', accountId: A };

/** A function that says whose it is, logs it, and reports the name Lambda's variables give it. */
function zipOf(who: string): Promise<Buffer> {
  const code = `exports.handler = async () => { console.log('line-from-${who}'); return { who: '${who}', name: process.env.AWS_LAMBDA_FUNCTION_NAME, group: process.env.AWS_LAMBDA_LOG_GROUP_NAME }; };\n`;
  return zipFiles({ 'index.js': code });
}

/** CreateFunction's body as the API hands it to the registry. */
async function body(who: string): Promise<Record<string, unknown>> {
  return { FunctionName: 'hello', Runtime: 'nodejs20.x', Handler: 'index.handler', Role: ROLE, Code: { ZipFile: (await zipOf(who)).toString('base64') } };
}

async function invokeAs(services: KindlingServices, account: string, functionName: string, type?: string): Promise<unknown> {
  const out = await services.invoker.invoke({ functionName, account, payload: Buffer.from('{}'), ...(type ? { invocationType: type } : {}) });
  return json(out.payload);
}

describe('accounts: resources belong to the account that created them', () => {
  let server: TestServer;
  let services: KindlingServices;
  let logs: CloudWatchLogsClient;
  before(async () => {
    server = await startTestServer();
    services = server.kindling.services;
    logs = new CloudWatchLogsClient({ endpoint: server.kindling.url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
    await server.lambda.send(
      new CreateFunctionCommand({ FunctionName: 'hello', Runtime: 'nodejs20.x', Handler: 'index.handler', Role: ROLE, Code: { ZipFile: await zipOf('A') } }),
    );
    const created = await services.registry.create(await body('B'), B);
    await services.registry.settled(created.name);
    await services.registry.settled('hello');
  });
  after(async () => {
    logs.destroy();
    await server.close();
  });

  it('lets two accounts each have a function of the same name, each listing only its own', async () => {
    const listed = await server.lambda.send(new ListFunctionsCommand({}));
    assert.deepEqual(
      listed.Functions?.map((fn) => fn.FunctionArn),
      [`arn:aws:lambda:us-east-1:${A}:function:hello`],
    );
    const ofB = services.registry.list(B).map((fn) => toConfiguration(PARTITION, fn, { listing: true }));
    assert.deepEqual(
      ofB.map((fn) => [fn['FunctionName'], fn['FunctionArn']]),
      [['hello', `arn:aws:lambda:us-east-1:${B}:function:hello`]],
    );
    const got = toConfiguration(PARTITION, services.registry.get('hello', B));
    assert.equal(got['FunctionName'], 'hello');
    assert.equal(got['FunctionArn'], `arn:aws:lambda:us-east-1:${B}:function:hello`);
    assert.deepEqual(got['LoggingConfig'], { LogFormat: 'Text', LogGroup: '/aws/lambda/hello' });
  });

  it('invokes each account its own function, which sees its bare name', async () => {
    const viaApi = await server.lambda.send(new InvokeCommand({ FunctionName: 'hello', Payload: Buffer.from('{}') }));
    assert.deepEqual(json(viaApi.Payload), { who: 'A', name: 'hello', group: '/aws/lambda/hello' });
    assert.deepEqual(await invokeAs(services, B, 'hello'), { who: 'B', name: 'hello', group: '/aws/lambda/hello' });
    assert.deepEqual(await invokeAs(services, A, 'hello'), { who: 'A', name: 'hello', group: '/aws/lambda/hello' });
  });

  it('reaches another account\'s function by its ARN (full or partial), never by a bare name', async () => {
    // Whether the caller may is the authorizer's decision, before the handler; here only the lookup.
    assert.deepEqual(await invokeAs(services, A, `arn:aws:lambda:us-east-1:${B}:function:hello`), { who: 'B', name: 'hello', group: '/aws/lambda/hello' });
    assert.deepEqual(await invokeAs(services, B, `${A}:function:hello`), { who: 'A', name: 'hello', group: '/aws/lambda/hello' });
    const viaApi = await server.lambda.send(new GetFunctionCommand({ FunctionName: `arn:aws:lambda:us-east-1:${B}:function:hello` }));
    assert.equal(viaApi.Configuration?.FunctionArn, `arn:aws:lambda:us-east-1:${B}:function:hello`);
    // A key is no reference: `<account>:hello` reads as the function `<account>` with qualifier `hello`.
    await assert.rejects(invokeAs(services, A, `${B}:hello`), { name: 'ResourceNotFoundException' });
    await assert.rejects(server.lambda.send(new GetFunctionCommand({ FunctionName: `${B}:hello` })), { name: 'ResourceNotFoundException' });
  });

  it('publishes versions and aliases in the function\'s own account', async () => {
    const published = await services.versions.publish('hello', {}, B);
    assert.equal(toConfiguration(PARTITION, published)['FunctionArn'], `arn:aws:lambda:us-east-1:${B}:function:hello:1`);
    const alias = await services.aliases.create('hello', { Name: 'live', FunctionVersion: '1' }, B);
    assert.equal(services.aliases.toShape(alias)['AliasArn'], `arn:aws:lambda:us-east-1:${B}:function:hello:live`);
    assert.deepEqual((await invokeAs(services, B, 'hello:live')) as object, { who: 'B', name: 'hello', group: '/aws/lambda/hello' });
    assert.deepEqual(services.versions.list('hello', B).map((fn) => fn.version ?? '$LATEST'), ['$LATEST', '1']);
    // The default account's hello has neither.
    assert.deepEqual(services.versions.list('hello').map((fn) => fn.version ?? '$LATEST'), ['$LATEST']);
    await assert.rejects(server.lambda.send(new InvokeCommand({ FunctionName: 'hello', Qualifier: 'live' })), { name: 'ResourceNotFoundException' });
  });

  it('creates only in the caller\'s own account', async () => {
    await assert.rejects(services.registry.create({ ...(await body('B')), FunctionName: `arn:aws:lambda:us-east-1:${A}:function:planted` }, B), {
      name: 'InvalidParameterValueException',
    });
    assert.equal(services.registry.find('planted'), undefined);
    assert.deepEqual(services.registry.list(A).map((fn) => fn.name), ['hello']);
  });

  it('keeps each account\'s logs in its own /aws/lambda/hello', async () => {
    const linesOf = async (account: string) => {
      const out = await services.logQuery.filterLogEvents({ logGroupName: '/aws/lambda/hello' }, account);
      return out.events.map((event) => event.message.trim()).filter((line) => line.includes('line-from-'));
    };
    const ofB = await eventuallyAsync(() => linesOf(B), (lines) => lines.some((line) => line.endsWith('line-from-B')), "B's lines are stored");
    assert.ok(ofB.every((line) => line.endsWith('line-from-B')), ofB.join('\n'));
    const viaApi = await eventuallyAsync(
      () => logs.send(new FilterLogEventsCommand({ logGroupName: '/aws/lambda/hello' })),
      (out) => (out.events ?? []).some((event) => event.message?.includes('line-from-A')),
      "A's lines are stored",
    );
    assert.ok(!(viaApi.events ?? []).some((event) => event.message?.includes('line-from-B')));
    const groupsOfB = await services.logQuery.describeLogGroups({}, B);
    assert.deepEqual(
      groupsOfB.logGroups.map((group) => [group.logGroupName, group.logGroupArn]),
      [['/aws/lambda/hello', `arn:aws:logs:us-east-1:${B}:log-group:/aws/lambda/hello`]],
    );
    const groupsOfA = await logs.send(new DescribeLogGroupsCommand({}));
    assert.deepEqual(groupsOfA.logGroups?.map((group) => group.logGroupArn), [`arn:aws:logs:us-east-1:${A}:log-group:/aws/lambda/hello`]);
  });

  it('refuses every way of naming another account\'s log group from the wrong side', async () => {
    // How B's group is kept is no name anyone can ask for: a colon is in no group's name.
    for (const name of [`${B}:/aws/lambda/hello`, `arn:aws:logs:us-east-1:${B}:log-group:/aws/lambda/hello`]) {
      const member = name.startsWith('arn:') ? 'logGroupIdentifier' : 'logGroupName';
      await assert.rejects(logs.send(new FilterLogEventsCommand({ [member]: name })), { name: 'ResourceNotFoundException' });
      await assert.rejects(services.logQuery.getLogEvents({ [member]: name, logStreamName: 'x' }, A), { name: 'ResourceNotFoundException' });
    }
    await assert.rejects(services.logQuery.describeLogStreams({ logGroupName: `${A}:/aws/lambda/hello` }, B), { name: 'ResourceNotFoundException' });
    const prefixed = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: `${B}:` }));
    assert.deepEqual(prefixed.logGroups, []);
  });

  it('runs queued events of each account\'s function as that account\'s', async () => {
    const lines = () => services.logQuery.filterLogEvents({ logGroupName: '/aws/lambda/hello', filterPattern: '"line-from"' }, B);
    const before = (await lines()).events.length;
    await invokeAs(services, B, 'hello', 'Event');
    const ofB = await eventuallyAsync(
      lines,
      (out) => out.events.length > before,
      'the queued event ran B\'s function',
    );
    assert.ok(ofB.events.every((event) => event.message.includes('line-from-B')));
  });

  it('keeps layers apart: same name in both, each lists its own, no one uses another\'s without its policy', async () => {
    const content = { ZipFile: await zipFiles({ 'lib/x.js': 'module.exports = 1;\n' }) };
    const ofA = await server.lambda.send(new PublishLayerVersionCommand({ LayerName: 'lib', Content: content }));
    const ofB = await services.layers.publish('lib', { Content: { ZipFile: content.ZipFile.toString('base64') } }, B);
    assert.equal(ofA.LayerVersionArn, `arn:aws:lambda:us-east-1:${A}:layer:lib:1`);
    assert.equal(services.layers.versionArn(ofB.layerName, ofB.version), `arn:aws:lambda:us-east-1:${B}:layer:lib:1`);
    const listedA = await server.lambda.send(new ListLayersCommand({}));
    assert.deepEqual(listedA.Layers?.map((layer) => layer.LayerArn), [`arn:aws:lambda:us-east-1:${A}:layer:lib`]);
    const listedB = (await services.layers.listLayers({ compatibleRuntime: null, compatibleArchitecture: null, marker: null, maxItems: null }, B)) as { Layers: { LayerName: string; LayerArn: string }[] };
    assert.deepEqual(listedB.Layers.map((layer) => [layer.LayerName, layer.LayerArn]), [['lib', `arn:aws:lambda:us-east-1:${B}:layer:lib`]]);
    // B's function may use B's layer, not A's (A's layer has no policy letting B in).
    assert.equal((await services.layers.resolve([`arn:aws:lambda:us-east-1:${B}:layer:lib:1`], B)).length, 1);
    await assert.rejects(services.layers.resolve([`arn:aws:lambda:us-east-1:${A}:layer:lib:1`], B), {
      name: 'InvalidParameterValueException',
      message: `Layer version arn:aws:lambda:us-east-1:${A}:layer:lib:1 does not exist.`,
    });
    await assert.rejects(services.layers.publish(`arn:aws:lambda:us-east-1:${A}:layer:lib`, { Content: { ZipFile: content.ZipFile.toString('base64') } }, B), {
      name: 'InvalidParameterValueException',
    });
  });

  it('deletes one account\'s function and leaves the other\'s', async () => {
    await services.registry.delete(services.registry.get('hello', B).name);
    await assert.rejects(invokeAs(services, B, 'hello'), {
      name: 'ResourceNotFoundException',
      message: `Function not found: arn:aws:lambda:us-east-1:${B}:function:hello:$LATEST`,
    });
    assert.deepEqual(services.registry.list(B), []);
    const viaApi = await server.lambda.send(new InvokeCommand({ FunctionName: 'hello', Payload: Buffer.from('{}') }));
    assert.equal((json(viaApi.Payload) as { who: string }).who, 'A');
  });
});

describe('accounts: concurrency', () => {
  it('gives each account its own unreserved pool of --account-concurrency', () => {
    const limiter = new ConcurrencyLimiter(2);
    limiter.setReserved(`${B}:r`, 1);
    assert.equal(limiter.acquire('hello'), true);
    assert.equal(limiter.acquire('other'), true);
    assert.throws(() => limiter.acquire('hello'), { name: 'TooManyRequestsException', reason: 'ConcurrentInvocationLimitExceeded' });
    // The default account's pool is spent; B's is its own (2 - 1 reserved).
    assert.equal(limiter.acquire(`${B}:hello`), true);
    assert.throws(() => limiter.acquire(`${B}:hello`), { name: 'TooManyRequestsException' });
    limiter.release('hello', true);
    assert.throws(() => limiter.acquire(`${B}:other`), { name: 'TooManyRequestsException' }, "a slot the default account gave back is not B's");
    assert.equal(limiter.acquire('hello'), true);
  });

  it('counts reserved concurrency against the function\'s own account\'s limit', async () => {
    const server = await startTestServer({ accountConcurrency: 200, unreservedMinimum: 100 });
    try {
      const { registry, concurrency } = server.kindling.services;
      await server.lambda.send(new CreateFunctionCommand({ FunctionName: 'hello', Runtime: 'nodejs20.x', Handler: 'index.handler', Role: ROLE, Code: { ZipFile: await zipOf('A') } }));
      await registry.settled((await registry.create(await body('B'), B)).name);
      assert.equal(await concurrency.put('hello', 100), 100);
      assert.equal(await concurrency.put('hello', 100, B), 100, "the default account's reservation leaves B's limit whole");
      assert.equal(concurrency.totalReserved(B), 100);
      await assert.rejects(concurrency.put(`arn:aws:lambda:us-east-1:${B}:function:hello`, 101), { name: 'InvalidParameterValueException' });
    } finally {
      await server.close();
    }
  });
});
