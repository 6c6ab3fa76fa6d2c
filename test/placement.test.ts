import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../src/config/index.js';
import { choose, InFlight, ProvisionedShare, type WorkerView } from '../src/placement/index.js';
import type { NodeDirectory } from '../src/placement/index.js';
import type { FunctionRecord } from '../src/store/index.js';
import type { WorkerInventory } from '../src/shared/index.js';
import { MemoryBudget, WorkerLease, type Runner } from '../src/worker/index.js';
import { FakeClock } from './support/fake-clock.js';

const fn = { name: 'f', revisionId: 'r1', memorySize: 512, tags: {} } as unknown as FunctionRecord;

function worker(id: string, memoryMb: number, inventory: Partial<WorkerInventory> = {}, drivers = ['process', 'namespace']): WorkerView {
  return { id, address: `${id}:1`, memoryMb, drivers, inventory: { pools: {}, memoryUsedMb: 0, busy: 0, ...inventory } };
}

const pool = (environments: number, idle: number, revisionId = 'r1') => ({ revisionId, environments, idle, provisionedReady: 0, memoryMb: 512 });
const pick = (workers: WorkerView[], extra: { inFlight?: InFlight; exclude?: Set<string>; driver?: string } = {}) =>
  choose({ workers, fn, driver: extra.driver, inFlight: extra.inFlight ?? new InFlight(), sightings: new Map(), exclude: extra.exclude ?? new Set() })?.id;

describe('placement', () => {
  it('sends an invoke to a worker with an idle warm environment of the version', () => {
    const workers = [worker('a', 8192), worker('b', 8192, { pools: { 'f:$LATEST': pool(2, 1) }, memoryUsedMb: 1024 })];
    assert.equal(pick(workers), 'b');
  });

  it('does not count environments of another revision as warm', () => {
    const workers = [worker('a', 8192, { memoryUsedMb: 0 }), worker('b', 2048, { pools: { 'f:$LATEST': pool(2, 2, 'old') }, memoryUsedMb: 1024 })];
    assert.equal(pick(workers), 'a');
  });

  it('counts as spare the environments of the version less what this node has running there', () => {
    const inFlight = new InFlight();
    const workers = [worker('a', 8192), worker('b', 8192, { pools: { 'f:$LATEST': pool(2, 0) }, memoryUsedMb: 1024 })];
    inFlight.add('b', 'f:$LATEST', 1);
    assert.equal(pick(workers, { inFlight }), 'b', 'one of its two environments is free');
    inFlight.add('b', 'f:$LATEST', 1);
    // Both busy with this node's invocations: a cold start, kept beside the version's environments.
    assert.equal(pick(workers, { inFlight }), 'b');
    const sightings = new Map([['a|f:$LATEST', { environments: 3 }]]);
    assert.equal(choose({ workers, fn, driver: undefined, inFlight, sightings, exclude: new Set() })?.id, 'a', 'an answer from a said it has three');
  });

  it('queues on the least oversubscribed worker of the version when no worker has room', () => {
    const inFlight = new InFlight();
    const a = worker('a', 1024, { pools: { 'f:$LATEST': pool(2, 0) }, memoryUsedMb: 1024 });
    const b = worker('b', 1024, { pools: { 'f:$LATEST': pool(2, 0) }, memoryUsedMb: 1024 });
    for (let i = 0; i < 3; i++) inFlight.add('a', 'f:$LATEST', 1);
    for (let i = 0; i < 2; i++) inFlight.add('b', 'f:$LATEST', 1);
    assert.equal(pick([a, b], { inFlight }), 'b');
    assert.equal(pick([worker('c', 1024, { memoryUsedMb: 1024 })], { inFlight }), undefined, 'no room and no environment of the version');
  });

  it('places a cold start only where the MemorySize fits, together with the version where possible', () => {
    const full = worker('full', 1024, { memoryUsedMb: 768 });
    const roomy = worker('roomy', 8192, { memoryUsedMb: 0 });
    const withVersion = worker('with', 4096, { pools: { 'f:$LATEST': pool(1, 0) }, memoryUsedMb: 512 });
    assert.equal(pick([full, roomy]), 'roomy');
    assert.equal(pick([full, roomy, withVersion]), 'with');
    assert.equal(pick([full]), undefined, 'no worker has room: nothing is chosen');
    // Idle environments of other functions are room: the worker shuts them down for the cold start.
    const idleOthers = worker('idle-others', 1024, { pools: { 'g:$LATEST': { revisionId: 'x', environments: 2, idle: 2, provisionedReady: 0, memoryMb: 384 } }, memoryUsedMb: 768 });
    assert.equal(pick([idleOthers]), 'idle-others');
  });

  it('skips workers without the sandbox driver the function asks for, and those already tried', () => {
    const a = worker('a', 8192, {}, ['process']);
    const b = worker('b', 8192, {}, ['process', 'microvm']);
    assert.equal(pick([a, b], { driver: 'microvm' }), 'b');
    assert.equal(pick([a, b], { driver: 'microvm', exclude: new Set(['b']) }), undefined);
  });
});

