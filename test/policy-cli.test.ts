import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { zipFiles } from '../src/code/index.js';
import { ROLE, startTestServer, type TestServer } from './support/kindling.js';

const AWS = '/usr/bin/aws';
const run = promisify(execFile);
const ARN = 'arn:aws:lambda:us-east-1:000000000000:function:cli-policy';

describe('resource policies and tags through the AWS CLI', { skip: existsSync(AWS) ? false : `${AWS} is not installed (Debian package awscli)` }, () => {
  let server: TestServer;
  let work: string;
  const env = () => ({ PATH: process.env['PATH'] ?? '', HOME: work, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_DEFAULT_REGION: 'us-east-1', AWS_PAGER: '' });
  const aws = async (...args: string[]) => {
    const { stdout } = await run(AWS, ['--endpoint-url', server.kindling.url, '--output', 'json', 'lambda', ...args], { env: env() });
    return stdout.trim() === '' ? {} : (JSON.parse(stdout) as Record<string, any>);
  };
  /** The CLI's error line for a call that must fail. */
  const fails = async (...args: string[]): Promise<string> => {
    try {
      await run(AWS, ['--endpoint-url', server.kindling.url, 'lambda', ...args], { env: env() });
    } catch (err) {
      return (err as { stderr: string }).stderr;
    }
    throw new Error(`aws lambda ${args.join(' ')} succeeded`);
  };

  before(async () => {
    server = await startTestServer();
    work = mkdtempSync(join(tmpdir(), 'kindling-awscli-policy-'));
    writeFileSync(join(work, 'fn.zip'), await zipFiles({ 'index.js': 'exports.handler = async () => 1;\n' }));
    writeFileSync(join(work, 'layer.zip'), await zipFiles({ 'nodejs/node_modules/x/index.js': 'module.exports = 1;\n' }));
    await aws('create-function', '--function-name', 'cli-policy', '--runtime', 'nodejs20.x', '--handler', 'index.handler', '--role', ROLE, '--zip-file', `fileb://${join(work, 'fn.zip')}`);
    await aws('wait', 'function-active-v2', '--function-name', 'cli-policy');
  });
  after(async () => {
    await server.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('adds, reads and removes a permission for a service with a source', async () => {
    const added = await aws('add-permission', '--function-name', 'cli-policy', '--statement-id', 's3-invoke', '--action', 'lambda:InvokeFunction',
      '--principal', 's3.amazonaws.com', '--source-arn', 'arn:aws:s3:::my-bucket', '--source-account', '111111111111');
    assert.deepEqual(JSON.parse(added['Statement']), {
      Sid: 's3-invoke',
      Effect: 'Allow',
      Principal: { Service: 's3.amazonaws.com' },
      Action: 'lambda:InvokeFunction',
      Resource: ARN,
      Condition: { StringEquals: { 'AWS:SourceAccount': '111111111111' }, ArnLike: { 'AWS:SourceArn': 'arn:aws:s3:::my-bucket' } },
    });
    const got = await aws('get-policy', '--function-name', ARN);
    assert.equal(JSON.parse(got['Policy']).Statement[0].Sid, 's3-invoke');
    assert.match(await fails('remove-permission', '--function-name', 'cli-policy', '--statement-id', 's3-invoke', '--revision-id', 'stale'), /PreconditionFailedException/);
    assert.match(await fails('add-permission', '--function-name', 'cli-policy', '--statement-id', 's3-invoke', '--action', 'lambda:InvokeFunction', '--principal', '*'), /ResourceConflictException.*already exists/);
    await aws('remove-permission', '--function-name', 'cli-policy', '--statement-id', 's3-invoke', '--revision-id', got['RevisionId']);
    assert.match(await fails('get-policy', '--function-name', 'cli-policy'), /ResourceNotFoundException.*No policy is associated with the given resource/);
  });

  it('shares a layer version', async () => {
    const layer = await aws('publish-layer-version', '--layer-name', 'cli-layer', '--zip-file', `fileb://${join(work, 'layer.zip')}`);
    const added = await aws('add-layer-version-permission', '--layer-name', 'cli-layer', '--version-number', String(layer['Version']), '--statement-id', 'all',
      '--action', 'lambda:GetLayerVersion', '--principal', '*', '--organization-id', 'o-abcdefghij');
    assert.equal(JSON.parse(added['Statement']).Condition.StringEquals['aws:PrincipalOrgID'], 'o-abcdefghij');
    const got = await aws('get-layer-version-policy', '--layer-name', 'cli-layer', '--version-number', String(layer['Version']));
    assert.equal(got['RevisionId'], added['RevisionId']);
    await aws('remove-layer-version-permission', '--layer-name', 'cli-layer', '--version-number', String(layer['Version']), '--statement-id', 'all');
    assert.match(await fails('get-layer-version-policy', '--layer-name', 'cli-layer', '--version-number', String(layer['Version'])), /ResourceNotFoundException/);
  });

  it('tags, lists and untags', async () => {
    await aws('tag-resource', '--resource', ARN, '--tags', 'team=payments,stage=prod');
    assert.deepEqual((await aws('list-tags', '--resource', ARN))['Tags'], { team: 'payments', stage: 'prod' });
    await aws('untag-resource', '--resource', ARN, '--tag-keys', 'team', 'stage');
    assert.deepEqual((await aws('list-tags', '--resource', ARN))['Tags'], {});
    assert.match(await fails('tag-resource', '--resource', ARN, '--tags', 'aws:owner=me'), /InvalidParameterValueException/);
  });
});
