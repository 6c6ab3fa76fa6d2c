import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { FunctionUrlRecord } from '../../../src/store/index.js';
import type { ContractContext } from './context.js';
import { ChangeLog, fn } from './records.js';

const url = (functionName: string, qualifier = '$LATEST', overrides: Partial<FunctionUrlRecord> = {}): FunctionUrlRecord => ({
  functionName,
  qualifier,
  urlId: `${functionName}-${qualifier}`.replace(/[^a-z0-9]/g, 'x').padEnd(32, '0').slice(0, 32),
  authType: 'NONE',
  invokeMode: 'BUFFERED',
  creationTime: 1_000,
  lastModifiedTime: 1_000,
  ...overrides,
});

const alias = (functionName: string, name: string) => ({ functionName, name, functionVersion: '$LATEST', description: '', revisionId: 'a1' });

export function urlContract(t: ContractContext): void {
  it('function urls: insert once per function and qualifier, get, find by url-id, list, replace, delete; each write on the feed', async () => {
    const store = await t.store();
    await store.functions.insert(fn('f'));
    const feed = new ChangeLog(store.changes);
    const latest = url('f', '$LATEST', { cors: { AllowOrigins: ['*'], MaxAge: 60 } });
    assert.equal(await store.functionUrls.insert(latest), 'created');
    assert.equal(await store.functionUrls.insert({ ...latest, authType: 'AWS_IAM' }), 'exists', 'a second URL for $LATEST');
    assert.deepStrictEqual(await store.functionUrls.get('f', '$LATEST'), latest, 'the first write stands');
    assert.deepStrictEqual(await store.functionUrls.byUrlId(latest.urlId), latest);
    assert.equal(await store.functionUrls.byUrlId('0'.repeat(32)), undefined);
    await store.aliases.put(alias('f', 'live'));
    const live = url('f', 'live', { invokeMode: 'RESPONSE_STREAM' });
    assert.equal(await store.functionUrls.insert(live), 'created');
    assert.deepEqual((await store.functionUrls.list('f')).map((u) => u.qualifier), ['$LATEST', 'live']);
    assert.deepEqual(await store.functionUrls.list('g'), []);
    const changed = { ...latest, authType: 'AWS_IAM' as const, lastModifiedTime: 2_000 };
    assert.equal(await store.functionUrls.replace(changed), true);
    assert.deepStrictEqual(await store.functionUrls.get('f', '$LATEST'), changed);
    assert.equal(await store.functionUrls.replace(url('f', 'other')), false, 'nothing to replace');
    assert.equal(await store.functionUrls.delete('f', 'live'), true);
    assert.equal(await store.functionUrls.delete('f', 'live'), false);
    assert.equal(await store.functionUrls.byUrlId(live.urlId), undefined);
    const revision = (await store.functions.snapshot('f')).revision;
    await feed.next((c) => c.name === 'f' && c.revision === revision, 'the last URL write on the feed');
  });

  it('function urls are written only for a function and alias that are there, and go with them', async () => {
    const store = await t.store();
    assert.equal(await store.functionUrls.insert(url('ghost')), 'no-target');
    await store.functions.insert(fn('f'));
    assert.equal(await store.functionUrls.insert(url('f', 'live')), 'no-target', 'no alias live yet');
    await store.aliases.put(alias('f', 'live'));
    await store.functions.insert(fn('g'));
    for (const record of [url('f'), url('f', 'live'), url('g')]) assert.equal(await store.functionUrls.insert(record), 'created');
    await store.aliases.delete('f', 'live');
    assert.deepEqual((await store.functionUrls.list('f')).map((u) => u.qualifier), ['$LATEST'], "the alias's URL went with it");
    assert.equal(await store.functionUrls.byUrlId(url('f', 'live').urlId), undefined);
    await store.functions.delete('f');
    assert.deepEqual(await store.functionUrls.list('f'), [], "the function's went with it");
    assert.equal((await store.functionUrls.list('g')).length, 1, 'another function’s stay');
    await store.functions.insert(fn('f'));
    assert.equal(await store.functionUrls.insert(url('f')), 'created', 'a function made again starts with none');
  });

  it('function urls: a url-id is unique', async () => {
    const store = await t.store();
    await store.functions.insert(fn('f'));
    await store.functions.insert(fn('g'));
    await store.functionUrls.insert(url('f', '$LATEST', { urlId: 'a'.repeat(32) }));
    await assert.rejects(store.functionUrls.insert(url('g', '$LATEST', { urlId: 'a'.repeat(32) })));
    assert.deepEqual(await store.functionUrls.list('g'), [], 'nothing half-written');
  });

  if (!t.shared) return;

  it('shared: another store sees a URL written, and of two first writes one wins', async () => {
    const db = await t.database();
    const a = await db.open();
    const b = await db.open();
    await a.functions.insert(fn('shared'));
    const onB = new ChangeLog(b.changes);
    const results = await Promise.all([a.functionUrls.insert(url('shared')), b.functionUrls.insert(url('shared', '$LATEST', { authType: 'AWS_IAM' }))]);
    assert.deepEqual([...results].sort(), ['created', 'exists']);
    const revision = (await a.functions.snapshot('shared')).revision;
    await onB.next((c) => c.name === 'shared' && c.revision === revision, 'the URL write on the other store');
    assert.deepStrictEqual(await b.functionUrls.byUrlId(url('shared').urlId), await a.functionUrls.get('shared', '$LATEST'));
  });
}
