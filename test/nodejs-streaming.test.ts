/**
 * Response streaming in the Node.js runtime client (src/runtimes/nodejs): the `awslambda` global and
 * streamed responses, run as the host runs them (the compiled bootstrap in a child process) against
 * a Runtime API peer (test/support/runtime-api-peer.ts) that records what the runtime posts: headers,
 * body chunks in arrival order, trailers. Where the stock aws-lambda-ric is installed, the same
 * handlers run under it too and both runtimes must post the same.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ricForTest } from './support/aws-lambda-ric.js';
import { RuntimeApiPeer, type Posted } from './support/runtime-api-peer.js';

const BOOTSTRAP = fileURLToPath(new URL('../src/runtimes/nodejs/bootstrap.js', import.meta.url));
const TIMEOUT = { timeout: 20_000 };
const PRELUDE_TYPE = 'application/vnd.awslambda.http-integration-response';

/** The function: one streaming handler that plays the steps its event lists, and a few others. */
const FUNCTION_CODE = `
import { EventEmitter, once } from 'node:events';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
const gate = (name) => fetch('http://' + process.env.AWS_LAMBDA_RUNTIME_API + '/test/gate/' + name).then((r) => r.text());
const attempt = (fn) => { try { fn(); return 'ok'; } catch (e) { return e.name + ': ' + e.message; } };

const playSteps = async (event, stream, context) => {
  for (const [op, arg] of event.steps) {
    if (op === 'type') stream.setContentType(arg);
    else if (op === 'tryType') stream.write(attempt(() => stream.setContentType(arg)) + '|');
    else if (op === 'http') stream = awslambda.HttpResponseStream.from(stream, arg);
    else if (op === 'write') stream.write(arg);
    else if (op === 'gate') await gate(arg);
    else if (op === 'end') stream.end(arg);
    else if (op === 'throw') throw new Error(arg);
    else if (op === 'throwNamed') throw { name: arg, message: 'named' };
    else if (op === 'return') return arg;
    else if (op === 'crash') await new Promise(() => setImmediate(() => { throw new Error(arg); }));
    else if (op === 'pipeline') await pipeline(Readable.from(arg), stream);
    else if (op === 'pipelineFails') await pipeline(Readable.from((async function* () { yield arg; throw new Error('source broke'); })()), stream);
    else if (op === 'context') stream.write(JSON.stringify({ id: context.awsRequestId, succeed: typeof context.succeed }));
    else if (op === 'backpressure') {
      let writes = 0;
      while (stream.write(Buffer.alloc(8192, writes % 256))) if (++writes > 8192) throw new Error('write never said wait');
      const drained = once(stream, 'drain');
      await gate('blocked');
      await drained;
      stream.write('then:' + (writes + 1));
    }
  }
};
// A non-async handler when its event says so (['notAsync']).
export const steps = awslambda.streamifyResponse((event, stream, context) =>
  event.steps[0]?.[0] === 'notAsync' ? void stream.write('sync') : playSteps(event, stream, context));

export const small = awslambda.streamifyResponse(async (event, stream) => stream.end(String(stream.writableHighWaterMark)), { highWaterMark: 1024 });
export const plain = async (event) => ({ plain: event, global: typeof awslambda });
export const malformed = Object.assign(async () => {}, { [Symbol.for('aws.lambda.runtime.handler.streaming')]: 'request' });
`;

const taskRoot = mkdtempSync(join(tmpdir(), 'kindling-streaming-'));
writeFileSync(join(taskRoot, 'index.mjs'), FUNCTION_CODE);

// The stock runtime requires all of these.
const FUNCTION_ENV = { LAMBDA_TASK_ROOT: taskRoot, AWS_LAMBDA_FUNCTION_NAME: 'fn', AWS_LAMBDA_FUNCTION_VERSION: '$LATEST' };
Object.assign(FUNCTION_ENV, { AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128', AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/fn', AWS_LAMBDA_LOG_STREAM_NAME: 's' });