describe('provisioned concurrency spread over workers', () => {
  const runner = (): Runner & { provisioned: Map<string, number> } => {
    const provisioned = new Map<string, number>();
    return {
      provisioned,
      invoke: () => Promise.reject(new Error('unused')),
      provision: (f, count) => void provisioned.set(f.name, count),
      provisionedReady: () => 0,
      retire: () => undefined,
      close: () => Promise.resolve(),
    };
  };
  const directory = (ids: string[]) =>
    ({ workers: ids.map((id) => worker(id, 8192)), onChange: () => () => undefined }) as unknown as NodeDirectory;

  it('gives every worker its part, and the parts add up to the config', () => {
    const ids = ['w1', 'w2', 'w3'];
    for (const count of [1, 2, 3, 5, 10]) {
      for (const name of ['f', 'g', 'h']) {
        const shares = ids.map((id) => new ProvisionedShare(runner(), directory(ids), id).share(`${name}:1`, count));
        assert.equal(shares.reduce((a, b) => a + b, 0), count, `${name} × ${count}: ${shares.join(',')}`);
        assert.ok(Math.max(...shares) - Math.min(...shares) <= 1, `evenly: ${shares.join(',')}`);
      }
    }
  });

  it('keeps all of it on a worker alone in the fleet', () => {
    const local = runner();
    new ProvisionedShare(local, directory([]), 'w1').provision({ ...fn, name: 'alone' } as FunctionRecord, 4);
    assert.equal(local.provisioned.get('alone'), 4);
  });
});

describe('worker lease', () => {
  it('ends within the last tenth of the lease, spread at random', () => {
    const clock = new FakeClock();
    const early = new WorkerLease({ leaseMs: 100_000, startedAt: 1_000, clock, random: () => 0.999 });
    const late = new WorkerLease({ leaseMs: 100_000, startedAt: 1_000, clock, random: () => 0 });
    assert.equal(late.endsAt, 101_000);
    assert.ok(early.endsAt >= 91_000 && early.endsAt < 92_000, String(early.endsAt));
  });

  it('calls its end once the lease is over, not before', () => {
    const clock = new FakeClock();
    const lease = new WorkerLease({ leaseMs: 10_000, startedAt: 0, clock, random: () => 0 });
    let ended = 0;
    lease.start(() => ended++);
    clock.advance(9_999);
    assert.equal(ended, 0);
    clock.advance(1);
    assert.equal(ended, 1);
  });
});

describe('worker memory budget', () => {
  it('never goes beyond the declared memory, evicting idle environments first', () => {
    const budget = new MemoryBudget(1024);
    budget.take(512);
    budget.take(512);
    assert.throws(() => budget.take(128), (err: Error & { code?: string }) => err.code === 'ERR_WORKER_FULL');
    let asked = 0;
    budget.evictWith((needed) => {
      asked = needed;
      budget.give(512);
      return 512;
    });
    budget.take(128);
    assert.equal(asked, 128);
    assert.equal(budget.usedMb, 640);
  });
});

describe('fleet roles (config)', () => {
  const PG = 'postgres://kindling@db.internal:5432/kindling';

  it('defaults to all: one process, every role, on the embedded store', () => {
    const config = loadConfig([], {});
    assert.equal(config.allInOne, true);
    assert.deepEqual(config.roles, ['api', 'worker', 'poller']);
    assert.equal(config.workerLeaseMs, 14 * 3600_000);
  });

  it('takes one or more roles, each needing the shared store', () => {
    const config = loadConfig(['--role', 'poller,api', '--store', PG, '--advertise', 'w1.internal:9001', '--worker-lease', '3600'], {});
    assert.equal(config.allInOne, false);
    assert.deepEqual(config.roles, ['api', 'poller']);
    assert.equal(config.advertise, 'w1.internal:9001');
    assert.equal(config.workerLeaseMs, 3_600_000);
    assert.deepEqual(loadConfig([], { KINDLING_ROLE: 'worker', KINDLING_STORE: PG }).roles, ['worker']);
    assert.throws(() => loadConfig(['--role', 'worker'], {}), (err: Error) => err instanceof ConfigError && /needs the shared store: add --store postgres/.test(err.message));
    assert.throws(() => loadConfig(['--role', 'api,frontend', '--store', PG], {}), (err: Error) => err instanceof ConfigError && /--role must be all, or one or more of api, worker, poller/.test(err.message));
    assert.throws(() => loadConfig(['--role', 'worker', '--store', PG, '--advertise', 'no-port'], {}), (err: Error) => err instanceof ConfigError && /--advertise must be host:port/.test(err.message));
  });
});
