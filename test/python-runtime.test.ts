/**
 * The Python runtime client (src/runtimes/python) through the real server and the AWS SDK, as users
 * run python3.x functions: handlers, the context object, logs, errors, Init failures, timeouts, layers.
 */
import {
  CreateFunctionCommand,
  InvokeCommand,
  PublishLayerVersionCommand,
  UpdateFunctionCodeCommand,
  waitUntilFunctionUpdatedV2,
  type InvokeCommandOutput,
} from '@aws-sdk/client-lambda';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { zipFiles } from '../src/code/index.js';
import { json, ROLE, startTestServer, type TestServer } from './support/kindling.js';

const ECHO = `
import json
import logging
import os
import sys

# Names this process: pids repeat across sandboxes that have their own pid namespace.
PROCESS = os.urandom(8).hex()
cold_starts = 0
cold_starts += 1
logger = logging.getLogger()
logger.setLevel(logging.INFO)


def handler(event, context):
    print("printed", json.dumps(event))
    print("first\\nsecond")
    logger.info("info for %s", context.aws_request_id)
    logger.warning("multi\\nline")
    cc = context.client_context
    return {
        "event": event,
        "process": PROCESS,
        "coldStarts": cold_starts,
        "requestId": context.aws_request_id,
        "functionName": context.function_name,
        "functionVersion": context.function_version,
        "arn": context.invoked_function_arn,
        "memory": context.memory_limit_in_mb,
        "logGroup": context.log_group_name,
        "logStream": context.log_stream_name,
        "remaining": context.get_remaining_time_in_millis(),
        "identity": [context.identity.cognito_identity_id, context.identity.cognito_identity_pool_id],
        "clientContext": None if cc is None else {"custom": cc.custom, "appTitle": cc.client.app_title},
        "traceId": os.environ.get("_X_AMZN_TRACE_ID"),
        "taskRootFirst": sys.path[0] == os.environ["LAMBDA_TASK_ROOT"],
    }
`;

const NESTED = { 'pkg/__init__.py': '', 'pkg/sub/__init__.py': '', 'pkg/sub/mod.py': 'def handler(event, context):\n    return {"module": __name__}\n' };

const FUNCTIONS: Record<string, { files: Record<string, string>; handler?: string; timeout?: number }> = {
  echo: { files: { 'app.py': ECHO } },
  quiet: { files: { 'app.py': 'import logging\n\ndef handler(event, context):\n    logging.info("hidden info")\n    logging.warning("shown warning")\n    return None\n' } },
  slashes: { files: NESTED, handler: 'pkg/sub/mod.handler' },
  dots: { files: NESTED, handler: 'pkg.sub.mod.handler' },
  thrower: {
    files: {
      'app.py': 'class BadThing(Exception):\n    pass\n\n\ndef handler(event, context):\n    raise BadThing("it broke")\n',
    },
  },
  marshal: {
    files: {
      'app.py':
        'from decimal import Decimal\n\ndef handler(event, context):\n' +
        '    if event.get("bad"):\n        return {1, 2}\n' +
        '    return {"text": "h\\u00e9llo", "amount": Decimal("1.5"), "count": Decimal("3")}\n',
    },
  },
  missing: { files: { 'app.py': 'def handler(event, context):\n    return 1\n' }, handler: 'nothere.handler' },
  baddep: { files: { 'app.py': 'import dependency_not_here\n\ndef handler(event, context):\n    return 1\n' } },
  nohandler: { files: { 'app.py': 'def other(event, context):\n    return 1\n' }, handler: 'app.nope' },
  syntax: { files: { 'app.py': 'def handler(event, context)\n    return 1\n' } },
  malformed: { files: { 'app.py': 'def handler(event, context):\n    return 1\n' }, handler: 'app' },
  sleeper: {
    files: { 'app.py': 'import os\nimport time\n\nPROCESS = os.urandom(8).hex()\n\ndef handler(event, context):\n    time.sleep(event["s"])\n    return PROCESS\n' },
    timeout: 1,
  },
};

