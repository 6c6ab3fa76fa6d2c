import { CreateFunctionCommand, GetFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseEnv } from '../src/cli/commands/deploy.js';
import { formatFunctions } from '../src/cli/commands/ls.js';
import { zipDirectory, zipFiles } from '../src/code/index.js';
import { ConfigError, loadClientConfig } from '../src/config/index.js';
import { ROLE, startTestServer, type TestServer } from './support/kindling.js';
import { kindling } from './support/cli.js';

function sha256(zip: Buffer): string {
  return createHash('sha256').update(zip).digest('base64');
}

function field(stdout: string, name: string): string | undefined {
  return new RegExp(`^${name}: (\\S+)$`, 'm').exec(stdout)?.[1];
}

describe('kindling CLI against the real server', () => {
  let server: TestServer;
  let work: string;
  let endpoint: string[];
  before(async () => {
    server = await startTestServer();
    work = mkdtempSync(join(tmpdir(), 'kindling-cli-'));
    endpoint = ['--endpoint', server.kindling.url];
  });
  after(async () => {
    await server.close();
    rmSync(work, { recursive: true, force: true });
  });

  function folder(name: string, files: Record<string, string>): string {
    const dir = mkdtempSync(join(work, `${name}-`));
    for (const [file, content] of Object.entries(files)) writeFileSync(join(dir, file), content);
    return dir;
  }

  const app = () =>
    folder('app', {
      'index.js': 'exports.handler = async (event) => { console.log("got", JSON.stringify(event)); return { version: 1, event }; };\n',
    });

  it('deploy creates a function with the defaults, Active, and prints its ARN and CodeSha256', async () => {
    const dir = app();
    const run = await kindling(['deploy', dir, '--name', 'cli-fn', ...endpoint]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, '', 'nothing on stderr (no SDK warnings either)');
    assert.match(run.stdout, /^Created cli-fn$/m);
    assert.equal(field(run.stdout, 'FunctionArn'), 'arn:aws:lambda:us-east-1:000000000000:function:cli-fn');
    assert.equal(field(run.stdout, 'CodeSha256'), sha256(await zipDirectory(dir)));

    const config = await server.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'cli-fn' }));
    assert.equal(config.State, 'Active');
    assert.equal(config.Handler, 'index.handler');
    assert.equal(config.Runtime, 'nodejs20.x');
    assert.equal(config.Role, 'arn:aws:iam::000000000000:role/kindling');
  });

  it('ls shows it, with the endpoint taken from KINDLING_ENDPOINT', async () => {
    const run = await kindling(['ls'], { KINDLING_ENDPOINT: server.kindling.url });
    assert.equal(run.code, 0, run.stderr);
    const [header, ...lines] = run.stdout.trimEnd().split('\n');
    assert.match(header!, /^NAME\s+RUNTIME\s+MEMORY\s+TIMEOUT\s+LAST MODIFIED$/);
    const line = lines.find((l) => l.startsWith('cli-fn '));
    assert.ok(line, run.stdout);
    assert.match(line, /^cli-fn\s+nodejs20\.x\s+128 MB\s+3 s\s+\d{4}-\d\d-\d\dT\S+\+0000$/);
    // Columns are aligned: RUNTIME starts where the runtime does.
    assert.equal(header!.indexOf('RUNTIME'), line.indexOf('nodejs20.x'));
  });

  it('deploy again updates the code, then the configuration flags given, and keeps the rest', async () => {
    const before = await server.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'cli-fn' }));
    const dir = folder('app2', {
      'index.js':
        'exports.handler = async (event) => { console.log("got", JSON.stringify(event)); return { version: 2, greeting: process.env.GREETING, event }; };\n',
    });
    const run = await kindling([
      'deploy', dir, '--name', 'cli-fn', '--memory', '256', '--timeout', '10', '--env', 'GREETING=hi=there', ...endpoint,
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^Updated cli-fn$/m);
    const sha = field(run.stdout, 'CodeSha256');
    assert.equal(sha, sha256(await zipDirectory(dir)));
    assert.notEqual(sha, before.CodeSha256);

    const after = await server.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'cli-fn' }));
    assert.equal(after.CodeSha256, sha);
    assert.equal(after.MemorySize, 256);
    assert.equal(after.Timeout, 10);
    assert.deepEqual(after.Environment?.Variables, { GREETING: 'hi=there' });
    assert.equal(after.Handler, before.Handler);
    assert.equal(after.LastUpdateStatus, 'Successful');
  });

  it('invoke prints the handler result on stdout', async () => {
    const run = await kindling(['invoke', 'cli-fn', '--payload', '{"n":1}', ...endpoint]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, '');
    assert.deepEqual(JSON.parse(run.stdout), { version: 2, greeting: 'hi=there', event: { n: 1 } });
  });

  it('invoke --payload @file reads the payload from the file', async () => {
    const file = join(work, 'event.json');
    writeFileSync(file, '{"from":"file"}');
    const run = await kindling(['invoke', 'cli-fn', '--payload', `@${file}`, '--qualifier', '$LATEST', ...endpoint]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { version: 2, greeting: 'hi=there', event: { from: 'file' } });
  });

  it('invoke --tail prints the log tail on stderr, the payload alone on stdout', async () => {
    const run = await kindling(['invoke', 'cli-fn', '--payload', '{"tail":true}', '--tail', ...endpoint]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /^START RequestId: [0-9a-f-]{36}/m);
    assert.match(run.stderr, /got \{"tail":true\}/);
    assert.match(run.stderr, /^REPORT RequestId: [0-9a-f-]{36}/m);
    assert.deepEqual(JSON.parse(run.stdout), { version: 2, greeting: 'hi=there', event: { tail: true } });
  });

  it('invoke of a function that throws prints the error payload and exits 1', async () => {
    const dir = folder('thrower', {
      'index.js': 'class PaymentError extends Error { name = "PaymentError"; }\nexports.handler = async () => { throw new PaymentError("card declined"); };\n',
    });
    const deployed = await kindling(['deploy', dir, '--name', 'cli-thrower', ...endpoint]);
    assert.equal(deployed.code, 0, deployed.stderr);

    const run = await kindling(['invoke', 'cli-thrower', ...endpoint]);
    assert.equal(run.code, 1);
    const body = JSON.parse(run.stdout) as { errorType: string; errorMessage: string };
    assert.equal(body.errorType, 'PaymentError');
    assert.equal(body.errorMessage, 'card declined');
    assert.match(run.stderr, /^kindling: function error \(Unhandled\): PaymentError: card declined$/m);
  });

  it('rm deletes; invoke then reports ResourceNotFoundException and exits 1', async () => {
    const removed = await kindling(['rm', 'cli-fn', ...endpoint]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stdout, /^Deleted cli-fn$/m);

    const listed = await kindling(['ls', ...endpoint]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.doesNotMatch(listed.stdout, /^cli-fn /m);
    assert.match(listed.stdout, /^cli-thrower /m);

    const run = await kindling(['invoke', 'cli-fn', ...endpoint]);
    assert.equal(run.code, 1);
    assert.equal(run.stdout, '');
    // Lambda names what an unqualified invoke looked for: $LATEST.
    assert.match(run.stderr, /^kindling: ResourceNotFoundException: Function not found: .*function:cli-fn:\$LATEST$/m);

    const again = await kindling(['rm', 'cli-fn', ...endpoint]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^kindling: ResourceNotFoundException: /m);
  });

  it('reports what the server refuses with its error name, exit 1', async () => {
    const run = await kindling(['deploy', app(), '--name', 'cli-big', '--memory', '5', ...endpoint]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^kindling: ValidationException: .*memorySize/m);
  });

  it('ls follows NextMarker through every page', async () => {
    const zip = await zipFiles({ 'index.js': 'exports.handler = async () => 1;\n' });
    const names = Array.from({ length: 55 }, (_, i) => `page-${String(i).padStart(2, '0')}`);
    for (const name of names) {
      await server.lambda.send(
        new CreateFunctionCommand({ FunctionName: name, Runtime: 'nodejs20.x', Handler: 'index.handler', Role: ROLE, Code: { ZipFile: zip } }),
      );
    }
    const run = await kindling(['ls', ...endpoint]);
    assert.equal(run.code, 0, run.stderr);
    const listed = run.stdout.split('\n').slice(1).map((line) => line.split(' ')[0]).filter((name) => name?.startsWith('page-'));
    assert.deepEqual(listed, names);
  });

  it('usage errors exit 2 with the usage text', async () => {
    const cases: [string[], RegExp][] = [
      [['deploy', work, ...endpoint], /--name is required/],
      [['deploy', join(work, 'missing'), '--name', 'x', ...endpoint], /is not a directory/],
      [['deploy', work, '--name', 'x', '--memory', 'lots', ...endpoint], /--memory must be a whole number/],
      [['deploy', work, '--name', 'x', '--env', 'NOVALUE', ...endpoint], /--env must be KEY=VALUE/],
      [['invoke', ...endpoint], /expected <name>, got none/],
      [['invoke', 'cli-thrower', '--payload', '{not json', ...endpoint], /--payload is not valid JSON/],
      [['invoke', 'cli-thrower', '--payload', `@${join(work, 'nope.json')}`, ...endpoint], /cannot read .*ENOENT/],
      [['ls', '--bogus', ...endpoint], /Unknown option '--bogus'/],
      [['rm', 'x', '--endpoint', 'not a url'], /--endpoint must be a URL/],
    ];
    for (const [args, message] of cases) {
      const run = await kindling(args);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, message);
      assert.match(run.stderr, new RegExp(`^Usage: kindling ${args[0]} `, 'm'));
    }
    const unknown = await kindling(['deploi']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command 'deploi'/);

    const help = await kindling(['invoke', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: kindling invoke <name>/);
  });

  it('says so when nothing listens at the endpoint, exit 1', async () => {
    const closed = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const run = await kindling(['ls', '--endpoint', `http://127.0.0.1:${closed}`]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, new RegExp(`^kindling: ECONNREFUSED: cannot reach Kindling at http://127\\.0\\.0\\.1:${closed}`, 'm'));
  });
});

