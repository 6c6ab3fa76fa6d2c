import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { CreateFunctionCommand, InvokeCommand } from '@aws-sdk/client-lambda';
import { zipFiles } from '../src/code/index.js';
import { RuntimeApiEndpoint } from '../src/runtime-api/index.js';
import type { Sandbox } from '../src/sandbox/index.js';
import { MicroVmSandboxDriver } from '../src/sandbox/microvm/microvm-driver.js';
import { json, ROLE, startTestServer } from './support/kindling.js';
import { sandboxContract } from './support/sandbox-contract.js';

const unavailable = await new MicroVmSandboxDriver({ dataDir: tmpdir() }).unavailable();
const skip = unavailable ? `microvm sandbox unavailable: ${unavailable}` : false;

// Under software emulation (no working KVM) a guest boots a kernel and Node.js in 3 to 6 s.
sandboxContract('microvm', { skip, lambdaPaths: true, config: { initTimeoutMs: 60_000 } });

/**
 * A custom runtime as Lambda's `provided` runtimes run one: a busybox shell script speaking the
 * Runtime API with busybox wget, at the driver level (the control plane takes nodejs* only so far).
 */
const SHELL_RUNTIME = `#!/bin/sh
api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
echo "bootstrap uid=$(id -u) cwd=$(pwd) tmp=$(df -m /tmp | awk 'NR==2 {print $2}')"
echo "to stderr" >&2
while true; do
  wget -q -S -O /tmp/event "$api/invocation/next" 2> /tmp/headers || exit 3
  id=$(sed -n 's/^ *Lambda-Runtime-Aws-Request-Id: *\\([^[:space:]]*\\).*/\\1/ip' /tmp/headers | tr -d '\\r')
  event=$(cat /tmp/event)
  wget -q -O /dev/null --post-data "{\\"echo\\":$event,\\"uid\\":$(id -u)}" "$api/invocation/$id/response" || exit 4
  case $event in *'"exit"'*) exit $(echo "$event" | sed 's/.*"exit": *\\([0-9]*\\).*/\\1/') ;; esac
done
`;

describe('microvm: a busybox shell runtime', { skip }, () => {
  const runtimeDir = fileURLToPath(new URL('../src/runtimes', import.meta.url));
  let dataDir: string;
  let codeDir: string;
  const driver = () => new MicroVmSandboxDriver({ dataDir });

  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'kindling-microvm-'));
    codeDir = mkdtempSync(join(tmpdir(), 'kindling-microvm-code-'));
    // As Kindling's code store leaves it: readable by others (QEMU runs as nobody, the runtime as 993).
    chmodSync(codeDir, 0o755);
    writeFileSync(join(codeDir, 'bootstrap'), SHELL_RUNTIME, { mode: 0o755 });
  });
  after(() => {
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(codeDir, { recursive: true, force: true });
  });

  async function boot(vm: MicroVmSandboxDriver, env: Record<string, string> = {}) {
    let ready!: () => void;
    const nextSeen = new Promise<void>((resolve) => (ready = resolve));
    const endpoint = new RuntimeApiEndpoint({ onNext: () => ready(), onInitError: () => {} });
    await endpoint.listen(tmpdir());
    const sandbox: Sandbox = await vm.start({
      id: 'shell',
      functionName: 'shell',
      command: '/var/task/bootstrap',
      args: [],
      codeDir,
      runtimeDir,
      env: { PATH: '/usr/bin:/bin', ...env },
      memoryMb: 128,
      ephemeralStorageMb: 64,
      runtimeApi: endpoint,
    });
    const out: string[] = [];
    const err: string[] = [];
    sandbox.stdout.setEncoding('utf8').on('data', (chunk: string) => out.push(chunk));
    sandbox.stderr.setEncoding('utf8').on('data', (chunk: string) => err.push(chunk));
    await Promise.race([nextSeen, sandbox.exited.then((exit) => assert.fail(`exited before /next: ${JSON.stringify(exit)}`))]);
    return { sandbox, endpoint, out, err };
  }

  const invocation = (requestId: string, payload: unknown) => ({
    requestId,
    payload: Buffer.from(JSON.stringify(payload)),
    deadlineMs: Date.now() + 30_000,
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:shell',
    traceId: 'Root=1-00000000-000000000000000000000000',
  });

  it('runs one invoke round trip, keeps stdout and stderr apart, and reports the exit status', async () => {
    const vm = driver();
    const { sandbox, endpoint, out, err } = await boot(vm);
    assert.equal(sandbox.runtimeApiAddress, '10.0.2.100:9001');
    try {
      const first = await endpoint.deliver(invocation('req-1', { hello: 'vm' }));
      assert.equal(first.kind, 'response');
      assert.deepEqual(JSON.parse(first.payload.toString()), { echo: { hello: 'vm' }, uid: 993 });
      const last = await endpoint.deliver(invocation('req-2', { exit: 7 }));
      assert.equal(last.kind, 'response');
      assert.deepEqual(await sandbox.exited, { code: 7, signal: null });
      const stdout = out.join('');
      assert.match(stdout, /^bootstrap uid=993 cwd=\/var\/task tmp=64\n$/, 'only the runtime’s own output, no kernel console');
      assert.equal(err.join(''), 'to stderr\n');
      assert.ok(vm.initTimeoutMs === undefined || vm.initTimeoutMs > 10_000);
    } finally {
      sandbox.kill();
      endpoint.close();
    }
  });

  it('runs a provided.al2023 function with that bootstrap through the server', async () => {
    // The same data directory: the guest's kernel and initramfs, and the KVM probe's answer, are kept there.
    const server = await startTestServer({ sandbox: 'microvm', initTimeoutMs: 60_000 }, dataDir);
    try {
      await server.lambda.send(
        new CreateFunctionCommand({
          FunctionName: 'shell',
          Runtime: 'provided.al2023',
          Handler: 'unused',
          Role: ROLE,
          Code: { ZipFile: await zipFiles({ bootstrap: { content: SHELL_RUNTIME, mode: 0o755 } }) },
        }),
      );
      const out = await server.lambda.send(new InvokeCommand({ FunctionName: 'shell', Payload: Buffer.from('{"hello":"server"}'), LogType: 'Tail' }));
      assert.equal(out.FunctionError, undefined, Buffer.from(out.Payload ?? []).toString());
      assert.deepEqual(json(out.Payload), { echo: { hello: 'server' }, uid: 993 });
    } finally {
      await server.close();
    }
  });

  it('kill() ends the machine at once; stop() gives the runtime SIGTERM', async () => {
    const vm = driver();
    const killed = await boot(vm);
    killed.sandbox.kill();
    // SIGKILL, not SIGTERM: the machine was not asked to stop, it was ended.
    assert.deepEqual(await killed.sandbox.exited, { code: null, signal: 'SIGKILL' });
    killed.endpoint.close();

    const stopped = await boot(vm);
    const exit = await stopped.sandbox.stop(10_000);
    // The shell's wget dies of the signal's default action, and the shell with it.
    assert.deepEqual(exit, { code: null, signal: 'SIGTERM' });
    stopped.endpoint.close();
  });
});
