import { CreateFunctionCommand, InvokeCommand, ListFunctionsCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { ClusterNode } from './support/cluster-node.js';
import { fleetSkip } from './support/fleet.js';
import { nodeFunction } from './support/functions.js';
import { json } from './support/kindling.js';
import { adminProfile, signedFetch, signedLambda, type Profile } from './support/auth.js';
import { labForward } from './support/lab-forward.js';
import { NetnsLab, netnsUnavailable, type NetnsHost } from './support/netns.js';
import { PostgresCluster } from './support/postgres.js';
import { scratchDir, sharedFile } from './support/scratch.js';
import { eventually, eventuallyAsync } from './support/wait.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
/** What a node without the API prints once it runs (its roles in the group). */
const NODE_READY = /Kindling node \S+ \(([^)]*)\) is running/;
/** The function sleeps `ms`, noting when it starts and ends in `file` (the lab hosts share the file system). */
const NOTE = `const fs = require('fs');
exports.handler = async (event) => {
  if (event.file) fs.appendFileSync(event.file, 'start ' + event.id + '\\n');
  await new Promise((r) => setTimeout(r, event.ms ?? 0));
  if (event.file) fs.appendFileSync(event.file, 'done ' + event.id + '\\n');
  return { pid: process.pid };
};
`;

interface ListedNode {
  Id: string;
  Roles: string[];
  Address: string;
  State: string;
  Busy: number;
}

function lines(file: string, word: string): string[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith(`${word} `))
    .map((line) => line.slice(word.length + 1));
}

const skip = fleetSkip() || netnsUnavailable();

/**
 * The fleet on hosts of their own (network namespaces on a bridge): PostgreSQL, two api nodes,
 * three workers and two pollers, each a process with its own address and data directory. The AWS
 * SDK reaches the api nodes through a door in a client host. Then the faults: kill -9 a worker under
 * load, an api node, a poller; restart PostgreSQL.
 */