async function invoke(server: TestServer, name: string, payload: unknown = {}, extra: Record<string, unknown> = {}): Promise<InvokeCommandOutput> {
  return server.lambda.send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from(JSON.stringify(payload)), ...extra }));
}

function tail(out: InvokeCommandOutput): string {
  return Buffer.from(out.LogResult ?? '', 'base64').toString('utf8');
}

/** The function's stored log events (what CloudWatch Logs would hold), one string per event. */
async function logEvents(server: TestServer, name: string): Promise<string[]> {
  await server.kindling.logs.flush();
  const group = `/aws/lambda/${name}`;
  const streams = await server.kindling.store.logs.listStreams(group);
  const events = await Promise.all(streams.map((s) => server.kindling.store.logs.getEvents(group, s.logStreamName)));
  return events.flat().map((e) => e.message);
}

type ErrorBody = { errorType: string; errorMessage: string; requestId: string; stackTrace: string[] };

async function initError(server: TestServer, name: string): Promise<ErrorBody> {
  const out = await invoke(server, name);
  assert.equal(out.StatusCode, 200);
  assert.equal(out.FunctionError, 'Unhandled');
  const body = json(out.Payload) as ErrorBody;
  assert.deepEqual(Object.keys(body), ['errorMessage', 'errorType', 'requestId', 'stackTrace']);
  // An Init error belongs to no request: Lambda's Python runtime posts it with an empty requestId.
  assert.equal(body.requestId, '');
  return body;
}

