import {
  CreateAliasCommand,
  CreateFunctionCommand,
  CreateFunctionUrlConfigCommand,
  PublishVersionCommand,
  PutFunctionConcurrencyCommand,
  waitUntilFunctionActiveV2,
  type CreateFunctionUrlConfigCommandInput,
} from '@aws-sdk/client-lambda';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { zipFiles } from '../src/code/index.js';
import { nodeFunction } from './support/functions.js';
import { localFetch } from './support/auth.js';
import { packageFiles } from './support/node-packages.js';
import { startTestServer, type TestServer } from './support/kindling.js';

/** The event back as JSON: what the function saw. */
const ECHO = `exports.handler = async (event) => ({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(event) });\n`;

interface Curl {
  status: number;
  headers: Record<string, string[]>;
  body: string;
}

/** curl, which resolves `*.localhost` to loopback itself, as a browser does. */
export function curl(url: string, args: readonly string[] = []): Promise<Curl> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-s', '-S', '-i', '--max-time', '60', ...args, url], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }, (err, stdout) => {
      if (err) return reject(err);
      const split = stdout.indexOf('\r\n\r\n');
      const [statusLine, ...lines] = stdout.slice(0, split).split('\r\n');
      const headers: Record<string, string[]> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        (headers[line.slice(0, colon).toLowerCase()] ??= []).push(line.slice(colon + 1).trim());
      }
      resolve({ status: Number(statusLine!.split(' ')[1]), headers, body: stdout.slice(split + 4) });
    });
  });
}

