import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { ClusterNode } from './support/cluster-node.js';
import { nodeFunction } from './support/functions.js';
import { testStoreBase } from './support/kindling.js';
import { labNamespaces, NetnsLab, netnsUnavailable, removeStaleLabs, type NetnsHost } from './support/netns.js';
import { PostgresCluster, postgresBinDir, postgresUnavailable } from './support/postgres.js';
import { adminProfile } from './support/auth.js';

/**
 * The fleet lab (test/support/netns.ts) gives the cluster tests what they rely on: hosts that reach
 * each other only by address over the lab's bridge, loopbacks of their own, a PostgreSQL and
 * Kindling nodes on lab addresses reached from other hosts, a cable that can be pulled, and nothing
 * left behind.
 */

const unavailable =
  netnsUnavailable() ||
  postgresUnavailable() ||
  // The lab runs its own PostgreSQL whatever the pass: once is enough.
  (testStoreBase() === undefined ? false : 'the fleet lab runs its own PostgreSQL; it runs on the SQLite pass only');

const PORT = 7000;
/** A bound on a probe expected to hang (a pulled cable gives no answer at all), not a measurement. */
const PROBE_TIMEOUT_MS = 3_000;

/** A TCP server in `host` on its lab address and on its own 127.0.0.1 that greets each client with the client's address. */
async function greeter(host: NetnsHost): Promise<ChildProcess> {
  const source = `
    import { createServer } from 'node:net';
    let listening = 0;
    for (const address of [${JSON.stringify(host.address)}, '127.0.0.1']) {
      createServer((socket) => socket.end('hello ' + socket.remoteAddress + ' from ' + ${JSON.stringify(host.name)}))
        .listen(${PORT}, address, () => { if (++listening === 2) console.log('listening'); });
    }
  `;
  const child = host.spawn(process.execPath, ['--input-type=module', '-e', source], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('listening') && resolve());
    child.once('exit', (code) => reject(new Error(`the greeter in ${host.name} exited with ${code}`)));
  });
  return child;
}

/** A TCP connection from `from` to address:port: what the server said, or how the connection failed. */
async function connectFrom(from: NetnsHost, address: string, port = PORT): Promise<{ ok: true; said: string } | { ok: false; error: string }> {
  const source = `
    import { connect } from 'node:net';
    const socket = connect({ host: ${JSON.stringify(address)}, port: ${port} });
    let said = '';
    socket.setTimeout(${PROBE_TIMEOUT_MS});
    socket.on('data', (d) => (said += d));
    socket.on('end', () => console.log(JSON.stringify({ ok: true, said })));
    socket.on('timeout', () => { console.log(JSON.stringify({ ok: false, error: 'timeout' })); process.exit(0); });
    socket.on('error', (e) => { console.log(JSON.stringify({ ok: false, error: e.code })); process.exit(0); });
  `;
  const result = await from.node(source);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as { ok: true; said: string } | { ok: false; error: string };
}

/**
 * What of the lab the root namespace holds: its links that lead into a lab namespace (a veth end),
 * its addresses on the lab's subnet, and lab-named links (br0, port<i>) that were not there before.
 * Only lab-related lines: other tests on the machine may add links of their own meanwhile.
 */
function labInRoot(lab: NetnsLab, linksBefore: readonly string[]): string[] {
  const links = execFileSync('ip', ['-o', '-d', 'link'], { encoding: 'utf8' }).split('\n');
  const prefix = `${lab.subnet.split('.').slice(0, 3).join('.')}.`;
  return [
    ...links.filter((line) => lab.namespaces.some((ns) => line.includes(ns))),
    ...execFileSync('ip', ['-o', 'addr'], { encoding: 'utf8' }).split('\n').filter((line) => line.includes(` ${prefix}`)),
    ...rootLinkNames().filter((name) => /^(br0|port\d+)$/.test(name) && !linksBefore.includes(name)),
  ];
}

