import { CreateFunctionCommand, GetFunctionCommand, InvokeCommand, waitUntilFunctionActiveV2 } from '@aws-sdk/client-lambda';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../src/config/index.js';
import { NamespaceSandboxDriver } from '../src/sandbox/namespace/namespace-driver.js';
import { asNobody, nodeFunction, rejectsWith } from './support/functions.js';
import { json, startTestServer, type TestServer } from './support/kindling.js';

const namespaceMissing = await new NamespaceSandboxDriver().unavailable();
const skip = namespaceMissing === undefined ? false : `the namespace driver cannot run here: ${namespaceMissing}`;

describe('isolation is the operator’s choice, not the caller’s', { skip }, () => {
  let dataDir: string;
  let server: TestServer;
  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'kindling-policy-'));
    // The default a fresh install gets where bwrap works: namespace, and nothing weaker allowed.
    server = await startTestServer({ sandbox: 'namespace' }, dataDir);
  });
  after(async () => {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses a caller who asks for the process driver, even a local user with plain curl', async () => {
    const input = await nodeFunction('wants-root', undefined, { Tags: { 'kindling:sandbox': 'process' } });
    const body = JSON.stringify({ ...input, Code: { ZipFile: Buffer.from(input.Code!.ZipFile!).toString('base64') } });
    const run = await asNobody('curl', ['-sS', '-o', '-', '-w', '\\n%{http_code}', '-H', 'Content-Type: application/json', '--data-binary', body, `${server.kindling.url}/2015-03-31/functions`]);
    const [answer, status] = run.stdout.trim().split('\n');
    assert.equal(status, '400', run.stdout + run.stderr);
    const error = JSON.parse(answer!) as { Type: string; message: string };
    assert.match(error.message, /kindling:sandbox must name a sandbox driver this server allows: namespace/);
    // Nothing half-made is left behind.
    await rejectsWith(server.lambda.send(new GetFunctionCommand({ FunctionName: 'wants-root' })), 'ResourceNotFoundException', 404);
  });

  it('refuses the process driver through the AWS SDK too, and allows stronger drivers than the default', async () => {
    await rejectsWith(
      server.lambda.send(new CreateFunctionCommand(await nodeFunction('sdk-root', undefined, { Tags: { 'kindling:sandbox': 'process' } }))),
      'InvalidParameterValueException',
      400,
      /--allow-sandbox/,
    );
    await server.lambda.send(new CreateFunctionCommand(await nodeFunction('explicit-ns', undefined, { Tags: { 'kindling:sandbox': 'namespace' } })));
  });

  it('refuses the host-network mode: no tag gives a function a route to the host', async () => {
    for (const value of ['egress', 'host']) {
      await rejectsWith(
        server.lambda.send(new CreateFunctionCommand(await nodeFunction(`net-${value}`, undefined, { Tags: { 'kindling:network': value } }))),
        'InvalidParameterValueException',
        400,
        /kindling:network must be 'none'/,
      );
    }
  });

  it('runs a function tagged process where the operator allowed it, and refuses it once the operator narrows the list', async () => {
    await server.close();
    server = await startTestServer({ sandbox: 'namespace', allowSandbox: ['namespace', 'process'] }, dataDir);
    await server.lambda.send(new CreateFunctionCommand(await nodeFunction('allowed-process', undefined, { Tags: { 'kindling:sandbox': 'process' } })));
    await waitUntilFunctionActiveV2({ client: server.lambda, maxWaitTime: 30 }, { FunctionName: 'allowed-process' });
    const ran = await server.lambda.send(new InvokeCommand({ FunctionName: 'allowed-process', Payload: '{"n":1}' }));
    assert.deepEqual(json(ran.Payload), { ok: true, event: { n: 1 } });

    await server.close();
    server = await startTestServer({ sandbox: 'namespace' }, dataDir);
    await rejectsWith(
      server.lambda.send(new InvokeCommand({ FunctionName: 'allowed-process', Payload: '{}' })),
      'ResourceConflictException',
      409,
      /sandbox driver 'process'.*does not allow/,
    );
    // The function itself is kept: the operator can allow the driver again, the owner can retag it.
    const kept = await server.lambda.send(new GetFunctionCommand({ FunctionName: 'allowed-process' }));
    assert.equal(kept.Tags?.['kindling:sandbox'], 'process');
  });
});

describe('--allow-sandbox', () => {
  it('takes known drivers only, and must include the default', () => {
    assert.deepEqual(loadConfig(['--allow-sandbox', 'namespace, microvm']).allowSandbox, ['namespace', 'microvm']);
    assert.deepEqual(loadConfig([], { KINDLING_ALLOW_SANDBOX: 'process,namespace' }).allowSandbox, ['process', 'namespace']);
    assert.equal(loadConfig([]).allowSandbox, undefined);
    assert.throws(() => loadConfig(['--allow-sandbox', 'namespace,chroot']), (err: Error) => err instanceof ConfigError && /chroot/.test(err.message));
    assert.throws(() => loadConfig(['--allow-sandbox', '']), ConfigError);
    assert.throws(
      () => loadConfig(['--sandbox', 'namespace', '--allow-sandbox', 'process']),
      (err: Error) => err instanceof ConfigError && /must include the default driver/.test(err.message),
    );
  });
});