describe('the Python runtime through the AWS SDK', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ idleTimeoutMs: 60_000 });
    for (const [name, spec] of Object.entries(FUNCTIONS)) {
      await server.lambda.send(
        new CreateFunctionCommand({
          FunctionName: name,
          Runtime: 'python3.12',
          Handler: spec.handler ?? 'app.handler',
          Role: ROLE,
          Timeout: spec.timeout ?? 10,
          Code: { ZipFile: await zipFiles(spec.files) },
        }),
      );
    }
  });
  after(() => server.close());

  it('runs a function cold, then warm in the same process, with the event and the context', async () => {
    const cold = await invoke(server, 'echo', { n: 1 });
    assert.equal(cold.StatusCode, 200);
    assert.equal(cold.FunctionError, undefined);
    const first = json(cold.Payload) as Record<string, any>;
    assert.deepEqual(first['event'], { n: 1 });
    assert.equal(first['requestId'], cold.$metadata.requestId);
    assert.equal(first['functionName'], 'echo');
    assert.equal(first['functionVersion'], '$LATEST');
    assert.equal(first['arn'], 'arn:aws:lambda:us-east-1:000000000000:function:echo');
    // A string, as on Lambda (it is read from AWS_LAMBDA_FUNCTION_MEMORY_SIZE).
    assert.equal(first['memory'], '128');
    assert.equal(first['logGroup'], '/aws/lambda/echo');
    assert.match(first['logStream'], /^\d{4}\/\d\d\/\d\d\/\[\$LATEST\][0-9a-f]{32}$/);
    assert.ok(first['remaining'] > 8000 && first['remaining'] <= 10_000, `remaining ${first['remaining']}`);
    assert.deepEqual(first['identity'], [null, null]);
    assert.equal(first['clientContext'], null);
    assert.match(first['traceId'], /^Root=1-[0-9a-f]{8}-[0-9a-f]{24};/);
    assert.equal(first['taskRootFirst'], true, 'the task root leads sys.path, as on Lambda');

    const warm = json((await invoke(server, 'echo', { n: 2 })).Payload) as Record<string, any>;
    assert.equal(warm['process'], first['process'], 'the warm invoke reuses the process');
    assert.equal(warm['coldStarts'], 1, 'the module ran once');
    assert.deepEqual(warm['event'], { n: 2 });
    assert.notEqual(warm['requestId'], first['requestId']);
  });

  it('passes the client context to context.client_context', async () => {
    const clientContext = { custom: { who: 'test' }, client: { app_title: 'kindling' } };
    const out = await invoke(server, 'echo', {}, { ClientContext: Buffer.from(JSON.stringify(clientContext)).toString('base64') });
    assert.deepEqual((json(out.Payload) as Record<string, unknown>)['clientContext'], { custom: { who: 'test' }, appTitle: 'kindling' });
  });

  it('writes print output as it is and logging records in Lambda format, one event per record', async () => {
    const out = await invoke(server, 'echo', { tail: true }, { LogType: 'Tail' });
    const requestId = out.$metadata.requestId!;
    const lines = tail(out).split('\n');
    assert.ok(lines.includes('printed {"tail": true}'), tail(out));
    assert.ok(lines.includes('first') && lines.includes('second'), 'print output is written line by line');
    const stamp = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z';
    assert.match(tail(out), new RegExp(`^\\[INFO\\]\\t${stamp}\\t${requestId}\\tinfo for ${requestId}$`, 'm'));
    assert.match(tail(out), new RegExp(`^\\[WARNING\\]\\t${stamp}\\t${requestId}\\tmulti\\nline$`, 'm'));
    const events = await logEvents(server, 'echo');
    assert.ok(events.some((e) => e.endsWith(`\t${requestId}\tmulti\nline`)), 'a multi-line record stays one log event');

    // Lambda leaves the root logger at WARNING unless the function sets a level.
    const quiet = tail(await invoke(server, 'quiet', {}, { LogType: 'Tail' }));
    assert.match(quiet, /\[WARNING\]\t\S+Z\t[0-9a-f-]{36}\tshown warning/);
    assert.doesNotMatch(quiet, /hidden info/);
  });

  it('finds handlers in package subfolders, written with / or with dots', async () => {
    for (const name of ['slashes', 'dots']) {
      const out = await invoke(server, name);
      assert.equal(out.FunctionError, undefined, name);
      assert.deepEqual(json(out.Payload), { module: 'pkg.sub.mod' }, name);
    }
  });

  it('reports a raised exception as Unhandled with errorType, errorMessage and stackTrace, and logs it', async () => {
    const out = await invoke(server, 'thrower', {}, { LogType: 'Tail' });
    assert.equal(out.StatusCode, 200);
    assert.equal(out.FunctionError, 'Unhandled');
    const body = json(out.Payload) as ErrorBody;
    assert.equal(body.errorType, 'BadThing');
    assert.equal(body.errorMessage, 'it broke');
    assert.equal(body.requestId, out.$metadata.requestId);
    // The trace starts in the function's code: the runtime's own frames are left out.
    assert.equal(body.stackTrace.length, 1, JSON.stringify(body.stackTrace));
    assert.match(body.stackTrace[0]!, /^ {2}File "[^"]*\/app\.py", line 6, in handler\n {4}raise BadThing\("it broke"\)\n$/);
    assert.match(tail(out), /^\[ERROR\] BadThing: it broke\nTraceback \(most recent call last\):\n\u00a0\u00a0File "[^"]*\/app\.py", line 6, in handler\n\u00a0{4}raise BadThing\("it broke"\)$/m);
  });

  it('encodes results as Lambda does, and reports an unserialisable one as Runtime.MarshalError', async () => {
    const ok = await invoke(server, 'marshal');
    assert.equal(ok.FunctionError, undefined);
    // python3.12 writes non-ASCII characters unescaped; Decimal is a number.
    assert.equal(Buffer.from(ok.Payload!).toString('utf8'), '{"text": "h\u00e9llo", "amount": 1.5, "count": 3}');

    const bad = await invoke(server, 'marshal', { bad: true });
    assert.equal(bad.FunctionError, 'Unhandled');
    assert.deepEqual(json(bad.Payload), {
      errorMessage: 'Unable to marshal response: Object of type set is not JSON serializable',
      errorType: 'Runtime.MarshalError',
      requestId: bad.$metadata.requestId,
      stackTrace: [],
    });
  });

  it('reports Init failures as the Runtime.* errors Lambda names', async () => {
    const missing = await initError(server, 'missing');
    assert.equal(missing.errorType, 'Runtime.ImportModuleError');
    assert.equal(missing.errorMessage, "Unable to import module 'nothere': No module named 'nothere'");
    assert.deepEqual(missing.stackTrace, []);

    const baddep = await initError(server, 'baddep');
    assert.equal(baddep.errorType, 'Runtime.ImportModuleError');
    assert.equal(baddep.errorMessage, "Unable to import module 'app': No module named 'dependency_not_here'");

    const nohandler = await initError(server, 'nohandler');
    assert.equal(nohandler.errorType, 'Runtime.HandlerNotFound');
    assert.equal(nohandler.errorMessage, "Handler 'nope' missing on module 'app'");

    const syntax = await initError(server, 'syntax');
    assert.equal(syntax.errorType, 'Runtime.UserCodeSyntaxError');
    assert.match(syntax.errorMessage, /^Syntax error in module 'app': expected ':' \(app\.py, line 1\)$/);
    assert.match(syntax.stackTrace[0]!, /^ {2}File "[^"]*\/app\.py" Line 1\n {4}def handler\(event, context\)\n$/);

    const malformed = await initError(server, 'malformed');
    assert.equal(malformed.errorType, 'Runtime.MalformedHandlerName');
    assert.equal(malformed.errorMessage, "Bad handler 'app': not enough values to unpack (expected 2, got 1)");

    // The error and Lambda's warning are in the function's log.
    const events = await logEvents(server, 'missing');
    assert.ok(events.some((e) => /^\[WARNING\]\t\S+Z\t\tLAMBDA_WARNING: Unhandled exception\./.test(e)), events.join('\n'));
    assert.ok(events.includes("[ERROR] Runtime.ImportModuleError: Unable to import module 'nothere': No module named 'nothere'\nTraceback (most recent call last):"), events.join('\n'));
  });

  it('runs Init again on the next invoke after an Init failure', async () => {
    assert.equal((await initError(server, 'missing')).errorType, 'Runtime.ImportModuleError');
    await server.lambda.send(
      new UpdateFunctionCodeCommand({
        FunctionName: 'missing',
        ZipFile: await zipFiles({ 'nothere.py': 'def handler(event, context):\n    return "fixed"\n' }),
      }),
    );
    await waitUntilFunctionUpdatedV2({ client: server.lambda, maxWaitTime: 10 }, { FunctionName: 'missing' });
    const fixed = await invoke(server, 'missing');
    assert.equal(fixed.FunctionError, undefined);
    assert.equal(json(fixed.Payload), 'fixed');
  });

  it('times out with Sandbox.Timedout and serves the next invoke from a new process', async () => {
    const first = json((await invoke(server, 'sleeper', { s: 0 })).Payload);
    const out = await invoke(server, 'sleeper', { s: 5 });
    assert.equal(out.FunctionError, 'Unhandled');
    const body = json(out.Payload) as Record<string, string>;
    assert.equal(body['errorType'], 'Sandbox.Timedout');
    assert.match(body['errorMessage']!, /^RequestId: [0-9a-f-]{36} Error: Task timed out after 1\.00 seconds$/);
    const next = json((await invoke(server, 'sleeper', { s: 0 })).Payload);
    assert.equal(typeof next, 'string');
    assert.notEqual(next, first, 'a new process serves the next request');
  });

  it('imports modules from a layer under /opt/python and its site-packages', async () => {
    const layer = await server.lambda.send(
      new PublishLayerVersionCommand({
        LayerName: 'pylib',
        CompatibleRuntimes: ['python3.12'],
        Content: {
          ZipFile: await zipFiles({
            'python/mylib.py': 'def greet():\n    return "from the layer"\n',
            'python/lib/python3.12/site-packages/sitelib.py': 'WHERE = "site-packages"\n',
          }),
        },
      }),
    );
    await server.lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'layered',
        Runtime: 'python3.12',
        Handler: 'app.handler',
        Role: ROLE,
        Layers: [layer.LayerVersionArn!],
        Code: {
          ZipFile: await zipFiles({
            'app.py': 'import mylib\nimport sitelib\n\ndef handler(event, context):\n    return [mylib.greet(), sitelib.WHERE]\n',
          }),
        },
      }),
    );
    const out = await invoke(server, 'layered');
    assert.equal(out.FunctionError, undefined, Buffer.from(out.Payload ?? []).toString());
    assert.deepEqual(json(out.Payload), ['from the layer', 'site-packages']);
  });
});
