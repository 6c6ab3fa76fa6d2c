import { CreateFunctionCommand, InvokeCommand, waitUntilFunctionActiveV2, type LambdaClient } from '@aws-sdk/client-lambda';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { zipFiles } from '../src/code/index.js';
import { NamespaceSandboxDriver } from '../src/sandbox/namespace/namespace-driver.js';
import { prestartable } from '../src/worker/runtime-launch.js';
import type { FunctionRecord } from '../src/store/index.js';
import { nodeFunction } from './support/functions.js';
import { json, ROLE, startTestServer, type TestServer } from './support/kindling.js';

/**
 * Cold starts from pre-started runtimes (worker/prestart-pool.ts). Whether a cold start used one is
 * told from inside, by behaviour: a pre-started runtime's process is older than its function.
 */

/** What every probe answers: when its process started, and what it sees. */
const NODE_PROBE = `
const fs = require('fs');
const started = Date.now() - process.uptime() * 1000;
const loaded = Date.now();
exports.handler = async (event) => {
  const root = process.env.LAMBDA_TASK_ROOT;
  const attempt = (fn) => { try { fn(); return 'done'; } catch (err) { return err.code; } };
  if (event.leave) fs.writeFileSync('/tmp/left-behind-' + event.leave, 'secret');
  return {
    started, loaded, pid: process.pid,
    mine: process.env.MINE ?? null,
    marker: process.env._KINDLING_PRESTARTED ?? null,
    name: process.env.AWS_LAMBDA_FUNCTION_NAME,
    cwd: process.cwd(), root,
    files: fs.readdirSync(root).sort(),
    tmp: fs.readdirSync('/tmp').filter((f) => f.startsWith('left-behind-')),
    overwrite: attempt(() => fs.writeFileSync(root + '/index.js', 'exports.handler = async () => "owned";')),
    add: attempt(() => fs.writeFileSync(root + '/planted.js', 'x')),
    neighbours: (() => { try { return fs.readdirSync(require('path').dirname(require('path').dirname(root))); } catch (err) { return [err.code]; } })(),
    headerSize: require('http').maxHeaderSize,
  };
};
`;

const PYTHON_PROBE = `
import os, sys, time
_HZ = os.sysconf("SC_CLK_TCK")
with open("/proc/uptime") as f:
    _uptime = float(f.read().split()[0])
with open("/proc/self/stat") as f:
    _ticks = int(f.read().rsplit(")", 1)[1].split()[19])
STARTED = (time.time() - (_uptime - _ticks / _HZ)) * 1000

def handler(event, context):
    return {"started": STARTED, "mine": os.environ.get("MINE"), "marker": os.environ.get("_KINDLING_PRESTARTED"),
            "name": os.environ["AWS_LAMBDA_FUNCTION_NAME"], "cwd": os.getcwd(), "path0": sys.path[0],
            "root": os.environ["LAMBDA_TASK_ROOT"], "files": sorted(os.listdir(os.environ["LAMBDA_TASK_ROOT"])),
            "memory": context.memory_limit_in_mb}
`;

interface Probe {
  started: number;
  loaded?: number;
  pid?: number;
  mine: string | null;
  marker: string | null;
  name: string;
  cwd: string;
  root: string;
  files: string[];
  tmp?: string[];
  overwrite?: string;
  add?: string;
  neighbours?: string[];
  headerSize?: number;
  path0?: string;
  memory?: string;
}

async function deploy(lambda: LambdaClient, name: string, runtime: 'node' | 'python', variables: Record<string, string>, memorySize = 128): Promise<number> {
  const created = Date.now();
  const input =
    runtime === 'node'
      ? await nodeFunction(name, NODE_PROBE, { Environment: { Variables: variables }, MemorySize: memorySize })
      : {
          FunctionName: name,
          Runtime: 'python3.12' as const,
          Handler: 'app.handler',
          Role: ROLE,
          Code: { ZipFile: await zipFiles({ 'app.py': PYTHON_PROBE }) },
          Environment: { Variables: variables },
          MemorySize: memorySize,
        };
  await lambda.send(new CreateFunctionCommand(input));
  await waitUntilFunctionActiveV2({ client: lambda, maxWaitTime: 30 }, { FunctionName: name });
  return created;
}

