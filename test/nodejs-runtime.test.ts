/**
 * The Node.js runtime client (src/runtimes/nodejs) run as the host runs it: the compiled bootstrap in
 * a child process, against a minimal Runtime API peer that speaks the 2018-06-01 protocol.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

const BOOTSTRAP = fileURLToPath(new URL('../src/runtimes/nodejs/bootstrap.js', import.meta.url));
const TIMEOUT = { timeout: 15_000 };

interface Posted {
  kind: 'response' | 'error' | 'init-error';
  errorTypeHeader: string | undefined;
  body: string;
  json: unknown;
}

interface ErrorBody {
  errorType: string;
  errorMessage: string;
  trace: string[];
}

interface QueuedEvent {
  requestId: string;
  payload: string;
  headers: Record<string, string>;
}

/** A test peer for the runtime: queues events for /next and records what the runtime posts. */
class FakeRuntimeApi {
  readonly #server = http.createServer((req, res) => this.#route(req, res));
  readonly #queue: QueuedEvent[] = [];
  readonly #results = new Map<string, (posted: Posted) => void>();
  #waitingNext: http.ServerResponse | undefined;
  #initError: ((posted: Posted) => void) | undefined;
  /** Resolves when the runtime posts /runtime/init/error. */
  readonly initError = new Promise<Posted>((resolve) => (this.#initError = resolve));
  connections = 0;

  async start(): Promise<string> {
    this.#server.on('connection', () => this.connections++);
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    return `127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Queues an event; resolves with what the runtime posts for it. */
  invoke(event: unknown, headers: Record<string, string> = {}, payload = JSON.stringify(event)): Promise<Posted> {
    const requestId = randomUUID();
    const result = new Promise<Posted>((resolve) => this.#results.set(requestId, resolve));
    this.#queue.push({
      requestId,
      payload,
      headers: {
        'Lambda-Runtime-Deadline-Ms': String(Date.now() + 60_000),
        'Lambda-Runtime-Invoked-Function-Arn': 'arn:aws:lambda:us-east-1:000000000000:function:fn',
        ...headers,
      },
    });
    this.#deliver();
    return result;
  }

  #deliver(): void {
    const res = this.#waitingNext;
    const event = this.#queue[0];
    if (res === undefined || event === undefined) return;
    this.#queue.shift();
    this.#waitingNext = undefined;
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Lambda-Runtime-Aws-Request-Id': event.requestId,
      ...event.headers,
    });
    res.end(event.payload);
  }

  #route(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = req.url ?? '';
      if (req.method === 'GET' && url === '/2018-06-01/runtime/invocation/next') {
        this.#waitingNext = res;
        this.#deliver();
        return;
      }
      const body = Buffer.concat(chunks).toString();
      const errorTypeHeader = req.headers['lambda-runtime-function-error-type'] as string | undefined;
      const record = (kind: Posted['kind']): Posted => ({ kind, errorTypeHeader, body, json: JSON.parse(body) });
      const match = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(url);
      const resolve = match ? this.#results.get(decodeURIComponent(match[1]!)) : undefined;
      if (req.method === 'POST' && url === '/2018-06-01/runtime/init/error') {
        this.#initError?.(record('init-error'));
      } else if (req.method === 'POST' && match && resolve) {
        this.#results.delete(decodeURIComponent(match[1]!));
        resolve(record(match[2] as 'response' | 'error'));
      } else {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(202, { 'Content-Type': 'application/json' }).end('{"status":"OK"}');
    });
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    this.#server.close();
    await once(this.#server, 'close');
  }
}

/** The bootstrap in a child process, with its stdout split into lines. */
class RuntimeProcess {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;
  readonly #events = new EventEmitter();
  #stderr = '';

  constructor(taskRoot: string, handler: string, runtimeApi: string, env: Record<string, string>) {
    this.child = spawn(process.execPath, [BOOTSTRAP], {
      cwd: taskRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env['PATH'] ?? '',
        AWS_LAMBDA_RUNTIME_API: runtimeApi,
        _HANDLER: handler,
        LAMBDA_TASK_ROOT: taskRoot,
        AWS_LAMBDA_FUNCTION_NAME: 'fn',
        AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
        AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/fn',
        AWS_LAMBDA_LOG_STREAM_NAME: '2024/01/01/[$LATEST]abc',
        AWS_REGION: 'us-east-1',
        ...env,
      },
    });
    let partial = '';
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop()!;
      for (const line of parts) {
        this.lines.push(line);
        this.#events.emit('line', line);
      }
    });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.#stderr += chunk));
    this.exited = new Promise((resolve) =>
      this.child.on('close', (code) => {
        this.#events.emit('close');
        resolve(code);
      }),
    );
  }

  /** Resolves with the first stdout line matching, rejects if the process ends without one. */
  waitForLine(matches: (line: string) => boolean): Promise<string> {
    const seen = this.lines.find(matches);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const onLine = (line: string): void => {
        if (!matches(line)) return;
        this.#events.off('line', onLine);
        this.#events.off('close', onClose);
        resolve(line);
      };
      const onClose = (): void => {
        this.#events.off('line', onLine);
        reject(new Error(`runtime exited without the line; stdout:\n${this.lines.join('\n')}\nstderr:\n${this.#stderr}`));
      };
      this.#events.on('line', onLine);
      this.#events.once('close', onClose);
    });
  }
}

