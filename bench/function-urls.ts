/**
 * Function URLs beside Invoke, in one run against a real `kindling serve`: requests per second and
 * latency for a no-op function at concurrency 1 and 32, and the time to the first byte of a streamed
 * response (against the time to its last).
 */
import { CreateFunctionCommand, CreateFunctionUrlConfigCommand, LambdaClient, waitUntilFunctionActiveV2 } from '@aws-sdk/client-lambda';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipFiles } from '../src/code/index.js';
import { load, ROLE, startServer, summary } from './support.js';

/** One request on a keep-alive connection to loopback, with the Host a function URL needs. */
function request(agent: http.Agent, port: number, host: string, method: string, path: string, body: Buffer, firstByte?: (ms: number) => void): Promise<void> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request({ agent, host: '127.0.0.1', port, method, path, headers: { host, 'content-length': body.length } }, (res) => {
      res.once('data', () => firstByte?.(performance.now() - started));
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kindling-bench-urls-'));
  const server = await startServer(dataDir, 'process', ['--url-port', '0'], /on (http:\/\/\S+) and function URLs on port (\d+)/);
  const lambda = new LambdaClient({ endpoint: server.url, region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' }, maxAttempts: 1 });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  try {
    const deploy = async (name: string, code: string, InvokeMode: 'BUFFERED' | 'RESPONSE_STREAM' = 'BUFFERED') => {
      await lambda.send(new CreateFunctionCommand({ FunctionName: name, Runtime: 'nodejs20.x', Handler: 'index.handler', Role: ROLE, Code: { ZipFile: await zipFiles({ 'index.js': code }) } }));
      await waitUntilFunctionActiveV2({ client: lambda, maxWaitTime: 30 }, { FunctionName: name });
      const url = new URL((await lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: name, AuthType: 'NONE', InvokeMode }))).FunctionUrl!);
      return { host: url.host, port: Number(url.port) };
    };
    const noop = await deploy('noop', 'exports.handler = async () => null;\n');
    const api = new URL(server.url);
    const body = Buffer.from('{}');
    const viaUrl = () => request(agent, noop.port, noop.host, 'POST', '/', body);
    const viaInvoke = () => request(agent, Number(api.port), api.host, 'POST', '/2015-03-31/functions/noop/invocations', body);

    console.log('Function URLs beside Invoke (no-op Node.js function, process sandbox, bare HTTP client)\n');
    await load(32, 2000, viaUrl);
    await load(32, 2000, viaInvoke);
    for (const concurrency of [1, 32]) {
      const total = concurrency === 1 ? 3000 : 20_000;
      const url = await load(concurrency, total, viaUrl);
      const invoke = await load(concurrency, total, viaInvoke);
      console.log(`function URL, concurrency ${String(concurrency).padEnd(2)}: ${summary(url.latencies)}  ${url.perSecond.toFixed(0)} requests/s`);
      console.log(`Invoke,       concurrency ${String(concurrency).padEnd(2)}: ${summary(invoke.latencies)}  ${invoke.perSecond.toFixed(0)} invokes/s`);
    }

    // A streamed response: one chunk, 100 ms of work, the rest. The first byte should not wait for the work.
    const streamed = await deploy(
      'streamed',
      `exports.handler = awslambda.streamifyResponse(async (event, stream) => {
        stream.setContentType('text/plain');
        stream.write('first\\n');
        await new Promise((r) => setTimeout(r, 100));
        stream.end('last\\n');
      });\n`,
      'RESPONSE_STREAM',
    );
    const first: number[] = [];
    const whole: number[] = [];
    for (let i = 0; i < 30; i++) {
      const started = performance.now();
      await request(agent, streamed.port, streamed.host, 'GET', '/', Buffer.alloc(0), (ms) => first.push(ms));
      whole.push(performance.now() - started);
    }
    console.log(`streamed URL response, first byte: ${summary(first)}`);
    console.log(`streamed URL response, last byte:  ${summary(whole)}  (the function works 100 ms between its chunks)`);
  } finally {
    agent.destroy();
    lambda.destroy();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
