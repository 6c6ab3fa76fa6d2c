/**
 * Tests that try to break out of the namespace sandbox, through the real server: one function (the
 * spy) goes after another's code, environment and /tmp, the server's data and API, the host's
 * processes; others exhaust memory, processes, output and /tmp. Each probe also runs once where it
 * must succeed, so that a probe that cannot work cannot pass by failing.
 */
import { CloudWatchLogsClient, DescribeLogStreamsCommand, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateFunctionCommand, InvokeCommand } from '@aws-sdk/client-lambda';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { zipFiles } from '../src/code/index.js';
import { NamespaceSandboxDriver } from '../src/sandbox/namespace/namespace-driver.js';
import { json, ROLE, startTestServer, testStoreBase, type TestServer } from './support/kindling.js';
import { hostConnects, PROBE_PRELUDE } from './support/probe.js';
import { eventually } from './support/wait.js';

const unavailable = await new NamespaceSandboxDriver().unavailable();
if (unavailable) console.log(`# namespace breakout tests skipped: ${unavailable}`);

const SECRET = `s3cret-${process.pid}-${Date.now()}`;

/** Every probe a function can run against its surroundings; each answers {ok, value | code}. */
const PROBE = `${PROBE_PRELUDE}exports.handler = async (e) => {
  switch (e.action) {
    case 'read': return attempt(() => fs.readFileSync(e.path, 'utf8'));
    case 'list': return attempt(() => fs.readdirSync(e.path));
    case 'write': return attempt(() => fs.writeFileSync(e.path, 'x'));
    case 'connect': return connect(e.host, e.port);
    case 'whoami': return { uid: process.getuid(), euid: process.geteuid(), gid: process.getgid() };
    case 'signal': return attempt(() => process.kill(e.pid, 0));
    // A child holding the function's variables: a pre-started runtime's own /proc/<pid>/environ
    // shows the variables it started with (docs/prestart.md), its children's show the function's.
    case 'hold': { const child = require('child_process').spawn('sleep', ['30'], { stdio: 'ignore', detached: true }); child.unref(); return { pid: child.pid }; }
    case 'procs':
      require('child_process').spawn('sleep', ['5'], { stdio: 'ignore', detached: true }).unref();
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

const SPAWNER = `
const { spawn } = require('child_process');
exports.handler = async () => {
  const children = [];
  for (let i = 0; i < 4096; i++) {
    const child = spawn('/bin/sleep', ['60'], { stdio: 'ignore' });
    const failed = await new Promise((resolve) => { child.once('spawn', () => resolve(undefined)); child.once('error', resolve); });
    if (failed) return { spawned: children.length, code: failed.code };
    children.push(child);
  }
  return { spawned: children.length };
};
`;

const BOMB = `
const { spawn } = require('child_process');
exports.handler = async () => {
  spawn('/bin/sh', ['-c', 'b(){ b|b& };b', 'bomb-marker'], { stdio: 'ignore' });
  await new Promise((resolve) => setTimeout(resolve, 60000));
};
`;

const CHATTY = `
exports.handler = async (e) => {
  const line = 'x'.repeat(1024 * 1024) + '\\n';
  for (let i = 0; i < e.mb; i++) {
    if (!process.stdout.write(line)) await new Promise((resolve) => process.stdout.once('drain', resolve));
  }
  return 'said ' + e.mb + ' MB';
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
  hog: { files: { 'index.js': HOG }, memory: 128, timeout: 30 },
  spawner: { files: { 'index.js': SPAWNER }, memory: 1769, timeout: 60 },
  bomb: { files: { 'index.js': BOMB }, memory: 512, timeout: 3 },
  chatty: { files: { 'index.js': CHATTY }, memory: 1769, timeout: 120 },
  filler: { files: { 'index.js': FILLER }, memory: 1024, timeout: 60, ephemeralMb: 512 },
};

type Probe = { ok: boolean; value?: unknown; code?: string };

