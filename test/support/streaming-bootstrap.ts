import { InvokeWithResponseStreamCommand, type InvokeWithResponseStreamCommandInput, type LambdaClient } from '@aws-sdk/client-lambda';
import { zipFiles } from '../../src/code/index.js';

/**
 * A custom runtime (`provided.al2023` bootstrap, in Node, no library) that answers with Lambda's
 * streaming protocol: `Lambda-Runtime-Function-Response-Mode: streaming`, a chunked body and the
 * error trailers. The event says what to do:
 * - `{chunks: [..], waitFor?: path}`: streams the chunks; after the first, waits for `path` to exist.
 * - `{chunks: [..], fail: true}`: streams the chunks, then ends with an error in the trailers.
 * - `{chunks: [..], hang: true}`: streams the chunks and never ends (the function's timeout).
 * - `{chunks: [..], exit: n}`: streams the chunks, then the runtime exits with status n.
 * - `{bytes: n}`: streams n bytes in 64 KB chunks.
 * - `{buffered: value}`: answers `value` the ordinary way (no streaming).
 * - `{forge: path}`: first streams a response for the previous request id (and a made-up one),
 *   writing the Runtime API's statuses to `path`, then streams `ok`.
 */
export const STREAMING_BOOTSTRAP = String.raw`#!/usr/bin/env node
const http = require('http');
const fs = require('fs');
const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
const agent = new http.Agent({ keepAlive: true });
const base = '/2018-06-01/runtime/invocation/';
let previous = 'never-issued';

function next() {
  http.get({ agent, host, port, path: base + 'next' }, (res) => {
    const parts = [];
    res.on('data', (c) => parts.push(c));
    res.on('end', () => handle(res.headers['lambda-runtime-aws-request-id'], JSON.parse(Buffer.concat(parts).toString())));
  });
}

function post(id, headers, body, done) {
  const req = http.request({ agent, host, port, method: 'POST', path: base + id + '/response', headers }, (res) => {
    res.resume();
    res.on('end', () => done && done(res.statusCode));
  });
  if (body !== undefined) req.end(body);
  return req;
}

function stream(id, contentType, done) {
  const req = post(id, {
    'Lambda-Runtime-Function-Response-Mode': 'streaming',
    'Transfer-Encoding': 'chunked',
    'Content-Type': contentType,
    Trailer: 'Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body',
  }, undefined, done);
  req.flushHeaders();
  return req;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function handle(id, event) {
  const finish = () => { previous = id; next(); };
  if (event.buffered !== undefined) return post(id, { 'Content-Type': 'application/json' }, JSON.stringify(event.buffered), finish);
  if (event.forge) {
    const statuses = [];
    for (const other of [previous, 'made-up-request-id']) {
      const code = await new Promise((resolve) => { const req = stream(other, 'text/plain', resolve); req.end('forged'); });
      statuses.push(code);
    }
    fs.writeFileSync(event.forge, JSON.stringify(statuses));
    const req = stream(id, 'text/plain', finish);
    return req.end('ok');
  }
  const req = stream(id, event.contentType || 'text/plain', finish);
  if (event.bytes) {
    const block = Buffer.alloc(65536, 120);
    for (let left = event.bytes; left > 0; left -= block.length) {
      if (!req.write(left >= block.length ? block : block.subarray(0, left))) await new Promise((r) => req.once('drain', r));
    }
    return req.end();
  }
  for (const [i, chunk] of event.chunks.entries()) {
    req.write(chunk);
    if (i === 0 && event.waitFor) while (!fs.existsSync(event.waitFor)) await sleep(20);
    else await sleep(10);
  }
  if (event.hang) return;
  if (event.exit !== undefined) process.exit(event.exit);
  if (event.fail) {
    const error = { errorType: 'StreamBroke', errorMessage: 'the stream broke after ' + event.chunks.length + ' chunks', trace: [] };
    req.addTrailers({
      'Lambda-Runtime-Function-Error-Type': 'StreamBroke',
      'Lambda-Runtime-Function-Error-Body': Buffer.from(JSON.stringify(error)).toString('base64'),
    });
  }
  req.end();
}

next();
`;

/** The CreateFunction input of a function running STREAMING_BOOTSTRAP. */
export async function streamingFunction(name: string, role: string, timeout = 10): Promise<{ FunctionName: string; Runtime: 'provided.al2023'; Handler: string; Role: string; Timeout: number; Code: { ZipFile: Buffer } }> {
  return {
    FunctionName: name,
    Runtime: 'provided.al2023',
    Handler: 'stream.handler',
    Role: role,
    Timeout: timeout,
    Code: { ZipFile: await zipFiles({ bootstrap: { content: STREAMING_BOOTSTRAP, mode: 0o755 } }) },
  };
}

export interface StreamedEvent {
  chunk?: string;
  complete?: { ErrorCode?: string; ErrorDetails?: string; LogResult?: string };
}

/**
 * InvokeWithResponseStream with the AWS SDK, every event in order; `onChunk` runs as each chunk
 * arrives (before the next is read).
 */
export async function streamInvoke(
  lambda: LambdaClient,
  input: InvokeWithResponseStreamCommandInput,
  onChunk?: (chunk: string, index: number) => void,
): Promise<{ events: StreamedEvent[]; executedVersion?: string; contentType?: string }> {
  const out = await lambda.send(new InvokeWithResponseStreamCommand(input));
  const events: StreamedEvent[] = [];
  let index = 0;
  for await (const event of out.EventStream ?? []) {
    if (event.PayloadChunk?.Payload) {
      const chunk = Buffer.from(event.PayloadChunk.Payload).toString('utf8');
      events.push({ chunk });
      onChunk?.(chunk, index++);
    } else if (event.InvokeComplete) {
      const { ErrorCode, ErrorDetails, LogResult } = event.InvokeComplete;
      events.push({ complete: { ...(ErrorCode ? { ErrorCode } : {}), ...(ErrorDetails ? { ErrorDetails } : {}), ...(LogResult ? { LogResult } : {}) } });
    }
  }
  return {
    events,
    ...(out.ExecutedVersion ? { executedVersion: out.ExecutedVersion } : {}),
    ...(out.ResponseStreamContentType ? { contentType: out.ResponseStreamContentType } : {}),
  };
}
