import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Store } from '../../../src/store/index.js';
import type { ContractContext } from './context.js';
import { byName, ChangeLog, fn, fullFn, rejectsWithCode, version } from './records.js';

/** Everything stored about one function, in every table that belongs to it. */
export async function furnish(store: Store, name: string): Promise<void> {
  await store.functions.insert(fn(name));
  await store.versions.insert(version(name, 1));
  await store.versions.insert(version(name, 2));
  await store.aliases.put({ functionName: name, name: 'live', functionVersion: '1', description: '', revisionId: 'a1' });
  await store.eventConfigs.put({ functionName: name, qualifier: '$LATEST', maximumRetryAttempts: 1, lastModified: 5 });
  await store.eventConfigs.put({ functionName: name, qualifier: 'live', maximumEventAgeInSeconds: 60, lastModified: 6 });
  await store.concurrency.putReserved(name, 5);
  await store.concurrency.putProvisioned({ functionName: name, qualifier: 'live', requested: 2, lastModified: 7 });
}

export function functionContract(t: ContractContext): void {
  it('functions: insert, get, list, replace; records come back exactly as stored', async () => {
    const store = await t.store();
    assert.equal(await store.functions.get('nope'), undefined);
    assert.deepEqual(await store.functions.list(), []);
    await store.functions.insert(fn('b-minimal'));
    await store.functions.insert(fullFn('a-full'));
    assert.deepStrictEqual(await store.functions.get('b-minimal'), fn('b-minimal'), 'absent optional fields stay absent');
    assert.deepStrictEqual(await store.functions.get('a-full'), fullFn('a-full'));
    assert.deepStrictEqual(byName(await store.functions.list()), [fullFn('a-full'), fn('b-minimal')]);

    const updated = fn('b-minimal', { memorySize: 1024, revisionId: 'rev-2', environment: { X: 'y' } });
    await store.functions.replace(updated);
    assert.deepStrictEqual(await store.functions.get('b-minimal'), updated);
    assert.equal((await store.functions.list()).length, 2);
  });

  it('functions: a second insert of a name fails with ERR_STORE_CONFLICT and changes nothing', async () => {
    const store = await t.store();
    await store.functions.insert(fn('taken'));
    await rejectsWithCode(store.functions.insert(fn('taken', { description: 'the other' })), 'ERR_STORE_CONFLICT');
    assert.equal((await store.functions.get('taken'))?.description, '');
    // The store is still usable after the refused write (a failed transaction was rolled back).
    await store.functions.insert(fn('next'));
    assert.equal((await store.functions.list()).length, 2);
  });

  it('functions: delete removes versions, aliases, event configs, reserved and provisioned concurrency at once, and nothing of another function', async () => {
    const store = await t.store();
    await furnish(store, 'doomed');
    await furnish(store, 'kept');
    await store.functions.delete('doomed');

    assert.equal(await store.functions.get('doomed'), undefined);
    const gone = await store.functions.snapshot('doomed');
    assert.equal(gone.function, undefined);
    assert.deepEqual([gone.versions, gone.aliases, gone.eventConfigs, gone.provisioned], [[], [], [], []]);
    assert.equal(gone.reserved, undefined);
    assert.deepEqual((await store.versions.list()).map((v) => `${v.name}:${v.version}`).sort(), ['kept:1', 'kept:2']);
    assert.deepEqual((await store.aliases.list()).map((a) => a.functionName), ['kept']);
    assert.deepEqual([...new Set((await store.eventConfigs.list()).map((c) => c.functionName))], ['kept']);
    assert.deepEqual(await store.concurrency.listReserved(), [{ functionName: 'kept', reserved: 5 }]);
    assert.deepEqual((await store.concurrency.listProvisioned()).map((p) => p.functionName), ['kept']);

    const kept = await store.functions.snapshot('kept');
    assert.equal(kept.versions.length, 2);
    assert.equal(kept.eventConfigs.length, 2);
    // A name deleted can be created afresh, with nothing of the old one.
    await store.functions.insert(fn('doomed'));
    const again = await store.functions.snapshot('doomed');
    assert.deepEqual([again.versions, again.aliases, again.eventConfigs, again.provisioned], [[], [], [], []]);
  });

  it('snapshot: one function’s records from every table, and a store-wide revision that grows with each write', async () => {
    const store = await t.store();
    const never = await store.functions.snapshot('never');
    assert.equal(never.revision, 0);
    assert.equal(never.function, undefined);

    const revisions: number[] = [];
    const step = async (write: () => Promise<unknown>) => {
      await write();
      revisions.push((await store.functions.snapshot('fn')).revision);
    };
    await step(() => store.functions.insert(fn('fn')));
    await step(() => store.functions.replace(fn('fn', { description: 'v2' })));
    await step(() => store.versions.insert(version('fn', 1)));
    await step(() => store.aliases.put({ functionName: 'fn', name: 'live', functionVersion: '1', description: 'd', revisionId: 'r', additionalVersionWeights: { '2': 0.25 } }));
    await step(() => store.eventConfigs.put({ functionName: 'fn', qualifier: 'live', onFailure: 'arn:aws:sqs:us-east-1:000000000000:q', lastModified: 9 }));
    await step(() => store.concurrency.putReserved('fn', 3));
    await step(() => store.concurrency.putProvisioned({ functionName: 'fn', qualifier: 'live', requested: 1, lastModified: 10 }));
    await store.functions.insert(fn('other'));
    await store.versions.insert(version('other', 1));

    const snap = await store.functions.snapshot('fn');
    assert.deepStrictEqual(snap.function, fn('fn', { description: 'v2' }));
    assert.deepStrictEqual(snap.versions, [version('fn', 1)]);
    assert.deepStrictEqual(snap.aliases, [{ functionName: 'fn', name: 'live', functionVersion: '1', description: 'd', revisionId: 'r', additionalVersionWeights: { '2': 0.25 } }]);
    assert.deepStrictEqual(snap.eventConfigs, [{ functionName: 'fn', qualifier: 'live', onFailure: 'arn:aws:sqs:us-east-1:000000000000:q', lastModified: 9 }]);
    assert.equal(snap.reserved, 3);
    assert.deepStrictEqual(snap.provisioned, [{ functionName: 'fn', qualifier: 'live', requested: 1, lastModified: 10 }]);
    for (let i = 1; i < revisions.length; i++) assert.ok(revisions[i]! > revisions[i - 1]!, `revisions grow with each write: ${revisions}`);
    assert.ok(revisions[0]! > 0);
    // Store-wide: a write to another function after these has a higher revision.
    assert.ok((await store.functions.snapshot('other')).revision > revisions.at(-1)!);

    // Removals are writes too.
    const before = snap.revision;
    await store.aliases.delete('fn', 'live');
    const after = await store.functions.snapshot('fn');
    assert.ok(after.revision > before);
    assert.deepEqual(after.aliases, []);
    await store.functions.delete('fn');
    assert.ok((await store.functions.snapshot('fn')).revision > after.revision, 'a deleted function keeps a revision: caches must see the delete');
  });

  it('change feed: the store’s own writes are announced, with the revision the snapshot shows, in order; unsubscribe ends it', async () => {
    const store = await t.store();
    const log = new ChangeLog(store.changes);
    await store.functions.insert(fn('watched'));
    const first = await log.next((c) => c.name === 'watched', 'for the insert');
    assert.equal(first.revision, (await store.functions.snapshot('watched')).revision);
    await store.versions.insert(version('watched', 1));
    const rev = (await store.functions.snapshot('watched')).revision;
    const second = await log.next((c) => c.name === 'watched' && c.revision === rev, `at revision ${rev}`);
    assert.ok(second.revision > first.revision);
    await store.functions.delete('watched');
    const rev3 = (await store.functions.snapshot('watched')).revision;
    await log.next((c) => c.name === 'watched' && c.revision === rev3, 'for the delete');
    const watched = log.changes.filter((c) => c.name === 'watched').map((c) => c.revision);
    assert.deepEqual(watched, [...watched].sort((a, b) => a - b), 'in commit order');

    log.unsubscribe();
    const seen = log.changes.length;
    // A witness subscribed before the next write: once it has that write, the first listener would have too.
    const witness = new ChangeLog(store.changes);
    await store.functions.insert(fn('unwatched'));
    await witness.next((c) => c.name === 'unwatched', 'to the witness');
    witness.unsubscribe();
    assert.equal(log.changes.length, seen, 'no change reaches an unsubscribed listener');
  });

  it('data outlives the store: closed and opened again, everything is there', async () => {
    const db = await t.database();
    const first = await db.open();
    await furnish(first, 'durable');
    const revision = (await first.functions.snapshot('durable')).revision;
    await first.close();
    await first.close(); // close is idempotent (STYLE.md 6)
    const second = await db.open();
    const snap = await second.functions.snapshot('durable');
    assert.equal(snap.revision, revision);
    assert.equal(snap.versions.length, 2);
    assert.equal(snap.reserved, 5);
    await second.functions.insert(fn('after'));
    assert.ok((await second.functions.snapshot('after')).revision > revision, 'revisions keep growing across opens');
  });

  if (!t.shared) return;

  it('shared: a second store on the database sees the first one’s writes, announced within 1 s', async () => {
    const db = await t.database();
    const a = await db.open();
    const b = await db.open();
    const onB = new ChangeLog(b.changes);
    await a.functions.insert(fn('shared'));
    const seen = await onB.next((c) => c.name === 'shared', 'on the other store', 1_000);
    assert.equal(seen.revision, (await a.functions.snapshot('shared')).revision);
    assert.deepStrictEqual((await b.functions.snapshot('shared')).function, fn('shared'));

    await a.aliases.put({ functionName: 'shared', name: 'x', functionVersion: '$LATEST', description: '', revisionId: 'r' });
    const rev = (await a.functions.snapshot('shared')).revision;
    await onB.next((c) => c.name === 'shared' && c.revision === rev, `at revision ${rev} on the other store`, 1_000);
    assert.equal((await b.functions.snapshot('shared')).aliases.length, 1);

    // And the other way round.
    const onA = new ChangeLog(a.changes);
    await b.functions.delete('shared');
    await onA.next((c) => c.name === 'shared' && c.revision > rev, 'for the delete made on the other store', 1_000);
    assert.equal(await a.functions.get('shared'), undefined);
  });

  it('shared: two creates of one name on two stores at once: one wins, the other gets ERR_STORE_CONFLICT', async () => {
    const db = await t.database();
    const [a, b] = await Promise.all([db.open(), db.open()]);
    const results = await Promise.allSettled([a.functions.insert(fn('race', { description: 'a' })), b.functions.insert(fn('race', { description: 'b' }))]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, JSON.stringify(results.map((r) => r.status)));
    const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    assert.equal((lost.reason as { code?: string }).code, 'ERR_STORE_CONFLICT', String(lost.reason));
  });

  it('migrations: two stores opening one fresh database at once both succeed, and migrate it once', async () => {
    const db = await t.database();
    const [a, b] = await Promise.all([db.open(), db.open()]);
    await a.functions.insert(fn('one'));
    assert.deepStrictEqual(await b.functions.get('one'), fn('one'));
    // A third, opening a database already migrated (and written), keeps what is there.
    const c = await db.open();
    assert.deepStrictEqual(await c.functions.get('one'), fn('one'));
    const [d, e] = await Promise.all([db.open(), db.open()]);
    assert.equal((await d.functions.list()).length, 1);
    assert.equal((await e.functions.list()).length, 1);
  });
}
