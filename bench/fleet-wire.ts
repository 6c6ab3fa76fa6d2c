/**
 * The fleet wire's cost (issue 12: a warm invoke through an api node adds at most 0.3 ms p50 over
 * one process): round trips, one at a time, of a 1 KB payload through WorkerClient → WorkerServer
 * with a runner that answers at once, beside a bare keep-alive node:http round trip and a bare
 * keep-alive HTTPS (TLS 1.2 PSK) one, in the same run. The servers run in a child process (the
 * worker node), the clients here (the api node). Run: `npm run build && node dist/bench/fleet-wire.js`.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { WorkerClient } from '../src/placement/index.js';
import { encodeFrame, encodeMeta, FLEET_CIPHERS, FLEET_INVOKE_PATH, silentLogger } from '../src/shared/index.js';
import type { FunctionRecord } from '../src/store/index.js';
import { WorkerServer } from '../src/worker/index.js';
import { load, summary } from './support.js';

const ROUNDS = 5000;
const WARMUP = 1000;
const BLOCK = 250;
// The child process is handed the parent's secret.
const SECRET = process.argv[2] === 'serve' ? Buffer.from(process.argv[3] ?? '', 'hex') : randomBytes(32);
const TLS = { ciphers: FLEET_CIPHERS, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' } as const;
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

function post(request: typeof http.request, agent: http.Agent, port: number, body: Buffer = PAYLOAD, path = '/'): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ agent, host: '127.0.0.1', port, method: 'POST', path, headers: { 'content-length': body.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve());
    });
    req.on('error', reject);
    req.end(body);
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

/** The calls take turns in blocks, so a noisy neighbour or a GC weighs on each of them alike. */
async function measure(calls: Record<string, () => Promise<void>>): Promise<Record<string, number[]>> {
  const samples: Record<string, number[]> = {};
  for (const [name, call] of Object.entries(calls)) {
    await load(1, WARMUP, call);
    samples[name] = [];
  }
  for (let done = 0; done < ROUNDS; done += BLOCK) {
    for (const [name, call] of Object.entries(calls)) samples[name]!.push(...(await load(1, BLOCK, call)).latencies);
  }
  for (const [name, latencies] of Object.entries(samples)) console.log(`${name.padEnd(30)} ${summary(latencies)}`);
  return samples;
}

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function p50(samples: number[]): number {
  return [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;
}

/** The servers, in a process of their own (the worker node): the three ports on one stdout line. */
async function serve(): Promise<void> {
  const plain = http.createServer(echo);
  const psk = https.createServer({ ...TLS, pskCallback: () => SECRET }, echo);
  const worker = new WorkerServer({
    secret: SECRET,
    logger: silentLogger,
    accepting: () => true,
    runner: { invoke: async (_fn, request) => ({ payload: request.payload, functionError: false, executedVersion: '$LATEST' }) },
  });
  const ports = [await listen(plain), await listen(psk), (await worker.listen(0, '127.0.0.1')).port];
  process.stdout.write(`${ports.join(' ')}\n`);
}

async function main(): Promise<void> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'serve', SECRET.toString('hex')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [plainPort, pskPort, workerPort] = await new Promise<number[]>((resolve, reject) => {
    child.stdout.once('data', (line: Buffer) => resolve(line.toString().trim().split(' ').map(Number)));
    child.once('exit', (code) => reject(new Error(`the server process exited with ${code}`)));
  });
  const plainAgent = new http.Agent({ keepAlive: true });
  const pskAgent = new https.Agent({ ...TLS, keepAlive: true, pskCallback: () => ({ psk: SECRET, identity: 'bench' }), checkServerIdentity: () => undefined });
  const client = new WorkerClient({ secret: SECRET, nodeId: 'bench' });
  let n = 0;

  console.log(`fleet wire: ${ROUNDS} round trips one at a time, ${PAYLOAD.length} B payload, servers in a process of their own`);
  const frame = encodeFrame(encodeMeta({ requestId: 'r', invokedFunctionArn: 'arn', tail: false }), Buffer.from(JSON.stringify(FN)), PAYLOAD);
  const { bare, bareTls, wire } = await measure({
    bare: () => post(http.request, plainAgent, plainPort!),
    bareTls: () => post(https.request, pskAgent, pskPort!),
    bareTlsToWorker: () => post(https.request, pskAgent, workerPort!, frame, FLEET_INVOKE_PATH),
    wire: async () => {
      await client.invoke(`127.0.0.1:${workerPort}`, FN, { requestId: `r-${n++}`, payload: PAYLOAD, invokedFunctionArn: 'arn', tail: false }, { timeoutMs: 10_000 });
    },
  });
  console.log('(bare: keep-alive node:http echo; bareTls: keep-alive https echo, TLS 1.2 PSK; bareTlsToWorker: that https client');
  console.log(' sending a frame to WorkerServer; wire: WorkerClient → WorkerServer)');
  console.log(`wire p50 over bare http: +${(p50(wire!) - p50(bare!)).toFixed(3)} ms; over bare https (PSK): +${(p50(wire!) - p50(bareTls!)).toFixed(3)} ms`);

  client.close();
  plainAgent.destroy();
  pskAgent.destroy();
  child.kill('SIGTERM');
}

if (process.argv[2] === 'serve') await serve();
else await main();
