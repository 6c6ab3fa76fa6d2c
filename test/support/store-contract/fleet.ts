import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { NodeRecord, Store } from '../../../src/store/index.js';
import { eventuallyAsync } from '../wait.js';
import type { ContractContext } from './context.js';

const node = (id: string, overrides: Partial<NodeRecord> = {}): NodeRecord => ({
  id,
  roles: ['api', 'worker'],
  address: `10.0.0.1:${id.length + 9000}`,
  cores: 4,
  memoryMb: 8192,
  drivers: ['process'],
  startedAt: 1_700_000_000_000,
  state: 'active',
  inventory: '{"f:$LATEST":2}',
  ...overrides,
});

/** What the node said of itself, without what the store adds. */
const said = ({ heartbeatAt: _h, silentMs: _s, ...record }: { heartbeatAt: number; silentMs: number } & NodeRecord): NodeRecord => record;

/** A grant that never expires within a test. */
const LONG = 600_000;

async function silentMsOf(store: Store, id: string): Promise<number> {
  const found = (await store.nodes.list()).find((n) => n.id === id);
  assert.ok(found, `node ${id} is listed`);
  return found.silentMs;
}

export function fleetContract(t: ContractContext): void {
  it('nodes: a heartbeat registers or replaces the record; list shows the latest, with its lease only if it has one', async () => {
    const store = await t.store();
    await store.nodes.heartbeat(node('b'));
    await store.nodes.heartbeat(node('a', { roles: ['poller'], drivers: [] }));
    const update = node('b', { state: 'draining', leaseEndsAt: 1_700_000_600_000, inventory: '{}', memoryMb: 4096, drivers: ['process', 'firecracker'] });
    await store.nodes.heartbeat(update);
    const listed = await store.nodes.list();
    assert.deepStrictEqual(listed.map(said), [node('a', { roles: ['poller'], drivers: [] }), update]);
    assert.equal('leaseEndsAt' in listed[0]!, false, 'absent, not undefined or null');
    for (const status of listed) {
      assert.ok(Number.isInteger(status.heartbeatAt) && status.heartbeatAt > 1_600_000_000_000, `heartbeatAt is epoch ms: ${status.heartbeatAt}`);
      assert.ok(status.silentMs >= 0 && status.silentMs < 60_000, `silentMs: ${status.silentMs}`);
    }
    await store.nodes.heartbeat(node('b'));
    assert.deepStrictEqual((await store.nodes.list()).map(said)[1], node('b'), 'a lease that ended is gone');
  });

  it('nodes: silentMs grows while a node is silent and drops when it beats again', async () => {
    const store = await t.store();
    await store.nodes.heartbeat(node('a'));
    const [first] = await store.nodes.list();
    const grown = await eventuallyAsync(() => silentMsOf(store, 'a'), (ms) => ms >= first!.silentMs + 50, 'silentMs grows');
    const [same] = await store.nodes.list();
    assert.equal(same!.heartbeatAt, first!.heartbeatAt, 'silence is not a heartbeat');
    await store.nodes.heartbeat(node('a'));
    const [again] = await store.nodes.list();
    assert.ok(again!.silentMs < grown, `a heartbeat resets it: ${again!.silentMs} < ${grown}`);
    assert.ok(again!.heartbeatAt > first!.heartbeatAt);
  });

  it('nodes: prune forgets only nodes silent for longer than asked; remove forgets one', async () => {
    const store = await t.store();
    await store.nodes.heartbeat(node('old'));
    await eventuallyAsync(() => silentMsOf(store, 'old'), (ms) => ms > 300, 'the old node is silent a while');
    await store.nodes.heartbeat(node('new'));
    await store.nodes.heartbeat(node('gone'));
    assert.equal(await store.nodes.prune(LONG), 0, 'nobody is that silent');
    assert.equal(await store.nodes.prune(200), 1);
    assert.deepEqual((await store.nodes.list()).map((n) => n.id), ['gone', 'new']);
    await store.nodes.remove('gone');
    await store.nodes.remove('never-was');
    assert.deepEqual((await store.nodes.list()).map((n) => n.id), ['new']);
  });

  it('nodes: the cluster secret is 32 bytes, made once, the same for every store on the database', async () => {
    const db = await t.database();
    const first = await db.open();
    const secret = await first.nodes.clusterSecret();
    assert.equal(secret.length, 32);
    assert.notDeepEqual(secret, Buffer.alloc(32), 'random, not zeros');
    assert.deepEqual(await first.nodes.clusterSecret(), secret);
    const second = await db.open();
    assert.deepEqual(await second.nodes.clusterSecret(), secret, 'another store on the same database');
    assert.notDeepEqual(await (await t.store()).nodes.clusterSecret(), secret, 'another database has its own');
  });

  if (t.shared) {
    it('nodes: stores starting at once agree on one cluster secret; they see each other’s heartbeats', async () => {
      const db = await t.database();
      const stores = await Promise.all([db.open(), db.open(), db.open()]);
      const secrets = await Promise.all(stores.map((s) => s.nodes.clusterSecret()));
      assert.deepEqual(secrets[1], secrets[0]);
      assert.deepEqual(secrets[2], secrets[0]);
      await Promise.all(stores.map((s, i) => s.nodes.heartbeat(node(`n${i}`))));
      assert.deepEqual((await stores[0]!.nodes.list()).map((n) => n.id), ['n0', 'n1', 'n2']);
    });
  }

  it('grants: a claim gets what the limit leaves beside other holders, can shrink, and totals add up per scope', async () => {
    const store = await t.store();
    const { grants } = store;
    assert.equal(await grants.claim('fn:f', 'a', 3, 5, LONG), 3);
    assert.equal(await grants.claim('fn:f', 'b', 4, 5, LONG), 2, 'only what a left');
    assert.equal(await grants.claim('fn:f', 'a', 5, 5, LONG), 3, 'a keeps its own 3, b holds 2');
    assert.equal(await grants.claim('*', 'a', 7, 10, LONG), 7, 'scopes are apart');
    assert.deepEqual(await grants.totals(), new Map([['*', 7], ['fn:f', 5]]));
    assert.equal(await grants.claim('fn:f', 'a', 1, 5, LONG), 1, 'a shrinks');
    assert.equal(await grants.claim('fn:f', 'b', 4, 5, LONG), 4, 'b takes what a gave back');
    assert.equal(await grants.claim('fn:f', 'c', 1, 5, LONG), 0, 'nothing left');
    assert.equal(await grants.claim('fn:f', 'a', 0, 5, LONG), 0);
    assert.deepEqual(await grants.totals(), new Map([['*', 7], ['fn:f', 4]]));
    assert.equal(await grants.claim('fn:f', 'b', 4, 2, LONG), 2, 'a lowered limit shrinks a grant');
  });

  it('grants: claims at once (from several stores where shared) never hand out more than the limit', async () => {
    const db = await t.database();
    const stores = t.shared ? await Promise.all([db.open(), db.open(), db.open()]) : [await db.open()];
    for (let round = 0; round < 5; round++) {
      const scope = `fn:race${round}`;
      const holders = ['h0', 'h1', 'h2', 'h3', 'h4', 'h5'];
      const got = await Promise.all(holders.map((h, i) => stores[i % stores.length]!.grants.claim(scope, h, 4, 7, LONG)));
      assert.equal(got.reduce((a, b) => a + b, 0), 7, `round ${round}: every slot is handed out once: ${got}`);
      assert.equal((await stores[0]!.grants.totals()).get(scope), 7);
      // Everyone asks again for more: still no more than the limit over all.
      const again = await Promise.all(holders.map((h, i) => stores[(i + 1) % stores.length]!.grants.claim(scope, h, got[i]! + 2, 7, LONG)));
      assert.equal(again.reduce((a, b) => a + b, 0), 7, `round ${round}, again: ${again}`);
    }
  });

  it('grants: an expired grant no longer counts, and renewing does not bring it back; renew keeps a live one', async () => {
    const store = await t.store();
    const { grants } = store;
    assert.equal(await grants.claim('fn:f', 'dead', 5, 5, 100), 5);
    assert.equal(await grants.claim('fn:f', 'b', 1, 5, LONG), 0, 'while it lives, it holds them');
    await eventuallyAsync(() => grants.totals(), (totals) => !totals.has('fn:f'), 'the grant expires');
    await grants.renew('dead', LONG);
    assert.equal((await grants.totals()).has('fn:f'), false, 'an expired grant stays expired');
    assert.equal(await grants.claim('fn:f', 'b', 5, 5, LONG), 5, 'its slots are free');

    // A live grant renewed outlives one made with the same ttl after it.
    assert.equal(await grants.claim('fn:g', 'kept', 2, 5, 300), 2);
    assert.equal(await grants.claim('fn:h', 'control', 1, 5, 300), 1);
    await grants.renew('kept', LONG);
    await eventuallyAsync(() => grants.totals(), (totals) => !totals.has('fn:h'), 'the control grant expires');
    assert.equal((await grants.totals()).get('fn:g'), 2, 'the renewed grant is still held');
    assert.equal(await grants.claim('fn:g', 'other', 5, 5, LONG), 3);
  });

  it('grants: release drops every grant of one holder, no one else’s', async () => {
    const store = await t.store();
    const { grants } = store;
    await grants.claim('fn:f', 'a', 2, 5, LONG);
    await grants.claim('*', 'a', 3, 10, LONG);
    await grants.claim('fn:f', 'b', 3, 5, LONG);
    await grants.release('a');
    await grants.release('a');
    await grants.release('nobody');
    assert.deepEqual(await grants.totals(), new Map([['fn:f', 3]]));
    assert.equal(await grants.claim('*', 'b', 10, 10, LONG), 10);
  });
}
