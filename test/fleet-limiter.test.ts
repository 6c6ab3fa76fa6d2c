import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { FleetLimiter } from '../src/invoke/index.js';
import { createLogger, KindlingError, TooManyRequestsException } from '../src/shared/index.js';
import { openPostgresStore, SqliteStore } from '../src/store/index.js';
import type { ConcurrencyGrantTable, Store } from '../src/store/index.js';
import { testStoreBase } from './support/kindling.js';
import { dropDatabase, ensureDatabase, PostgresCluster, postgresUnavailable, uniqueDatabaseName } from './support/postgres.js';
import { eventuallyAsync } from './support/wait.js';

/** The grants of a real store, which a test can cut off (as a network would) and count calls to. */
class Reachable implements ConcurrencyGrantTable {
  down = false;
  claims = 0;
  readonly #inner: ConcurrencyGrantTable;

  constructor(inner: ConcurrencyGrantTable) {
    this.#inner = inner;
  }

  async claim(scope: string, holder: string, want: number, limit: number, ttlMs: number): Promise<number> {
    this.#check();
    this.claims++;
    return this.#inner.claim(scope, holder, want, limit, ttlMs);
  }

  async renew(holder: string, ttlMs: number): Promise<void> {
    this.#check();
    return this.#inner.renew(holder, ttlMs);
  }

  async release(holder: string): Promise<void> {
    this.#check();
    return this.#inner.release(holder);
  }

  async totals(): Promise<Map<string, number>> {
    return this.#inner.totals();
  }

  #check(): void {
    if (this.down) throw new KindlingError('ERR_STORE_UNAVAILABLE', 'the test cut the store off');
  }
}

interface Backend {
  name: string;
  skip: string | false;
  /** A fresh database; `open` may be called once per node. */
  database(): Promise<{ open(): Promise<Store>; cleanup(): Promise<void> }>;
}

let cluster: PostgresCluster | undefined;
after(async () => {
  await cluster?.stop();
});

