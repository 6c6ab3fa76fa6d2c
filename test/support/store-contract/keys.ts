import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { AccessKeyRecord } from '../../../src/store/index.js';
import type { ContractContext } from './context.js';

const key = (id: string, overrides: Partial<AccessKeyRecord> = {}): AccessKeyRecord => ({
  accessKeyId: id,
  accountId: '111111111111',
  userName: `user-${id}`,
  sealedSecret: Buffer.from([0, 1, 2, 255, 254, id.length]),
  policies: '[{"Statement":[{"Effect":"Allow","Action":"lambda:Invoke*","Resource":"*"}]}]',
  admin: false,
  createdAt: 1_700_000_000_000,
  ...overrides,
});

export function keyContract(t: ContractContext): void {
  it('access keys: insert, get, list by account oldest first, remove; a duplicate id is a conflict and changes nothing', async () => {
    const store = await t.store();
    const a = key('AKIAAAAAAAAAAAAAAAAA', { admin: true, createdAt: 1_700_000_000_002 });
    const b = key('AKIABBBBBBBBBBBBBBBB', { createdAt: 1_700_000_000_001 });
    const c = key('AKIACCCCCCCCCCCCCCCC', { accountId: '222222222222' });
    for (const k of [a, b, c]) await store.keys.insert(k);
    assert.deepStrictEqual(await store.keys.get(a.accessKeyId), a);
    assert.equal(await store.keys.get('AKIANOSUCHKEY0000000'), undefined);
    assert.deepStrictEqual(await store.keys.list('111111111111'), [b, a]);
    assert.deepStrictEqual((await store.keys.list()).map((k) => k.accessKeyId), [c.accessKeyId, b.accessKeyId, a.accessKeyId]);
    await assert.rejects(store.keys.insert({ ...a, userName: 'other' }), { code: 'ERR_STORE_CONFLICT' });
    assert.equal((await store.keys.get(a.accessKeyId))?.userName, a.userName);
    assert.equal(await store.keys.remove(a.accessKeyId), true);
    assert.equal(await store.keys.remove(a.accessKeyId), false);
    assert.equal(await store.keys.get(a.accessKeyId), undefined);
  });

  it('access keys: a key written by one store is read (and its removal seen) by another on the same database', { skip: !t.shared && 'one process per store' }, async () => {
    const db = await t.database();
    const one = await db.open();
    const two = await db.open();
    const k = key('AKIADDDDDDDDDDDDDDDD');
    await one.keys.insert(k);
    assert.deepStrictEqual(await two.keys.get(k.accessKeyId), k);
    await two.keys.remove(k.accessKeyId);
    assert.equal(await one.keys.get(k.accessKeyId), undefined);
  });
}
