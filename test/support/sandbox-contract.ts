import { CreateFunctionCommand, InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { zipFiles } from '../../src/code/index.js';
import type { KindlingConfig } from '../../src/config/index.js';
import { json, ROLE, startTestServer, type TestServer } from './kindling.js';

export interface ContractOptions {
  /** Why the driver cannot run here (the suite is skipped with this reason), or false. */
  readonly skip: string | false;
  readonly config?: Partial<KindlingConfig>;
  /** The driver shows the code at /var/task and layers at /opt, as Lambda does (PathView 'lambda'). */
  readonly lambdaPaths?: boolean;
}

const PROBE = `
const os = require('os');
let count = 0;
exports.handler = async (event, context) => {
  count++;
  if (event.exit !== undefined) process.exit(event.exit);
  if (event.inside) {
    const table = require('fs').readFileSync('/proc/self/limits', 'utf8');
    const soft = (name) => new RegExp(name + '\\\\s+(\\\\S+)').exec(table)[1];
    const limits = [soft('Max open files'), soft('Max processes'), soft('Max core file size')];
    return { limits, opt: require('fs').existsSync('/opt'), taskRoot: process.env.LAMBDA_TASK_ROOT, stack: new Error('where').stack };
  }
  if (event.sleepMs) await new Promise((r) => setTimeout(r, event.sleepMs));
  let hold;
  if (event.allocateMb) { hold = Buffer.alloc(event.allocateMb * 1024 * 1024, 1); }
  console.log('probe ran', count);
  return { count, requestId: context.awsRequestId, taskRoot: process.env.LAMBDA_TASK_ROOT, held: hold ? hold.length : 0 };
};
`;

async function call(lambda: LambdaClient, name: string, payload: unknown, tail = false) {
  const out = await lambda.send(
    new InvokeCommand({ FunctionName: name, Payload: Buffer.from(JSON.stringify(payload)), ...(tail ? { LogType: 'Tail' as const } : {}) }),
  );
  return { out, body: json(out.Payload) as Record<string, any>, log: out.LogResult ? Buffer.from(out.LogResult, 'base64').toString() : '' };
}

/**
 * The contract every sandbox driver passes (STYLE.md 5), through the whole platform as a user
 * sees it: start, invoke (cold then warm), timeout kill, crash, stats, shutdown.
 */
export function sandboxContract(driver: string, options: ContractOptions): void {
  describe(`sandbox contract: ${driver}`, { skip: options.skip }, () => {
    let server: TestServer;

    before(async () => {
      server = await startTestServer({ sandbox: driver as KindlingConfig['sandbox'], ...options.config });
      for (const [name, timeout, memory] of [['probe', 30, 256], ['sleepy', 1, 128], ['crasher', 30, 128]] as const) {
        await server.lambda.send(
          new CreateFunctionCommand({
            FunctionName: name,
            Runtime: 'nodejs20.x',
            Handler: 'index.handler',
            Role: ROLE,
            Timeout: timeout,
            MemorySize: memory,
            Code: { ZipFile: await zipFiles({ 'index.js': PROBE }) },
          }),
        );
      }
    });
    after(async () => {
      await server?.close();
    });

    it('starts an environment, then reuses it warm', async () => {
      const cold = await call(server.lambda, 'probe', {}, true);
      assert.equal(cold.out.FunctionError, undefined, JSON.stringify(cold.body));
      assert.equal(cold.body['count'], 1);
      assert.match(cold.log, /Init Duration/);
      const warm = await call(server.lambda, 'probe', {}, true);
      assert.equal(warm.body['count'], 2, 'the same environment served the second request');
      assert.doesNotMatch(warm.log, /Init Duration/);
      assert.equal(server.kindling.fleet!.stats('probe').environments, 1);
    });

    it("runs with Lambda's limits, and where it can, Lambda's paths", async () => {
      const { body } = await call(server.lambda, 'probe', { inside: true });
      // Not root, the process driver cannot give each environment a uid of its own to count
      // processes by: only the file and core limits hold there.
      const processLimit = driver !== 'process' || process.getuid?.() === 0;
      assert.deepEqual(body['limits'], processLimit ? ['1024', '1024', '0'] : [body['limits'][0], body['limits'][1], '0']);
      assert.equal(body['limits'][0], '1024');
      if (options.lambdaPaths) {
        assert.equal(body['taskRoot'], '/var/task');
        assert.equal(body['opt'], true, 'Lambda has /opt even without layers');
        assert.match(body['stack'], /\(\/var\/task\/index\.js:\d+:\d+\)/);
      }
    });

    it('reports memory used in REPORT', async () => {
      const { body, log } = await call(server.lambda, 'probe', { allocateMb: 64 }, true);
      assert.equal(body['held'], 64 * 1024 * 1024);
      const used = Number(/Max Memory Used: (\d+) MB/.exec(log)?.[1]);
      assert.ok(used >= 64 && used <= 256, `Max Memory Used ${used} MB`);
      assert.match(log, /Memory Size: 256 MB/);
    });

    it('kills an environment at its timeout and starts a fresh one', async () => {
      await call(server.lambda, 'sleepy', {});
      const started = Date.now();
      // It would sleep 10 minutes: only being stopped at its 1 s timeout answers this invoke.
      const { out, body } = await call(server.lambda, 'sleepy', { sleepMs: 600_000 });
      assert.equal(out.FunctionError, 'Unhandled');
      assert.equal(body['errorType'], 'Sandbox.Timedout');
      assert.ok(Date.now() - started >= 1000, 'answered before the timeout');
      const next = await call(server.lambda, 'sleepy', {});
      assert.equal(next.body['count'], 1, 'a fresh environment');
    });

    it('reports a crash as Runtime.ExitError and recovers', async () => {
      const { out, body } = await call(server.lambda, 'crasher', { exit: 7 });
      assert.equal(out.FunctionError, 'Unhandled');
      assert.equal(body['errorType'], 'Runtime.ExitError');
      assert.match(body['errorMessage'], /exit status 7/);
      const again = await call(server.lambda, 'crasher', {});
      assert.equal(again.out.FunctionError, undefined);
      assert.equal(again.body['count'], 1);
    });

    it('shuts every environment down on close', async () => {
      await call(server.lambda, 'probe', {});
      assert.ok(server.kindling.fleet!.stats('probe').environments >= 1);
      await server.kindling.fleet!.close();
      assert.equal(server.kindling.fleet!.stats('probe').environments, 0);
    });
  });
}
