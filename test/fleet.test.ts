import { CreateFunctionCommand, GetProvisionedConcurrencyConfigCommand, InvokeCommand, PublishVersionCommand, PutFunctionConcurrencyCommand, PutProvisionedConcurrencyConfigCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fleetSkip, TestFleet, type FleetNode } from './support/fleet.js';
import { nodeFunction } from './support/functions.js';
import { clientFor, json } from './support/kindling.js';
import { scratchDir, sharedFile } from './support/scratch.js';
import { eventually, eventuallyAsync } from './support/wait.js';

const SLOW = `exports.handler = async (event) => { await new Promise((r) => setTimeout(r, event.ms ?? 0)); return { pid: process.pid }; };\n`;
const APPEND = `const fs = require('fs'); exports.handler = async (event) => { fs.appendFileSync(event.file, event.id + '\\n'); return 'ok'; };\n`;

interface Node {
  Id: string;
  Roles: string[];
  State: string;
  LeaseEndsAt?: string;
}

async function nodes(api: FleetNode): Promise<Node[]> {
  const res = await fetch(`${api.kindling.url}/kindling/cluster/nodes`);
  return ((await res.json()) as { Nodes: Node[] }).Nodes;
}

function environments(workers: FleetNode[], name: string): number[] {
  return workers.map((w) => w.kindling.fleet!.stats(name).environments);
}

