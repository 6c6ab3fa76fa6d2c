/**
 * The fleet wire's cost (issue 12: a warm invoke through an api node adds at most 0.3 ms p50 over
 * one process): round trips, one at a time, of a 1 KB payload through WorkerClient → WorkerServer
 * with a runner that answers at once, beside a bare keep-alive node:http round trip and a bare
 * keep-alive HTTPS (TLS 1.2 PSK) one, in the same run. Client and server share this process, as
 * the bare figures do. Run: `npm run build && node dist/bench/fleet-wire.js`.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { WorkerClient } from '../src/placement/index.js';
import { FLEET_CIPHERS, silentLogger } from '../src/shared/index.js';
import type { FunctionRecord } from '../src/store/index.js';
import { WorkerServer } from '../src/worker/index.js';
import { load, summary } from './support.js';

const ROUNDS = 5000;
const WARMUP = 1000;
const SECRET = randomBytes(32);
const PAYLOAD = Buffer.from(JSON.stringify({ key: 'x'.repeat(1000) }));

const FN: FunctionRecord = {
  name: 'bench',
  runtime: 'nodejs20.x',
  handler: 'index.handler',
  role: 'arn:aws:iam::000000000000:role/bench',
  description: '',
  timeout: 3,
  memorySize: 128,
  environment: { STAGE: 'bench' },
  architectures: ['x86_64'],
  ephemeralStorage: 512,
  packageType: 'Zip',
  codeSha256: 'c2hh',
  codeKey: 'a'.repeat(64),
  codeSize: 1000,
  lastModified: 0,
  revisionId: 'rev',
  state: 'Active',
  lastUpdateStatus: 'Successful',
  version: '$LATEST',
  tags: {},
};

function post(request: typeof http.request, agent: http.Agent, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ agent, host: '127.0.0.1', port, method: 'POST', path: '/', headers: { 'content-length': PAYLOAD.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve());
    });
    req.on('error', reject);
    req.end(PAYLOAD);
  });
}

function echo(req: http.IncomingMessage, res: http.ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    res.writeHead(200, { 'content-length': body.length }).end(body);
  });
}

async function measure(name: string, call: () => Promise<void>): Promise<number[]> {
  await load(1, WARMUP, call);
  const { latencies } = await load(1, ROUNDS, call);
  console.log(`${name.padEnd(34)} ${summary(latencies)}`);
  return latencies;
}

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function p50(samples: number[]): number {
  return [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;
}

async function main(): Promise<void> {
  const plain = http.createServer(echo);
  const plainPort = await listen(plain);
  const plainAgent = new http.Agent({ keepAlive: true });

  const tls = { ciphers: FLEET_CIPHERS, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' } as const;
  const psk = https.createServer({ ...tls, pskCallback: () => SECRET }, echo);
  const pskPort = await listen(psk);
  const pskAgent = new https.Agent({ ...tls, keepAlive: true, pskCallback: () => ({ psk: SECRET, identity: 'bench' }), checkServerIdentity: () => undefined });

  const worker = new WorkerServer({
    secret: SECRET,
    logger: silentLogger,
    accepting: () => true,
    runner: { invoke: async (_fn, request) => ({ payload: request.payload, functionError: false, executedVersion: '$LATEST' }) },
  });
  const workerPort = (await worker.listen(0, '127.0.0.1')).port;
  const client = new WorkerClient({ secret: SECRET, nodeId: 'bench' });
  let n = 0;

  console.log(`fleet wire: ${ROUNDS} round trips one at a time, ${PAYLOAD.length} B payload, client and server in one process`);
  const bare = await measure('bare keep-alive http', () => post(http.request, plainAgent, plainPort));
  const bareTls = await measure('bare keep-alive https (PSK)', () => post(https.request, pskAgent, pskPort));
  const wire = await measure('WorkerClient → WorkerServer', async () => {
    await client.invoke(`127.0.0.1:${workerPort}`, FN, { requestId: `r-${n++}`, payload: PAYLOAD, invokedFunctionArn: 'arn', tail: false }, { timeoutMs: 10_000 });
  });
  console.log(`wire p50 over bare http: +${(p50(wire) - p50(bare)).toFixed(3)} ms; over bare https (PSK): +${(p50(wire) - p50(bareTls)).toFixed(3)} ms`);

  client.close();
  plainAgent.destroy();
  pskAgent.destroy();
  await worker.close();
  await Promise.all([new Promise((r) => plain.close(r)), new Promise((r) => psk.close(r))]);
}

await main();
