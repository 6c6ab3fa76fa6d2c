import { CreateFunctionCommand, InvokeCommand, UpdateFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { kindling } from './support/cli.js';
import { nodeFunction } from './support/functions.js';
import { json, startTestServer, type TestServer } from './support/kindling.js';
import { scratchDir } from './support/scratch.js';

const ACCOUNT = '000000000000';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/invoker`;

/** Unchanged SDK code: no endpoint, no credentials, no region in it (the environment has them). */
const CALLER = `const { LambdaClient, InvokeCommand } = require('@aws-sdk/client-lambda');
const lambda = new LambdaClient({});
exports.handler = async (event) => {
  try {
    const out = await lambda.send(new InvokeCommand({ FunctionName: event.target, Payload: JSON.stringify({ from: 'caller' }) }));
    return { ok: true, payload: JSON.parse(Buffer.from(out.Payload).toString()) };
  } catch (err) {
    return { ok: false, name: err.name, message: err.message };
  }
};
`;

interface Outcome {
  ok: boolean;
  name?: string;
  message?: string;
  payload?: unknown;
}

for (const sandbox of ['namespace', 'process'] as const) {
  describe(`a function calls another with its role's credentials (--auth sigv4, ${sandbox} sandbox)`, () => {
    let server: TestServer;
    let env: Record<string, string>;
    const dir = scratchDir('function-credentials');

    const call = async (target: string): Promise<Outcome> => {
      const out = await server.lambda.send(new InvokeCommand({ FunctionName: 'caller', Payload: JSON.stringify({ target }), LogType: 'Tail' }));
      if (out.FunctionError) return { ok: false, name: out.FunctionError, message: Buffer.from(out.LogResult ?? '', 'base64').toString() };
      return json(out.Payload) as Outcome;
    };

    before(async () => {
      server = await startTestServer({ auth: 'sigv4', sandbox });
      // The kindling CLI signs with the administrator's profile the first start wrote.
      env = { KINDLING_ENDPOINT: server.kindling.url, AWS_SHARED_CREDENTIALS_FILE: join(server.dataDir, 'credentials'), AWS_CONFIG_FILE: join(dir, 'none') };
      await server.lambda.send(new CreateFunctionCommand(await nodeFunction('callee', 'exports.handler = async (event) => ({ called: true, event });\n')));
      await server.lambda.send(new CreateFunctionCommand(await nodeFunction('caller', CALLER, { Role: ROLE, Timeout: 30 })));
    });
    after(() => server.close());

    it('a role with no policy may do nothing: AccessDeniedException naming the assumed role', async () => {
      const out = await call('callee');
      assert.equal(out.ok, false);
      assert.equal(out.name, 'AccessDeniedException', out.message);
      assert.match(out.message ?? '', new RegExp(`arn:aws:sts::${ACCOUNT}:assumed-role/invoker/caller is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:${ACCOUNT}:function:callee`));
    });

    it('with a policy allowing lambda:InvokeFunction on the callee, the call goes through; removed, it is denied again', async () => {
      const file = join(dir, 'invoke.json');
      writeFileSync(
        file,
        JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:callee` }] }),
      );
      const put = await kindling(['roles', 'put-policy', ROLE, file], env);
      assert.equal(put.code, 0, put.stderr);
      const allowed = await call('callee');
      assert.deepEqual(allowed, { ok: true, payload: { called: true, event: { from: 'caller' } } });
      // Only what the policy names: the caller itself is not in it.
      const other = await call('caller');
      assert.equal(other.name, 'AccessDeniedException');
      const rm = await kindling(['roles', 'rm-policy', 'invoker'], env);
      assert.equal(rm.code, 0, rm.stderr);
      const denied = await call('callee');
      assert.equal(denied.name, 'AccessDeniedException', 'the same environment, its credentials unexpired: the removed policy counts at once');
    });

    it('the role cannot manage keys or roles, however its policy reads', async () => {
      const file = join(dir, 'everything.json');
      writeFileSync(file, JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }));
      assert.equal((await kindling(['roles', 'put-policy', ROLE, file], env)).code, 0);
      const probe = `const { SignatureV4 } = require('@smithy/signature-v4');
const { Sha256 } = require('@smithy/core/checksum');
exports.handler = async () => {
  const url = new URL('/kindling/keys', process.env.AWS_ENDPOINT_URL);
  const signer = new SignatureV4({ service: 'kindling', region: process.env.AWS_REGION, sha256: Sha256, credentials: {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY, sessionToken: process.env.AWS_SESSION_TOKEN } });
  const body = JSON.stringify({ Admin: true });
  const signed = await signer.sign({ method: 'POST', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname, query: {},
    headers: { host: url.host, 'content-type': 'application/json' }, body });
  const { host, ...headers } = signed.headers;
  const res = await fetch(url, { method: 'POST', headers, body });
  return { status: res.status, type: res.headers.get('x-amzn-errortype') };
};
`;
      await server.lambda.send(new CreateFunctionCommand(await nodeFunction('escalate', probe, { Role: ROLE, Timeout: 30 })));
      const out = json((await server.lambda.send(new InvokeCommand({ FunctionName: 'escalate' }))).Payload) as { status: number; type: string };
      assert.deepEqual(out, { status: 403, type: 'AccessDeniedException' }, 'only an administrator key manages keys');
      assert.equal((await kindling(['roles', 'rm-policy', 'invoker'], env)).code, 0);
    });

    it('credentials stop working when the function is given another role', async () => {
      const file = join(dir, 'invoke-any.json');
      writeFileSync(file, JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: '*' }] }));
      assert.equal((await kindling(['roles', 'put-policy', ROLE, file], env)).code, 0);
      const first = await call('callee');
      assert.equal(first.ok, true, JSON.stringify(first));
      // A configuration change replaces the environment: the new one has the new role's credentials.
      await server.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'caller', Role: `arn:aws:iam::${ACCOUNT}:role/nobody` }));
      const out = await call('callee');
      assert.equal(out.name, 'AccessDeniedException', JSON.stringify(out));
      assert.match(out.message ?? '', /assumed-role\/nobody\/caller/);
    });
  });
}