/** A runtime process (Kindling's, or the stock one when `ric` is given) serving `handler`. */
function launch(api: RuntimeApiPeer, handler: string, env: Record<string, string> = {}, ric?: string) {
  const child: ChildProcess = spawn(process.execPath, ric ? [join(ric, 'index.mjs'), handler] : [BOOTSTRAP], {
    cwd: taskRoot,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { PATH: process.env['PATH'] ?? '', AWS_LAMBDA_RUNTIME_API: api.address, _HANDLER: handler, ...FUNCTION_ENV, ...env },
  });
  let output = '';
  const grew = new EventEmitter();
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.setEncoding('utf8').on('data', (text: string) => grew.emit('data', (output += text)));
  }
  return { child, grew, output: () => output };
}

/** Resolves once the runtime's output matches (its log lines may come after what it posted). */
async function outputMatching(runtime: ReturnType<typeof launch>, pattern: RegExp): Promise<string> {
  while (!pattern.test(runtime.output())) await once(runtime.grew, 'data');
  return runtime.output();
}

function errorTrailer(posted: Posted): { errorType: string; errorMessage: string; trace: string[] } {
  const body = posted.trailers['lambda-runtime-function-error-body'];
  assert.ok(body, `no error trailers; trailers: ${JSON.stringify(posted.trailers)}`);
  return JSON.parse(Buffer.from(body, 'base64').toString());
}

/** The prelude, the 8 NUL bytes, the body: exactly. */
function withPrelude(prelude: unknown, body: string): Buffer {
  return Buffer.concat([Buffer.from(JSON.stringify(prelude)), Buffer.alloc(8), Buffer.from(body)]);
}

after(() => rmSync(taskRoot, { recursive: true, force: true }));