interface Started {
  api: FakeRuntimeApi;
  runtime: RuntimeProcess;
  dir: string;
}

/** Writes the function's files to a temp task root and starts the runtime on it; cleans up after. */
async function startRuntime(
  t: TestContext,
  files: Record<string, string>,
  handler: string,
  env: Record<string, string> = {},
): Promise<Started> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kindling-nodejs-runtime-'));
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), content);
  }
  const api = new FakeRuntimeApi();
  const runtime = new RuntimeProcess(dir, handler, await api.start(), env);
  t.after(async () => {
    runtime.child.kill('SIGKILL');
    await runtime.exited;
    await api.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { api, runtime, dir };
}

const ISO_TIME = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z`;

function logLine(requestId: string, level: string, message: string): RegExp {
  const escaped = message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${ISO_TIME}\\t${requestId}\\t${level}\\t${escaped}$`);
}

function errorBody(posted: Posted): ErrorBody {
  return posted.json as ErrorBody;
}

test('a CommonJS handler gets the event and a context like Lambda, over one keep-alive socket', TIMEOUT, async (t) => {
  const { api, runtime } = await startRuntime(
    t,
    {
      'index.js': `
        console.log('loading');
        exports.handler = async (event, context) => ({
          event,
          functionName: context.functionName,
          functionVersion: context.functionVersion,
          memoryLimitInMB: context.memoryLimitInMB,
          logGroupName: context.logGroupName,
          logStreamName: context.logStreamName,
          awsRequestId: context.awsRequestId,
          invokedFunctionArn: context.invokedFunctionArn,
          clientContext: context.clientContext ?? null,
          identity: context.identity ?? null,
          remaining: context.getRemainingTimeInMillis(),
          waits: context.callbackWaitsForEmptyEventLoop,
          traceId: process.env._X_AMZN_TRACE_ID ?? null,
        });`,
    },
    'index.handler',
  );
  const clientContext = { client: { app_title: 'demo' }, custom: { k: 'v' }, env: {} };
  const first = await api.invoke(
    { hello: 'world' },
    {
      'Lambda-Runtime-Deadline-Ms': String(Date.now() + 30_000),
      'Lambda-Runtime-Trace-Id': 'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1',
      'Lambda-Runtime-Client-Context': JSON.stringify(clientContext),
      'Lambda-Runtime-Cognito-Identity': JSON.stringify({ cognitoIdentityId: 'id-1', cognitoIdentityPoolId: 'pool' }),
    },
  );
  assert.equal(first.kind, 'response');
  const result = first.json as Record<string, unknown>;
  assert.deepEqual(result['event'], { hello: 'world' });
  assert.equal(result['functionName'], 'fn');
  assert.equal(result['functionVersion'], '$LATEST');
  assert.equal(result['memoryLimitInMB'], '256');
  assert.equal(result['logGroupName'], '/aws/lambda/fn');
  assert.equal(result['logStreamName'], '2024/01/01/[$LATEST]abc');
  assert.match(String(result['awsRequestId']), /^[0-9a-f-]{36}$/);
  assert.equal(result['invokedFunctionArn'], 'arn:aws:lambda:us-east-1:000000000000:function:fn');
  assert.deepEqual(result['clientContext'], clientContext);
  assert.deepEqual(result['identity'], { cognitoIdentityId: 'id-1', cognitoIdentityPoolId: 'pool' });
  const remaining = result['remaining'] as number;
  assert.ok(remaining > 20_000 && remaining <= 30_000, `remaining ${remaining}`);
  assert.equal(result['waits'], true);
  assert.equal(result['traceId'], 'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1');

  // The trace id of one invocation must not leak into the next, which has none.
  const second = await api.invoke({ n: 2 });
  const secondResult = second.json as Record<string, unknown>;
  assert.deepEqual(secondResult['event'], { n: 2 });
  assert.equal(secondResult['traceId'], null);
  assert.equal(secondResult['clientContext'], null);
  assert.notEqual(secondResult['awsRequestId'], result['awsRequestId']);

  await api.invoke({ n: 3 });
  assert.equal(api.connections, 1, 'every Runtime API call reuses one keep-alive socket');
  await runtime.waitForLine((line) => logLine('undefined', 'INFO', 'loading').test(line));
});