describe('loadClientConfig', () => {
  it('takes flags over KINDLING_* over defaults', () => {
    assert.deepEqual(loadClientConfig({}, {}), {
      endpoint: 'http://127.0.0.1:9000',
      region: 'us-east-1',
      accountId: '000000000000',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const env = { KINDLING_ENDPOINT: 'http://env:1', KINDLING_REGION: 'eu-west-1' };
    assert.equal(loadClientConfig({}, env).endpoint, 'http://env:1');
    assert.equal(loadClientConfig({}, env).region, 'eu-west-1');
    const flagged = loadClientConfig({ endpoint: 'https://flag:2/', region: 'ap-south-1' }, env);
    assert.equal(flagged.endpoint, 'https://flag:2');
    assert.equal(flagged.region, 'ap-south-1');
    assert.ok(Object.isFrozen(flagged));
  });

  it('uses AWS_* credentials when given, both keys or neither', () => {
    const env = { AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: 'token' };
    assert.deepEqual(loadClientConfig({}, env).credentials, { accessKeyId: 'AKID', secretAccessKey: 'secret', sessionToken: 'token' });
    assert.throws(() => loadClientConfig({}, { AWS_ACCESS_KEY_ID: 'AKID' }), ConfigError);
  });

  it('refuses an endpoint that is not an http(s) URL, and a malformed region', () => {
    assert.throws(() => loadClientConfig({ endpoint: '127.0.0.1:9000' }, {}), ConfigError);
    assert.throws(() => loadClientConfig({ endpoint: 'ftp://host' }, {}), ConfigError);
    assert.throws(() => loadClientConfig({ region: 'moon' }, {}), ConfigError);
  });
});

describe('CLI helpers', () => {
  it('parseEnv splits on the first =, and refuses a pair without a name', () => {
    assert.deepEqual(parseEnv(['A_1=x', 'B=y=z', 'EMPTY=']), { A_1: 'x', B: 'y=z', EMPTY: '' });
    assert.throws(() => parseEnv(['=x']), /KEY=VALUE/);
  });

  it('formatFunctions aligns columns and marks missing values', () => {
    const out = formatFunctions([
      { FunctionName: 'a', Runtime: 'nodejs20.x', MemorySize: 128, Timeout: 3, LastModified: 't1' },
      { FunctionName: 'longer-name', MemorySize: 1024, Timeout: 900, LastModified: 't2' },
    ]);
    assert.equal(
      out,
      'NAME         RUNTIME     MEMORY   TIMEOUT  LAST MODIFIED\n' +
        'a            nodejs20.x  128 MB   3 s      t1\n' +
        'longer-name  -           1024 MB  900 s    t2\n',
    );
  });
});