describe('the fleet: api, worker and poller nodes on one PostgreSQL', { skip: fleetSkip() }, () => {
  let fleet: TestFleet;
  let api1: FleetNode;
  let api2: FleetNode;
  let w1: FleetNode;
  let w2: FleetNode;
  let lambda1: LambdaClient;
  let lambda2: LambdaClient;
  const dir = scratchDir('kindling-fleet-files-');

  before(async () => {
    fleet = await TestFleet.start();
    w1 = await fleet.node('worker');
    w2 = await fleet.node('worker');
    api1 = await fleet.node('api');
    api2 = await fleet.node('api');
    await fleet.node('poller');
    lambda1 = clientFor(api1.kindling.url);
    lambda2 = clientFor(api2.kindling.url);
  });

  after(async () => {
    lambda1?.destroy();
    lambda2?.destroy();
    await fleet?.stop();
  });

  it('registers every node with its roles, and workers with their lease end', async () => {
    const listed = await nodes(api1);
    assert.equal(listed.length, 5);
    assert.deepEqual(listed.map((n) => n.Roles.join(',')).sort(), ['api', 'api', 'poller', 'worker', 'worker']);
    for (const n of listed) assert.equal(n.State, 'active');
    assert.ok(listed.filter((n) => n.Roles.includes('worker')).every((n) => n.LeaseEndsAt !== undefined));
    assert.equal(api1.kindling.fleet, undefined, 'an api node runs no environments');
  });

  it('runs a synchronous invoke on a worker and keeps reusing its warm environment', async () => {
    await lambda1.send(new CreateFunctionCommand(await nodeFunction('warm', SLOW)));
    const pids = new Set<number>();
    for (let i = 0; i < 6; i++) {
      // Alternating api nodes: both route to the same warm environment.
      const out = await (i % 2 ? lambda2 : lambda1).send(new InvokeCommand({ FunctionName: 'warm', Payload: Buffer.from('{}') }));
      assert.equal(out.StatusCode, 200);
      assert.equal(out.FunctionError, undefined);
      pids.add((json(out.Payload) as { pid: number }).pid);
    }
    assert.equal(pids.size, 1, 'one environment served them all');
    assert.deepEqual(environments([w1, w2], 'warm').sort(), [0, 1]);
  });

  it('runs event invokes through the pollers on the workers', async () => {
    await lambda2.send(new CreateFunctionCommand(await nodeFunction('events', APPEND)));
    const file = sharedFile(join(dir, 'events.txt'));
    for (let id = 0; id < 5; id++) {
      const out = await lambda2.send(new InvokeCommand({ FunctionName: 'events', InvocationType: 'Event', Payload: Buffer.from(JSON.stringify({ file, id })) }));
      assert.equal(out.StatusCode, 202);
    }
    await eventually(() => existsSync(file) && readFileSync(file, 'utf8').trim().split('\n').length === 5, 'the five events ran');
    assert.deepEqual(readFileSync(file, 'utf8').trim().split('\n').sort(), ['0', '1', '2', '3', '4']);
  });

  it('holds reserved concurrency across api nodes: at most N running anywhere', async () => {
    await lambda1.send(new CreateFunctionCommand(await nodeFunction('reserved', SLOW)));
    await lambda1.send(new PutFunctionConcurrencyCommand({ FunctionName: 'reserved', ReservedConcurrentExecutions: 2 }));
    // Both api nodes must have heard of the limit before the burst.
    await eventuallyAsync(
      () => lambda2.send(new InvokeCommand({ FunctionName: 'reserved', Payload: Buffer.from('{"ms":0}') })).then(() => true, () => false),
      (ok) => ok,
      'the function answers through the second api node',
    );
    await new Promise((resolve) => setTimeout(resolve, 1500)); // both nodes give back what the warm-up held
    const calls = Array.from({ length: 6 }, (_, i) =>
      (i % 2 ? lambda2 : lambda1).send(new InvokeCommand({ FunctionName: 'reserved', Payload: Buffer.from('{"ms":2500}') })).then(
        () => 'ok',
        (err: Error & { Reason?: string }) => `${err.name}:${err.Reason}`,
      ),
    );
    const outcomes = await Promise.all(calls);
    assert.equal(outcomes.filter((o) => o === 'ok').length, 2, outcomes.join(' '));
    assert.equal(outcomes.filter((o) => o === 'TooManyRequestsException:ReservedFunctionConcurrentInvocationLimitExceeded').length, 4, outcomes.join(' '));
  });

  it('spreads provisioned concurrency over the workers', async () => {
    await lambda1.send(new CreateFunctionCommand(await nodeFunction('provisioned', SLOW)));
    const { Version } = await lambda1.send(new PublishVersionCommand({ FunctionName: 'provisioned' }));
    await lambda1.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: 'provisioned', Qualifier: Version, ProvisionedConcurrentExecutions: 2 }));
    await eventually(() => environments([w1, w2], 'provisioned').join(',') === '1,1', 'one provisioned environment on each worker');
    const config = await eventuallyAsync(
      () => lambda2.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: 'provisioned', Qualifier: Version })),
      (c) => c.Status === 'READY',
      'the api node reports the config READY',
    );
    assert.equal(config.AvailableProvisionedConcurrentExecutions, 2);
  });

  it('drops no invocation when a worker reaches its lease end under load, and the worker leaves the registry', async () => {
    await lambda1.send(new CreateFunctionCommand(await nodeFunction('lease', SLOW)));
    // The most memory free: cold starts are placed on it first, so it is busy when its lease ends.
    const leased = await fleet.node('worker', {}, ['--worker-lease', '4', '--worker-memory', '1000000']);
    await eventually(() => [api1, api2].every((api) => api.kindling.routable().includes(leased.kindling.nodeId)), 'both api nodes route to the new worker');
    let stop = false;
    const failures: string[] = [];
    let done = 0;
    const loop = async (lambda: LambdaClient) => {
      while (!stop) {
        try {
          const out = await lambda.send(new InvokeCommand({ FunctionName: 'lease', Payload: Buffer.from('{"ms":50}') }));
          if (out.FunctionError) failures.push(String(out.FunctionError));
          done++;
        } catch (err) {
          failures.push(`${(err as Error).name}: ${(err as Error).message}`);
        }
      }
    };
    const loops = [loop(lambda1), loop(lambda2), loop(lambda1), loop(lambda2)];
    await eventually(() => leased.kindling.fleet!.stats('lease').environments > 0, 'the leased worker runs some of the load');
    await leased.kindling.ended;
    // Keep going a little after the worker left, then stop.
    const after = done;
    await eventually(() => done >= after + 20, 'invokes go on on the other workers');
    stop = true;
    await Promise.all(loops);
    assert.deepEqual(failures, []);
    const listed = await nodes(api1);
    assert.equal(listed.some((n) => n.Id === leased.kindling.nodeId), false, 'deregistered');
  });
});