describe('function URLs (payload format 2.0, buffered)', () => {
  let server: TestServer;
  const urls = new Map<string, string>();

  const deploy = async (name: string, files: Record<string, string | Buffer>, url: Partial<CreateFunctionUrlConfigCommandInput> = {}, extra = {}) => {
    await server.lambda.send(new CreateFunctionCommand({ ...(await nodeFunction(name)), Code: { ZipFile: await zipFiles(files) }, Timeout: 5, ...extra }));
    await waitUntilFunctionActiveV2({ client: server.lambda, maxWaitTime: 30 }, { FunctionName: name });
    const created = await server.lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: name, AuthType: 'NONE', ...url }));
    urls.set(name, created.FunctionUrl!);
    return created.FunctionUrl!;
  };

  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it('hands the function the request as Lambda’s 2.0 event: path, query, cookies, joined headers, context', async () => {
    const url = await deploy('echo', { 'index.js': ECHO });
    assert.match(url, /^http:\/\/[a-z0-9]{32}\.lambda-url\.us-east-1\.localhost:\d+\/$/);
    const res = await curl(`${url}some/pa%20th?x=1&y=two&x=3&empty=`, ['-H', 'X-Multi: a', '-H', 'X-Multi: b', '-H', 'Cookie: a=1; b=2', '-A', 'kindling-test']);
    assert.equal(res.status, 200, res.body);
    const event = JSON.parse(res.body) as Record<string, any>;
    assert.equal(event.version, '2.0');
    assert.equal(event.routeKey, '$default');
    assert.equal(event.rawPath, '/some/pa%20th');
    assert.equal(event.rawQueryString, 'x=1&y=two&x=3&empty=');
    assert.deepEqual(event.queryStringParameters, { x: '1,3', y: 'two', empty: '' });
    assert.deepEqual(event.cookies, ['a=1', 'b=2']);
    assert.equal(event.headers['x-multi'], 'a,b');
    assert.equal(event.headers.cookie, undefined);
    assert.equal(event.headers['user-agent'], 'kindling-test');
    assert.equal(event.isBase64Encoded, false);
    assert.equal(event.body, undefined);
    const urlId = new URL(url).hostname.split('.')[0];
    const context = event.requestContext;
    assert.equal(context.apiId, urlId);
    assert.equal(context.domainPrefix, urlId);
    assert.equal(context.domainName, new URL(url).hostname);
    assert.equal(context.http.method, 'GET');
    assert.equal(context.http.path, '/some/pa th');
    assert.equal(context.http.sourceIp, '127.0.0.1');
    assert.equal(context.stage, '$default');
    assert.equal(context.requestId, res.headers['x-amzn-requestid']![0]);
    assert.equal(typeof context.timeEpoch, 'number');
    assert.match(context.time, /^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    assert.equal(context.authorizer, undefined);
  });

  it('passes text bodies as text and binary ones base64-encoded', async () => {
    const url = urls.get('echo')!;
    const text = await localFetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"hello":"wörld"}' });
    const textEvent = (await text.json()) as { body: string; isBase64Encoded: boolean };
    assert.deepEqual([textEvent.body, textEvent.isBase64Encoded], ['{"hello":"wörld"}', false]);
    const bytes = Buffer.from([0, 1, 2, 255, 254, 10, 13]);
    const binary = await localFetch(url, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: bytes });
    const binaryEvent = (await binary.json()) as { body: string; isBase64Encoded: boolean; requestContext: { http: { method: string } } };
    assert.equal(binaryEvent.isBase64Encoded, true);
    assert.deepEqual(Buffer.from(binaryEvent.body, 'base64'), bytes);
    assert.equal(binaryEvent.requestContext.http.method, 'PUT');
  });

  it('maps answers as Lambda does: status, headers, cookies, base64 bodies, bare strings and objects', async () => {
    const url = await deploy('shapes', {
      'index.js': `exports.handler = async (event) => {
        switch (event.rawPath) {
          case '/string': return 'just text';
          case '/object': return { a: 1, list: [1, 2] };
          case '/binary': return { statusCode: 200, headers: { 'content-type': 'image/png' }, isBase64Encoded: true, body: Buffer.from([137, 80, 78, 71, 0, 255]).toString('base64') };
          default: return { statusCode: 201, headers: { 'x-custom': 'yes', 'content-type': 'text/plain' }, cookies: ['s=1; Path=/', 't=2; HttpOnly'], body: 'created' };
        }
      };\n`,
    });
    const full = await curl(`${url}full`);
    assert.equal(full.status, 201);
    assert.equal(full.body, 'created');
    assert.deepEqual(full.headers['x-custom'], ['yes']);
    assert.deepEqual(full.headers['set-cookie'], ['s=1; Path=/', 't=2; HttpOnly']);
    const string = await localFetch(`${url}string`);
    assert.equal(string.status, 200);
    assert.equal(string.headers.get('content-type'), 'application/json');
    assert.equal(await string.text(), 'just text');
    const object = await localFetch(`${url}object`);
    assert.deepEqual(await object.json(), { a: 1, list: [1, 2] });
    const binary = await localFetch(`${url}binary`);
    assert.equal(binary.headers.get('content-type'), 'image/png');
    assert.deepEqual(Buffer.from(await binary.arrayBuffer()), Buffer.from([137, 80, 78, 71, 0, 255]));
  });

  it('answers 502 for a function error and a timeout, 413 for a body over 6 MB', async () => {
    const url = await deploy('failing', {
      'index.js': `exports.handler = async (event) => {
        if (event.rawPath === '/slow') await new Promise((r) => setTimeout(r, 10000));
        throw new Error('boom');
      };\n`,
    }, {}, { Timeout: 1 });
    const failed = await curl(`${url}`);
    assert.equal(failed.status, 502);
    assert.deepEqual(JSON.parse(failed.body), { Message: 'Internal Server Error' });
    const slow = await curl(`${url}slow`);
    assert.equal(slow.status, 502);
    const big = await localFetch(urls.get('echo')!, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x'.repeat(6 * 1024 * 1024 + 1) });
    assert.equal(big.status, 413);
    assert.equal(big.headers.get('x-amzn-errortype'), 'RequestTooLargeException');
  });

  it('answers 429 with Retry-After when the function may not run (reserved concurrency 0)', async () => {
    const url = await deploy('throttled', { 'index.js': ECHO });
    await server.lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'throttled', ReservedConcurrentExecutions: 0 }));
    const res = await curl(url);
    assert.equal(res.status, 429);
    assert.deepEqual(res.headers['retry-after'], ['1']);
    assert.deepEqual(res.headers['x-amzn-errortype'], ['TooManyRequestsException']);
  });

  it('runs an unchanged Express app through serverless-http', async () => {
    const app = `
      const express = require('express');
      const serverless = require('serverless-http');
      const app = express();
      app.use(express.json());
      app.get('/users/:id', (req, res) => res.cookie('seen', req.params.id).json({ id: req.params.id, tags: req.query.tag, cookies: req.headers.cookie }));
      app.post('/echo', (req, res) => res.status(201).json({ got: req.body }));
      app.get('/bytes', (req, res) => res.type('application/octet-stream').send(Buffer.from([0, 1, 2, 3, 250])));
      app.use((req, res) => res.status(404).send('no route ' + req.path));
      // serverless-http base64-encodes only the types it is told are binary, on Lambda as here.
      exports.handler = serverless(app, { binary: ['application/octet-stream'] });
    `;
    const url = await deploy('express', { 'index.js': app, ...packageFiles(['express', 'serverless-http']) });
    const user = await curl(`${url}users/42?tag=a&tag=b`, ['-H', 'Cookie: k=v']);
    assert.equal(user.status, 200, user.body);
    assert.deepEqual(JSON.parse(user.body), { id: '42', tags: ['a', 'b'], cookies: 'k=v' });
    assert.match(user.headers['set-cookie']![0]!, /^seen=42; Path=\//);
    const posted = await localFetch(`${url}echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ n: 1 }) });
    assert.equal(posted.status, 201);
    assert.deepEqual(await posted.json(), { got: { n: 1 } });
    const bytes = await localFetch(`${url}bytes`);
    assert.deepEqual(Buffer.from(await bytes.arrayBuffer()), Buffer.from([0, 1, 2, 3, 250]));
    const missing = await localFetch(`${url}nowhere`);
    assert.equal(missing.status, 404);
    assert.equal(await missing.text(), 'no route /nowhere');
  });

  it('runs a middy API: JSON body parsing and its HTTP error handler', async () => {
    // Middy 6 is ES modules only, as many current packages are: the handler is index.mjs.
    const handler = `
      import middy from '@middy/core';
      import jsonBodyParser from '@middy/http-json-body-parser';
      import httpErrorHandler from '@middy/http-error-handler';
      export const handler = middy()
        .use(httpErrorHandler())
        .use(jsonBodyParser())
        .handler(async (event) => ({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sum: event.body.a + event.body.b }) }));
    `;
    const files = packageFiles(['@middy/core', '@middy/http-json-body-parser', '@middy/http-error-handler']);
    const url = await deploy('middy', { 'index.mjs': handler, ...files });
    const ok = await localFetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":2,"b":3}' });
    assert.equal(ok.status, 200, await ok.clone().text());
    assert.deepEqual(await ok.json(), { sum: 5 });
    const bad = await localFetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' });
    assert.equal(bad.status, 415);
    assert.equal(await bad.text(), 'Invalid or malformed JSON was provided');
  });

  it('answers CORS preflights itself and adds the configured headers to responses', async () => {
    const cors = { AllowOrigins: ['https://app.example'], AllowMethods: ['GET', 'POST'], AllowHeaders: ['x-token'], ExposeHeaders: ['x-custom'], MaxAge: 600, AllowCredentials: true };
    // The function fails for OPTIONS: a preflight that reached it would answer 502.
    const url = await deploy('cors', {
      'index.js': `exports.handler = async (event) => {
        if (event.requestContext.http.method === 'OPTIONS') throw new Error('a preflight reached the function');
        return { statusCode: 200, headers: { 'x-custom': '1', 'access-control-allow-origin': 'https://evil.example' }, body: 'ok' };
      };\n`,
    }, { Cors: cors });
    const preflight = await curl(url, ['-X', 'OPTIONS', '-H', 'Origin: https://app.example', '-H', 'Access-Control-Request-Method: POST']);
    assert.equal(preflight.status, 200);
    assert.deepEqual(preflight.headers['access-control-allow-origin'], ['https://app.example']);
    assert.deepEqual(preflight.headers['access-control-allow-methods'], ['GET,POST']);
    assert.deepEqual(preflight.headers['access-control-allow-headers'], ['x-token']);
    assert.deepEqual(preflight.headers['access-control-max-age'], ['600']);
    assert.deepEqual(preflight.headers['access-control-allow-credentials'], ['true']);
    const get = await curl(url, ['-H', 'Origin: https://app.example']);
    assert.equal(get.status, 200);
    assert.deepEqual(get.headers['access-control-allow-origin'], ['https://app.example']);
    assert.deepEqual(get.headers['access-control-expose-headers'], ['x-custom']);
    const other = await curl(url, ['-H', 'Origin: https://evil.example']);
    assert.equal(other.headers['access-control-allow-origin'], undefined, 'an origin the configuration does not allow gets no CORS headers, whatever the function says');
    const otherPreflight = await curl(url, ['-X', 'OPTIONS', '-H', 'Origin: https://evil.example', '-H', 'Access-Control-Request-Method: POST']);
    assert.equal(otherPreflight.headers['access-control-allow-origin'], undefined);
  });

  it('routes a URL on an alias to the alias’s version', async () => {
    await deploy('aliased', { 'index.js': `exports.handler = async () => 'v1';\n` });
    const v1 = await server.lambda.send(new PublishVersionCommand({ FunctionName: 'aliased' }));
    await server.lambda.send(new CreateAliasCommand({ FunctionName: 'aliased', Name: 'live', FunctionVersion: v1.Version! }));
    const live = await server.lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: 'aliased', Qualifier: 'live', AuthType: 'NONE' }));
    assert.notEqual(live.FunctionUrl, urls.get('aliased'));
    assert.equal(await (await localFetch(live.FunctionUrl!)).text(), 'v1');
  });

  it('never lets a function frame the response: framing headers dropped, a header HTTP cannot carry answers 502', async () => {
    const url = await deploy('framing', {
      'index.js': `exports.handler = async (event) => {
        if (event.rawPath === '/split') return { statusCode: 200, headers: { 'x-evil': 'a\\r\\nSet-Cookie: stolen=1' }, body: 'no' };
        if (event.rawPath === '/status') return { statusCode: 101, body: 'no' };
        return { statusCode: 200, headers: { 'content-length': '2', 'transfer-encoding': 'chunked', connection: 'close' }, body: 'the whole body' };
      };\n`,
    });
    const split = await curl(`${url}split`);
    assert.equal(split.status, 502);
    assert.equal(split.headers['set-cookie'], undefined);
    assert.equal((await curl(`${url}status`)).status, 502);
    const framed = await curl(`${url}framed`);
    assert.equal(framed.status, 200);
    assert.equal(framed.body, 'the whole body');
    assert.deepEqual(framed.headers['content-length'], [String('the whole body'.length)]);
    assert.equal(framed.headers['transfer-encoding'], undefined);
    // Keys named like Object's own properties are keys like any other.
    const odd = await curl(`${urls.get('echo')!}?constructor=1&__proto__=2`, ['-H', 'constructor: c']);
    const event = JSON.parse(odd.body) as { headers: Record<string, string>; queryStringParameters: Record<string, string> };
    assert.equal(event.headers['constructor'], 'c');
    assert.deepEqual(event.queryStringParameters, JSON.parse('{"constructor":"1","__proto__":"2"}'));
  });

  it('refuses a host that names no URL, or another region, without reaching any function', async () => {
    const url = new URL(urls.get('echo')!);
    const [urlId] = url.hostname.split('.');
    for (const host of [`${'a'.repeat(32)}.lambda-url.us-east-1.localhost`, `${urlId}.lambda-url.eu-west-1.localhost`, 'localhost', `${urlId}.example.com`]) {
      const res = await curl(`http://127.0.0.1:${url.port}/2015-03-31/functions`, ['-H', `Host: ${host}`]);
      assert.equal(res.status, 403, host);
      assert.deepEqual(JSON.parse(res.body), { Message: 'Forbidden' });
    }
  });
});
