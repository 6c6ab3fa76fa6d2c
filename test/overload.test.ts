import { CreateFunctionCommand, GetFunctionCommand, ListFunctionsCommand } from '@aws-sdk/client-lambda';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { zipFiles } from '../src/code/index.js';
import { ROLE, startTestServer, type TestServer } from './support/kindling.js';
import { eventually } from './support/wait.js';

// Init costs CPU, as loading a real function's dependencies does (200 ms of work at load time).
const SLEEPER = `
while (process.cpuUsage().user < 200_000);
exports.handler = async (event) => {
  await new Promise((r) => setTimeout(r, event.ms));
  return 'done';
};
`;

const BURST = 200;

type Outcome = { kind: 'ok' } | { kind: 'throttled'; reason: string } | { kind: 'failed'; detail: string };

/** One synchronous invoke over its own request (fetch has no per-host socket cap, unlike the SDK's 50). */
async function invoke(url: string, name: string, ms: number): Promise<Outcome> {
  const res = await fetch(`${url}/2015-03-31/functions/${name}/invocations`, { method: 'POST', body: JSON.stringify({ ms }) });
  const body = await res.text();
  if (res.status === 200 && res.headers.get('x-amz-function-error') === null) return { kind: 'ok' };
  if (res.status === 429 && res.headers.get('x-amzn-errortype') === 'TooManyRequestsException') {
    assert.ok(res.headers.get('retry-after'), 'a 429 carries Retry-After');
    return { kind: 'throttled', reason: (JSON.parse(body) as { Reason: string }).Reason };
  }
  return { kind: 'failed', detail: `${res.status} ${res.headers.get('x-amz-function-error') ?? ''} ${body}` };
}

describe('overload: a burst of cold starts degrades, it does not collapse', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      // Two Inits at a time, a queue of 60: the rest of the burst is throttled or served warm.
      maxConcurrentInits: 2,
      maxQueuedInits: 60,
      // A short Init limit makes a starved Init show up sooner: 200 Inits of 200 ms of CPU each at
      // once on a couple of cores take far longer than this; an admitted Init runs beside one other.
      initTimeoutMs: 5_000,
    });
    await server.lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'slow',
        Runtime: 'nodejs20.x',
        Handler: 'index.handler',
        Role: ROLE,
        Timeout: 30,
        Code: { ZipFile: await zipFiles({ 'index.js': SLEEPER }) },
      }),
    );
  });
  after(async () => {
    await server.close();
  });

  it(`answers ${BURST} concurrent invokes with a result or a 429, never an Init failure, and the control plane answers meanwhile`, async (t) => {
    let done = false;
    const burst = Promise.all(Array.from({ length: BURST }, (_, i) => invoke(server.kindling.url, 'slow', 1000 + (i % 3) * 500))).finally(
      () => (done = true),
    );
    // The control plane is asked while the burst runs; each call must come back (how fast is bench/overload.ts's figure).
    let controlCalls = 0;
    while (!done) {
      const list = await server.lambda.send(new ListFunctionsCommand({}));
      assert.ok(list.Functions?.some((f) => f.FunctionName === 'slow'));
      const got = await server.lambda.send(new GetFunctionCommand({ FunctionName: 'slow' }));
      assert.equal(got.Configuration?.FunctionName, 'slow');
      controlCalls++;
    }
    const outcomes = await burst;
    const failed = outcomes.flatMap((o) => (o.kind === 'failed' ? [o.detail] : []));
    assert.equal(failed.length, 0, `no invoke fails (no Sandbox.Timedout, no Init error); ${failed.length} did, e.g. ${failed[0]}`);
    for (const o of outcomes) if (o.kind === 'throttled') assert.equal(o.reason, 'FunctionInvocationRateLimitExceeded');
    const ok = outcomes.filter((o) => o.kind === 'ok').length;
    t.diagnostic(`${ok} succeeded, ${BURST - ok} throttled, ${controlCalls} ListFunctions+GetFunction rounds during the burst`);
    assert.ok(ok > 0);
    assert.ok(controlCalls > 0);
  });
});

describe('overload: a waiting invoke takes an environment freed by its function', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ maxConcurrentInits: 1, maxQueuedInits: 4 });
    const create = async (name: string, code: string) =>
      server.lambda.send(
        new CreateFunctionCommand({ FunctionName: name, Runtime: 'nodejs20.x', Handler: 'index.handler', Role: ROLE, Timeout: 30, Code: { ZipFile: await zipFiles({ 'index.js': code }) } }),
      );
    await create('reused', 'exports.handler = async (e) => { await new Promise((r) => setTimeout(r, e.ms)); return process.pid; };\n');
    // Holds the only Init slot for 6 s (its Init blocks), longer than 'reused' runs.
    await create('blocker', 'Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 6000);\nexports.handler = async () => null;\n');
  });
  after(async () => {
    await server.close();
  });

  const call = async (name: string, ms = 0): Promise<string> => {
    const res = await fetch(`${server.kindling.url}/2015-03-31/functions/${name}/invocations`, { method: 'POST', body: JSON.stringify({ ms }) });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-amz-function-error'), null);
    return res.text();
  };

  it('waits for the busy environment instead of starting another while Inits are saturated', async () => {
    const fleet = server.kindling.fleet!;
    await call('reused'); // one warm environment
    const first = call('reused', 3000); // keeps it busy for 3 s
    await eventually(() => fleet.stats('reused').idle === 0, 'the environment is busy');
    const blocked = call('blocker');
    await eventually(() => fleet.inits().running === 1, 'the blocker holds the Init slot');
    const second = call('reused');
    await eventually(() => fleet.inits().waiting === 1, 'the second invoke waits');
    // When the first invoke ends, its environment goes to the waiting invoke: no second cold start.
    assert.equal(await second, await first);
    assert.equal(fleet.stats('reused').environments, 1);
    await blocked;
  });
});
