/**
 * Tests that try to break out of the microVM sandbox, through the real server: one function (the
 * spy) goes after another's code, environment and /tmp, the server's data and API, the host's
 * processes; others exhaust memory, processes and /tmp. Each probe also runs once where it must
 * succeed, so that a probe that cannot work cannot pass by failing. One server and few cold
 * starts: without KVM every guest boots under software emulation, a few seconds each.
 */
import { CreateFunctionCommand, InvokeCommand } from '@aws-sdk/client-lambda';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { zipFiles } from '../src/code/index.js';
import { MicroVmSandboxDriver } from '../src/sandbox/microvm/microvm-driver.js';
import { json, ROLE, startTestServer, testStoreBase, type TestServer } from './support/kindling.js';
import { hostConnects, PROBE_PRELUDE } from './support/probe.js';

const unavailable = await new MicroVmSandboxDriver({ dataDir: tmpdir() }).unavailable();
if (unavailable) console.log(`# microvm breakout tests skipped: ${unavailable}`);

const SECRET = `s3cret-${process.pid}-${Date.now()}`;

/** Every probe a function can run against its surroundings; each answers {ok, value | code}. */
const PROBE = `${PROBE_PRELUDE}exports.handler = async (e) => {
  switch (e.action) {
    case 'read': return attempt(() => fs.readFileSync(e.path, 'utf8'));
    case 'list': return attempt(() => fs.readdirSync(e.path));
    case 'write': return attempt(() => fs.writeFileSync(e.path, 'x'));
    case 'connect': return connect(e.host, e.port);
    case 'whoami': return { uid: process.getuid(), euid: process.geteuid(), gid: process.getgid(), setuid: attempt(() => process.setuid(0)) };
    case 'signal': return attempt(() => process.kill(e.pid, 0));
    case 'procs':
      return attempt(() => fs.readdirSync('/proc').filter((name) => /^\\d+$/.test(name)).map((pid) => ({
        pid: Number(pid),
        cmdline: attempt(() => fs.readFileSync('/proc/' + pid + '/cmdline', 'utf8')).value,
        environ: attempt(() => fs.readFileSync('/proc/' + pid + '/environ', 'utf8')).value,
      })));
    default: throw new Error('unknown action ' + e.action);
  }
};
`;

const HOG = `
exports.handler = async (e) => {
  if (!e.hog) return 'fine';
  const held = [];
  for (;;) held.push(Buffer.alloc(16 * 1024 * 1024, 1));
};
`;

/** The bomb's shells carry a marker as $0, so the host can look for them; the handler counts the guest's processes in its log. */
const BOMB = `
const fs = require('fs');
const { spawn } = require('child_process');
exports.handler = async () => {
  // At nice 19 the bomb leaves the handler enough of the one vCPU to count it.
  spawn('/usr/bin/nice', ['-n', '19', '/bin/sh', '-c', 'b(){ b|b& };b', 'bomb-marker'], { stdio: 'ignore' });
  setInterval(() => console.log('processes', fs.readdirSync('/proc').filter((name) => /^\\d+$/.test(name)).length), 250);
  await new Promise((resolve) => setTimeout(resolve, 60000));
};
`;

const FILLER = `
const fs = require('fs');
exports.handler = async () => {
  const chunk = Buffer.alloc(1024 * 1024, 7);
  const fd = fs.openSync('/tmp/fill', 'w');
  let written = 0;
  try {
    for (;;) written += fs.writeSync(fd, chunk);
  } catch (err) {
    return { written, code: err.code };
  } finally {
    fs.closeSync(fd);
    fs.rmSync('/tmp/fill', { force: true });
  }
};
`;

interface FunctionSpec {
  readonly files: Record<string, string>;
  readonly memory?: number;
  readonly timeout?: number;
  readonly ephemeralMb?: number;
  readonly env?: Record<string, string>;
  readonly tags?: Record<string, string>;
}

const FUNCTIONS: Record<string, FunctionSpec> = {
  spy: { files: { 'index.js': PROBE }, env: { SPY_MARK: 'spy-mark' } },
  victim: { files: { 'index.js': PROBE, 'secret.txt': SECRET }, env: { VICTIM_SECRET: SECRET } },
  hog: { files: { 'index.js': HOG }, memory: 128, timeout: 60 },
  bomb: { files: { 'index.js': BOMB }, memory: 256, timeout: 6 },
  filler: { files: { 'index.js': FILLER }, memory: 1024, timeout: 60, ephemeralMb: 512 },
};

type Probe = { ok: boolean; value?: unknown; code?: string };

