import { CreateFunctionCommand, InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { zipFiles } from '../src/code/index.js';
import { clientFor, json, ROLE, startTestServer } from './support/kindling.js';
import { spawnServe } from './support/serve-process.js';
import { scratchDir } from './support/scratch.js';
import { eventually } from './support/wait.js';

const SLOW = `exports.handler = async (e) => {
  if (e.marker) require('fs').writeFileSync(e.marker, 'started');
  await new Promise((r) => setTimeout(r, e.ms || 0));
  return { pid: process.pid };
};\n`;

async function createSlow(lambda: LambdaClient, name: string): Promise<void> {
  await lambda.send(
    new CreateFunctionCommand({ FunctionName: name, Runtime: 'nodejs20.x', Handler: 'index.handler', Role: ROLE, Timeout: 10, Code: { ZipFile: await zipFiles({ 'index.js': SLOW }) } }),
  );
}

async function pidOf(lambda: LambdaClient, name: string, payload: Record<string, unknown> = {}): Promise<number> {
  const out = await lambda.send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from(JSON.stringify(payload)) }));
  assert.equal(out.FunctionError, undefined, Buffer.from(out.Payload ?? []).toString());
  return (json(out.Payload) as { pid: number }).pid;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('environment lifecycle', () => {
  it('reaps idle environments after the idle timeout', async () => {
    const server = await startTestServer({ idleTimeoutMs: 300 });
    try {
      await createSlow(server.lambda, 'idle');
      const pid = await pidOf(server.lambda, 'idle');
      assert.equal(server.kindling.fleet!.stats('idle').environments, 1);
      await eventually(() => server.kindling.fleet!.stats('idle').environments === 0, 'the idle environment is reaped');
      await eventually(() => !alive(pid), 'the runtime process is gone');
      assert.notEqual(await pidOf(server.lambda, 'idle'), pid, 'the next invoke is a cold start');
    } finally {
      await server.close();
    }
  });

  it('retires an environment at its maximum lifetime after its in-flight work finishes', async () => {
    const server = await startTestServer({ maxLifetimeMs: 1000 });
    try {
      await createSlow(server.lambda, 'lease');
      const first = await pidOf(server.lambda, 'lease');
      // Still running when the lease ends: it finishes, then the environment is shut down.
      const inFlight = await pidOf(server.lambda, 'lease', { ms: 1300 });
      assert.equal(inFlight, first);
      await eventually(() => !alive(first), 'the retired runtime is shut down');
      const next = await pidOf(server.lambda, 'lease');
      assert.notEqual(next, first, 'no new work goes to a retired environment');
    } finally {
      await server.close();
    }
  });

  it('stops environments on close', async () => {
    const server = await startTestServer();
    await createSlow(server.lambda, 'closing');
    const pid = await pidOf(server.lambda, 'closing');
    await server.close();
    assert.equal(alive(pid), false);
  });

  it('kindling serve finishes in-flight invokes on SIGTERM, then exits cleanly', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'kindling-serve-'));
    // Not in the data directory, which a process sandbox run by root does not see (docs/sandboxes.md).
    const scratch = scratchDir('kindling-serve-marker-');
    const serve = await spawnServe(['--data-dir', dataDir]);
    try {
      const { url } = serve;
      const lambda = clientFor(url);
      await createSlow(lambda, 'graceful');
      const marker = join(scratch, 'started');
      const pending = lambda.send(new InvokeCommand({ FunctionName: 'graceful', Payload: Buffer.from(JSON.stringify({ ms: 700, marker })) }));
      await eventually(() => existsSync(marker), 'the invocation is running');
      serve.child.kill('SIGTERM');
      const out = await pending;
      assert.equal(out.StatusCode, 200);
      assert.equal(out.FunctionError, undefined);
      const { pid } = json(out.Payload) as { pid: number };
      assert.equal(await serve.exited, 0);
      assert.equal(alive(pid), false, 'the environment was shut down');
      lambda.destroy();
    } finally {
      serve.child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
