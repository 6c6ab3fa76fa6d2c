import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { zipFiles } from '../src/code/index.js';
import { readProfile } from './support/auth.js';
import { CLI, kindling } from './support/cli.js';
import { ROLE } from './support/kindling.js';
import { listeningUrl } from './support/serve-process.js';

const AWS = '/usr/bin/aws';

interface Served {
  url: string;
  child: ChildProcess;
  output: { text: string };
  exited: Promise<number | null>;
}

/** `kindling serve --auth sigv4` as its own process, its stdout and stderr (the log) kept. */
async function serve(dataDir: string): Promise<Served> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--url-port', '0', '--sandbox', 'process', '--auth', 'sigv4', '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env['PATH'] ?? '' },
  });
  const output = { text: '' };
  child.stdout!.on('data', (chunk: Buffer) => (output.text += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output.text += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await listeningUrl(child.stdout!, exited, () => output.text);
  return { url, child, output, exited };
}

async function stop(served: Served): Promise<void> {
  served.child.kill('SIGTERM');
  await served.exited;
}

describe('keys, profiles and the AWS CLI under --auth sigv4', { skip: existsSync(AWS) ? false : `${AWS} is not installed` }, () => {
  let dir: string;
  let work: string;
  let served: Served;
  const credentials = () => join(dir, 'credentials');
  const env = (file: string, profile?: string) => ({
    PATH: process.env['PATH'] ?? '',
    HOME: work,
    AWS_SHARED_CREDENTIALS_FILE: file,
    AWS_CONFIG_FILE: join(work, 'no-config'),
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_PAGER: '',
    ...(profile ? { AWS_PROFILE: profile } : {}),
  });
  /** `aws --profile P <args>`: exit code, stdout, stderr. */
  const aws = (file: string, profile: string, ...args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(AWS, ['--endpoint-url', served.url, '--output', 'json', '--profile', profile, ...args], { env: env(file), encoding: 'utf8' }, (err, stdout, stderr) =>
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr }),
      ),
    );

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kindling-auth-cli-'));
    work = mkdtempSync(join(tmpdir(), 'kindling-auth-cli-work-'));
    writeFileSync(join(work, 'fn.zip'), await zipFiles({ 'index.js': 'exports.handler = async (e) => ({ hello: e.name });\n' }));
    writeFileSync(join(work, 'invoke-only.json'), JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'lambda:Invoke*', Resource: '*' }] }));
    served = await serve(dir);
  });
  after(async () => {
    if (served) await stop(served);
    rmSync(dir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  it('the first start writes the admin key as the default profile (0600, with region), and says where once', async () => {
    assert.equal(statSync(credentials()).mode & 0o777, 0o600);
    const admin = readProfile(credentials());
    assert.match(admin.accessKeyId, /^AKIA[A-Z0-9]{16}$/);
    assert.equal(admin.secretAccessKey.length, 40);
    assert.equal(admin.region, 'us-east-1');
    assert.equal(statSync(join(dir, 'kindling.key')).mode & 0o777, 0o600);
    assert.equal(served.output.text.split(credentials()).length - 1, 1, served.output.text);
    const listed = await aws(credentials(), 'default', 'lambda', 'list-functions');
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(JSON.parse(listed.stdout), { Functions: [] });
  });

  it('an unsigned call is MissingAuthenticationTokenException', async () => {
    const out = await aws(credentials(), 'default', '--no-sign-request', 'lambda', 'list-functions');
    assert.notEqual(out.code, 0);
    assert.match(out.stderr, /\(MissingAuthenticationTokenException\) when calling the ListFunctions operation: Missing Authentication Token/);
  });

  it('kindling keys create writes an invoke-only profile: it invokes, and CreateFunction is denied in AWS words', async () => {
    const created = await aws(credentials(), 'default', 'lambda', 'create-function', '--function-name', 'hello', '--runtime', 'nodejs20.x',
      '--handler', 'index.handler', '--role', ROLE, '--zip-file', `fileb://${join(work, 'fn.zip')}`);
    assert.equal(created.code, 0, created.stderr);
    const mine = join(work, 'mine');
    const made = await kindling(['keys', 'create', '--policy', join(work, 'invoke-only.json'), '--user', 'invoker', '--profile', 'invoker', '--credentials-file', mine, '--endpoint', served.url], env(credentials()));
    assert.equal(made.code, 0, made.stderr);
    assert.equal(statSync(mine).mode & 0o777, 0o600);
    const waited = await aws(credentials(), 'default', 'lambda', 'wait', 'function-active-v2', '--function-name', 'hello');
    assert.equal(waited.code, 0, waited.stderr);
    const invoked = await aws(mine, 'invoker', 'lambda', 'invoke', '--function-name', 'hello', '--cli-binary-format', 'raw-in-base64-out',
      '--payload', '{"name":"cli"}', join(work, 'out.json'));
    assert.equal(invoked.code, 0, invoked.stderr);
    assert.deepEqual(JSON.parse(readFileSync(join(work, 'out.json'), 'utf8')), { hello: 'cli' });
    const denied = await aws(mine, 'invoker', 'lambda', 'create-function', '--function-name', 'sneaky', '--runtime', 'nodejs20.x',
      '--handler', 'index.handler', '--role', ROLE, '--zip-file', `fileb://${join(work, 'fn.zip')}`);
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /An error occurred \(AccessDeniedException\) when calling the CreateFunction operation: User: arn:aws:iam::000000000000:user\/invoker is not authorized to perform: lambda:CreateFunction on resource: arn:aws:lambda:us-east-1:000000000000:function:sneaky because no identity-based policy allows the lambda:CreateFunction action/);
    // The Logs API answers the same denial its own way (__type), which the CLI reads too.
    const logs = await aws(mine, 'invoker', 'logs', 'describe-log-groups');
    assert.match(logs.stderr, /\(AccessDeniedException\) when calling the DescribeLogGroups operation: User: arn:aws:iam::000000000000:user\/invoker is not authorized to perform: logs:DescribeLogGroups/);
    // Nor may it manage keys.
    const sneakyKey = await kindling(['keys', 'create', '--admin', '--endpoint', served.url], env(mine, 'invoker'));
    assert.equal(sneakyKey.code, 1);
    assert.match(sneakyKey.stderr, /AccessDeniedException/);
  });

  it('kindling keys ls shows the keys without secrets; rm stops a key at once', async () => {
    const mine = readProfile(join(work, 'mine'), 'invoker');
    const listed = await kindling(['keys', 'ls', '--endpoint', served.url], env(credentials()));
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`${mine.accessKeyId}\\s+000000000000\\s+invoker\\s+1 policies`));
    assert.match(listed.stdout, /admin\s+admin/);
    assert.equal(listed.stdout.includes(mine.secretAccessKey), false);
    const removed = await kindling(['keys', 'rm', mine.accessKeyId, '--endpoint', served.url], env(credentials()));
    assert.equal(removed.code, 0, removed.stderr);
    const after = await aws(join(work, 'mine'), 'invoker', 'lambda', 'invoke', '--function-name', 'hello', join(work, 'out.json'));
    assert.match(after.stderr, /\(UnrecognizedClientException\) when calling the Invoke operation: The security token included in the request is invalid\./);
  });

  it('the kindling CLI signs with the profile (kindling ls)', async () => {
    const listed = await kindling(['ls', '--endpoint', served.url], env(credentials()));
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /hello/);
    const unsigned = await kindling(['ls', '--endpoint', served.url], { PATH: process.env['PATH'] ?? '' });
    assert.equal(unsigned.code, 1);
    assert.match(unsigned.stderr, /UnrecognizedClientException/);
  });

  it('no secret is in the log or, in plaintext, in the database; a restart makes no second admin key', async () => {
    const admin = readProfile(credentials());
    const invoker = readProfile(join(work, 'mine'), 'invoker');
    await stop(served);
    const bytes = ['kindling.db', 'kindling.db-wal'].filter((f) => existsSync(join(dir, f))).map((f) => readFileSync(join(dir, f)));
    for (const secret of [admin.secretAccessKey, invoker.secretAccessKey]) {
      assert.equal(served.output.text.includes(secret), false, 'a secret in the log');
      for (const file of bytes) assert.equal(file.includes(Buffer.from(secret)), false, 'a secret in the database');
    }
    assert.ok(bytes.some((file) => file.includes(Buffer.from(admin.accessKeyId))), 'the key id is stored');
    const before = readFileSync(credentials(), 'utf8');
    served = await serve(dir);
    assert.equal(readFileSync(credentials(), 'utf8'), before);
    assert.equal(served.output.text.includes('created the administrator key'), false);
    const listed = await aws(credentials(), 'default', 'lambda', 'list-functions');
    assert.equal(listed.code, 0, listed.stderr);
  });

  it('serve refuses --auth none (or no --auth) on a non-loopback address, saying why', async () => {
    for (const args of [['--host', '0.0.0.0'], ['--host', '0.0.0.0', '--auth', 'none']]) {
      const out = await kindling(['serve', '--port', '0', '--data-dir', join(work, 'refused'), ...args], { PATH: process.env['PATH'] ?? '' });
      assert.equal(out.code, 2);
      assert.match(out.stderr, /kindling serve: --host 0\.0\.0\.0 is reachable from other machines, .*add --auth sigv4/);
    }
    const env = await kindling(['serve', '--port', '0', '--data-dir', join(work, 'refused')], { PATH: process.env['PATH'] ?? '', KINDLING_HOST: '0.0.0.0', KINDLING_AUTH: 'none' });
    assert.equal(env.code, 2);
    assert.equal(existsSync(join(work, 'refused')), false, 'nothing was made');
    const bad = await kindling(['serve', '--auth', 'maybe'], { PATH: process.env['PATH'] ?? '' });
    assert.match(bad.stderr, /--auth must be sigv4 or none, got 'maybe'/);
  });
});