describe('breaking out of the microvm sandbox', { skip: unavailable ?? false }, () => {
  let server: TestServer;
  let apiPort: number;

  async function invoke(name: string, payload: unknown = {}, tail = false) {
    const out = await server.lambda.send(
      new InvokeCommand({ FunctionName: name, Payload: Buffer.from(JSON.stringify(payload)), ...(tail ? { LogType: 'Tail' as const } : {}) }),
    );
    return { out, body: json(out.Payload) as any, log: out.LogResult ? Buffer.from(out.LogResult, 'base64').toString() : '' };
  }

  async function probe(name: string, payload: Record<string, unknown>): Promise<Probe> {
    const { out, body } = await invoke(name, payload);
    assert.equal(out.FunctionError, undefined, JSON.stringify(body));
    return body as Probe;
  }

  before(async () => {
    // On every address, so that "the host's address" is a real way in to try.
    server = await startTestServer({ sandbox: 'microvm', host: '0.0.0.0', auth: 'sigv4', idleTimeoutMs: 600_000, initTimeoutMs: 60_000 });
    apiPort = Number(new URL(server.kindling.url).port);
    for (const [name, spec] of Object.entries(FUNCTIONS)) {
      await server.lambda.send(
        new CreateFunctionCommand({
          FunctionName: name,
          Runtime: 'nodejs20.x',
          Handler: 'index.handler',
          Role: ROLE,
          MemorySize: spec.memory ?? 256,
          Timeout: spec.timeout ?? 10,
          Code: { ZipFile: await zipFiles(spec.files) },
          ...(spec.env ? { Environment: { Variables: spec.env } } : {}),
          ...(spec.ephemeralMb ? { EphemeralStorage: { Size: spec.ephemeralMb } } : {}),
          ...(spec.tags ? { Tags: spec.tags } : {}),
        }),
      );
    }
  });
  after(async () => {
    await server?.close();
  });

  it("cannot read another function's code", async () => {
    const codeRoot = join(server.dataDir, 'code');
    assert.deepEqual(await probe('victim', { action: 'read', path: '/var/task/secret.txt' }), { ok: true, value: SECRET }, 'the victim reads its own code');
    const victimDir = readdirSync(codeRoot)
      .map((entry) => join(codeRoot, entry))
      .find((dir) => existsSync(join(dir, 'secret.txt')));
    assert.ok(victimDir, 'the victim code is unpacked on the host');
    for (const path of [join(victimDir, 'secret.txt'), victimDir, codeRoot]) {
      const seen = await probe('spy', { action: 'list', path });
      assert.equal(seen.ok, false, `the spy reached ${path}`);
    }
    const own = await probe('spy', { action: 'list', path: '/var/task' });
    assert.deepEqual(own, { ok: true, value: ['index.js'] }, 'the spy sees only its own code at /var/task');
  });

  it("cannot read another function's environment (its /proc)", async () => {
    await probe('victim', { action: 'whoami' });
    const procs = (await probe('spy', { action: 'procs' })).value as { pid: number; cmdline?: string; environ?: string }[];
    assert.ok(procs.some((p) => p.environ?.includes('SPY_MARK=spy-mark')), 'the spy reads its own environment: the probe works');
    assert.ok(!procs.some((p) => p.environ?.includes(SECRET) || p.cmdline?.includes(SECRET)), "the victim's secret leaked");
    const named = procs.filter((p) => p.cmdline);
    assert.ok(named.length < 10, `the spy sees ${named.length} processes: ${JSON.stringify(named.map((p) => p.cmdline))}`);
  });

  it("cannot read another function's /tmp", async () => {
    assert.deepEqual(await probe('victim', { action: 'write', path: '/tmp/secret' }), { ok: true });
    assert.deepEqual(await probe('victim', { action: 'read', path: '/tmp/secret' }), { ok: true, value: 'x' });
    assert.deepEqual(await probe('spy', { action: 'read', path: '/tmp/secret' }), { ok: false, code: 'ENOENT' });
  });

  it("cannot read the server's data directory or database, or the host's private directories", async () => {
    // On the PostgreSQL pass there is no database file to try.
    const database = testStoreBase() === undefined ? [join(server.dataDir, 'kindling.db')] : [];
    for (const path of database) assert.ok(existsSync(path), 'the database is where the test looks for it');
    for (const path of [...database, '/etc/shadow', '/root/.bash_history']) {
      assert.equal((await probe('spy', { action: 'read', path })).ok, false, `the spy read ${path}`);
    }
    for (const path of [server.dataDir, '/root', '/home', '/work']) {
      assert.equal((await probe('spy', { action: 'list', path })).ok, false, `the spy listed ${path}`);
    }
    const etc = (await probe('spy', { action: 'list', path: '/etc' })).value as string[];
    assert.ok(etc.length <= 6, `/etc shows ${etc.join(' ')}`);
  });

  it("cannot connect to the server's API: not on its loopback, the host's address, or QEMU's host alias", async () => {
    const hostAddress = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    const reachable = [{ host: '127.0.0.1', port: apiPort }, ...(hostAddress ? [{ host: hostAddress, port: apiPort }] : [])];
    for (const target of reachable) {
      await hostConnects(target); // the host can: the address is right
    }
    // 10.0.2.2 is QEMU's user-mode alias for the host's loopback, where the server listens.
    for (const target of [...reachable, { host: '10.0.2.2', port: apiPort }]) {
      const seen = await probe('spy', { action: 'connect', ...target });
      assert.equal(seen.ok, false, `the spy connected to ${target.host}:${target.port}`);
      assert.match(seen.code ?? '', /ECONNREFUSED|ENETUNREACH|EHOSTUNREACH|ETIMEDOUT|ECONNRESET/);
    }
    assert.deepEqual(await probe('spy', { action: 'connect', host: '10.0.2.100', port: 9001 }), { ok: true }, 'its own Runtime API is there');
  });

  it('is not root, cannot become root, and cannot write its code or the runtime', async () => {
    const who = (await probe('spy', { action: 'whoami' })) as unknown as { uid: number; euid: number; setuid: Probe };
    assert.equal(who.uid, 993, "Lambda's sbx_user1051");
    assert.notEqual(who.euid, 0);
    assert.deepEqual(who.setuid, { ok: false, code: 'EPERM' });
    for (const path of ['/var/task/index.js', '/var/task/new.js', '/var/runtime/evil', '/usr/bin/node', '/usr/evil', '/etc/passwd', '/evil']) {
      const seen = await probe('spy', { action: 'write', path });
      assert.equal(seen.ok, false, `the spy wrote ${path}`);
    }
    assert.deepEqual(await probe('spy', { action: 'write', path: '/tmp/mine' }), { ok: true }, 'writing works where it may');
  });

  it('cannot see or signal host processes', async () => {
    const procs = (await probe('spy', { action: 'procs' })).value as { pid: number; cmdline?: string }[];
    assert.ok(!procs.some((p) => p.pid === process.pid), "the server's pid is visible");
    assert.ok(!procs.some((p) => /qemu|node --test|kindling-test/.test(p.cmdline ?? '')), 'a host process is visible');
    const own = procs.find((p) => p.cmdline?.includes('bootstrap'))!.pid;
    assert.deepEqual(await probe('spy', { action: 'signal', pid: own }), { ok: true, value: true }, 'signalling its own processes works');
    assert.deepEqual(await probe('spy', { action: 'signal', pid: process.pid }), { ok: false, code: 'ESRCH' });
  });

  it('stops a memory hog at MemorySize with Runtime.OutOfMemory, and the next invoke works', async () => {
    const { out, body, log } = await invoke('hog', { hog: true }, true);
    assert.equal(out.FunctionError, 'Unhandled');
    assert.equal(body.errorType, 'Runtime.OutOfMemory', JSON.stringify(body));
    const used = Number(/Max Memory Used: (\d+) MB/.exec(log)?.[1]);
    assert.ok(used >= 100 && used <= 140, `Max Memory Used ${used} MB`);
    const next = await invoke('hog', {});
    assert.equal(next.out.FunctionError, undefined);
    assert.equal(next.body, 'fine');
  });

  it('contains a fork bomb in its guest, and the server keeps serving', async () => {
    await invoke('spy', { action: 'whoami' }); // warm
    let settled = false;
    const bombing = invoke('bomb', {}, true).finally(() => (settled = true));
    let onHost = 0;
    const sample = setInterval(() => (onHost = Math.max(onHost, bombProcesses())), 100);
    try {
      // Behaviour, not latency (a busy machine makes any figure flaky): every invoke made until the
      // bomb's invoke ends is answered, and answered well.
      while (!settled) {
        const { out, body } = await invoke('spy', { action: 'whoami' });
        assert.equal(out.FunctionError, undefined, JSON.stringify(body));
      }
      const { out, body, log } = await bombing;
      assert.equal(out.FunctionError, 'Unhandled');
      assert.match(body.errorType, /^(Sandbox.Timedout|Runtime.OutOfMemory|Runtime.ExitError)$/);
      const counts = [...log.matchAll(/processes (\d+)/g)].map((m) => Number(m[1]));
      assert.ok(Math.max(...counts) > 100, `the bomb ran in the guest: ${counts.join(' ')} (${body.errorType}) ${log}`);
    } finally {
      clearInterval(sample);
    }
    assert.equal(onHost, 0, 'bomb processes appeared on the host');
  });

  it('caps /tmp at EphemeralStorage', async () => {
    const { out, body } = await invoke('filler');
    assert.equal(out.FunctionError, undefined, JSON.stringify(body));
    assert.equal(body.code, 'ENOSPC');
    const mb = body.written / 1024 / 1024;
    assert.ok(mb > 500 && mb <= 512, `wrote ${mb} MB`);
  });
});

/** Host processes of the fork bomb (its shells carry the marker as $0). */
function bombProcesses(): number {
  let count = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'latin1').includes('bomb-marker')) count++;
    } catch {
      // exited meanwhile
    }
  }
  return count;
}