test('console calls are one line each in Lambda format, with the request id', TIMEOUT, async (t) => {
  const { api, runtime } = await startRuntime(
    t,
    {
      'index.js': `
        exports.handler = async (event, context) => {
          console.log('two\\nlines', { a: 1 });
          console.info('info %d', 5);
          console.warn('careful');
          console.error('bad');
          console.debug('dbg');
          console.trace('trc');
          return context.awsRequestId;
        };`,
    },
    'index.handler',
  );
  const posted = await api.invoke({});
  const requestId = posted.json as string;
  const expected = [
    logLine(requestId, 'INFO', 'two\rlines { a: 1 }'),
    logLine(requestId, 'INFO', 'info 5'),
    logLine(requestId, 'WARN', 'careful'),
    logLine(requestId, 'ERROR', 'bad'),
    logLine(requestId, 'DEBUG', 'dbg'),
    logLine(requestId, 'TRACE', 'trc'),
  ];
  await runtime.waitForLine((line) => expected.at(-1)!.test(line));
  const lines = runtime.lines.filter((line) => line.includes(requestId));
  assert.equal(lines.length, expected.length, lines.join('\n'));
  expected.forEach((pattern, i) => assert.match(lines[i]!, pattern));
});

test('an .mjs handler is imported as an ES module', TIMEOUT, async (t) => {
  const { api } = await startRuntime(
    t,
    { 'app.mjs': `export const handler = async (event) => ({ esm: typeof require === 'undefined', got: event.x });` },
    'app.handler',
  );
  assert.deepEqual((await api.invoke({ x: 7 })).json, { esm: true, got: 7 });
});

test('a .js handler under "type":"module" is an ES module and may use top-level await', TIMEOUT, async (t) => {
  const { api } = await startRuntime(
    t,
    {
      'package.json': JSON.stringify({ type: 'module' }),
      'index.js': `
        const base = await new Promise((resolve) => setTimeout(() => resolve(40), 10));
        export const handler = async () => ({ esm: typeof require === 'undefined', value: base + 2 });`,
    },
    'index.handler',
  );
  assert.deepEqual((await api.invoke({})).json, { esm: true, value: 42 });
});

test('a handler in a folder is found, with the nearest package.json deciding its module type', TIMEOUT, async (t) => {
  const { api } = await startRuntime(
    t,
    {
      'lib/package.json': JSON.stringify({ type: 'module' }),
      'lib/x.js': `export const handler = async () => ({ where: 'lib/x', esm: typeof require === 'undefined' });`,
    },
    'lib/x.handler',
  );
  assert.deepEqual((await api.invoke({})).json, { where: 'lib/x', esm: true });
});

test('a nested export path and a .cjs module are resolved', TIMEOUT, async (t) => {
  const { api } = await startRuntime(
    t,
    { 'src/mod.cjs': `exports.api = { get: async (event) => ({ nested: true, id: event.id }) };` },
    'src/mod.api.get',
  );
  assert.deepEqual((await api.invoke({ id: 'a' })).json, { nested: true, id: 'a' });
});

test('a synchronous handler with fewer than three parameters answers with its return value', TIMEOUT, async (t) => {
  const { api } = await startRuntime(t, { 'index.js': `exports.handler = (event) => event.n * 2;` }, 'index.handler');
  assert.equal((await api.invoke({ n: 21 })).json, 42);
  assert.equal((await api.invoke({ n: 5 })).json, 10);
});

test('a callback handler answers once the event loop is empty by default', TIMEOUT, async (t) => {
  const { api } = await startRuntime(
    t,
    {
      'index.js': `
        exports.handler = (event, context, callback) => {
          const result = { late: false };
          setTimeout(() => { result.late = true; }, 50);
          callback(null, result);
        };`,
    },
    'index.handler',
  );
  // The result is encoded only when the timer has run: it carries the timer's change.
  assert.deepEqual((await api.invoke({})).json, { late: true });
  assert.deepEqual((await api.invoke({})).json, { late: true });
});

