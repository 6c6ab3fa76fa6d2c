import { CreateFunctionCommand, InvokeCommand, InvokeWithResponseStreamCommand } from '@aws-sdk/client-lambda';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { zipFiles } from '../src/code/index.js';
import { ricForTest } from './support/aws-lambda-ric.js';
import { adminProfile, signedFetch, signedLambda } from './support/auth.js';
import { rejectsWith } from './support/functions.js';
import { json, ROLE, startTestServer, type TestServer } from './support/kindling.js';
import { scratchDir } from './support/scratch.js';
import { streamingFunction, streamInvoke } from './support/streaming-bootstrap.js';

const MB = 1024 * 1024;

function payload(event: unknown): Buffer {
  return Buffer.from(JSON.stringify(event));
}

describe('response streaming: InvokeWithResponseStream and the Runtime API streaming protocol', () => {
  let server: TestServer;
  const dir = scratchDir('kindling-streaming-');

  before(async () => {
    server = await startTestServer();
    // 30 s: past 6 MB a stream runs at Lambda's 2 MB/s, and the 20 MB cap is 7 s beyond that.
    await server.lambda.send(new CreateFunctionCommand(await streamingFunction('streamer', ROLE, 30)));
    await server.lambda.send(new CreateFunctionCommand(await streamingFunction('slowpoke', ROLE, 2)));
  });

  after(async () => {
    await server?.close();
  });

  it('yields every chunk in order, then InvokeComplete, with the executed version', async () => {
    const chunks = ['one ', 'two ', 'three ', 'four'];
    const { events, executedVersion, contentType } = await streamInvoke(server.lambda, {
      FunctionName: 'streamer',
      Payload: payload({ chunks }),
      LogType: 'Tail',
    });
    assert.deepEqual(events.slice(0, -1), chunks.map((chunk) => ({ chunk })));
    const complete = events.at(-1)!.complete!;
    assert.equal(complete.ErrorCode, undefined);
    assert.match(Buffer.from(complete.LogResult ?? '', 'base64').toString('utf8'), /REPORT RequestId/);
    assert.equal(executedVersion, '$LATEST');
    // The model's ResponseStreamContentType: the Content-Type header carries the function's type.
    assert.equal(contentType, 'text/plain');
  });

  it('sends the first chunk to the client before the function finishes', async () => {
    // The function writes its first chunk, then waits for a file that the test writes only once
    // it has read that chunk: the invoke could not complete if the chunk were held back.
    const signal = join(dir, 'go');
    const order: string[] = [];
    const { events } = await streamInvoke(server.lambda, { FunctionName: 'streamer', Payload: payload({ chunks: ['first', 'second'], waitFor: signal }) }, (chunk) => {
      order.push(`chunk ${chunk}`);
      if (!existsSync(signal)) {
        order.push('signal');
        writeFileSync(signal, 'go');
      }
    });
    assert.deepEqual(order, ['chunk first', 'signal', 'chunk second']);
    assert.deepEqual(events.at(-1), { complete: {} });
  });

  it('an error mid-stream arrives as InvokeComplete ErrorCode and ErrorDetails, after the chunks written', async () => {
    const { events } = await streamInvoke(server.lambda, { FunctionName: 'streamer', Payload: payload({ chunks: ['a', 'b'], fail: true }) });
    assert.deepEqual(events, [{ chunk: 'a' }, { chunk: 'b' }, { complete: { ErrorCode: 'StreamBroke', ErrorDetails: 'the stream broke after 2 chunks' } }]);
  });

  it('a timeout mid-stream ends the stream with Sandbox.Timedout, and the next invoke gets a fresh environment', async () => {
    const { events } = await streamInvoke(server.lambda, { FunctionName: 'slowpoke', Payload: payload({ chunks: ['partial'], hang: true }) });
    assert.deepEqual(events[0], { chunk: 'partial' });
    assert.equal(events.length, 2);
    assert.equal(events[1]!.complete!.ErrorCode, 'Sandbox.Timedout');
    assert.match(events[1]!.complete!.ErrorDetails ?? '', /Task timed out after 2.00 seconds/);
    const again = await streamInvoke(server.lambda, { FunctionName: 'slowpoke', Payload: payload({ chunks: ['fine'] }) });
    assert.deepEqual(again.events, [{ chunk: 'fine' }, { complete: {} }]);
  });

  it('a crash mid-stream ends the stream with Runtime.ExitError after the chunks sent', async () => {
    const { events } = await streamInvoke(server.lambda, { FunctionName: 'streamer', Payload: payload({ chunks: ['x', 'y'], exit: 3 }) });
    assert.deepEqual(events.slice(0, 2), [{ chunk: 'x' }, { chunk: 'y' }]);
    assert.equal(events[2]!.complete!.ErrorCode, 'Runtime.ExitError');
    assert.match(events[2]!.complete!.ErrorDetails ?? '', /exit status 3/);
  });

  it('a client that goes away mid-stream does not stop the function nor harm the server', async () => {
    const signal = join(dir, 'gone');
    const aborter = new AbortController();
    const res = await fetch(`${server.kindling.url}/2021-11-15/functions/streamer/response-streaming-invocations`, {
      method: 'POST',
      body: JSON.stringify({ chunks: ['first', 'second', 'third'], waitFor: signal }),
      signal: aborter.signal,
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/plain');
    const reader = res.body!.getReader();
    await reader.read();
    aborter.abort();
    writeFileSync(signal, 'go');
    const { events } = await streamInvoke(server.lambda, { FunctionName: 'streamer', Payload: payload({ chunks: ['after'] }) });
    assert.deepEqual(events, [{ chunk: 'after' }, { complete: {} }]);
  });

  it('Invoke (buffered) of a streaming function answers the whole body, and its error as a function error', async () => {
    const out = await server.lambda.send(new InvokeCommand({ FunctionName: 'streamer', Payload: payload({ chunks: ['{"a":', '1,', '"b":2}'] }) }));
    assert.equal(out.FunctionError, undefined);
    assert.deepEqual(json(out.Payload), { a: 1, b: 2 });
    const failed = await server.lambda.send(new InvokeCommand({ FunctionName: 'streamer', Payload: payload({ chunks: ['x'], fail: true }) }));
    assert.equal(failed.FunctionError, 'Unhandled');
    assert.deepEqual(json(failed.Payload), { errorType: 'StreamBroke', errorMessage: 'the stream broke after 1 chunks', trace: [] });
  });

  it('a function that answers whole still answers through the event stream: one PayloadChunk and InvokeComplete', async () => {
    const { events } = await streamInvoke(server.lambda, { FunctionName: 'streamer', Payload: payload({ buffered: { whole: true } }) });
    assert.deepEqual(events, [{ chunk: '{"whole":true}' }, { complete: {} }]);
  });

  it('caps a streamed response at 20 MB (Function.ResponseSizeTooLarge), and a gathered one at 6 MB', async () => {
    let received = 0;
    const began = performance.now();
    const { events } = await streamInvoke(server.lambda, { FunctionName: 'streamer', Payload: payload({ bytes: 21 * MB }) }, (chunk) => {
      received += chunk.length;
    });
    // 6 MB at once, then Lambda's 2 MB/s up to the cap: 14 MB take at least 7 s (a bound the pace
    // sets, not a wall-clock goal: a slow machine only adds to it; unpaced, loopback takes well under 2 s).
    assert.ok(performance.now() - began >= 6900, `the bytes past the first 6 MB went at 2 MB/s (${Math.round(performance.now() - began)} ms)`);
    assert.ok(received <= 20 * MB, `${received} bytes streamed`);
    assert.ok(received > 6 * MB, `${received} bytes streamed`);
    assert.equal(events.at(-1)!.complete!.ErrorCode, 'Function.ResponseSizeTooLarge');

    const under = await streamInvoke(server.lambda, { FunctionName: 'streamer', Payload: payload({ bytes: 8 * MB }) });
    assert.equal(under.events.at(-1)!.complete!.ErrorCode, undefined);

    const gathered = await server.lambda.send(new InvokeCommand({ FunctionName: 'streamer', Payload: payload({ bytes: 7 * MB }) }));
    assert.equal(gathered.FunctionError, 'Unhandled');
    assert.equal((json(gathered.Payload) as { errorType: string }).errorType, 'Function.ResponseSizeTooLarge');
  });

  it('refuses a streamed response for another request id (a finished one, a made-up one): nothing reaches the client', async () => {
    await streamInvoke(server.lambda, { FunctionName: 'streamer', Payload: payload({ chunks: ['before'] }) });
    const statuses = join(dir, 'forged.json');
    const { events } = await streamInvoke(server.lambda, { FunctionName: 'streamer', Payload: payload({ forge: statuses }) });
    assert.deepEqual(JSON.parse(readFileSync(statuses, 'utf8')), [400, 400]);
    assert.deepEqual(events, [{ chunk: 'ok' }, { complete: {} }]);
  });

  it('validates as Lambda does: InvocationType, LogType, Qualifier; errors before the stream are AWS errors', async () => {
    const send = (input: Record<string, unknown>) =>
      server.lambda.send(new InvokeWithResponseStreamCommand({ FunctionName: 'streamer', Payload: payload({ chunks: ['x'] }), ...input }));
    await rejectsWith(send({ InvocationType: 'Event' }), 'ValidationException', 400, /RequestResponse, DryRun/);
    await rejectsWith(send({ LogType: 'Verbose' }), 'ValidationException', 400, /None, Tail/);
    await rejectsWith(send({ Qualifier: 'no such!' }), 'ValidationException', 400);
    await rejectsWith(send({ ClientContext: Buffer.from('not json').toString('base64') }), 'InvalidRequestContentException', 400);
    await rejectsWith(send({ FunctionName: 'nobody-home' }), 'ResourceNotFoundException', 404, /nobody-home/);
    await rejectsWith(send({ Qualifier: '7' }), 'ResourceNotFoundException', 404);
    const dry = await send({ InvocationType: 'DryRun' });
    assert.equal(dry.StatusCode, 204);
  });
});

describe('InvokeWithResponseStream is lambda:InvokeFunction on the function, for signed callers', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ auth: 'sigv4' });
    await server.lambda.send(new CreateFunctionCommand(await streamingFunction('guarded', ROLE)));
  });

  after(async () => {
    await server?.close();
  });

  it('refuses a key without lambda:InvokeFunction on the function, and an unsigned request', async () => {
    const admin = adminProfile(server.dataDir);
    const created = await signedFetch(
      server.kindling.url,
      admin,
      'POST',
      '/kindling/keys',
      JSON.stringify({
        UserName: 'reader',
        Policies: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['lambda:GetFunction', 'lambda:InvokeFunction'], Resource: 'arn:aws:lambda:us-east-1:000000000000:function:other' }] }],
      }),
      'kindling',
    );
    assert.equal(created.status, 201);
    const key = (await created.json()) as { AccessKeyId: string; SecretAccessKey: string };
    const reader = signedLambda(server.kindling.url, { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey });
    await rejectsWith(
      reader.send(new InvokeWithResponseStreamCommand({ FunctionName: 'guarded', Payload: payload({ chunks: ['secret'] }) })),
      'AccessDeniedException',
      403,
      /not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:000000000000:function:guarded/,
    );
    reader.destroy();
    const unsigned = await fetch(`${server.kindling.url}/2021-11-15/functions/guarded/response-streaming-invocations`, { method: 'POST', body: '{"chunks":["secret"]}' });
    assert.equal(unsigned.status, 403);
    assert.doesNotMatch(await unsigned.text(), /secret/);
    const { events } = await streamInvoke(server.lambda, { FunctionName: 'guarded', Payload: payload({ chunks: ['for the admin'] }) });
    assert.deepEqual(events, [{ chunk: 'for the admin' }, { complete: {} }]);
  });
});

