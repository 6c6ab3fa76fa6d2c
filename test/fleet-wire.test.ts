/**
 * The fleet wire between an api node (WorkerClient) and a worker (WorkerServer), over real sockets
 * on 127.0.0.1: bytes pass through untouched, only holders of the cluster secret get anything done,
 * and every failure comes back as the class placement acts on.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { WorkerClient } from '../src/placement/index.js';
import {
  encodeFrame,
  encodeMeta,
  FLEET_CIPHERS,
  FLEET_HEADERS,
  FLEET_INVOKE_PATH,
  InvalidParameterValueException,
  KindlingError,
  LambdaServiceError,
  ServiceException,
  createLogger,
  silentLogger,
  TooManyRequestsException,
  type Logger,
} from '../src/shared/index.js';
import type { FunctionRecord } from '../src/store/index.js';
import { WorkerServer, type InvokeRequest, type InvokeResult, type WorkerRunner } from '../src/worker/index.js';

const SECRET = randomBytes(32);
const FLEET_WORKER = fileURLToPath(new URL('./support/fleet-worker.js', import.meta.url));

function record(name = 'fn'): FunctionRecord {
  return {
    name,
    runtime: 'nodejs20.x',
    handler: 'index.handler',
    role: 'arn:aws:iam::000000000000:role/r',
    description: 'é ☃ "quoted"',
    timeout: 3,
    memorySize: 128,
    environment: { A: 'b' },
    architectures: ['x86_64'],
    ephemeralStorage: 512,
    packageType: 'Zip',
    codeSha256: 'sha',
    codeKey: 'key',
    codeSize: 1,
    lastModified: 0,
    revisionId: 'rev',
    state: 'Active',
    lastUpdateStatus: 'Successful',
    version: '$LATEST',
    tags: {},
  };
}

function request(payload: Buffer, extra: Partial<InvokeRequest> = {}): InvokeRequest {
  return { requestId: `req-${randomBytes(6).toString('hex')}`, payload, invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:fn', tail: false, ...extra };
}

interface Call {
  readonly fn: FunctionRecord;
  readonly request: InvokeRequest;
}

/** A runner that records its calls and answers with `answer` (an echo by default). */
function recordingRunner(answer: (call: Call) => Promise<InvokeResult> = async ({ request }) => ({ payload: request.payload, functionError: false, executedVersion: '$LATEST' })): WorkerRunner & { calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    invoke: (fn, req) => {
      calls.push({ fn, request: req });
      return answer({ fn, request: req });
    },
  };
}

