import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { zipFiles } from '../src/code/index.js';
import { ROLE, startTestServer, type TestServer } from './support/kindling.js';

const AWS = '/usr/bin/aws';
const run = promisify(execFile);

describe('the AWS CLI against Kindling', { skip: existsSync(AWS) ? false : `${AWS} is not installed (Debian package awscli)` }, () => {
  let server: TestServer;
  let work: string;
  const aws = async (...args: string[]) => {
    const { stdout } = await run(AWS, ['--endpoint-url', server.kindling.url, '--output', 'json', 'lambda', ...args], {
      env: { PATH: process.env['PATH'] ?? '', HOME: work, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_DEFAULT_REGION: 'us-east-1', AWS_PAGER: '' },
    });
    return stdout.trim() === '' ? {} : (JSON.parse(stdout) as Record<string, any>);
  };

  before(async () => {
    server = await startTestServer();
    work = mkdtempSync(join(tmpdir(), 'kindling-awscli-'));
    writeFileSync(join(work, 'fn.zip'), await zipFiles({ 'index.js': 'exports.handler = async (e) => { console.log("hi from cli"); return { hello: e.name }; };\n' }));
  });
  after(async () => {
    await server.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('creates, waits for, invokes, lists and deletes a function', async () => {
    const created = await aws('create-function', '--function-name', 'cli-fn', '--runtime', 'nodejs20.x', '--handler', 'index.handler',
      '--zip-file', `fileb://${join(work, 'fn.zip')}`, '--role', ROLE);
    assert.equal(created['FunctionArn'], 'arn:aws:lambda:us-east-1:000000000000:function:cli-fn');
    await aws('wait', 'function-active-v2', '--function-name', 'cli-fn');

    const outFile = join(work, 'out.json');
    const invoked = await aws('invoke', '--function-name', 'cli-fn', '--cli-binary-format', 'raw-in-base64-out',
      '--payload', '{"name":"world"}', '--log-type', 'Tail', outFile);
    assert.equal(invoked['StatusCode'], 200);
    assert.equal(invoked['ExecutedVersion'], '$LATEST');
    assert.deepEqual(JSON.parse(readFileSync(outFile, 'utf8')), { hello: 'world' });
    assert.match(Buffer.from(String(invoked['LogResult']), 'base64').toString(), /hi from cli[\s\S]*REPORT RequestId/);

    const listed = await aws('list-functions');
    assert.ok((listed['Functions'] as { FunctionName: string }[]).some((f) => f.FunctionName === 'cli-fn'));
    const got = await aws('get-function', '--function-name', 'cli-fn');
    assert.equal(got['Configuration']['State'], 'Active');

    await aws('delete-function', '--function-name', 'cli-fn');
    await assert.rejects(aws('get-function', '--function-name', 'cli-fn'), /ResourceNotFoundException/);
  });
});