test('a callback handler with callbackWaitsForEmptyEventLoop = false answers at once', TIMEOUT, async (t) => {
  const { api } = await startRuntime(
    t,
    {
      'index.js': `
        exports.handler = (event, context, callback) => {
          context.callbackWaitsForEmptyEventLoop = false;
          const result = { late: false };
          setTimeout(() => { result.late = true; }, 600000);
          callback(null, result);
        };`,
    },
    'index.handler',
  );
  // The timer keeps the event loop busy for 10 minutes: a response that waited for it would not come
  // within the test's timeout.
  assert.deepEqual((await api.invoke({})).json, { late: false });
  assert.deepEqual((await api.invoke({})).json, { late: false });
});

test('callback handlers: errors, first settlement wins, and no answer means null', TIMEOUT, async (t) => {
  const { api } = await startRuntime(
    t,
    {
      'index.js': `
        exports.handler = (event, context, callback) => {
          if (event.mode === 'error') return callback(new TypeError('bad input'));
          if (event.mode === 'race') return (async () => { callback(null, 'from-callback'); return 'from-promise'; })();
          if (event.mode === 'succeed') return context.succeed({ legacy: true });
          setTimeout(() => {}, 10);
        };`,
    },
    'index.handler',
  );
  const error = await api.invoke({ mode: 'error' });
  assert.equal(error.kind, 'error');
  assert.equal(error.errorTypeHeader, 'TypeError');
  assert.equal(errorBody(error).errorMessage, 'bad input');
  assert.equal((await api.invoke({ mode: 'race' })).json, 'from-callback');
  assert.deepEqual((await api.invoke({ mode: 'succeed' })).json, { legacy: true });
  const silent = await api.invoke({ mode: 'silent' });
  assert.equal(silent.kind, 'response');
  assert.equal(silent.body, 'null');
});

test('a thrown error is posted with its name, message and stack, logged, and the runtime goes on', TIMEOUT, async (t) => {
  const { api, runtime } = await startRuntime(
    t,
    {
      'index.js': `
        class MyError extends Error {
          constructor(message) { super(message); this.name = 'MyError'; this.code = 'E42'; }
        }
        exports.handler = async (event) => {
          if (event.kind === 'string') throw 'plain string';
          if (event.kind === 'circular') { const o = {}; o.self = o; return o; }
          if (event.kind === 'ok') return 'fine';
          throw new MyError('boom');
        };`,
    },
    'index.handler',
  );
  const posted = await api.invoke({ kind: 'error' });
  assert.equal(posted.kind, 'error');
  assert.equal(posted.errorTypeHeader, 'MyError');
  const body = errorBody(posted);
  assert.equal(body.errorType, 'MyError');
  assert.equal(body.errorMessage, 'boom');
  assert.equal(body.trace[0], 'MyError: boom');
  assert.ok(body.trace.length > 1 && body.trace[1]!.includes('index.js'), body.trace.join('\n'));

  const logged = await runtime.waitForLine((line) => line.includes('\tERROR\tInvoke Error \t'));
  const fields = logged.split('\t');
  assert.equal(fields[3], 'Invoke Error ');
  const formatted = JSON.parse(fields[4]!) as Record<string, unknown>;
  assert.equal(formatted['errorType'], 'MyError');
  assert.equal(formatted['errorMessage'], 'boom');
  assert.equal(formatted['code'], 'E42');
  assert.deepEqual(formatted['stack'], body.trace);

  const thrownString = await api.invoke({ kind: 'string' });
  assert.deepEqual(thrownString.json, { errorType: 'string', errorMessage: 'plain string', trace: [] });
  assert.equal(thrownString.errorTypeHeader, 'string');

  const circular = await api.invoke({ kind: 'circular' });
  assert.equal(circular.kind, 'error');
  assert.equal(errorBody(circular).errorMessage, 'Unable to stringify response body');

  assert.equal((await api.invoke({ kind: 'ok' })).json, 'fine');
});

test('an event that is not JSON is an invocation error, not a crash', TIMEOUT, async (t) => {
  const { api } = await startRuntime(t, { 'index.js': `exports.handler = async (e) => e;` }, 'index.handler');
  const posted = await api.invoke(undefined, {}, '{not json');
  assert.equal(posted.kind, 'error');
  assert.equal(errorBody(posted).errorType, 'SyntaxError');
  assert.deepEqual((await api.invoke({ ok: 1 })).json, { ok: 1 });
});