describe('the fleet on many hosts, and its faults', { skip }, () => {
  let lab: NetnsLab;
  let pg: PostgresCluster;
  let store: string;
  const nodes: Record<string, ClusterNode> = {};
  let lambda1: LambdaClient;
  let lambda2: LambdaClient;
  let url1: string;
  let doors: { close(): Promise<void> }[] = [];
  let notes: string;
  // The api nodes listen on lab addresses, so they run --auth sigv4, sharing one key file (docs/security.md).
  let keyFile: string;
  let admin: Profile;

  const start = (host: NetnsHost, role: string, extra: string[] = []) =>
    ClusterNode.start(
      host,
      [
        ...['--role', role, '--store', store, '--host', host.address, '--port', '9000', '--fleet-port', '9001', '--sandbox', 'process', '--log-level', 'warn'],
        ...(role === 'api' ? ['--auth', 'sigv4', '--key-file', keyFile] : []),
        ...extra,
      ],
      role === 'api' ? {} : { ready: NODE_READY },
    );

  async function listed(): Promise<ListedNode[]> {
    const res = await signedFetch(url1, admin, 'GET', '/kindling/cluster/nodes', undefined, 'kindling');
    return ((await res.json()) as { Nodes: ListedNode[] }).Nodes;
  }

  before(async () => {
    lab = await NetnsLab.create({ hosts: ['db', 'api1', 'api2', 'w1', 'w2', 'w3', 'poller1', 'poller2', 'client'] });
    const host = (name: string) => lab.hosts.find((h) => h.name === name)!;
    pg = await PostgresCluster.start({ host: host('db') });
    store = await pg.createDatabase('kindling_cluster');
    notes = sharedFile(join(scratchDir('kindling-cluster-'), 'notes.txt'));
    keyFile = join(scratchDir('kindling-cluster-key-'), 'kindling.key');
    writeFileSync(keyFile, randomBytes(32).toString('base64'), { mode: 0o600 });
    // The first node migrates the schema; the rest start side by side.
    nodes['api1'] = await start(host('api1'), 'api');
    // The first api node made the administrator key; the others read it from the shared store.
    admin = adminProfile(nodes['api1'].dataDir);
    const rest = await Promise.all([
      start(host('api2'), 'api'),
      start(host('w1'), 'worker'),
      start(host('w2'), 'worker'),
      start(host('w3'), 'worker'),
      start(host('poller1'), 'poller', ['--visibility-timeout', '3']),
      start(host('poller2'), 'poller', ['--visibility-timeout', '3']),
    ]);
    ['api2', 'w1', 'w2', 'w3', 'poller1', 'poller2'].forEach((name, i) => (nodes[name] = rest[i]!));
    const door1 = await labForward(host('client'), `${host('api1').address}:9000`);
    const door2 = await labForward(host('client'), `${host('api2').address}:9000`);
    doors = [door1, door2];
    url1 = door1.url;
    lambda1 = signedLambda(door1.url, admin);
    lambda2 = signedLambda(door2.url, admin);
  });

  after(async () => {
    lambda1?.destroy();
    lambda2?.destroy();
    await Promise.all(doors.map((door) => door.close()));
    await pg?.stop();
    await lab?.destroy();
  });

  it('serves the core cases through an api node, with every node in `kindling cluster ls`', async () => {
    await eventuallyAsync(listed, (all) => all.filter((n) => n.Roles.includes('worker')).length === 3, 'three workers registered');
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        [CLI, 'cluster', 'ls', '--endpoint', url1],
        { env: { ...process.env, AWS_ACCESS_KEY_ID: admin.accessKeyId, AWS_SECRET_ACCESS_KEY: admin.secretAccessKey } },
        (err, stdout) => (err ? reject(err) : resolve(stdout)),
      ),
    );
    assert.equal(out.trim().split('\n').length, 1 + 7, out);
    assert.match(out, /NODE\s+ROLES\s+ADDRESS\s+STATE/);
    assert.equal((out.match(/\bworker\b/g) ?? []).length, 3, out);

    await lambda1.send(new CreateFunctionCommand(await nodeFunction('note', NOTE, { Timeout: 30 })));
    const sync = await lambda1.send(new InvokeCommand({ FunctionName: 'note', Payload: Buffer.from('{}') }));
    assert.equal(sync.StatusCode, 200);
    assert.equal(typeof (json(sync.Payload) as { pid: number }).pid, 'number');
    const listedFns = await lambda2.send(new ListFunctionsCommand({}));
    assert.deepEqual(listedFns.Functions?.map((f) => f.FunctionName), ['note']);
    for (const id of ['e1', 'e2', 'e3']) {
      const out = await lambda2.send(new InvokeCommand({ FunctionName: 'note', InvocationType: 'Event', Payload: Buffer.from(JSON.stringify({ file: notes, id })) }));
      assert.equal(out.StatusCode, 202);
    }
    await eventually(() => ['e1', 'e2', 'e3'].every((id) => lines(notes, 'done').includes(id)), 'the events ran on the workers');
  });

  it('kill -9 of a worker under load: its in-flight invokes answer ServiceException, new ones go elsewhere, events are retried', async () => {
    // Long enough that an answer before it ends can only be the lost worker's ServiceException.
    const inFlight = Array.from({ length: 3 }, () =>
      lambda1.send(new InvokeCommand({ FunctionName: 'note', Payload: Buffer.from(JSON.stringify({ ms: 20_000 })) })).then(
        () => 'ok',
        (err: Error & { $metadata?: { httpStatusCode?: number } }) => `${err.name}:${err.$metadata?.httpStatusCode}`,
      ),
    );
    for (const id of ['k1', 'k2']) {
      await lambda2.send(new InvokeCommand({ FunctionName: 'note', InvocationType: 'Event', Payload: Buffer.from(JSON.stringify({ file: notes, id, ms: 3000 })) }));
    }
    await eventually(() => lines(notes, 'start').includes('k1') && lines(notes, 'start').includes('k2'), 'the events started');
    const busy = await eventuallyAsync(listed, (all) => all.some((n) => n.Roles.includes('worker') && n.Busy > 0), 'a worker reports busy environments');
    const victim = busy.filter((n) => n.Roles.includes('worker')).sort((a, b) => b.Busy - a.Busy)[0]!;
    const victimNode = Object.values(nodes).find((node) => victim.Address.startsWith(node.host.address))!;
    victimNode.kill('SIGKILL');
    assert.equal((await victimNode.exited).signal, 'SIGKILL');

    const outcomes = await Promise.all(inFlight);
    assert.ok(outcomes.includes('ServiceException:500'), `some in-flight invokes ran on the killed worker: ${outcomes.join(' ')}`);
    assert.ok(outcomes.every((o) => o === 'ServiceException:500' || o === 'ok'), outcomes.join(' '));
    // New invokes go to the other workers at once: none of them fails.
    for (let i = 0; i < 6; i++) {
      const out = await lambda1.send(new InvokeCommand({ FunctionName: 'note', Payload: Buffer.from('{}') }));
      assert.equal(out.FunctionError, undefined);
    }
    // Every event ran to its end, those on the killed worker again.
    await eventually(() => ['k1', 'k2'].every((id) => lines(notes, 'done').includes(id)), 'both events finished', 60_000);
    await eventuallyAsync(listed, (all) => all.find((n) => n.Id === victim.Id)?.State !== 'active', 'the killed worker shows as down');
  });

  it('kill -9 of a poller: another takes its leases when they expire, and no event is lost', async () => {
    const ids = Array.from({ length: 8 }, (_, i) => `p${i}`);
    for (const id of ids) {
      await lambda2.send(new InvokeCommand({ FunctionName: 'note', InvocationType: 'Event', Payload: Buffer.from(JSON.stringify({ file: notes, id, ms: 1500 })) }));
    }
    await eventually(() => ids.some((id) => lines(notes, 'start').includes(id)), 'the pollers run the events');
    nodes['poller1']!.kill('SIGKILL');
    await nodes['poller1']!.exited;
    await eventually(() => ids.every((id) => lines(notes, 'done').includes(id)), 'every event ran to its end', 90_000);
  });

  it('kill -9 of an api node: the other keeps serving', async () => {
    nodes['api1']!.kill('SIGKILL');
    await nodes['api1']!.exited;
    for (let i = 0; i < 3; i++) {
      const out = await lambda2.send(new InvokeCommand({ FunctionName: 'note', Payload: Buffer.from('{}') }));
      assert.equal(out.StatusCode, 200);
    }
    await assert.rejects(lambda1.send(new InvokeCommand({ FunctionName: 'note', Payload: Buffer.from('{}') })));
  });

  it('a PostgreSQL restart: warm invokes go on, writes answer ServiceException until it is back, nothing accepted is lost', async () => {
    const queued = ['q1', 'q2'];
    for (const id of queued) {
      await lambda2.send(new InvokeCommand({ FunctionName: 'note', InvocationType: 'Event', Payload: Buffer.from(JSON.stringify({ file: notes, id, ms: 2000 })) }));
    }
    await pg.stopServer('fast');
    try {
      for (let i = 0; i < 5; i++) {
        const out = await lambda2.send(new InvokeCommand({ FunctionName: 'note', Payload: Buffer.from('{}') }));
        assert.equal(out.StatusCode, 200, 'a warm invoke of a known function needs no database');
      }
      await assert.rejects(lambda2.send(new CreateFunctionCommand(await nodeFunction('during-outage', NOTE))), (err: Error & { $metadata?: { httpStatusCode?: number } }) => {
        assert.equal(err.name, 'ServiceException');
        assert.equal(err.$metadata?.httpStatusCode, 500);
        return true;
      });
    } finally {
      await pg.startServer();
    }
    const afterOutage = await nodeFunction('after-outage', NOTE);
    await eventuallyAsync(
      () => lambda2.send(new CreateFunctionCommand(afterOutage)).then(() => true, () => false),
      (ok) => ok,
      'writes work again once PostgreSQL is back',
      30_000,
    );
    await eventually(() => queued.every((id) => lines(notes, 'done').includes(id)), 'the events accepted before the outage ran', 60_000);
  });
});