async function probe(lambda: LambdaClient, name: string, event: object = {}): Promise<{ probe: Probe; log: string }> {
  const out = await lambda.send(new InvokeCommand({ FunctionName: name, LogType: 'Tail', Payload: Buffer.from(JSON.stringify(event)) }));
  assert.equal(out.FunctionError, undefined, Buffer.from(out.Payload ?? []).toString());
  return { probe: json(out.Payload) as Probe, log: Buffer.from(out.LogResult ?? '', 'base64').toString() };
}

const namespaceUnavailable = await new NamespaceSandboxDriver().unavailable();

for (const driver of ['process', 'namespace'] as const) {
  const skip = driver === 'namespace' && namespaceUnavailable ? `the namespace sandbox is not available here: ${namespaceUnavailable}` : false;
  describe(`cold starts from pre-started runtimes (${driver} sandbox)`, { skip }, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ sandbox: driver, prewarm: 3 });
      assert.ok(await server.kindling.prestart!.settled(), 'the seeds started');
    });
    after(() => server?.close());

    it('runs a Node.js function in a runtime started before the function existed, with only its own code and variables', async () => {
      const created = await deploy(server.lambda, 'pre-node', 'node', { MINE: 'node-value' });
      const { probe: seen, log } = await probe(server.lambda, 'pre-node');
      assert.ok(seen.started < created, 'the runtime was running before the function was created');
      assert.ok(seen.loaded! > created, 'the handler loaded after');
      assert.equal(seen.mine, 'node-value');
      assert.equal(seen.marker, null, 'nothing of the pre-start is left in the environment');
      assert.equal(seen.name, 'pre-node');
      assert.deepEqual(seen.files, ['index.js']);
      assert.equal(seen.cwd, seen.root);
      if (driver === 'namespace') assert.equal(seen.root, '/var/task');
      // Lambda's REPORT counts the function's own Init, which ran as part of this invocation.
      assert.match(log, /REPORT RequestId: \S+\tDuration: [\d.]+ ms\t.*Init Duration: [\d.]+ ms/);
      assert.ok(server.kindling.prestart!.stats().hits >= 1);
    });

    it('runs a Python function the same way', async () => {
      const created = await deploy(server.lambda, 'pre-python', 'python', { MINE: 'python-value' });
      const { probe: seen } = await probe(server.lambda, 'pre-python');
      assert.ok(seen.started < created, 'the runtime was running before the function was created');
      assert.equal(seen.mine, 'python-value');
      assert.equal(seen.marker, null);
      assert.equal(seen.name, 'pre-python');
      assert.deepEqual(seen.files, ['app.py']);
      assert.equal(seen.cwd, seen.root);
      assert.equal(seen.path0, seen.root, 'the task root comes first on sys.path, as on Lambda');
      assert.equal(seen.memory, '128');
    });

    it('never hands one function anything of another: a pre-started sandbox is used once, and its code is read-only', async () => {
      assert.ok(await server.kindling.prestart!.settled());
      await deploy(server.lambda, 'pre-first', 'node', { MINE: 'first' });
      const token = `t${Date.now()}`;
      const first = (await probe(server.lambda, 'pre-first', { leave: token })).probe;
      // Its code is shared, by hard links, with the code cache: writing through them must fail.
      assert.notEqual(first.overwrite, 'done', 'the function rewrote its own code');
      assert.notEqual(first.add, 'done', 'the function planted a file beside its code');
      if (driver === 'process') {
        // The host's view: only its own pre-started directory, none of the others still waiting.
        assert.deepEqual(first.neighbours, [basename(dirname(first.root))]);
      }
      assert.ok(await server.kindling.prestart!.settled());
      await deploy(server.lambda, 'pre-second', 'node', { MINE: 'second' });
      const second = (await probe(server.lambda, 'pre-second')).probe;
      assert.equal(second.mine, 'second');
      // The process sandbox shares the host's /tmp (docs/sandboxes.md); its processes are apart.
      if (driver === 'namespace') assert.deepEqual(second.tmp, [], "the first function's /tmp is not the second's");
      else assert.notEqual(second.pid, first.pid, 'another process');
      assert.ok(second.started !== first.started || second.pid !== first.pid, 'another sandbox');
      // The first function still runs its own code.
      assert.equal((await probe(server.lambda, 'pre-first')).probe.mine, 'first');
    });

    it('starts one of the kind a deploy asks for, so the first invoke after it finds one ready', async () => {
      const hits = server.kindling.prestart!.stats().hits;
      await deploy(server.lambda, 'pre-big', 'node', { MINE: 'big' }, 1024);
      assert.ok(await server.kindling.prestart!.settled(), 'the deploy started one of its kind (1024 MB: no seed)');
      const invoked = Date.now();
      const { probe: seen } = await probe(server.lambda, 'pre-big');
      assert.ok(seen.started < invoked, 'its runtime was running before the invoke came');
      assert.equal(seen.mine, 'big');
      assert.equal(server.kindling.prestart!.stats().hits, hits + 1);
    });

    it('starts a runtime of its own for a function that sets a variable the interpreter reads at start', async () => {
      const created = await deploy(server.lambda, 'pre-options', 'node', { NODE_OPTIONS: '--max-http-header-size=12345' });
      const { probe: seen } = await probe(server.lambda, 'pre-options');
      assert.ok(seen.started >= created, 'a runtime started for this function');
      assert.equal(seen.headerSize, 12345, 'NODE_OPTIONS took effect');
    });
  });
}

