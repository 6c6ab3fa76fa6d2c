/**
 * The Runtime API answers only its own environment, and no sandbox reaches the host (issue 9),
 * through the real server: an unprivileged local user goes after every Runtime API socket and
 * port the server holds while functions are invoked; functions in the process and namespace
 * sandboxes go after the host's addresses, the data directory and each other's code. Each probe
 * also runs once where it must succeed, so that a probe that cannot work cannot pass by failing.
 */
import { CreateFunctionCommand, InvokeCommand } from '@aws-sdk/client-lambda';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { zipFiles } from '../src/code/index.js';
import { MicroVmSandboxDriver } from '../src/sandbox/microvm/microvm-driver.js';
import { NamespaceSandboxDriver } from '../src/sandbox/namespace/namespace-driver.js';
import { json, ROLE, startTestServer, testStoreBase, type TestServer } from './support/kindling.js';
import { hostConnects, PROBE_PRELUDE } from './support/probe.js';

const root = process.getuid?.() === 0;
const namespaceUnavailable = await new NamespaceSandboxDriver().unavailable();
if (namespaceUnavailable) console.log(`# namespace functions skipped: ${namespaceUnavailable}`);
const microvmUnavailable = await new MicroVmSandboxDriver({ dataDir: tmpdir() }).unavailable();
if (microvmUnavailable) console.log(`# microvm functions skipped: ${microvmUnavailable}`);
const SECRET = `own-code-${process.pid}-${Date.now()}`;

const PROBE = `${PROBE_PRELUDE}exports.handler = async (e) => {
  switch (e.action) {
    case 'hold': await new Promise((r) => setTimeout(r, e.ms)); return { real: e.marker };
    case 'read': return attempt(() => fs.readFileSync(e.path, 'utf8'));
    case 'list': return attempt(() => fs.readdirSync(e.path));
    case 'connect': return connect(e.host, e.port);
    case 'whoami': return { uid: process.getuid(), euid: process.geteuid(), gid: process.getgid(), groups: process.getgroups() };
    default: throw new Error('unknown action ' + e.action);
  }
};
`;

/**
 * The attacker, run as nobody: for every target (a TCP port on loopback or a unix socket path) it
 * asks for the next invocation, again and again, and answers any it gets with a forgery. Prints
 * `ready` once every target has been tried once, and on stdin's end what each target gave it.
 */
const ATTACKER = `
const http = require('http');
const targets = JSON.parse(process.argv[2]);
const seen = {};
let pending = targets.length;
const first = () => { if (--pending === 0) process.stdout.write('ready\\n'); };
let stopped = false;
function poll(target, counted) {
  const key = target.path ?? String(target.port);
  const where = target.path ? { socketPath: target.path } : { host: '127.0.0.1', port: target.port };
  const req = http.request({ ...where, method: 'GET', path: '/2018-06-01/runtime/invocation/next', agent: false }, (res) => {
    const chunks = [];
    res.on('data', (c) => chunks.push(c));
    res.on('end', () => {
      const id = res.headers['lambda-runtime-aws-request-id'];
      (seen[key] ??= []).push({ status: res.statusCode, id, body: Buffer.concat(chunks).toString().slice(0, 200) });
      if (id) {
        const forge = http.request({ ...where, method: 'POST', path: '/2018-06-01/runtime/invocation/' + id + '/response', agent: false }, (r) => {
          r.resume();
          seen[key].push({ forged: r.statusCode });
        });
        forge.on('error', () => {});
        forge.end(JSON.stringify({ forged: true }));
      }
      if (!counted) first();
      if (!stopped && res.statusCode === 200) poll(target, true);
    });
  });
  req.on('socket', (s) => s.on('connect', () => { if (!counted) { counted = true; first(); } }));
  req.on('error', (err) => {
    (seen[key] ??= []).push({ error: err.code });
    if (!counted) { counted = true; first(); }
    else if (!stopped) setTimeout(() => poll(target, true), 20);
  });
  req.end();
}
for (const target of targets) poll(target, false);
process.stdin.resume();
process.stdin.on('end', () => { stopped = true; process.stdout.write(JSON.stringify(seen) + '\\n'); process.exit(0); });
`;

type Probe = { ok: boolean; value?: unknown; code?: string };
type Target = { port?: number; path?: string };