const initFailures: { name: string; files: Record<string, string>; handler: string; errorType: string; message: RegExp }[] = [
  {
    name: 'a missing module',
    files: {},
    handler: 'nope.handler',
    errorType: 'Runtime.ImportModuleError',
    message: /^Error: Cannot find module 'nope'\nRequire stack:\n- .*[/\\]runtimes[/\\]nodejs[/\\]bootstrap\.js$/,
  },
  {
    name: 'a module importing a missing package',
    files: { 'index.js': `require('kindling-surely-missing-package'); exports.handler = async () => 1;` },
    handler: 'index.handler',
    errorType: 'Runtime.ImportModuleError',
    message: /^Error: Cannot find module 'kindling-surely-missing-package'\nRequire stack:\n- .*index\.js/,
  },
  {
    name: 'a missing export',
    files: { 'index.js': `exports.other = async () => 1;` },
    handler: 'index.handler',
    errorType: 'Runtime.HandlerNotFound',
    message: /^index\.handler is undefined or not exported$/,
  },
  {
    name: 'a syntax error',
    files: { 'index.mjs': `export const handler = async () => {;` },
    handler: 'index.handler',
    errorType: 'Runtime.UserCodeSyntaxError',
    message: /^SyntaxError: /,
  },
  {
    name: 'a handler name without an export',
    files: { 'index.js': `exports.handler = async () => 1;` },
    handler: 'index',
    errorType: 'Runtime.MalformedHandlerName',
    message: /^Bad handler index$/,
  },
  {
    name: 'a module that throws while loading',
    files: { 'index.js': `throw new RangeError('bad config');` },
    handler: 'index.handler',
    errorType: 'RangeError',
    message: /^bad config$/,
  },
];

for (const failure of initFailures) {
  test(`init fails with ${failure.errorType} for ${failure.name}`, TIMEOUT, async (t) => {
    const { api, runtime } = await startRuntime(t, failure.files, failure.handler);
    const posted = await api.initError;
    assert.equal(posted.errorTypeHeader, failure.errorType);
    const body = errorBody(posted);
    assert.equal(body.errorType, failure.errorType);
    assert.match(body.errorMessage, failure.message);
    assert.ok(Array.isArray(body.trace));
    assert.equal(await runtime.exited, 129);
    const logged = runtime.lines.find((line) => line.includes('\tundefined\tERROR\tUncaught Exception \t'));
    assert.ok(logged, runtime.lines.join('\n'));
    assert.equal((JSON.parse(logged.split('\t')[4]!) as { errorType: string }).errorType, failure.errorType);
  });
}

test('an unhandled rejection fails the invocation and ends the process with 128', TIMEOUT, async (t) => {
  const { api, runtime } = await startRuntime(
    t,
    {
      'index.js': `
        exports.handler = async () => {
          Promise.reject(new Error('later'));
          await new Promise((resolve) => setTimeout(resolve, 200));
          return 'unreachable';
        };`,
    },
    'index.handler',
  );
  const posted = await api.invoke({});
  assert.equal(posted.kind, 'error');
  assert.equal(posted.errorTypeHeader, 'Runtime.UnhandledPromiseRejection');
  assert.equal(errorBody(posted).errorMessage, 'Error: later');
  assert.equal(await runtime.exited, 128);
  assert.ok(runtime.lines.some((line) => line.includes('\tERROR\tUnhandled Promise Rejection \t')));
});

test('an uncaught exception fails the invocation and ends the process with 129', TIMEOUT, async (t) => {
  const { api, runtime } = await startRuntime(
    t,
    {
      'index.js': `
        exports.handler = (event, context, callback) => {
          setTimeout(() => { throw new Error('tick'); }, 0);
        };`,
    },
    'index.handler',
  );
  const posted = await api.invoke({});
  assert.equal(posted.kind, 'error');
  assert.deepEqual([errorBody(posted).errorType, errorBody(posted).errorMessage], ['Error', 'tick']);
  assert.equal(await runtime.exited, 129);
  assert.ok(runtime.lines.some((line) => line.includes('\tERROR\tUncaught Exception \t')));
});

test("Kindling's socket variable is taken out of the handler's environment, and an unreachable socket falls back to AWS_LAMBDA_RUNTIME_API", TIMEOUT, async (t) => {
  const { api } = await startRuntime(
    t,
    { 'index.js': `exports.handler = async () => ({ socket: process.env._KINDLING_RUNTIME_API_SOCKET ?? null });` },
    'index.handler',
    { _KINDLING_RUNTIME_API_SOCKET: path.join(os.tmpdir(), 'kindling-no-such-dir', 'runtime-api.sock') },
  );
  const posted = await api.invoke({});
  assert.equal(posted.kind, 'response');
  assert.deepEqual(posted.json, { socket: null });
});
