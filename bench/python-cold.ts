/**
 * Cold-start latency of the Python runtime (issue #6): the first invoke after CreateFunction of a
 * no-op python3.12 function, through a bare HTTP client against a real `kindling serve` in its own
 * process. In the process sandbox, as bench/run.ts measures; KINDLING_SANDBOX=namespace (or microvm)
 * measures another.
 */
import { CreateFunctionCommand, LambdaClient, waitUntilFunctionActiveV2 } from '@aws-sdk/client-lambda';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipFiles } from '../src/code/index.js';
import { ROLE, startServer, summary } from './support.js';

const FUNCTIONS = 10;
const WARM_INVOKES = 1000;
const SANDBOX = process.env['KINDLING_SANDBOX'] ?? 'process';

/** One bare keep-alive HTTP invoke; rejects unless the function answered without error. */
function bareInvoke(agent: http.Agent, url: URL, path: string, body: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { agent, host: url.hostname, port: url.port, method: 'POST', path, headers: { 'Content-Length': body.length } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const functionError = res.headers['x-amz-function-error'];
          if (res.statusCode === 200 && functionError === undefined) resolve();
          else reject(new Error(`status ${res.statusCode} ${functionError ?? ''}: ${Buffer.concat(chunks).toString()}`));
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kindling-bench-python-'));
  const server = await startServer(dataDir, SANDBOX);
  const lambda = new LambdaClient({
    endpoint: server.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
    maxAttempts: 1,
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const zip = await zipFiles({ 'app.py': 'def handler(event, context):\n    return None\n' });
    const url = new URL(server.url);
    const body = Buffer.from('{}');
    const cold: number[] = [];
    for (let i = 0; i < FUNCTIONS; i++) {
      const name = `py-cold-${i}`;
      await lambda.send(new CreateFunctionCommand({ FunctionName: name, Runtime: 'python3.12', Handler: 'app.handler', Role: ROLE, Code: { ZipFile: zip } }));
      await waitUntilFunctionActiveV2({ client: lambda, maxWaitTime: 30 }, { FunctionName: name });
      const t = performance.now();
      await bareInvoke(agent, url, `/2015-03-31/functions/${name}/invocations`, body);
      cold.push(performance.now() - t);
    }
    console.log(`python3.12 cold start (first invoke), bare HTTP, ${SANDBOX} sandbox:  ${summary(cold)}`);

    // The same environment, warm: the runtime's own work per invoke.
    const warm: number[] = [];
    const path = '/2015-03-31/functions/py-cold-0/invocations';
    for (let i = 0; i < WARM_INVOKES; i++) {
      const t = performance.now();
      await bareInvoke(agent, url, path, body);
      warm.push(performance.now() - t);
    }
    console.log(`python3.12 warm invoke, bare HTTP, concurrency 1, ${SANDBOX} sandbox: ${summary(warm)}`);
  } finally {
    agent.destroy();
    lambda.destroy();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
