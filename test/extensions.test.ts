import { CreateFunctionCommand, InvokeCommand, PublishLayerVersionCommand } from '@aws-sdk/client-lambda';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { zipFiles } from '../src/code/index.js';
import { json, ROLE, startTestServer, type TestServer } from './support/kindling.js';
import { scratchDir, sharedFile } from './support/scratch.js';
import { eventually, records } from './support/wait.js';

/** An external extension that records every event it is given (2020-01-01 Extensions API). */
const RECORDER = `#!/usr/bin/env node
const http = require('http');
const fs = require('fs');
const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
const record = (line) => fs.appendFileSync(process.env.RECORD_FILE, JSON.stringify(line) + '\\n');
function call(method, path, headers, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, method, path, headers }, (res) => {
      let data = '';
      res.on('data', (c) => (data += c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: data ? JSON.parse(data) : undefined }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
(async () => {
  const registered = await call('POST', '/2020-01-01/extension/register', { 'Lambda-Extension-Name': 'recorder' }, JSON.stringify({ events: ['INVOKE', 'SHUTDOWN'] }));
  const id = registered.headers['lambda-extension-identifier'];
  record({ registered: registered.body, status: registered.status, hasId: typeof id === 'string' });
  for (;;) {
    const { body: event } = await call('GET', '/2020-01-01/extension/event/next', { 'Lambda-Extension-Identifier': id });
    record(event);
    if (event.eventType === 'SHUTDOWN') process.exit(0);
    await new Promise((r) => setTimeout(r, Number(process.env.EXT_DELAY_MS || 0)));
    if (event.eventType === 'INVOKE') record({ finished: event.requestId });
  }
})();
`;

describe('the Extensions API', () => {
  let server: TestServer;
  let dir: string;
  const file = () => join(dir, 'events.jsonl');

  before(async () => {
    dir = scratchDir('kindling-ext-');
    sharedFile(file());
    server = await startTestServer();
    const layer = await server.lambda.send(
      new PublishLayerVersionCommand({
        LayerName: 'recorder-extension',
        Content: { ZipFile: await zipFiles({ 'extensions/recorder': { content: RECORDER, mode: 0o755 } }) },
      }),
    );
    await server.lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'extended',
        Runtime: 'nodejs20.x',
        Handler: 'index.handler',
        Role: ROLE,
        Layers: [layer.LayerVersionArn!],
        Environment: { Variables: { RECORD_FILE: file(), EXT_DELAY_MS: '300' } },
        Code: { ZipFile: await zipFiles({ 'index.js': 'exports.handler = async (e, c) => ({ requestId: c.awsRequestId });\n' }) },
      }),
    );
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers the extension during Init, with the function identity', async () => {
    await server.lambda.send(new InvokeCommand({ FunctionName: 'extended' }));
    const [first] = records(file());
    assert.equal(first!['status'], 200);
    assert.equal(first!['hasId'], true);
    assert.deepEqual(first!['registered'], { functionName: 'extended', functionVersion: '$LATEST', handler: 'index.handler' });
  });

  it('gives the extension every INVOKE, and completes an invoke only when the extension is done', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const out = await server.lambda.send(new InvokeCommand({ FunctionName: 'extended' }));
      const requestId = (json(out.Payload) as { requestId: string }).requestId;
      ids.push(requestId);
      // The extension notes it finished (300 ms after the INVOKE) before it asks for the next event.
      assert.ok(records(file()).some((e) => e['finished'] === requestId), 'the invoke completed before the extension was done');
    }
    const invokes = records(file()).filter((e) => e['eventType'] === 'INVOKE');
    for (const id of ids) {
      const event = invokes.find((e) => e['requestId'] === id);
      assert.ok(event, `INVOKE for ${id}`);
      assert.equal(event!['invokedFunctionArn'], 'arn:aws:lambda:us-east-1:000000000000:function:extended');
      assert.ok(event!['deadlineMs'] > Date.now() - 60_000);
      assert.equal(event!['tracing'].type, 'X-Amzn-Trace-Id');
    }
    assert.equal(invokes.length, 4, 'one INVOKE per invocation, the first test included');
  });

  it('sends SHUTDOWN when the environment shuts down', async () => {
    await server.kindling.fleet!.close();
    await eventually(() => records(file()).some((e) => e['eventType'] === 'SHUTDOWN'), 'SHUTDOWN arrives');
    const shutdown = records(file()).find((e) => e['eventType'] === 'SHUTDOWN')!;
    assert.equal(shutdown['shutdownReason'], 'spindown');
  });
});