const backends: Backend[] = [
  {
    name: 'sqlite',
    skip: false,
    async database() {
      const dir = mkdtempSync(join(tmpdir(), 'kindling-fleet-'));
      return { open: async () => new SqliteStore(join(dir, 'kindling.db')), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: 'postgres',
    skip: postgresUnavailable(),
    async database() {
      const base = testStoreBase() ?? (cluster ??= await PostgresCluster.start()).baseUrl;
      const name = uniqueDatabaseName('kindling_fleet');
      const url = await ensureDatabase(base, name);
      return { open: () => openPostgresStore(url, { logger: createLogger('error') }), cleanup: () => dropDatabase(base, name) };
    },
  },
];

/** 'ok' (the slot is held), or the Reason of the 429. */
async function attempt(limiter: FleetLimiter, name: string): Promise<string> {
  try {
    await limiter.acquire(name);
    return 'ok';
  } catch (err) {
    if (err instanceof TooManyRequestsException) return err.reason;
    throw err;
  }
}

const RESERVED = 'ReservedFunctionConcurrentInvocationLimitExceeded';
const UNRESERVED = 'ConcurrentInvocationLimitExceeded';

for (const backend of backends) {
  describe(`fleet limiter on ${backend.name}`, { skip: backend.skip }, () => {
    let cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup();
      cleanups = [];
    });

    /** Nodes on one fresh database, each with its own store and limiter (periods short for tests). */
    async function fleet(count: number, options: { accountLimit?: number; reserved?: Record<string, number>; apiNodes?: number } = {}) {
      const db = await backend.database();
      cleanups.push(() => db.cleanup());
      const nodes = [];
      for (let i = 0; i < count; i++) {
        const store = await db.open();
        const grants = new Reachable(store.grants);
        const warnings: string[] = [];
        const logger = createLogger('warn', (line) => warnings.push(line));
        const limiter = new FleetLimiter({
          grants,
          holder: `node-${i}`,
          accountLimit: options.accountLimit ?? 100,
          apiNodes: () => options.apiNodes ?? count,
          logger,
          ttlMs: 1_500,
          renewEveryMs: 100,
          giveBackEveryMs: 50,
        });
        for (const [name, n] of Object.entries(options.reserved ?? {})) limiter.setReserved(name, n);
        limiter.start();
        cleanups.push(async () => {
          await limiter.close();
          await store.close();
        });
        nodes.push({ store, grants, limiter, warnings });
      }
      return nodes;
    }

    it('a warm acquire is synchronous; acquires at once share one claim; over the limit is a 429 at once', async () => {
      const [a] = await fleet(1, { reserved: { f: 5 } });
      const { limiter, grants } = a!;
      const first = await Promise.all([1, 2, 3, 4, 5].map(() => limiter.acquire('f')));
      assert.deepEqual(first, [false, false, false, false, false], 'reserved slots are not from the unreserved pool');
      assert.equal(grants.claims, 1, 'five acquires at once, one claim');
      assert.equal(await attempt(limiter, 'f'), RESERVED);
      assert.equal(grants.claims, 1, 'the limit itself is known without the store');
      limiter.release('f', false);
      const warm = limiter.acquire('f');
      assert.equal(typeof warm, 'boolean', 'a held slot is taken without a round trip');
      assert.equal(limiter.inFlight('f'), 5);
      assert.equal(await limiter.acquire('g'), true, 'g draws on the unreserved pool');
      assert.equal(limiter.inFlight(), 6);
    });

    it('two nodes: reserved concurrency holds across both, and slots one gives back go to the other', async () => {
      const [a, b] = await fleet(2, { reserved: { f: 5 } });
      for (let i = 0; i < 3; i++) assert.equal(await attempt(a!.limiter, 'f'), 'ok');
      for (let i = 0; i < 2; i++) assert.equal(await attempt(b!.limiter, 'f'), 'ok');
      assert.equal(await attempt(a!.limiter, 'f'), RESERVED, 'the 6th on a');
      assert.equal(await attempt(b!.limiter, 'f'), RESERVED, 'the 6th on b');
      assert.equal((await a!.store.grants.totals()).get('fn:f'), 5);
      a!.limiter.release('f', false);
      a!.limiter.release('f', false);
      await eventuallyAsync(() => attempt(b!.limiter, 'f'), (r) => r === 'ok', 'b takes a slot a gave back');
      assert.equal(await attempt(b!.limiter, 'f'), 'ok', 'and the other');
      assert.equal(await attempt(b!.limiter, 'f'), RESERVED);
      assert.equal(await attempt(a!.limiter, 'f'), RESERVED, 'a gave them up');
      assert.equal(a!.limiter.inFlight('f') + b!.limiter.inFlight('f'), 5);
      assert.ok(((await a!.store.grants.totals()).get('fn:f') ?? 0) <= 5);
    });

    it('two nodes: the unreserved pool is the account limit minus what is reserved, over the fleet', async () => {
      const [a, b] = await fleet(2, { accountLimit: 10, reserved: { f: 5 } });
      for (let i = 0; i < 3; i++) assert.equal(await attempt(a!.limiter, 'g'), 'ok');
      await eventuallyAsync(() => attempt(b!.limiter, 'h'), (r) => r === 'ok', 'b gets a slot once a gives its headroom back');
      assert.equal(await attempt(b!.limiter, 'h'), 'ok');
      assert.equal(await attempt(b!.limiter, 'h'), UNRESERVED, '3 + 2 of 10 - 5');
      assert.equal(await attempt(a!.limiter, 'g'), UNRESERVED);
      assert.ok(((await a!.store.grants.totals()).get('*') ?? 0) <= 5);
      for (let i = 0; i < 5; i++) assert.equal(await attempt(b!.limiter, 'f'), 'ok', 'the reserved 5 stay f’s');
      assert.equal(await attempt(a!.limiter, 'f'), RESERVED);
    });

    it('two nodes acquiring at once: every slot of each limit runs once, none more', async () => {
      const [a, b] = await fleet(2, { accountLimit: 20, reserved: { f: 7 } });
      const burst = (name: string) => Promise.all([a!, b!].flatMap((node) => Array.from({ length: 15 }, () => attempt(node.limiter, name))));
      const [f, g] = await Promise.all([burst('f'), burst('g')]);
      assert.equal(f.filter((r) => r === 'ok').length, 7, `f: ${f}`);
      assert.ok(f.every((r) => r === 'ok' || r === RESERVED));
      assert.equal(g.filter((r) => r === 'ok').length, 13, `g, 20 - 7: ${g}`);
      assert.ok(g.every((r) => r === 'ok' || r === UNRESERVED));
      const totals = await a!.store.grants.totals();
      assert.equal(totals.get('fn:f'), 7);
      assert.equal(totals.get('*'), 13);
    });

    it('a node that dies without giving its slots back frees them when its grants expire', async () => {
      const [a, b] = await fleet(2, { reserved: { f: 5 } });
      for (let i = 0; i < 5; i++) assert.equal(await attempt(a!.limiter, 'f'), 'ok');
      assert.equal(await attempt(b!.limiter, 'f'), RESERVED);
      a!.grants.down = true;
      await a!.limiter.close();
      assert.equal(await attempt(b!.limiter, 'f'), RESERVED, 'its grant outlives it until the ttl');
      await eventuallyAsync(() => attempt(b!.limiter, 'f'), (r) => r === 'ok', 'the dead node’s grant expires');
      for (let i = 0; i < 4; i++) assert.equal(await attempt(b!.limiter, 'f'), 'ok');
      assert.equal(await attempt(b!.limiter, 'f'), RESERVED);
    });

    it('the store out of reach: warm acquires go on within the local share, warned once; grants resume when it answers', async () => {
      const [a] = await fleet(1, { accountLimit: 100, reserved: { f: 8 }, apiNodes: 4 });
      const { limiter, grants, store, warnings } = a!;
      assert.equal(await attempt(limiter, 'g'), 'ok');
      assert.equal(await attempt(limiter, 'f'), 'ok');
      grants.down = true;
      // The share: (100 - 8) / 4 = 23 of the unreserved pool, 8 / 4 = 2 of f.
      for (let i = 1; i < 23; i++) assert.equal(await attempt(limiter, 'g'), 'ok', `g #${i + 1}`);
      assert.equal(await attempt(limiter, 'g'), UNRESERVED);
      assert.equal(await attempt(limiter, 'f'), 'ok');
      assert.equal(await attempt(limiter, 'f'), RESERVED);
      assert.equal(warnings.filter((line) => line.includes('cannot reach the store')).length, 1, warnings.join('\n'));
      limiter.release('g', true);
      assert.equal(typeof limiter.acquire('g'), 'boolean', 'a freed slot is warm even now');

      grants.down = false;
      await eventuallyAsync(() => store.grants.totals(), (t) => t.get('*') === 23 && t.get('fn:f') === 2, 'what runs is claimed again');
      assert.equal(await attempt(limiter, 'g'), 'ok', 'beyond the share, on grants again');
      assert.ok(((await store.grants.totals()).get('*') ?? 0) >= 24);
      for (let i = 2; i < 8; i++) assert.equal(await attempt(limiter, 'f'), 'ok');
      assert.equal(await attempt(limiter, 'f'), RESERVED);
    });

    it('close gives every grant back and is idempotent', async () => {
      const [a, b] = await fleet(2, { reserved: { f: 2 } });
      assert.equal(await attempt(a!.limiter, 'f'), 'ok');
      assert.equal(await attempt(a!.limiter, 'g'), 'ok');
      assert.equal(await attempt(b!.limiter, 'g'), 'ok');
      await Promise.all([a!.limiter.close(), a!.limiter.close()]);
      await a!.limiter.close();
      const totals = await b!.store.grants.totals();
      assert.equal(totals.has('fn:f'), false);
      assert.ok((totals.get('*') ?? 0) >= 1, 'b’s grant stays');
      assert.equal(b!.limiter.inFlight(), 1, 'b still runs its one');
    });

    it('accounts: each has its own unreserved pool, which only its own reservations shorten', async () => {
      const other = '111122223333:';
      const [a] = await fleet(1, { accountLimit: 3, reserved: { [`${other}r`]: 2 } });
      const { limiter } = a!;
      for (let i = 0; i < 3; i++) assert.equal(await attempt(limiter, 'g'), 'ok', 'the default account: 3, nothing reserved');
      assert.equal(await attempt(limiter, 'g'), UNRESERVED);
      assert.equal(await attempt(limiter, `${other}g`), 'ok', 'the other account: 3 - 2 reserved');
      assert.equal(await attempt(limiter, `${other}g`), UNRESERVED);
      assert.equal(await attempt(limiter, `${other}r`), 'ok');
      assert.ok(((await a!.store.grants.totals()).get(`${other}*`) ?? 0) <= 1);
      assert.ok(((await a!.store.grants.totals()).get('*') ?? 0) <= 3);
    });
  });
}
