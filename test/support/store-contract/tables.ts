import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { ContractContext } from './context.js';
import { fn, layer, version } from './records.js';

const sortBy = <T>(list: readonly T[], key: (item: T) => string): T[] => [...list].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));

export function tableContract(t: ContractContext): void {
  it('event invoke configs: put (replacing per function and qualifier), list, delete one or all of a function', async () => {
    const store = await t.store();
    await store.functions.insert(fn('f'));
    await store.functions.insert(fn('g'));
    await store.eventConfigs.put({ functionName: 'f', qualifier: '$LATEST', maximumRetryAttempts: 2, lastModified: 1 });
    await store.eventConfigs.put({ functionName: 'f', qualifier: '$LATEST', maximumRetryAttempts: 0, onSuccess: 'arn:x', lastModified: 2 });
    await store.eventConfigs.put({ functionName: 'f', qualifier: '1', maximumEventAgeInSeconds: 60, lastModified: 3 });
    await store.eventConfigs.put({ functionName: 'g', qualifier: '$LATEST', lastModified: 4 });
    const key = (c: { functionName: string; qualifier: string }) => `${c.functionName}/${c.qualifier}`;
    assert.deepStrictEqual(sortBy(await store.eventConfigs.list(), key), [
      { functionName: 'f', qualifier: '$LATEST', maximumRetryAttempts: 0, onSuccess: 'arn:x', lastModified: 2 },
      { functionName: 'f', qualifier: '1', maximumEventAgeInSeconds: 60, lastModified: 3 },
      { functionName: 'g', qualifier: '$LATEST', lastModified: 4 },
    ]);
    await store.eventConfigs.delete('f', '1');
    assert.deepEqual((await store.eventConfigs.list()).map(key).sort(), ['f/$LATEST', 'g/$LATEST']);
    await store.eventConfigs.put({ functionName: 'f', qualifier: '2', lastModified: 5 });
    await store.eventConfigs.delete('f');
    assert.deepEqual((await store.eventConfigs.list()).map(key), ['g/$LATEST']);
  });

  it('versions: insert, list every function’s, delete one', async () => {
    const store = await t.store();
    await store.functions.insert(fn('f'));
    await store.functions.insert(fn('g'));
    await store.versions.insert(version('f', 1, { description: 'first' }));
    await store.versions.insert(version('f', 2));
    await store.versions.insert(version('f', 10));
    await store.versions.insert(version('g', 1));
    const key = (v: { name: string; version?: string }) => `${v.name}:${v.version!.padStart(4, '0')}`;
    assert.deepStrictEqual(sortBy(await store.versions.list(), key), [version('f', 1, { description: 'first' }), version('f', 2), version('f', 10), version('g', 1)]);
    await store.versions.delete('f', '2');
    assert.deepEqual((await store.versions.list()).map(key).sort(), ['f:0001', 'f:0010', 'g:0001']);
    assert.deepEqual((await store.functions.snapshot('f')).versions.map((v) => v.version), ['1', '10'], 'a snapshot lists versions in number order');
  });

  it('aliases: put (replacing), list, delete', async () => {
    const store = await t.store();
    await store.functions.insert(fn('f'));
    const live = { functionName: 'f', name: 'live', functionVersion: '1', description: '', revisionId: 'r1' };
    await store.aliases.put(live);
    await store.aliases.put({ functionName: 'f', name: 'beta', functionVersion: '$LATEST', description: 'b', revisionId: 'r2' });
    const moved = { ...live, functionVersion: '2', additionalVersionWeights: { '1': 0.1 }, revisionId: 'r3' };
    await store.aliases.put(moved);
    const list = sortBy(await store.aliases.list(), (a) => a.name);
    assert.deepStrictEqual(list, [{ functionName: 'f', name: 'beta', functionVersion: '$LATEST', description: 'b', revisionId: 'r2' }, moved]);
    await store.aliases.delete('f', 'beta');
    assert.deepStrictEqual(await store.aliases.list(), [moved]);
  });

  it('concurrency: reserved and provisioned settings put, replaced, listed, deleted', async () => {
    const store = await t.store();
    await store.functions.insert(fn('f'));
    await store.functions.insert(fn('g'));
    await store.concurrency.putReserved('f', 10);
    await store.concurrency.putReserved('f', 0);
    await store.concurrency.putReserved('g', 7);
    assert.deepStrictEqual(sortBy(await store.concurrency.listReserved(), (r) => r.functionName), [
      { functionName: 'f', reserved: 0 },
      { functionName: 'g', reserved: 7 },
    ]);
    await store.concurrency.deleteReserved('f');
    assert.deepStrictEqual(await store.concurrency.listReserved(), [{ functionName: 'g', reserved: 7 }]);

    await store.concurrency.putProvisioned({ functionName: 'f', qualifier: '1', requested: 1, lastModified: 1 });
    await store.concurrency.putProvisioned({ functionName: 'f', qualifier: '1', requested: 4, lastModified: 2 });
    await store.concurrency.putProvisioned({ functionName: 'f', qualifier: 'live', requested: 2, lastModified: 3 });
    await store.concurrency.putProvisioned({ functionName: 'g', qualifier: '1', requested: 3, lastModified: 4 });
    const key = (p: { functionName: string; qualifier: string }) => `${p.functionName}/${p.qualifier}`;
    assert.deepStrictEqual(sortBy(await store.concurrency.listProvisioned(), key), [
      { functionName: 'f', qualifier: '1', requested: 4, lastModified: 2 },
      { functionName: 'f', qualifier: 'live', requested: 2, lastModified: 3 },
      { functionName: 'g', qualifier: '1', requested: 3, lastModified: 4 },
    ]);
    await store.concurrency.deleteProvisioned('f', 'live');
    assert.deepEqual((await store.concurrency.listProvisioned()).map(key).sort(), ['f/1', 'g/1']);
    await store.concurrency.deleteProvisioned('f');
    assert.deepEqual((await store.concurrency.listProvisioned()).map(key), ['g/1']);
  });

  it('layers: versions numbered from 1 per layer, never reusing a deleted one’s number; deleted ones hidden unless asked for', async () => {
    const store = await t.store();
    const one = await store.layerVersions.publish(layer('lib', { description: 'one', compatibleRuntimes: ['nodejs20.x'], compatibleArchitectures: ['x86_64'], licenseInfo: 'MIT' }));
    assert.deepStrictEqual(one, { ...layer('lib', { description: 'one', compatibleRuntimes: ['nodejs20.x'], compatibleArchitectures: ['x86_64'], licenseInfo: 'MIT' }), version: 1 });
    assert.equal((await store.layerVersions.publish(layer('lib'))).version, 2);
    assert.equal((await store.layerVersions.publish(layer('lib'))).version, 3);
    assert.equal((await store.layerVersions.publish(layer('other'))).version, 1, 'numbers are per layer');

    assert.equal(await store.layerVersions.delete('lib', 3), true);
    assert.equal(await store.layerVersions.delete('lib', 3), false, 'no live version left to delete');
    assert.equal(await store.layerVersions.delete('lib', 99), false);
    assert.equal((await store.layerVersions.publish(layer('lib'))).version, 4, 'the deleted number 3 is not handed out again');

    assert.equal(await store.layerVersions.get('lib', 3), undefined);
    assert.equal((await store.layerVersions.get('lib', 3, { includeDeleted: true }))?.version, 3);
    assert.deepStrictEqual(await store.layerVersions.get('lib', 1), one);
    assert.deepEqual((await store.layerVersions.listVersions('lib')).map((l) => l.version), [4, 2, 1], 'live versions, newest first');
    assert.deepEqual((await store.layerVersions.list()).map((l) => `${l.layerName}:${l.version}`), ['lib:4', 'lib:2', 'lib:1', 'other:1']);

    // Even with every version deleted, numbering goes on.
    for (const v of [1, 2, 4]) assert.equal(await store.layerVersions.delete('lib', v), true);
    assert.deepEqual(await store.layerVersions.listVersions('lib'), []);
    assert.equal((await store.layerVersions.publish(layer('lib'))).version, 5);
  });

  it('layers: publishes at once (from two stores where shared) get distinct, consecutive numbers', async () => {
    const db = await t.database();
    const stores = t.shared ? await Promise.all([db.open(), db.open()]) : [await db.open()];
    const published = await Promise.all(Array.from({ length: 8 }, (_, i) => stores[i % stores.length]!.layerVersions.publish(layer('busy'))));
    assert.deepEqual(published.map((l) => l.version).sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8]);
  });
}