function rootLinkNames(): string[] {
  return execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' })
    .split('\n')
    .map((line) => /^\d+:\s+([^:@\s]+)/.exec(line)?.[1] ?? '')
    .filter((name) => name !== '');
}

describe('the fleet lab: network namespaces on a bridge', { skip: unavailable || false }, () => {
  let lab: NetnsLab;
  let pg: PostgresCluster;
  let linksBefore: string[];
  const children: ChildProcess[] = [];

  before(async () => {
    linksBefore = rootLinkNames();
    lab = await NetnsLab.create({ hosts: ['db', 'api', 'client', 'other'] });
    pg = await PostgresCluster.start({ host: lab.hosts[0]! });
  });
  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    await pg?.stop();
    await lab?.destroy();
  });

  it('gives each host its own address on the lab /24 and names unique to the lab', () => {
    assert.match(lab.subnet, /^10\.213\.\d+\.0\/24$/);
    const addresses = lab.hosts.map((h) => h.address);
    assert.equal(new Set(addresses).size, 4);
    for (const address of addresses) assert.equal(address.split('.').slice(0, 3).join('.'), lab.subnet.split('.').slice(0, 3).join('.'));
    assert.deepEqual(
      lab.hosts.map((h) => h.name),
      ['db', 'api', 'client', 'other'],
    );
    for (const ns of lab.namespaces) assert.ok(labNamespaces().includes(ns), ns);
    // Nothing of the lab in the root namespace: no bridge, no veth end, no address.
    assert.deepEqual(labInRoot(lab, linksBefore), []);
  });

  it('hosts reach each other by address over the bridge, and a loopback is its own host\'s', async () => {
    const [a, b] = [lab.hosts[1]!, lab.hosts[2]!];
    children.push(await greeter(a));
    assert.deepEqual(await connectFrom(b, a.address), { ok: true, said: `hello ${b.address} from api` });
    assert.deepEqual(await connectFrom(a, '127.0.0.1'), { ok: true, said: 'hello 127.0.0.1 from api' });
    // The same 127.0.0.1:PORT from b is b's loopback, where nothing listens.
    assert.deepEqual(await connectFrom(b, '127.0.0.1'), { ok: false, error: 'ECONNREFUSED' });
  });

  it('PostgreSQL in one host is reached from another by the lab address, and not from the root namespace', async () => {
    const db = lab.hosts[0]!;
    const client = lab.hosts[2]!;
    assert.equal(pg.baseUrl, `postgres://postgres@${db.address}:5432`);
    const psql = `${postgresBinDir()}/psql`;
    const seen = await client.run(psql, ['-X', '-A', '-t', '-d', pg.url('postgres'), '-c', 'SELECT host(inet_server_addr()), host(inet_client_addr())'], {
      env: { ...process.env, PGCONNECT_TIMEOUT: '10' },
    });
    assert.equal(seen.trim(), `${db.address}|${client.address}`);
    // The root namespace has no link into the lab: the address is not on any of its routes' devices.
    // (No connection is tried from the root namespace: it would send a packet out of the machine.)
    assert.doesNotMatch(execFileSync('ip', ['route', 'get', db.address], { encoding: 'utf8' }), /\b(br0|port\d+)\b/);
  });

  it('a Kindling server in one host, on the lab PostgreSQL, answers AWS SDK calls made from another host, and invokes', async () => {
    const api = lab.hosts[1]!;
    const client = lab.hosts[2]!;
    const store = await pg.createDatabase('kindling_lab_smoke');
    // On a lab address (not loopback) the API must authenticate: the client signs with the admin key it wrote.
    const node = await ClusterNode.start(api, ['--host', api.address, '--port', '9000', '--store', store, '--sandbox', 'process', '--log-level', 'warn', '--auth', 'sigv4']);
    const admin = adminProfile(node.dataDir);
    try {
      assert.equal(node.url, `http://${api.address}:9000`);
      // pid is the node's own process, not a wrapper's: kill -9 of it kills that node.
      assert.match(readFileSync(`/proc/${node.pid}/cmdline`, 'utf8').replaceAll('\0', ' '), /main\.js serve /);
      const calls = `
        const { LambdaClient, ListFunctionsCommand, CreateFunctionCommand, InvokeCommand, waitUntilFunctionActiveV2 } = await import(process.env.SDK);
        const lambda = new LambdaClient({ endpoint: process.env.ENDPOINT, region: 'us-east-1', credentials: { accessKeyId: process.env.KEY_ID, secretAccessKey: process.env.SECRET }, maxAttempts: 1 });
        const before = await lambda.send(new ListFunctionsCommand({}));
        const input = JSON.parse(process.env.FUNCTION);
        input.Code.ZipFile = Buffer.from(input.Code.ZipFile, 'base64');
        await lambda.send(new CreateFunctionCommand(input));
        await waitUntilFunctionActiveV2({ client: lambda, maxWaitTime: 60 }, { FunctionName: input.FunctionName });
        const invoked = await lambda.send(new InvokeCommand({ FunctionName: input.FunctionName, Payload: JSON.stringify({ from: 'client' }) }));
        const after = await lambda.send(new ListFunctionsCommand({}));
        console.log(JSON.stringify({
          before: before.Functions,
          status: after.$metadata.httpStatusCode,
          after: after.Functions.map((f) => f.FunctionName),
          error: invoked.FunctionError ?? null,
          payload: JSON.parse(Buffer.from(invoked.Payload).toString()),
        }));
      `;
      const fn = await nodeFunction('lab-hello', 'exports.handler = async (event) => ({ hello: event.from, pid: process.pid > 0 });\n');
      const zip = Buffer.from(fn.Code!.ZipFile!).toString('base64');
      const result = await client.node(calls, {
        env: { ...process.env, SDK: import.meta.resolve('@aws-sdk/client-lambda'), ENDPOINT: node.url, KEY_ID: admin.accessKeyId, SECRET: admin.secretAccessKey, FUNCTION: JSON.stringify({ ...fn, Code: { ZipFile: zip } }) },
      });
      assert.equal(result.code, 0, `${result.stderr}\n--- node output:\n${node.output}`);
      assert.deepEqual(JSON.parse(result.stdout), { before: [], status: 200, after: ['lab-hello'], error: null, payload: { hello: 'client', pid: true } });
      // Its tables are in the lab's PostgreSQL.
      assert.notEqual((await pg.query(`SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'`, 'kindling_lab_smoke')).trim(), '0');
      node.kill('SIGKILL');
      assert.deepEqual(await node.exited, { code: null, signal: 'SIGKILL' });
      assert.equal(existsSync(`/proc/${node.pid}`), false);
    } finally {
      await node.stop();
    }
  });

  it('disconnect pulls a host\'s cable (connections to it get no answer, not a refusal) and reconnect plugs it back', async () => {
    const [a, b] = [lab.hosts[3]!, lab.hosts[2]!];
    children.push(await greeter(a));
    assert.deepEqual(await connectFrom(b, a.address), { ok: true, said: `hello ${b.address} from other` });
    await a.disconnect();
    const cut = await connectFrom(b, a.address);
    assert.equal(cut.ok, false);
    // No RST: the machine is gone, not refusing (a timeout, or no route once ARP gives up).
    assert.ok(!cut.ok && ['timeout', 'EHOSTUNREACH'].includes(cut.error), JSON.stringify(cut));
    // The host itself lives on: its own loopback still answers.
    assert.deepEqual(await connectFrom(a, '127.0.0.1'), { ok: true, said: 'hello 127.0.0.1 from other' });
    await a.reconnect();
    assert.deepEqual(await connectFrom(b, a.address), { ok: true, said: `hello ${b.address} from other` });
  });
});