const ric = await ricForTest();

/** Handlers written for Lambda's Node.js runtime, with the `awslambda` global the stock ric provides. */
const RIC_HANDLERS = `
exports.chunks = awslambda.streamifyResponse(async (event, responseStream) => {
  responseStream.setContentType('text/plain');
  for (const word of event.words) {
    responseStream.write(word);
    await new Promise((r) => setTimeout(r, 10));
  }
  if (event.fail) throw new TypeError('gave up after ' + event.words.length + ' words');
  responseStream.end();
});
exports.http = awslambda.streamifyResponse(async (event, responseStream) => {
  const stream = awslambda.HttpResponseStream.from(responseStream, { statusCode: 201, headers: { 'x-kind': 'url' } });
  stream.write('hello');
  stream.end();
});
`;

describe('response streaming from the stock aws-lambda-ric', { skip: 'unavailable' in ric ? ric.unavailable : false }, () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer();
    const dir = 'dir' in ric ? ric.dir : '';
    const files = {
      bootstrap: { content: `#!/bin/sh\nexec ${process.execPath} "$LAMBDA_TASK_ROOT/ric/index.mjs" "$_HANDLER"\n`, mode: 0o755 },
      'ric/index.mjs': readFileSync(join(dir, 'index.mjs')),
      'ric/rapid-client.node': { content: readFileSync(join(dir, 'rapid-client.node')), mode: 0o755 },
      'index.js': RIC_HANDLERS,
    };
    for (const name of ['chunks', 'http']) {
      await server.lambda.send(
        new CreateFunctionCommand({ FunctionName: `ric-${name}`, Runtime: 'provided.al2023', Handler: `index.${name}`, Role: ROLE, Code: { ZipFile: await zipFiles(files) } }),
      );
    }
  });

  after(async () => {
    await server?.close();
  });

  it('streams what a streamifyResponse handler writes, and its error as InvokeComplete', async () => {
    const ok = await streamInvoke(server.lambda, { FunctionName: 'ric-chunks', Payload: payload({ words: ['alpha ', 'beta ', 'gamma'] }) });
    assert.equal(ok.events.map((e) => e.chunk ?? '').join(''), 'alpha beta gamma');
    assert.deepEqual(ok.events.at(-1), { complete: {} });
    const failed = await streamInvoke(server.lambda, { FunctionName: 'ric-chunks', Payload: payload({ words: ['one ', 'two'], fail: true }) });
    assert.equal(failed.events.map((e) => e.chunk ?? '').join(''), 'one two');
    assert.equal(failed.events.at(-1)!.complete!.ErrorCode, 'TypeError');
    assert.equal(failed.events.at(-1)!.complete!.ErrorDetails, 'gave up after 2 words');
  });

  it('passes an HttpResponseStream prelude through as written (JSON, 8 NUL bytes, then the body)', async () => {
    const { events } = await streamInvoke(server.lambda, { FunctionName: 'ric-http', Payload: payload({}) });
    const body = events.map((e) => e.chunk ?? '').join('');
    const [prelude, rest] = body.split('\0'.repeat(8));
    assert.deepEqual(JSON.parse(prelude!), { statusCode: 201, headers: { 'x-kind': 'url' } });
    assert.equal(rest, 'hello');
  });
});