describe('the Runtime API answers only its own environment; no sandbox reaches the host', () => {
  let server: TestServer;
  let apiPort: number;
  let scratch: string;
  const drivers = ['process', ...(namespaceUnavailable ? [] : ['namespace']), ...(microvmUnavailable ? [] : ['microvm'])];

  async function invoke(name: string, payload: unknown) {
    const out = await server.lambda.send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from(JSON.stringify(payload)) }));
    assert.equal(out.FunctionError, undefined, Buffer.from(out.Payload ?? []).toString());
    return json(out.Payload) as any;
  }

  before(async () => {
    // On every address, so that "the host's address" is a real way in to try.
    // A microVM under software emulation boots in seconds: room for it.
    server = await startTestServer({ host: '0.0.0.0', auth: 'sigv4', idleTimeoutMs: 600_000, initTimeoutMs: 60_000 });
    apiPort = Number(new URL(server.kindling.url).port);
    scratch = mkdtempSync(join(tmpdir(), 'kindling-isolation-'));
    chmodSync(scratch, 0o755);
    writeFileSync(join(scratch, 'attacker.js'), ATTACKER, { mode: 0o644 });
    for (const driver of drivers) {
      for (const role of ['probe', 'victim']) {
        await server.lambda.send(
          new CreateFunctionCommand({
            FunctionName: `${role}-${driver}`,
            Runtime: 'nodejs20.x',
            Handler: 'index.handler',
            Role: ROLE,
            Timeout: 30,
            Code: { ZipFile: await zipFiles({ 'index.js': PROBE, 'secret.txt': `${SECRET}-${role}-${driver}` }) },
            Tags: { 'kindling:sandbox': driver },
          }),
        );
      }
    }
  });
  after(async () => {
    await server?.close();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  /** Every TCP port and unix socket this process (the server) listens on. */
  function listeners(): Target[] {
    const inodes = new Set<string>();
    for (const fd of readdirSync('/proc/self/fd')) {
      try {
        const link = readlinkSync(`/proc/self/fd/${fd}`);
        const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
        if (inode) inodes.add(inode);
      } catch {
        // closed meanwhile
      }
    }
    const targets: Target[] = [];
    for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
      for (const line of readFileSync(file, 'latin1').split('\n').slice(1)) {
        const f = line.trim().split(/\s+/);
        if (f[3] === '0A' && inodes.has(f[9]!)) targets.push({ port: parseInt(f[1]!.split(':')[1]!, 16) });
      }
    }
    for (const line of readFileSync('/proc/net/unix', 'latin1').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[7]?.startsWith('/') && inodes.has(f[6]!)) targets.push({ path: f[7] });
    }
    return targets;
  }

  for (const driver of drivers) {
    it(`${driver}: a local user polling every Runtime API socket and port gets no payload and cannot answer`, { skip: !root && 'needs root to act as another user' }, async () => {
      const name = `victim-${driver}`;
      await invoke(name, { action: 'whoami' }); // warm: its runtime now waits on /next
      const targets = listeners();
      assert.ok(targets.some((t) => t.port === apiPort), 'the enumeration finds the API port');
      assert.ok(targets.length >= 2, `the enumeration finds the environments' Runtime API too: ${JSON.stringify(targets)}`);
      const attacker = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', process.execPath, join(scratch, 'attacker.js'), JSON.stringify(targets)], {
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      let output = '';
      attacker.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      await new Promise<void>((resolve, reject) => {
        attacker.stdout.on('data', () => output.includes('ready\n') && resolve());
        attacker.once('exit', (code) => reject(new Error(`the attacker exited (${code}): ${output}`)));
      });
      const answers = [];
      for (let i = 0; i < 3; i++) {
        const marker = `marker-${driver}-${i}-${Date.now()}`;
        answers.push({ marker, body: await invoke(name, { action: 'hold', ms: 200, marker }) });
      }
      const exited = new Promise((resolve) => attacker.once('exit', resolve));
      attacker.stdin.end();
      await exited;
      const seen = JSON.parse(output.slice(output.indexOf('ready\n') + 6)) as Record<string, { status?: number; id?: string; body?: string; error?: string }[]>;
      for (const { marker, body } of answers) assert.deepEqual(body, { real: marker }, 'the caller received the real answer');
      for (const [target, results] of Object.entries(seen)) {
        for (const result of results) {
          assert.equal(result.id, undefined, `the attacker got an invocation from ${target}: ${JSON.stringify(results)}`);
          assert.doesNotMatch(result.body ?? '', /marker-/, `the attacker read a payload from ${target}`);
        }
        // The environments' sockets refuse it outright; only Kindling's own API answers at all.
        // Kindling's API bridge (AWS_ENDPOINT_URL, src/sandbox/api-bridge.ts) is its API's TCP port
        // under another name: it answers anyone, as the port does, and never with a payload (above).
        if (!target.startsWith('/') || /\/kindling-api-[^/]+\/api\.sock$/.test(target)) continue;
        assert.ok(results.every((r) => r.error === 'EACCES' || r.error === 'ECONNREFUSED' || r.error === 'ENOENT'), `${target}: ${JSON.stringify(results)}`);
      }
    });

    const sharesHostNetwork = driver === 'process' && !root && 'the server is not root: the process sandbox shares its network (documented)';
    it(`${driver}: from inside a function, no address of the host answers`, { skip: sharesHostNetwork }, async () => {
      const hostAddresses = Object.values(networkInterfaces())
        .flat()
        .filter((a) => a && !a.internal && a.family === 'IPv4')
        .map((a) => a!.address);
      const other = net.createServer((socket) => socket.destroy());
      await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
      const otherPort = (other.address() as net.AddressInfo).port;
      try {
        const targets = [
          { host: '127.0.0.1', port: apiPort },
          { host: '127.0.0.1', port: otherPort },
          ...hostAddresses.map((host) => ({ host, port: apiPort })),
        ];
        for (const target of targets) {
          await hostConnects(target); // the host can: the address is right
          const seen: Probe = await invoke(`probe-${driver}`, { action: 'connect', ...target });
          assert.equal(seen.ok, false, `the function connected to ${target.host}:${target.port}`);
          assert.match(seen.code ?? '', /ECONNREFUSED|ENETUNREACH|EHOSTUNREACH|ETIMEDOUT/);
        }
        // A guest reaches its Runtime API at 10.0.2.100 (QEMU's forward), the others at 127.0.0.1.
        const own = driver === 'microvm' ? '10.0.2.100' : '127.0.0.1';
        assert.deepEqual(await invoke(`probe-${driver}`, { action: 'connect', host: own, port: 9001 }), { ok: true }, 'its own Runtime API is there');
      } finally {
        other.close();
      }
    });
  }

  it('process: runs as a uid of its own, not root, and reads its own code but not the data directory, other code or /etc/shadow', { skip: !root && 'the server is not root: the process sandbox runs as its user (documented)' }, async () => {
    const who = await invoke('probe-process', { action: 'whoami' });
    assert.notEqual(who.uid, 0);
    assert.notEqual(who.euid, 0);
    assert.notEqual(who.gid, 0);
    assert.deepEqual(who.groups, [who.gid], 'no supplementary groups');
    const other = await invoke('victim-process', { action: 'whoami' });
    assert.notEqual(other.uid, who.uid, 'each environment has a uid of its own');

    const codeRoot = join(server.dataDir, 'code');
    const codeDirs = readdirSync(codeRoot).map((entry) => join(codeRoot, entry)).filter((dir) => existsSync(join(dir, 'secret.txt')));
    const own = codeDirs.find((dir) => readFileSync(join(dir, 'secret.txt'), 'utf8') === `${SECRET}-probe-process`);
    const victim = codeDirs.find((dir) => readFileSync(join(dir, 'secret.txt'), 'utf8') === `${SECRET}-victim-process`);
    assert.ok(own && victim, 'both functions are unpacked on the host');
    // At its task root (its working directory): the code store's folder, or a pre-started runtime's own.
    assert.deepEqual(await invoke('probe-process', { action: 'read', path: 'secret.txt' }), { ok: true, value: `${SECRET}-probe-process` }, 'it reads its own code');
    // On the PostgreSQL pass there is no database file to try.
    const database = testStoreBase() === undefined ? [join(server.dataDir, 'kindling.db')] : [];
    for (const path of database) assert.ok(existsSync(path), 'the database is where the test looks for it');
    for (const path of [...database, join(victim, 'secret.txt'), '/etc/shadow']) {
      const seen: Probe = await invoke('probe-process', { action: 'read', path });
      assert.equal(seen.ok, false, `the function read ${path}`);
    }
    for (const path of [victim, codeRoot]) {
      const seen: Probe = await invoke('probe-process', { action: 'list', path });
      assert.ok(!seen.ok || !(seen.value as string[]).includes(victim.slice(codeRoot.length + 1)), `the function listed ${path}: ${JSON.stringify(seen)}`);
    }
  });
});