describe('--prewarm 0', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ prewarm: 0 });
  });
  after(() => server?.close());

  it('starts every runtime on demand', async () => {
    assert.equal(server.kindling.prestart, undefined);
    const created = await deploy(server.lambda, 'on-demand', 'node', { MINE: 'x' });
    const { probe: seen } = await probe(server.lambda, 'on-demand');
    assert.ok(seen.started >= created);
    assert.equal(seen.mine, 'x');
  });
});

describe('a stopped server', () => {
  it('leaves no pre-started sandbox behind', async () => {
    const server = await startTestServer({ prewarm: 2 }, undefined);
    assert.ok(await server.kindling.prestart!.settled());
    const dir = join(server.dataDir, 'prestart');
    assert.ok(readdirSync(dir).some((name) => name !== 'package.json'));
    await server.kindling.close();
    assert.deepEqual(readdirSync(dir).filter((name) => name !== 'package.json'), []);
    await server.close();
  });
});

describe('which functions a pre-started runtime can run', () => {
  const fn = (over: Partial<FunctionRecord>): FunctionRecord =>
    ({ runtime: 'nodejs20.x', packageType: 'Zip', environment: {}, layers: [], ...over }) as unknown as FunctionRecord;

  it("Kindling's own Node.js and Python clients, from a zip, without layers", () => {
    assert.equal(prestartable(fn({})), true);
    assert.equal(prestartable(fn({ runtime: 'python3.12', environment: { TABLE: 'x', LOG_LEVEL: 'debug' } })), true);
    assert.equal(prestartable(fn({ runtime: 'provided.al2023' })), false, 'a custom runtime is its own bootstrap');
    assert.equal(prestartable(fn({ packageType: 'Image' })), false);
    assert.equal(prestartable(fn({ layers: [{ arn: 'arn:aws:lambda:us-east-1:000000000000:layer:l:1', codeSize: 1, codeKey: 'k' }] as FunctionRecord['layers'] })), false);
  });

  it('not with a variable the interpreter reads only as it starts', () => {
    for (const name of ['NODE_OPTIONS', 'NODE_EXTRA_CA_CERTS', 'UV_THREADPOOL_SIZE', 'PYTHONWARNINGS', 'LD_PRELOAD', 'LC_ALL', 'AWS_LAMBDA_EXEC_WRAPPER']) {
      assert.equal(prestartable(fn({ environment: { [name]: 'x' } })), false, name);
    }
  });
});