function deferred<T>(): { promise: Promise<T>; resolve(value: T): void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function startWorker(
  runner: WorkerRunner,
  accepting: () => boolean = () => true,
  logger: Logger = silentLogger,
): Promise<{ server: WorkerServer; address: string; port: number }> {
  const server = new WorkerServer({ secret: SECRET, runner, logger, accepting });
  const info = await server.listen(0, '127.0.0.1');
  cleanups.push(() => server.close());
  return { server, address: `127.0.0.1:${info.port}`, port: info.port };
}

function client(secret = SECRET): WorkerClient {
  const c = new WorkerClient({ secret, nodeId: 'api-1', logger: silentLogger });
  cleanups.push(() => c.close());
  return c;
}

async function rejectsWithCode(call: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(call, (err: unknown) => {
    assert.ok(err instanceof KindlingError, `not a KindlingError: ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

/** A raw POST over an authenticated (PSK) connection: what a buggy or hostile node could send. */
function rawPost(port: number, body: Buffer, path = FLEET_INVOKE_PATH, headers: http.OutgoingHttpHeaders = {}, method = 'POST'): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent: new https.Agent({ pskCallback: () => ({ psk: SECRET, identity: 'raw' }), ciphers: FLEET_CIPHERS, maxVersion: 'TLSv1.2', checkServerIdentity: () => undefined }),
        headers: { 'content-length': body.length, ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function frameOf(payload: Buffer, requestId = 'raw-1', fn: FunctionRecord = record()): Buffer {
  return encodeFrame(encodeMeta({ requestId, invokedFunctionArn: 'arn', tail: false }), Buffer.from(JSON.stringify(fn)), payload);
}

describe('fleet wire: round trip', () => {
  it('passes every byte value and the request fields through to the runner and back', async () => {
    const runner = recordingRunner();
    const { address } = await startWorker(runner);
    const c = client();
    const fn = record();
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const req = request(bytes, { clientContext: '{"custom":{"k":"v ☃"}}', tail: true });
    const result = await c.invoke(address, fn, req, { timeoutMs: 10_000 });
    assert.deepEqual(result.payload, bytes);
    assert.equal(runner.calls.length, 1);
    const call = runner.calls[0]!;
    assert.deepEqual(call.request.payload, bytes);
    assert.equal(call.request.requestId, req.requestId);
    assert.equal(call.request.invokedFunctionArn, req.invokedFunctionArn);
    assert.equal(call.request.clientContext, req.clientContext);
    assert.equal(call.request.tail, true);
    assert.deepEqual(call.fn, fn);
  });

  it('passes a 6 MB payload through byte for byte', async () => {
    const runner = recordingRunner();
    const { address } = await startWorker(runner);
    const payload = randomBytes(6 * 1024 * 1024);
    const result = await client().invoke(address, record(), request(payload), { timeoutMs: 30_000 });
    assert.ok(result.payload.equals(payload));
    assert.ok(runner.calls[0]!.request.payload.equals(payload));
  });

  it('maps a function error, the log tail and the executed version back', async () => {
    const log = 'START RequestId: x\nline ☃ with "quotes"\nEND\n';
    const runner = recordingRunner(async () => ({ payload: Buffer.from('{"errorType":"Error"}'), functionError: true, log, executedVersion: '7' }));
    const { address } = await startWorker(runner);
    const result = await client().invoke(address, record(), request(Buffer.from('{}'), { tail: true }), { timeoutMs: 10_000 });
    assert.equal(result.functionError, true);
    assert.equal(result.log, log);
    assert.equal(result.executedVersion, '7');
    assert.equal(result.payload.toString(), '{"errorType":"Error"}');

    const plain = recordingRunner(async () => ({ payload: Buffer.alloc(0), functionError: false, executedVersion: '$LATEST' }));
    const second = await startWorker(plain);
    const ok = await client().invoke(second.address, record(), request(Buffer.alloc(0)), { timeoutMs: 10_000 });
    assert.equal(ok.functionError, false);
    assert.equal(ok.log, undefined);
    assert.equal(ok.payload.length, 0);
  });

  it('reuses the parsed record while its text is unchanged, and sees a changed one', async () => {
    const runner = recordingRunner();
    const { address } = await startWorker(runner);
    const c = client();
    const fn = record();
    await c.invoke(address, fn, request(Buffer.from('1')), { timeoutMs: 10_000 });
    await c.invoke(address, fn, request(Buffer.from('2')), { timeoutMs: 10_000 });
    await c.invoke(address, { ...fn, codeKey: 'other' }, request(Buffer.from('3')), { timeoutMs: 10_000 });
    assert.equal(runner.calls[0]!.fn, runner.calls[1]!.fn);
    assert.equal(runner.calls[2]!.fn.codeKey, 'other');
  });
});

describe('fleet wire: accounts', () => {
  it('carries the account in the record\'s key: two accounts\' hello reach the runner as two functions', async () => {
    const runner = recordingRunner(async ({ fn }) => ({ payload: Buffer.from(fn.name), functionError: false, executedVersion: '$LATEST' }));
    const { address } = await startWorker(runner);
    const c = client();
    const ours = await c.invoke(address, record('hello'), request(Buffer.from('{}')), { timeoutMs: 10_000 });
    const theirs = await c.invoke(address, { ...record('hello'), name: '111122223333:hello' }, request(Buffer.from('{}')), { timeoutMs: 10_000 });
    assert.deepEqual([ours.payload.toString(), theirs.payload.toString()], ['hello', '111122223333:hello']);
    assert.notEqual(runner.calls[0]!.fn, runner.calls[1]!.fn, 'the parsed-record cache kept them apart');
  });
});

/** A frame posted to the worker by a client that is not a fleet node: `status N`, or `error CODE`. */
function postFrame(request: typeof http.request | typeof https.request, port: number, tls: https.RequestOptions): Promise<string> {
  const body = frameOf(Buffer.from('x'));
  return new Promise<string>((resolve) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: FLEET_INVOKE_PATH, agent: false, headers: { 'content-length': body.length }, ...tls }, (res) => {
      res.resume();
      resolve(`status ${res.statusCode}`);
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve(`error ${err.code}`));
    req.end(body);
  });
}

describe('fleet wire: only nodes with the secret get anything done', () => {
  it('gives plain HTTP on the TLS port nothing', async () => {
    const runner = recordingRunner();
    const { port } = await startWorker(runner);
    assert.match(await postFrame(http.request, port, {}), /^error /);
    assert.equal(runner.calls.length, 0);
  });

  it('refuses a node with the wrong secret, and runs nothing', async () => {
    const runner = recordingRunner();
    const { address } = await startWorker(runner);
    await rejectsWithCode(client(randomBytes(32)).invoke(address, record(), request(Buffer.from('x')), { timeoutMs: 10_000 }), 'ERR_WORKER_UNREACHABLE');
    assert.equal(runner.calls.length, 0);
  });

  it('refuses an ordinary TLS client (no PSK), and runs nothing', async () => {
    const runner = recordingRunner();
    const { port } = await startWorker(runner);
    assert.match(await postFrame(https.request, port, { rejectUnauthorized: false }), /^error /);
    assert.equal(runner.calls.length, 0);
  });

  it('answers a malformed frame 400 and runs nothing', async () => {
    const runner = recordingRunner();
    const { port } = await startWorker(runner);
    const good = frameOf(Buffer.from('payload'));
    const metaLength = good.readUInt32BE(0);
    const tooLong = Buffer.from(good);
    tooLong.writeUInt32BE(good.length, 0);
    const fnTooLong = Buffer.from(good);
    fnTooLong.writeUInt32BE(good.length, 4 + metaLength);
    const notJson = encodeFrame(Buffer.from('{not json'), Buffer.from(JSON.stringify(record())), Buffer.from('x'));
    const wrongShape = encodeFrame(Buffer.from('{"requestId":1}'), Buffer.from(JSON.stringify(record())), Buffer.from('x'));
    const recordNotJson = encodeFrame(encodeMeta({ requestId: 'r', invokedFunctionArn: 'a', tail: false }), Buffer.from('nope'), Buffer.from('x'));
    const recordNotRecord = encodeFrame(encodeMeta({ requestId: 'r', invokedFunctionArn: 'a', tail: false }), Buffer.from('[]'), Buffer.from('x'));
    for (const [what, body] of Object.entries({ tooLong, fnTooLong, notJson, wrongShape, recordNotJson, recordNotRecord, empty: Buffer.alloc(0), short: Buffer.from([0, 0]) })) {
      const res = await rawPost(port, body);
      assert.equal(res.status, 400, what);
    }
    assert.equal(runner.calls.length, 0);
    // The worker is still serving.
    assert.equal((await rawPost(port, good)).status, 200);
  });

  it('answers another path or method 404 and runs nothing', async () => {
    const runner = recordingRunner();
    const { port } = await startWorker(runner);
    const body = frameOf(Buffer.from('x'));
    assert.equal((await rawPost(port, body, '/fleet/v1/other')).status, 404);
    assert.equal((await rawPost(port, body, `${FLEET_INVOKE_PATH}?x=1`)).status, 404);
    assert.equal((await rawPost(port, Buffer.alloc(0), FLEET_INVOKE_PATH, {}, 'GET')).status, 404);
    assert.equal(runner.calls.length, 0);
  });
});

describe('fleet wire: failures placement tells apart', () => {
  it('a draining worker runs nothing: ERR_WORKER_DRAINING', async () => {
    const runner = recordingRunner();
    const { address } = await startWorker(runner, () => false);
    await rejectsWithCode(client().invoke(address, record(), request(Buffer.from('x')), { timeoutMs: 10_000 }), 'ERR_WORKER_DRAINING');
    assert.equal(runner.calls.length, 0);
  });

  it('a closed port: ERR_WORKER_UNREACHABLE', async () => {
    const { server, address } = await startWorker(recordingRunner());
    await server.close();
    await rejectsWithCode(client().invoke(address, record(), request(Buffer.from('x')), { timeoutMs: 10_000 }), 'ERR_WORKER_UNREACHABLE');
  });

  it('a machine that never answers the connect: ERR_WORKER_UNREACHABLE, not a wait for the invoke timeout', async () => {
    // A listener that accepts and then says nothing: the TLS handshake is never answered, as with
    // a machine that hangs. (A truly unrouted address cannot be had on 127.0.0.1.)
    const silent = net.createServer();
    const sockets: net.Socket[] = [];
    silent.on('connection', (s) => sockets.push(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => silent.close(resolve));
    });
    const port = (silent.address() as net.AddressInfo).port;
    const c = new WorkerClient({ secret: SECRET, nodeId: 'api-1', connectTimeoutMs: 200 });
    cleanups.push(() => c.close());
    await rejectsWithCode(c.invoke(`127.0.0.1:${port}`, record(), request(Buffer.from('x')), { timeoutMs: 600_000 }), 'ERR_WORKER_UNREACHABLE');
  });

  it('no answer within the timeout: ERR_WORKER_LOST', async () => {
    const gate = deferred<void>();
    const runner = recordingRunner(async ({ request: r }) => {
      await gate.promise;
      return { payload: r.payload, functionError: false, executedVersion: '$LATEST' };
    });
    const { address } = await startWorker(runner);
    await rejectsWithCode(client().invoke(address, record(), request(Buffer.from('x')), { timeoutMs: 300 }), 'ERR_WORKER_LOST');
    assert.equal(runner.calls.length, 1);
    gate.resolve();
  });

  for (const pooled of [false, true]) {
    it(`a worker killed mid-invoke: ERR_WORKER_LOST at once (${pooled ? 'pooled' : 'new'} connection)`, { timeout: 60_000 }, async () => {
      const child = spawn(process.execPath, [FLEET_WORKER, SECRET.toString('hex')], { stdio: ['ignore', 'pipe', 'inherit'] });
      cleanups.push(() => child.kill('SIGKILL'));
      const lines = lineReader(child);
      const port = Number((await lines.next(/^listening (\d+)$/))[1]);
      const address = `127.0.0.1:${port}`;
      const c = client();
      if (pooled) {
        // Warm the pool: the invoke that dies goes over a reused socket (the path with a retry).
        const warm = await c.invoke(address, record(), request(Buffer.from('warm')), { timeoutMs: 10_000 });
        assert.equal(warm.payload.toString(), 'warm');
        await lines.next(/^started /);
      }
      const req = request(Buffer.from('hang'));
      // An invoke timeout far past the test's own: only the connection dying can end the call.
      const call = c.invoke(address, record(), req, { timeoutMs: 600_000 });
      await lines.next(new RegExp(`^started ${req.requestId}$`));
      child.kill('SIGKILL');
      await rejectsWithCode(call, 'ERR_WORKER_LOST');
    });
  }

  it('service errors come back as their own class, with the reason and Retry-After of a throttle', async () => {
    const errors: Error[] = [
      new TooManyRequestsException('ReservedFunctionConcurrentInvocationLimitExceeded', 7, 'Rate Exceeded.'),
      new InvalidParameterValueException('bad value'),
    ];
    const runner = recordingRunner(() => Promise.reject(errors.shift()));
    const { address } = await startWorker(runner);
    const c = client();
    await assert.rejects(c.invoke(address, record(), request(Buffer.from('x')), { timeoutMs: 10_000 }), (err: unknown) => {
      assert.ok(err instanceof TooManyRequestsException);
      assert.equal(err.reason, 'ReservedFunctionConcurrentInvocationLimitExceeded');
      assert.equal(err.retryAfterSeconds, 7);
      assert.equal(err.message, 'Rate Exceeded.');
      return true;
    });
    await assert.rejects(c.invoke(address, record(), request(Buffer.from('x')), { timeoutMs: 10_000 }), (err: unknown) => {
      assert.ok(err instanceof InvalidParameterValueException);
      assert.equal(err.message, 'bad value');
      return true;
    });
  });

  it('any other failure on the worker is a ServiceException that leaks nothing', async () => {
    const failures: (() => Promise<InvokeResult>)[] = [
      () => Promise.reject(new Error('secret internals at /var/lib/kindling')),
      () => {
        throw new KindlingError('ERR_SANDBOX_NOT_ALLOWED', 'secret internals at /var/lib/kindling');
      },
    ];
    const runner = recordingRunner(() => failures.shift()!());
    const { address } = await startWorker(runner);
    const c = client();
    for (let i = 0; i < 2; i++) {
      await assert.rejects(c.invoke(address, record(), request(Buffer.from('x')), { timeoutMs: 10_000 }), (err: unknown) => {
        assert.ok(err instanceof ServiceException);
        assert.ok(err instanceof LambdaServiceError);
        assert.doesNotMatch(err.message, /internals|\/var/);
        return true;
      });
    }
  });
});

describe('fleet wire: retry after a pooled socket fails', () => {
  it('retries once on a new connection when a reused socket dies before any answer; a refused retry is lost', async () => {
    // A PSK server that drops the second request on each connection unread, as a worker closing an
    // idle keep-alive socket just as it is reused would.
    const seen: (string | undefined)[] = [];
    let drainRetries = false;
    const server = https.createServer({ pskCallback: () => SECRET, ciphers: FLEET_CIPHERS, maxVersion: 'TLSv1.2' }, (req, res) => {
      const n = ((req.socket as unknown as { served?: number }).served ?? 0) + 1;
      (req.socket as unknown as { served?: number }).served = n;
      seen.push(req.headers[FLEET_HEADERS.attempt] as string | undefined);
      if (n === 2) return req.socket.destroy();
      if (drainRetries && req.headers[FLEET_HEADERS.attempt] === '2') return res.writeHead(503, { [FLEET_HEADERS.draining]: '1' }).end();
      req.resume();
      req.on('end', () => res.writeHead(200, { [FLEET_HEADERS.executedVersion]: '1' }).end('ok'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    });
    const address = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    const c = client();
    await c.invoke(address, record(), request(Buffer.from('1')), { timeoutMs: 10_000 });
    const result = await c.invoke(address, record(), request(Buffer.from('2')), { timeoutMs: 10_000 });
    assert.equal(result.payload.toString(), 'ok');
    assert.deepEqual(seen, [undefined, undefined, '2']);

    // A retry refused as draining may still have had its first attempt run: lost, not draining.
    drainRetries = true;
    await c.invoke(address, record(), request(Buffer.from('3')), { timeoutMs: 10_000 });
    await rejectsWithCode(c.invoke(address, record(), request(Buffer.from('4')), { timeoutMs: 10_000 }), 'ERR_WORKER_LOST');
    assert.deepEqual(seen, [undefined, undefined, '2', undefined, undefined, '2']);
  });

  it('the worker joins a retry of a request still running, refuses one already finished, and runs an unknown one', async () => {
    const gate = deferred<void>();
    const started = deferred<void>();
    const runner = recordingRunner(async ({ request: r }) => {
      started.resolve();
      if (r.payload.toString() === 'slow') await gate.promise;
      return { payload: r.payload, functionError: false, executedVersion: '$LATEST' };
    });
    const joinedLogged = deferred<void>();
    const logger = createLogger('debug', (line) => line.includes('joined') && joinedLogged.resolve());
    const { port } = await startWorker(runner, () => true, logger);
    const retry = { [FLEET_HEADERS.attempt]: '2' };
    const first = rawPost(port, frameOf(Buffer.from('slow'), 'join-1'));
    await started.promise;
    const joined = rawPost(port, frameOf(Buffer.from('slow'), 'join-1'), FLEET_INVOKE_PATH, retry);
    await joinedLogged.promise;
    // The retry is answered when the first run is, and the runner ran once.
    gate.resolve();
    assert.equal((await first).status, 200);
    assert.equal((await joined).body.toString(), 'slow');
    assert.equal(runner.calls.length, 1);

    const replay = await rawPost(port, frameOf(Buffer.from('slow'), 'join-1'), FLEET_INVOKE_PATH, retry);
    assert.equal(replay.status, 409);
    assert.equal(replay.headers[FLEET_HEADERS.replayed], '1');
    assert.equal(runner.calls.length, 1);

    const fresh = await rawPost(port, frameOf(Buffer.from('new'), 'never-seen'), FLEET_INVOKE_PATH, retry);
    assert.equal(fresh.status, 200);
    assert.equal(runner.calls.length, 2);

    // A first attempt reusing a finished id (an async retry keeps its request id) runs again.
    assert.equal((await rawPost(port, frameOf(Buffer.from('again'), 'join-1'))).status, 200);
    assert.equal(runner.calls.length, 3);
  });
});

describe('fleet wire: close', () => {
  it('waits for an invoke in flight to answer, and takes no new one', async () => {
    const gate = deferred<void>();
    const started = deferred<void>();
    const runner = recordingRunner(async ({ request: r }) => {
      started.resolve();
      await gate.promise;
      return { payload: r.payload, functionError: false, executedVersion: '$LATEST' };
    });
    const { server, address } = await startWorker(runner);
    const c = client();
    const payload = randomBytes(1024 * 1024);
    const call = c.invoke(address, record(), request(payload), { timeoutMs: 30_000 });
    await started.promise;
    let closed = false;
    const closing = server.close().then(() => (closed = true));
    // The listener is gone at once: a new connection is refused.
    await rejectsWithCode(client().invoke(address, record(), request(Buffer.from('x')), { timeoutMs: 10_000 }), 'ERR_WORKER_UNREACHABLE');
    assert.equal(closed, false);
    gate.resolve();
    const result = await call;
    assert.ok(result.payload.equals(payload));
    await closing;
    assert.equal(closed, true);
    await server.close(); // idempotent
  });
});

/** Lines of a child's stdout, awaited by pattern. */
function lineReader(child: ChildProcess): { next(pattern: RegExp): Promise<RegExpExecArray> } {
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  let buffered = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    lines.push(...parts);
    for (const wake of waiters.splice(0)) wake();
  });
  return {
    async next(pattern) {
      for (;;) {
        const at = lines.findIndex((l) => pattern.test(l));
        if (at >= 0) return pattern.exec(lines.splice(0, at + 1)[at]!)!;
        await new Promise<void>((resolve, reject) => {
          waiters.push(resolve);
          child.once('exit', () => reject(new Error('the worker process exited')));
        });
      }
    },
  };
}
