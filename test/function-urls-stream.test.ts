import { CreateFunctionCommand, CreateFunctionUrlConfigCommand, waitUntilFunctionActiveV2 } from '@aws-sdk/client-lambda';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { nodeFunction } from './support/functions.js';
import { startTestServer, type TestServer } from './support/kindling.js';
import { scratchDir } from './support/scratch.js';
import { streamInvoke } from './support/streaming-bootstrap.js';

/**
 * A streaming handler on Kindling's Node.js runtime: an HTTP prelude (201, a header, a cookie), a
 * first chunk, then it waits for the file the event names before the last one; `fail` throws after
 * the first chunk.
 */
const STREAMING = `
const fs = require('fs');
exports.handler = awslambda.streamifyResponse(async (event, responseStream) => {
  const query = event.queryStringParameters ?? event;
  const stream = awslambda.HttpResponseStream.from(responseStream, { statusCode: 201, headers: { 'content-type': 'text/plain', 'x-streamed': 'yes' }, cookies: ['flavour=smoked'] });
  stream.write('first\\n');
  if (query.fail) throw new Error('broke mid-stream');
  while (query.waitFor && !fs.existsSync(query.waitFor)) await new Promise((r) => setTimeout(r, 10));
  stream.end('last\\n');
});
`;

/** curl -N, reading its output as it comes: `onOutput` sees everything so far at every chunk. */
function curlStreaming(url: string, onOutput: (text: string) => void): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('curl', ['-s', '-N', '-i', '--max-time', '30', url]);
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      onOutput(output);
    });
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('function URLs in RESPONSE_STREAM mode, and InvokeWithResponseStream, on the Node.js runtime', () => {
  let server: TestServer;
  let work: string;
  let url: string;

  before(async () => {
    server = await startTestServer();
    work = scratchDir('kindling-url-stream-');
    await server.lambda.send(new CreateFunctionCommand({ ...(await nodeFunction('streamer', STREAMING)), Timeout: 20 }));
    await waitUntilFunctionActiveV2({ client: server.lambda, maxWaitTime: 30 }, { FunctionName: 'streamer' });
    url = (await server.lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: 'streamer', AuthType: 'NONE', InvokeMode: 'RESPONSE_STREAM' }))).FunctionUrl!;
  });
  after(async () => {
    await server.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('sends the prelude’s status, headers and cookies, and the first chunk reaches curl before the function finishes', async () => {
    const signal = join(work, 'go');
    const order: string[] = [];
    const { code, output } = await curlStreaming(`${url}?waitFor=${encodeURIComponent(signal)}`, (text) => {
      if (text.includes('first\n') && !existsSync(signal)) {
        // The function is still waiting for this file: the chunk came while it ran.
        order.push('first chunk read');
        writeFileSync(signal, 'go');
      }
      if (text.includes('last\n') && !order.includes('last chunk read')) order.push('last chunk read');
    });
    assert.equal(code, 0);
    assert.deepEqual(order, ['first chunk read', 'last chunk read']);
    const [head, body] = output.split('\r\n\r\n');
    assert.match(head!, /^HTTP\/1\.1 201/);
    assert.match(head!, /\r\nx-streamed: yes/i);
    assert.match(head!, /\r\nset-cookie: flavour=smoked/i);
    assert.match(head!, /\r\ntransfer-encoding: chunked/i);
    assert.equal(body, 'first\nlast\n');
  });

  it('ends the response unfinished when the function fails after it began (curl sees the transfer cut)', async () => {
    const { code, output } = await curlStreaming(`${url}?fail=1`, () => {});
    assert.match(output, /^HTTP\/1\.1 201/);
    assert.ok(output.includes('first\n'));
    assert.equal(code, 18, 'curl: partial file (the chunked body never ended)');
  });

  it('survives a function that streams headers HTTP cannot carry, or answers its invocation twice', async () => {
    const bad = `
const http = require('http');
exports.handler = awslambda.streamifyResponse(async (event, responseStream, context) => {
  if (event.rawPath === '/header') {
    const stream = awslambda.HttpResponseStream.from(responseStream, { statusCode: 200, headers: { 'x-evil': 'a\\r\\nb' } });
    stream.end('no');
    return;
  }
  // A second streamed answer for its own invocation, straight to the Runtime API, while the first runs.
  responseStream.setContentType('text/plain');
  responseStream.write('first;');
  const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
  const status = await new Promise((resolve) => {
    const req = http.request({ host, port, method: 'POST', path: '/2018-06-01/runtime/invocation/' + context.awsRequestId + '/response',
      headers: { 'Lambda-Runtime-Function-Response-Mode': 'streaming', 'Content-Type': 'text/html', 'Transfer-Encoding': 'chunked' } }, (res) => { res.resume(); resolve(res.statusCode); });
    req.on('error', (err) => resolve(err.code));
    req.end('second');
  });
  responseStream.end('second answer: ' + status);
});
`;
    await server.lambda.send(new CreateFunctionCommand({ ...(await nodeFunction('bad-streamer', bad)), Timeout: 20 }));
    await waitUntilFunctionActiveV2({ client: server.lambda, maxWaitTime: 30 }, { FunctionName: 'bad-streamer' });
    const badUrl = (await server.lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: 'bad-streamer', AuthType: 'NONE', InvokeMode: 'RESPONSE_STREAM' }))).FunctionUrl!;
    const header = await curlStreaming(`${badUrl}header`, () => {});
    assert.match(header.output, /^HTTP\/1\.1 502/);
    const twice = await curlStreaming(`${badUrl}twice`, () => {});
    assert.match(twice.output, /^HTTP\/1\.1 200/);
    assert.ok(twice.output.endsWith('first;second answer: 400'), twice.output);
    // And the server is still there.
    const again = await curlStreaming(`${url}?waitFor=${encodeURIComponent(join(work, 'go'))}`, () => {});
    assert.ok(again.output.endsWith('first\nlast\n'));
  });

  it('streams the same handler through the SDK’s InvokeWithResponseStream: every chunk, then InvokeComplete', async () => {
    const signal = join(work, 'sdk-go');
    const seen: string[] = [];
    const result = await streamInvoke(server.lambda, { FunctionName: 'streamer', Payload: Buffer.from(JSON.stringify({ waitFor: signal })) }, (chunk) => {
      seen.push(chunk);
      if (!existsSync(signal)) writeFileSync(signal, 'go');
    });
    const body = result.events.filter((e) => e.chunk !== undefined).map((e) => e.chunk).join('');
    // Through Invoke the prelude is part of the stream, as on Lambda: JSON, eight NULs, the body.
    assert.ok(body.endsWith('first\nlast\n'), JSON.stringify(body));
    assert.ok(body.includes('"statusCode":201'));
    assert.equal(result.contentType, 'application/vnd.awslambda.http-integration-response');
    assert.deepEqual(result.events.at(-1), { complete: {} });

    const failed = await streamInvoke(server.lambda, { FunctionName: 'streamer', Payload: Buffer.from('{"fail":true}') });
    const complete = failed.events.at(-1)!.complete!;
    assert.ok(complete.ErrorCode, 'an error mid-stream arrives in InvokeComplete');
    assert.match(complete.ErrorDetails ?? '', /broke mid-stream/);
  });
});
