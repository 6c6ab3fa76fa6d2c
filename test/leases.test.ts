import { CreateFunctionCommand, InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { zipFiles } from '../src/code/index.js';
import { EventQueue, PollerFleet, QueueMetrics, type Dispatch } from '../src/queue/index.js';
import { createLogger, newRequestId, systemClock, type Clock } from '../src/shared/index.js';
import { SqliteStore, type NewEvent, type QueuedEvent } from '../src/store/index.js';
import { crashServer, queuedEvents } from './support/crash.js';
import { FakeClock } from './support/fake-clock.js';
import { clientFor, peekStore, ROLE, startTestServer } from './support/kindling.js';
import { scratchDir, sharedFile } from './support/scratch.js';
import { spawnServe } from './support/serve-process.js';
import { eventually, eventuallyAsync, records } from './support/wait.js';

/** Lets every pending promise continuation (and one round of setImmediate work) run. */
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

function newEvents(count: number, enqueuedAt: number): NewEvent[] {
  return Array.from({ length: count }, () => ({ functionName: 'fn', qualifier: '$LATEST', requestId: newRequestId(), payload: Buffer.from('{}'), enqueuedAt }));
}

/** An event whose dispatch waits until the test lets it finish. */
class Held {
  readonly started: Promise<QueuedEvent>;
  #start!: (event: QueuedEvent) => void;
  #finish!: () => void;
  readonly #finished = new Promise<void>((resolve) => (this.#finish = resolve));
  constructor() {
    this.started = new Promise((resolve) => (this.#start = resolve));
  }
  async run(event: QueuedEvent): Promise<void> {
    this.#start(event);
    await this.#finished;
  }
  finish(): void {
    this.#finish();
  }
}

/**
 * A real PollerFleet over its own connection to a real SQLite file, as one process of several
 * sharing a store. It runs events through `run` (the dispatch the composition root would hand it)
 * and records who ran what.
 */
class Peer {
  readonly store: SqliteStore;
  readonly fleet: PollerFleet;
  readonly ran: string[] = [];
  readonly #errors: string[] = [];
  #onError: (() => void) | undefined;

  constructor(file: string, owner: string, clock: Clock, run: (event: QueuedEvent) => Promise<void> = async () => {}, options: { pollers?: number; batchSize?: number; visibilityTimeoutMs?: number } = {}) {
    this.store = new SqliteStore(file);
    const logger = createLogger('error', (line) => {
      this.#errors.push(line);
      this.#onError?.();
    });
    const dispatch: Dispatch = async (event) => {
      this.ran.push(event.requestId);
      await run(event);
      return { outcome: 'success' };
    };
    this.fleet = new PollerFleet(
      {
        table: this.store.events,
        queue: new EventQueue({ table: this.store.events, logger }),
        dispatch,
        settingsFor: () => ({ maximumRetryAttempts: 2, maximumEventAgeSeconds: 21600 }),
        partition: { region: 'us-east-1', accountId: '000000000000' },
        clock,
        logger,
        metrics: new QueueMetrics(),
        logLine: () => {},
        commitLogs: async () => {},
      },
      { pollers: options.pollers ?? 2, batchSize: options.batchSize ?? 1, visibilityTimeoutMs: options.visibilityTimeoutMs ?? 3000, delayScale: 1, owner },
    );
  }

  /** Resolves once Kindling's own log has a line containing `text`. */
  async logged(text: string): Promise<void> {
    while (!this.#errors.some((line) => line.includes(text))) await new Promise<void>((resolve) => (this.#onError = resolve));
  }

  async close(): Promise<void> {
    await this.fleet.close();
    await this.store.close();
  }
}

/** Moves a fake clock on in steps, letting the pollers and renewals react between them. */
async function advance(clock: FakeClock, ms: number, step = 250): Promise<void> {
  for (let done = 0; done < ms; done += step) {
    clock.advance(Math.min(step, ms - done));
    await tick();
  }
}

/** Holds SQLite's write lock from another connection until `free`: the store refuses writes meanwhile. */
function lockWrites(file: string): { free(): void } {
  const db = new Database(file);
  db.prepare('BEGIN IMMEDIATE').run();
  return {
    free: () => {
      db.prepare('ROLLBACK').run();
      db.close();
    },
  };
}

/** A failing check must not leave a fleet waiting forever on an event it holds. */
const BOUNDED = { timeout: 30_000 };

describe('queue leases on a shared store', () => {
  let dir: string;
  let n = 0;
  const file = () => join(dir, `queue-${++n}.db`);
  before(() => {
    dir = scratchDir('kindling-leases-');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('two processes on one store file lease disjoint events, and each event runs once', BOUNDED, async () => {
    const path = file();
    const holdA = new Held();
    const a = new Peer(path, 'process-a', systemClock, (event) => holdA.run(event), { batchSize: 5 });
    const b = new Peer(path, 'process-b', systemClock, async () => {}, { batchSize: 5 });
    await a.store.events.enqueue(newEvents(200, Date.now()));
    try {
      await a.fleet.start();
      await eventually(() => a.ran.length === 10, 'A holds two batches of five in flight');
      // B starts while A's leases are live: it must leave them alone and run everything else.
      await b.fleet.start();
      await eventuallyAsync(() => b.store.events.count(), (left) => left === 10, 'B ran every event A does not hold');
      holdA.finish();
      await eventuallyAsync(() => b.store.events.count(), (left) => left === 0, 'A settled its events');
    } finally {
      holdA.finish();
      await a.close();
      await b.close();
    }
    assert.equal(a.ran.length, 10);
    assert.equal(b.ran.length, 190);
    assert.equal(new Set([...a.ran, ...b.ran]).size, 200, 'every event ran exactly once');
  });

  it('a renewal never takes back an event another owner leased after the lease ended', BOUNDED, async () => {
    const store = new SqliteStore(file());
    try {
      await store.events.enqueue(newEvents(1, 0));
      assert.equal((await store.events.lease('a/1', 10, 0, 1000)).length, 1);
      assert.equal((await store.events.lease('b/1', 10, 1500, 2500)).length, 1, 'the ended lease is taken by b');
      assert.equal(await store.events.renew('a/1', 1600, 2600), 0);
      assert.equal(await store.events.nextVisibleAt(), 2500, 'b’s lease is untouched');
      assert.equal(await store.events.renew('b/1', 1600, 2600), 1);
      assert.equal(await store.events.release('a/1', 1700), 0, 'a cannot release it either');
    } finally {
      await store.close();
    }
  });

  it('an outcome written after the lease ended never removes another event', BOUNDED, async () => {
    const store = new SqliteStore(file());
    try {
      await store.events.enqueue(newEvents(1, 0));
      const [stale] = await store.events.lease('a/1', 1, 0, 1000);
      // a stalls past its lease; b runs the event and settles it; a new event gets the freed row id.
      const [again] = await store.events.lease('b/1', 1, 1500, 2500);
      await store.events.apply([{ event: again! }], []);
      const [fresh] = await store.events.enqueue(newEvents(1, 2000));
      assert.equal(fresh, stale!.id, 'SQLite reuses the row id (the case this test is about)');
      // a comes back and writes its outcome: a duplicate run is allowed, losing the new event is not.
      await store.events.apply([{ event: stale! }], []);
      await store.events.apply([], [{ event: stale!, visibleAt: 5000, attempts: 1, systemRetries: 0 }]);
      assert.equal(await store.events.count(), 1, 'the new event is still queued');
      assert.equal(await store.events.nextVisibleAt(), 2000, 'and untouched');
    } finally {
      await store.close();
    }
  });

  it('a long invocation keeps its lease while its poller lives, and while it drains at a clean stop', BOUNDED, async () => {
    const path = file();
    const clock = new FakeClock();
    const held = new Held();
    const a = new Peer(path, 'process-a', clock, (event) => held.run(event));
    const b = new Peer(path, 'process-b', clock);
    await a.store.events.enqueue(newEvents(1, 0));
    try {
      await a.fleet.start();
      const event = await held.started;
      await b.fleet.start();
      // Ten lease lengths: A's other poller and B look again and again; renewals keep it A's.
      await advance(clock, 30_000);
      assert.deepEqual([a.ran, b.ran], [[event.requestId], []], 'nobody ran it again while A lives');
      const closing = a.fleet.close();
      await advance(clock, 30_000);
      assert.deepEqual(b.ran, [], 'nobody ran it again while A drains');
      held.finish();
      await closing;
      await advance(clock, 30_000);
      assert.equal(await b.store.events.count(), 0);
      assert.deepEqual([a.ran, b.ran], [[event.requestId], []]);
    } finally {
      held.finish();
      await a.close();
      await b.close();
    }
  });

  it('an outcome the store refused is not renewed: the event runs again when its lease ends', BOUNDED, async () => {
    const path = file();
    const clock = new FakeClock();
    const held = new Held();
    const a = new Peer(path, 'process-a', clock, (event) => held.run(event));
    const b = new Peer(path, 'process-b', clock);
    await a.store.events.enqueue(newEvents(1, 0));
    try {
      await a.fleet.start();
      const event = await held.started;
      await b.fleet.start();
      const lock = lockWrites(path);
      const refused = a.logged('could not record event outcomes');
      held.finish();
      await refused; // A's write waited out SQLite's busy timeout (5 s) behind the lock
      lock.free();
      await advance(clock, 3000 * 2);
      const runs = [...a.ran, ...b.ran].filter((id) => id === event.requestId);
      assert.equal(runs.length, 2, 'the event ran again after its lease ended, instead of staying hidden while A lives');
      await advance(clock, 1000);
      assert.equal(await a.store.events.count(), 0);
    } finally {
      held.finish();
      await a.close();
      await b.close();
    }
  });

  it('a clean stop releases what it still holds: another process runs it at once', BOUNDED, async () => {
    const path = file();
    const clock = new FakeClock();
    const held = new Held();
    const a = new Peer(path, 'process-a', clock, (event) => held.run(event));
    const b = new Peer(path, 'process-b', clock);
    await a.store.events.enqueue(newEvents(1, 0));
    try {
      await a.fleet.start();
      const event = await held.started;
      await b.fleet.start();
      const lock = lockWrites(path);
      const refused = a.logged('could not record event outcomes');
      held.finish();
      await refused;
      lock.free();
      await a.fleet.close();
      // B's pollers look again within a second; A's lease would have lasted three.
      await advance(clock, 1000);
      assert.deepEqual(b.ran, [event.requestId]);
      assert.ok(clock.now() < 3000);
    } finally {
      held.finish();
      await a.close();
      await b.close();
    }
  });
});

/** Records each start (with the time) and end; `slow` events hang until $FAST_FILE exists. */
const RECORDER = `
const fs = require('fs');
exports.handler = async (event, context) => {
  const line = (phase) => fs.appendFileSync(process.env.RECORD_FILE,
    JSON.stringify({ phase, id: context.awsRequestId, pid: process.pid, at: Date.now() }) + '\\n');
  line('start');
  if (event.sleepMs) await new Promise((r) => setTimeout(r, event.sleepMs));
  if (event.slow && !fs.existsSync(process.env.FAST_FILE)) await new Promise((r) => setTimeout(r, 120000));
  line('end');
  return 'ok';
};
`;

interface Line {
  phase: 'start' | 'end';
  id: string;
  pid: number;
  at: number;
}

describe('queue leases across real servers', () => {
  let work: string;
  before(() => {
    work = scratchDir('kindling-leases-serve-');
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  async function createRecorder(lambda: LambdaClient, record: string): Promise<void> {
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'recorder',
        Runtime: 'nodejs20.x',
        Handler: 'index.handler',
        Role: ROLE,
        Timeout: 300,
        Code: { ZipFile: await zipFiles({ 'index.js': RECORDER }) },
        Environment: { Variables: { RECORD_FILE: record, FAST_FILE: join(work, 'fast') } },
      }),
    );
  }

  async function send(lambda: LambdaClient, payload: unknown): Promise<string> {
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'recorder', InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(payload)) }));
    assert.equal(out.StatusCode, 202);
    return out.$metadata.requestId!;
  }

  it('kill -9: a successor started at once runs the queued events, and the in-flight ones only once their leases end', async () => {
    const dataDir = join(work, 'kill9');
    const record = sharedFile(join(work, 'kill9.jsonl'));
    const starts = () => records<Line>(record).filter((l) => l.phase === 'start');
    const first = await spawnServe(['--data-dir', dataDir, '--pollers', '2', '--poller-batch-size', '1', '--visibility-timeout', '8']);
    let inFlight: string[];
    let queued: string[];
    try {
      const lambda = clientFor(first.url);
      await createRecorder(lambda, record);
      inFlight = await Promise.all([send(lambda, { slow: true }), send(lambda, { slow: true })]);
      await eventually(() => starts().length === 2, 'both pollers run a slow event');
      queued = await Promise.all(Array.from({ length: 6 }, (_, i) => send(lambda, { i })));
      lambda.destroy();
    } finally {
      await crashServer(first, record);
    }
    const leases = await peekStore<{ request_id: string; visible_at: number }>(dataDir, 'SELECT request_id, visible_at FROM events WHERE lease_owner IS NOT NULL');
    const leasedUntil = new Map(leases.map((r) => [r.request_id, r.visible_at]));
    assert.deepEqual([...leasedUntil.keys()].sort(), [...inFlight].sort(), 'the dead process held the in-flight events, and nothing else');

    writeFileSync(join(work, 'fast'), '');
    const successor = await spawnServe(['--data-dir', dataDir, '--pollers', '2', '--poller-batch-size', '1']);
    const startedAt = Date.now();
    try {
      assert.ok(startedAt < Math.min(...leasedUntil.values()), 'the successor serves while the dead process’s leases are live (the premise of this test)');
      await eventually(() => {
        const ended = new Set(records<Line>(record).filter((l) => l.phase === 'end').map((l) => l.id));
        return [...inFlight, ...queued].every((id) => ended.has(id));
      }, 'every accepted event ran', 30_000);
      assert.equal(await queuedEvents(successor.url, 'recorder'), 0);
    } finally {
      successor.child.kill('SIGTERM');
      await successor.exited;
    }
    for (const id of queued) assert.equal(starts().filter((l) => l.id === id).length, 1, `queued event ${id} ran once`);
    for (const id of inFlight) {
      const runs = starts().filter((l) => l.id === id);
      assert.equal(runs.length, 2, `in-flight event ${id} ran again`);
      assert.ok(runs[1]!.at >= leasedUntil.get(id)!, `in-flight event ${id} ran again only after its lease ended`);
    }
  });

  it('an invocation longer than three lease lengths is not delivered twice while its poller lives', async () => {
    const record = sharedFile(join(work, 'long.jsonl'));
    const server = await startTestServer({ visibilityTimeoutMs: 300, pollers: 2, pollerBatchSize: 1 });
    try {
      await createRecorder(server.lambda, record);
      const id = await send(server.lambda, { sleepMs: 1500 });
      await eventually(() => records<Line>(record).some((l) => l.phase === 'end' && l.id === id), 'the long invocation ended');
      await eventuallyAsync(() => queuedEvents(server.kindling.url, 'recorder'), (left) => left === 0, 'its outcome is written');
      assert.equal(records<Line>(record).filter((l) => l.phase === 'start').length, 1, 'the other poller never ran it');
    } finally {
      await server.close();
    }
  });
});