describe('breaking out of the namespace sandbox', { skip: unavailable ?? false }, () => {
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
    server = await startTestServer({ sandbox: 'namespace', host: '0.0.0.0', auth: 'sigv4', idleTimeoutMs: 600_000 });
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
    const victimDir = readdirSync(codeRoot)
      .map((entry) => join(codeRoot, entry))
      .find((dir) => existsSync(join(dir, 'secret.txt')));
    assert.ok(victimDir, 'the victim code is unpacked on the host');
    assert.deepEqual(await probe('victim', { action: 'read', path: '/var/task/secret.txt' }), { ok: true, value: SECRET }, 'the victim reads its own code');
    for (const path of [join(victimDir, 'secret.txt'), victimDir, codeRoot]) {
      const seen = await probe('spy', { action: 'list', path });
      assert.equal(seen.ok, false, `the spy reached ${path}`);
    }
    const own = await probe('spy', { action: 'list', path: '/var/task' });
    assert.deepEqual(own, { ok: true, value: ['index.js'] }, 'the spy sees only its own code at /var/task');
  });

  it("cannot read another function's environment (its /proc)", async () => {
    await probe('victim', { action: 'hold' });
    const procs = (await probe('spy', { action: 'procs' })).value as { pid: number; cmdline?: string; environ?: string }[];
    assert.ok(procs.some((p) => p.environ?.includes('SPY_MARK=spy-mark')), 'the spy reads its own environment: the probe works');
    assert.ok(!procs.some((p) => p.environ?.includes(SECRET) || p.cmdline?.includes(SECRET)), "the victim's secret leaked");
    assert.ok(procs.length < 10, `the spy sees ${procs.length} processes: ${JSON.stringify(procs.map((p) => p.cmdline))}`);
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

  it("cannot connect to the server's API, on loopback or the host's address", async () => {
    const hostAddress = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    const targets = [{ host: '127.0.0.1', port: apiPort }, ...(hostAddress ? [{ host: hostAddress, port: apiPort }] : [])];
    for (const target of targets) {
      await hostConnects(target); // the host can: the address is right
      const seen = await probe('spy', { action: 'connect', ...target });
      assert.equal(seen.ok, false, `the spy connected to ${target.host}:${target.port}`);
      assert.match(seen.code ?? '', /ECONNREFUSED|ENETUNREACH|EHOSTUNREACH/);
    }
    assert.deepEqual(await probe('spy', { action: 'connect', host: '127.0.0.1', port: 9001 }), { ok: true }, 'its own Runtime API is there');
  });

  it('is not root and cannot write its code or the runtime', async () => {
    const who = (await probe('spy', { action: 'whoami' })) as unknown as { uid: number; euid: number; gid: number };
    assert.notEqual(who.uid, 0);
    assert.notEqual(who.euid, 0);
    for (const path of ['/var/task/index.js', '/var/task/new.js', '/usr/bin/node', '/usr/evil', '/etc/passwd', '/evil']) {
      const seen = await probe('spy', { action: 'write', path });
      assert.equal(seen.ok, false, `the spy wrote ${path}`);
    }
    assert.deepEqual(await probe('spy', { action: 'write', path: '/tmp/mine' }), { ok: true }, 'writing works where it may');
  });

  it('cannot see or signal host processes', async () => {
    const procs = (await probe('spy', { action: 'procs' })).value as { pid: number }[];
    assert.ok(!procs.some((p) => p.pid === process.pid), "the server's pid is visible");
    assert.ok(procs.every((p) => p.pid < 100), `pids ${procs.map((p) => p.pid).join(' ')}`);
    const own = procs.find((p) => p.pid > 1)!.pid;
    assert.deepEqual(await probe('spy', { action: 'signal', pid: own }), { ok: true, value: true }, 'signalling its own processes works');
    assert.deepEqual(await probe('spy', { action: 'signal', pid: process.pid }), { ok: false, code: 'ESRCH' });
  });

  it('stops a memory hog at MemorySize with Runtime.OutOfMemory, and the next invoke works', async () => {
    const { out, body, log } = await invoke('hog', { hog: true }, true);
    assert.equal(out.FunctionError, 'Unhandled');
    assert.equal(body.errorType, 'Runtime.OutOfMemory', JSON.stringify(body));
    assert.match(log, /Max Memory Used: 12[0-8] MB/);
    const next = await invoke('hog', {});
    assert.equal(next.out.FunctionError, undefined);
    assert.equal(next.body, 'fine');
  });

  it('caps processes: spawning stops below 1024', async () => {
    const { out, body } = await invoke('spawner');
    assert.equal(out.FunctionError, undefined, JSON.stringify(body));
    assert.equal(body.code, 'EAGAIN', JSON.stringify(body));
    assert.ok(body.spawned > 100 && body.spawned < 1024, `spawned ${body.spawned}`);
  });

  it('contains a fork bomb, and the server keeps serving', async () => {
    await invoke('spy', { action: 'whoami' }); // warm
    let settled = false;
    const bombing = invoke('bomb').finally(() => (settled = true));
    let peak = 0;
    const sample = setInterval(() => (peak = Math.max(peak, bombProcesses())), 100);
    try {
      // Behaviour, not latency (a busy machine makes any figure flaky): once the bomb is running,
      // every invoke made until it ends is answered, and answered well.
      await eventually(() => bombProcesses() > 10 || settled, 'the bomb runs');
      let served = 0;
      while (!settled) {
        const { out, body } = await invoke('spy', { action: 'whoami' });
        assert.equal(out.FunctionError, undefined, JSON.stringify(body));
        served++;
      }
      assert.ok(served > 0, 'no invoke was made while the bomb ran');
      const { out, body } = await bombing;
      assert.equal(out.FunctionError, 'Unhandled');
      assert.equal(body.errorType, 'Sandbox.Timedout');
    } finally {
      clearInterval(sample);
    }
    assert.ok(peak > 10, `the bomb ran (${peak} processes at most)`);
    assert.ok(peak <= 1024, `the bomb reached ${peak} processes`);
    await eventually(() => bombProcesses() === 0, 'the bomb is gone with its environment');
    const next = await invoke('spy', { action: 'whoami' });
    assert.equal(next.out.FunctionError, undefined, 'the server serves after the bomb');
  });

  it('survives 300 MB on stdout with bounded memory, cutting events at 256 KB', async () => {
    const before = process.memoryUsage().rss;
    let peak = before;
    const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    // 300 MB: more than the server's growth bound, so a server that kept it all would fail.
    let talked = false;
    const talking = invoke('chatty', { mb: 300 }).finally(() => (talked = true));
    try {
      // The flood does not hold the server up: another invoke is answered before it ends.
      const served = await invoke('spy', { action: 'whoami' });
      assert.equal(served.out.FunctionError, undefined);
      assert.equal(talked, false, 'an invoke waited for another to write 300 MB');
      const { out, body } = await talking;
      assert.equal(out.FunctionError, undefined, JSON.stringify(body));
      assert.equal(body, 'said 300 MB');
    } finally {
      clearInterval(sample);
    }
    const grew = (peak - before) / 1024 / 1024;
    console.log(`# the server's RSS grew by ${grew.toFixed(0)} MB while a function wrote 300 MB to stdout`);
    assert.ok(grew < 250, `the server's RSS grew by ${grew.toFixed(0)} MB`);
    const logs = new CloudWatchLogsClient({ endpoint: server.kindling.url, region: 'us-east-1', credentials: server.credentials });
    try {
      // The log sink writes in batches: wait for the output to be stored.
      let sizes: number[] = [];
      for (const deadline = Date.now() + 5000; sizes.length < 4 && Date.now() < deadline; ) {
        const streams = await logs.send(new DescribeLogStreamsCommand({ logGroupName: '/aws/lambda/chatty' }));
        const logStreamName = streams.logStreams?.[0]?.logStreamName;
        if (logStreamName) {
          const page = await logs.send(new GetLogEventsCommand({ logGroupName: '/aws/lambda/chatty', logStreamName, startFromHead: true, limit: 50 }));
          sizes = (page.events ?? []).map((e) => Buffer.byteLength(e.message ?? ''));
        }
        if (sizes.length < 4) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.ok(sizes.length >= 4, 'the output is in the log');
      assert.ok(Math.max(...sizes) <= 256 * 1024, `an event of ${Math.max(...sizes)} bytes`);
      // GetLogEvents answers at most 1 MB: the START line and three 256 KB quarters of the first line.
      assert.ok(sizes.filter((s) => s === 256 * 1024).length >= 3, 'megabyte lines were cut into 256 KB events');
    } finally {
      logs.destroy();
    }
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