describe('the fleet lab leaves nothing behind', { skip: unavailable || false }, () => {
  it('destroy() kills what runs in it and removes its namespaces; the root namespace is as it was; twice is fine', async () => {
    const linksBefore = rootLinkNames();
    const lab = await NetnsLab.create({ hosts: 2 });
    assert.deepEqual(labInRoot(lab, linksBefore), []);
    assert.deepEqual(
      lab.hosts.map((h) => h.name),
      ['h0', 'h1'],
    );
    const sleeper = lab.hosts[0]!.spawn('sleep', ['1000'], { stdio: 'ignore' });
    const gone = new Promise<NodeJS.Signals | null>((resolve) => sleeper.once('exit', (_code, signal) => resolve(signal)));
    const namespaces = lab.namespaces;
    await lab.destroy();
    assert.equal(await gone, 'SIGKILL');
    const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    for (const ns of namespaces) assert.ok(!left.includes(ns), `${ns} is still there:\n${left}`);
    assert.deepEqual(labInRoot(lab, linksBefore), []);
    await lab.destroy();
  });

  it('a lab whose process died with kill -9 is removed by the next create, with what ran in it', async () => {
    const netnsModule = new URL('./support/netns.js', import.meta.url).href;
    const source = `
      const { NetnsLab } = await import(${JSON.stringify(netnsModule)});
      const lab = await NetnsLab.create({ hosts: 1 });
      const sleeper = lab.hosts[0].spawn('sleep', ['1000'], { stdio: 'ignore', detached: true });
      console.log(JSON.stringify({ namespaces: lab.namespaces, sleeper: sleeper.pid }));
      setInterval(() => {}, 1000);
    `;
    const owner = spawn(process.execPath, ['--input-type=module', '-e', source], { stdio: ['ignore', 'pipe', 'inherit'] });
    const started = await new Promise<{ namespaces: string[]; sleeper: number }>((resolve, reject) => {
      owner.stdout.on('data', (chunk: Buffer) => resolve(JSON.parse(chunk.toString()) as { namespaces: string[]; sleeper: number }));
      owner.once('exit', (code) => reject(new Error(`the lab's owner exited with ${code}`)));
    });
    const dead = new Promise((resolve) => owner.once('exit', resolve));
    owner.kill('SIGKILL');
    await dead;
    // Left behind, as a crashed run leaves it; the sleeper (its own process group) lives on in it.
    for (const ns of started.namespaces) assert.ok(labNamespaces().includes(ns), ns);
    assert.ok(existsSync(`/proc/${started.sleeper}`));
    const removed = removeStaleLabs();
    assert.deepEqual(removed.filter((ns) => started.namespaces.includes(ns)).sort(), [...started.namespaces].sort());
    for (const ns of started.namespaces) assert.ok(!labNamespaces().includes(ns), ns);
    assert.ok(!existsSync(`/proc/${started.sleeper}`) || /^State:\s+Z/m.test(readFileSync(`/proc/${started.sleeper}/status`, 'utf8')));
  });

  it('a test process that ends on an uncaught error takes its lab with it', async () => {
    const netnsModule = new URL('./support/netns.js', import.meta.url).href;
    const source = `
      const { NetnsLab } = await import(${JSON.stringify(netnsModule)});
      const lab = await NetnsLab.create({ hosts: 2 });
      console.log(JSON.stringify(lab.namespaces));
      throw new Error('a failed test');
    `;
    const owner = spawn(process.execPath, ['--input-type=module', '-e', source], { stdio: ['ignore', 'pipe', 'ignore'] });
    let printed = '';
    owner.stdout.on('data', (chunk: Buffer) => (printed += chunk.toString()));
    const code = await new Promise((resolve) => owner.once('exit', resolve));
    assert.notEqual(code, 0);
    const namespaces = JSON.parse(printed) as string[];
    assert.equal(namespaces.length, 3);
    for (const ns of namespaces) assert.ok(!labNamespaces().includes(ns), ns);
  });
});