describe('a streamifyResponse handler on Kindling’s Node.js runtime', TIMEOUT, () => {
  let api: RuntimeApiPeer;
  let runtime: ReturnType<typeof launch>;
  before(async () => {
    api = await new RuntimeApiPeer().start();
    runtime = launch(api, 'index.steps');
  });
  after(async () => {
    runtime.child.kill('SIGKILL');
    await api.close();
  });

  test('streams its chunks in order, each on its way before the handler goes on', async () => {
    let first: Buffer | undefined;
    const firstSeen = new Promise((resolve) => (api.onStream = (req) => req.once('data', (chunk: Buffer) => resolve((first = chunk)))));
    api.gates.set('one-seen', () => firstSeen);
    const posted = await api.invoke({ steps: [['type', 'text/plain'], ['write', 'one'], ['gate', 'one-seen'], ['write', 'two'], ['end', 'three']] });
    api.onStream = undefined;
    assert.equal(first?.toString(), 'one');
    assert.deepEqual(posted.chunks.map(String), ['one', 'two', 'three']);
    assert.equal(posted.kind, 'response');
    assert.equal(posted.headers['lambda-runtime-function-response-mode'], 'streaming');
    assert.equal(posted.headers['transfer-encoding'], 'chunked');
    assert.equal(posted.headers['content-type'], 'text/plain');
    assert.match(String(posted.headers['trailer']), /^Lambda-Runtime-Function-Error-Type, ?Lambda-Runtime-Function-Error-Body$/);
    assert.deepEqual(posted.trailers, {});
  });

  test('answers application/octet-stream unless told otherwise; objects are written as JSON', async () => {
    const posted = await api.invoke({ steps: [['write', { a: 1 }], ['end']] });
    assert.equal(posted.headers['content-type'], 'application/octet-stream');
    assert.equal(posted.body.toString(), '{"a":1}');
  });

  test('HttpResponseStream.from puts the JSON prelude and 8 NUL bytes before the body', async () => {
    const prelude = { statusCode: 201, headers: { 'x-a': 'b' }, cookies: ['c=d'] };
    const posted = await api.invoke({ steps: [['http', prelude], ['write', 'hello '], ['end', 'world']] });
    assert.equal(posted.headers['content-type'], PRELUDE_TYPE);
    assert.deepEqual(posted.body, withPrelude(prelude, 'hello world'));
    // Ended without a write, the response still starts with its prelude.
    const empty = await api.invoke({ steps: [['http', { statusCode: 204 }], ['end']] });
    assert.deepEqual(empty.body, withPrelude({ statusCode: 204 }, ''));
  });

  test('the content type is set until the first write, then refused', async () => {
    const posted = await api.invoke({ steps: [['type', 'text/csv'], ['type', 'text/html'], ['write', '<p>'], ['tryType', 'text/csv'], ['end']] });
    assert.equal(posted.headers['content-type'], 'text/html');
    assert.equal(posted.body.toString(), '<p>Runtime.InvalidStreamingOperation: Cannot set content-type, too late.|');
  });

  test('a content type cannot carry another header', async () => {
    const posted = await api.invoke({ steps: [['tryType', 'text/plain\r\nX-Injected: 1'], ['end']] });
    assert.equal(posted.headers['x-injected'], undefined);
    assert.equal(posted.headers['content-type'], 'application/octet-stream');
    assert.match(posted.body.toString(), /^TypeError: Invalid character in header content \["Content-Type"\]\|$/);
  });

  test('an error before the first write ends an empty response with the error trailers', async () => {
    const posted = await api.invoke({ steps: [['type', 'text/plain'], ['throw', 'before any byte']] });
    assert.equal(posted.kind, 'response');
    assert.equal(posted.body.length, 0);
    assert.equal(posted.headers['content-type'], 'text/plain');
    assert.equal(posted.trailers['lambda-runtime-function-error-type'], 'Error');
    const error = errorTrailer(posted);
    assert.equal(error.errorType, 'Error');
    assert.equal(error.errorMessage, 'before any byte');
    assert.match(error.trace[0]!, /^Error: before any byte/);
    await outputMatching(runtime, /\tERROR\tInvoke Error \t\{"errorType":"Error","errorMessage":"before any byte"/);
  });

  test('an error after writes follows the bytes written, in the trailers', async () => {
    const posted = await api.invoke({ steps: [['write', 'partial '], ['write', 'answer'], ['throw', 'midway']] });
    assert.equal(posted.body.toString(), 'partial answer');
    assert.equal(posted.trailers['lambda-runtime-function-error-type'], 'Error');
    assert.equal(errorTrailer(posted).errorMessage, 'midway');
  });

  test('an error name cannot add a trailer of its own', async () => {
    const posted = await api.invoke({ steps: [['write', 'x'], ['throwNamed', 'Bad\r\nX-Injected: 1']] });
    assert.equal(posted.trailers['lambda-runtime-function-error-type'], 'BadX-Injected: 1');
    assert.equal(posted.trailers['x-injected'], undefined);
    assert.equal(errorTrailer(posted).errorType, 'Bad\r\nX-Injected: 1');
  });

  test('an error after the end leaves the response complete; a write after the end too', async () => {
    const thrown = await api.invoke({ steps: [['end', 'done'], ['throw', 'too late']] });
    assert.equal(thrown.body.toString(), 'done');
    assert.deepEqual(thrown.trailers, {});
    const written = await api.invoke({ steps: [['end', 'done'], ['write', 'more']] });
    assert.equal(written.body.toString(), 'done');
    assert.deepEqual(written.trailers, {});
    await outputMatching(runtime, /Invoke Error \t\{"errorType":"Error","errorMessage":"write after end"/);
  });

  test('a returned value is ignored, with Lambda’s warning', async () => {
    const posted = await api.invoke({ steps: [['write', 'streamed'], ['end'], ['return', { ignored: true }]] });
    assert.equal(posted.body.toString(), 'streamed');
    await outputMatching(runtime, /\tWARN\tStreaming handlers ignore return values\./);
  });

  test('pipeline() streams into it, and a failing source ends it with the source’s error', async () => {
    const piped = await api.invoke({ steps: [['pipeline', ['a', 'b', 'c']]] });
    assert.equal(piped.body.toString(), 'abc');
    assert.deepEqual(piped.trailers, {});
    const broken = await api.invoke({ steps: [['pipelineFails', 'first ']] });
    assert.equal(broken.body.toString(), 'first ');
    assert.equal(errorTrailer(broken).errorMessage, 'source broke');
  });

  test('write() says wait while the Runtime API reads nothing, and drain comes once it reads', async () => {
    api.onStream = (req) => {
      req.pause();
      api.gates.set('blocked', () => req.resume());
    };
    const posted = await api.invoke({ steps: [['backpressure'], ['end']] });
    api.onStream = undefined;
    const text = posted.body.subarray(-12).toString();
    const writes = Number(/then:(\d+)$/.exec(text)?.[1]);
    assert.ok(writes > 1, text);
    assert.equal(posted.body.length, writes * 8192 + `then:${writes}`.length);
    for (let i = 0; i < writes; i++) assert.equal(posted.body[i * 8192 + 8191], i % 256);
  });

  test('the context has no callback-era methods; the next invocations run on the same connection', async () => {
    const posted = await api.invoke({ steps: [['context'], ['end']] });
    assert.equal(JSON.parse(posted.body.toString()).succeed, 'undefined');
    // Every invocation above, errors and all, went over one keep-alive connection.
    assert.equal(api.runtimeSockets.size, 1);
  });
});

describe('the runtime around streaming handlers', TIMEOUT, () => {
  let api: RuntimeApiPeer;
  let running: ChildProcess | undefined;
  before(async () => (api = await new RuntimeApiPeer().start()));
  // One runtime at a time polls /next: each test's is gone before the next one starts.
  afterEach(async () => {
    if (running?.exitCode === null && running.signalCode === null) {
      running.kill('SIGKILL');
      await once(running, 'close');
    }
  });
  after(() => api.close());
  const start = (handler: string, env: Record<string, string> = {}) => {
    const started = launch(api, handler, env);
    running = started.child;
    return started;
  };

  test('a handler that is not async fails, after what it wrote', async () => {
    start('index.steps');
    const posted = await api.invoke({ steps: [['notAsync']] });
    assert.equal(posted.body.toString(), 'sync');
    assert.equal(errorTrailer(posted).errorMessage, 'Streaming does not support non-async handlers.');
  });

  test('streamifyResponse’s highWaterMark sets the stream’s', async () => {
    start('index.small');
    assert.equal((await api.invoke({})).body.toString(), '1024');
  });

  test('a plain handler is unaffected: a JSON response, and the global is there for it too', async () => {
    start('index.plain');
    const posted = await api.invoke({ n: 1 });
    assert.equal(posted.headers['lambda-runtime-function-response-mode'], undefined);
    assert.equal(posted.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(posted.body.toString()), { plain: { n: 1 }, global: 'object' });
  });

  test('AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA leaves the global out, as on Lambda', async () => {
    const initError = api.initError();
    start('index.plain', { AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA: 'true' });
    const posted = await initError;
    assert.match(JSON.parse(posted.body.toString()).errorMessage, /awslambda is not defined/);
  });

  test('a handler marked for another streaming mode is an init error', async () => {
    const initError = api.initError();
    start('index.malformed');
    const posted = await initError;
    assert.equal(posted.headers['lambda-runtime-function-error-type'], 'Runtime.MalformedStreamingHandler');
    assert.equal(JSON.parse(posted.body.toString()).errorMessage, 'Only response streaming is supported.');
  });

  test('a stream never ended keeps the invocation open (the function then times out)', async () => {
    const started = start('index.steps');
    let received: Posted | undefined;
    api.onStream = (_req, posted) => (received = posted);
    const posted = api.invoke({ steps: [['write', 'partial'], ['return', 'over']] });
    let settled = false;
    void posted.then(() => (settled = true));
    await outputMatching(started, /Streaming handlers ignore return values/);
    api.onStream = undefined;
    assert.equal(Buffer.concat(received?.chunks ?? []).toString(), 'partial');
    assert.equal(settled, false);
    assert.equal(started.child.exitCode, null);
  });

  test('a crash mid-stream ends the response with its error, then the process, as Lambda’s runtime exits', async () => {
    const started = start('index.steps');
    const posted = await api.invoke({ steps: [['write', 'so far'], ['crash', 'uncaught']] });
    assert.equal(posted.body.toString(), 'so far');
    assert.equal(errorTrailer(posted).errorMessage, 'uncaught');
    assert.match(await outputMatching(started, /Uncaught Exception/), /\tERROR\tUncaught Exception \t\{"errorType":"Error","errorMessage":"uncaught"/);
    assert.equal(started.child.exitCode ?? (await once(started.child, 'exit'))[0], 129);
  });

  test('a response the Runtime API refuses mid-stream ends there; the next invocation gets a new connection', async () => {
    const started = start('index.steps');
    api.onStream = (req, _posted, res) =>
      req.once('data', () => {
        api.gates.set('refused', () => undefined);
        res.writeHead(413, { 'Content-Type': 'application/json' }).end('{"errorType":"RequestEntityTooLarge"}');
      });
    void api.invoke({ steps: [['write', 'too much'], ['gate', 'refused'], ['write', 'more'], ['end']] });
    await outputMatching(started, /the Runtime API answered 413/);
    api.onStream = undefined;
    const sockets = api.runtimeSockets.size;
    const posted = await api.invoke({ steps: [['end', 'next one']] });
    assert.equal(posted.body.toString(), 'next one');
    assert.equal(api.runtimeSockets.size, sockets + 1);
  });

  test('a pre-started runtime provides the global once bound to its function', async () => {
    const started = start('', { _KINDLING_PRESTARTED: '1' });
    await outputMatching(started, /kindling-prestarted-runtime-ready/);
    const env = { AWS_LAMBDA_RUNTIME_API: api.address, _HANDLER: 'index.steps', LAMBDA_TASK_ROOT: taskRoot };
    started.child.stdin!.write(`${JSON.stringify({ env })}\n`);
    const posted = await api.invoke({ steps: [['http', { statusCode: 200 }], ['end', 'prestarted']] });
    assert.deepEqual(posted.body, withPrelude({ statusCode: 200 }, 'prestarted'));
  });
});

/** What two runtimes must agree on for one invocation (the trace names each runtime's own files). */
function comparable(posted: Posted) {
  const error = posted.trailers['lambda-runtime-function-error-body'] === undefined ? undefined : errorTrailer(posted);
  return {
    kind: posted.kind,
    mode: posted.headers['lambda-runtime-function-response-mode'],
    contentType: posted.headers['content-type'],
    body: posted.body.toString('base64'),
    errorType: posted.trailers['lambda-runtime-function-error-type'],
    error: error && { errorType: error.errorType, errorMessage: error.errorMessage },
  };
}

const ric = await ricForTest();
describe('the same handlers under the stock aws-lambda-ric', { ...TIMEOUT, skip: 'unavailable' in ric ? ric.unavailable : false }, () => {
  const scenarios: [string, unknown[][]][] = [
    ['chunks and a content type', [['type', 'text/plain'], ['write', 'one'], ['write', 'two'], ['end', 'three']]],
    ['an object written', [['write', { a: 1 }], ['end']]],
    ['the HTTP prelude', [['http', { statusCode: 201, headers: { a: 'b' }, cookies: ['c=d'] }], ['write', 'hi'], ['end']]],
    ['a content type too late', [['write', '<p>'], ['tryType', 'text/csv'], ['end']]],
    ['a content type with a line break', [['tryType', 'a\r\nX-Injected: 1'], ['end']]],
    ['an error before the first write', [['type', 'text/plain'], ['throw', 'before']]],
    ['an error after writes', [['write', 'partial'], ['throw', 'midway']]],
    ['an error after the end', [['end', 'done'], ['throw', 'too late']]],
    ['a returned value', [['write', 'x'], ['end'], ['return', 42]]],
    ['pipeline()', [['pipeline', ['a', 'b']]]],
    ['a non-async handler', [['notAsync']]],
  ];
  const outcomes = new Map<string, Map<string, ReturnType<typeof comparable>>>();
  for (const [name, dir] of [['kindling', undefined], ['ric', 'dir' in ric ? ric.dir : '']] as const) {
    test(`run on ${name}`, async (t) => {
      const api = await new RuntimeApiPeer().start();
      const runtime = launch(api, 'index.steps', {}, dir);
      t.after(async () => {
        runtime.child.kill('SIGKILL');
        await api.close();
      });
      const seen = new Map<string, ReturnType<typeof comparable>>();
      for (const [scenario, steps] of scenarios) seen.set(scenario, comparable(await api.invoke({ steps })));
      outcomes.set(name, seen);
    });
  }
  for (const [scenario] of scenarios) {
    test(`posts what it posts: ${scenario}`, () => {
      assert.deepEqual(outcomes.get('kindling')?.get(scenario), outcomes.get('ric')?.get(scenario));
    });
  }
});
