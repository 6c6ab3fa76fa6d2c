import assert from 'node:assert/strict';
import { it } from 'node:test';
import { layerPolicyOwner, type ResourcePolicyRecord } from '../../../src/store/index.js';
import type { ContractContext } from './context.js';
import { ChangeLog, fn, layer, version } from './records.js';

const ARN = 'arn:aws:lambda:us-east-1:000000000000:function:';
const policy = (owner: string, qualifier = '', revisionId = 'r1', sid = 's'): ResourcePolicyRecord => ({
  resourceArn: `${ARN}${owner}${qualifier ? `:${qualifier}` : ''}`,
  owner,
  qualifier,
  policy: JSON.stringify({ Version: '2012-10-17', Id: 'default', Statement: [{ Sid: sid }] }),
  revisionId,
});

export function policyContract(t: ContractContext): void {
  it('resource policies: put only over the revision read, get, list by owner, delete only at the revision read', async () => {
    const store = await t.store();
    await store.functions.insert(fn('f'));
    const feed = new ChangeLog(store.changes);
    assert.equal(await store.policies.get(`${ARN}f`), undefined);
    assert.equal(await store.policies.put(policy('f'), undefined), true);
    assert.equal(await store.policies.put(policy('f', '', 'r-other'), undefined), false, 'a second first write loses');
    assert.deepStrictEqual(await store.policies.get(`${ARN}f`), policy('f'));
    assert.equal(await store.policies.put(policy('f', '', 'r2', 't'), 'stale'), false);
    assert.deepStrictEqual(await store.policies.get(`${ARN}f`), policy('f'), 'a lost write changes nothing');
    assert.equal(await store.policies.put(policy('f', '', 'r2', 't'), 'r1'), true);
    assert.equal((await store.policies.get(`${ARN}f`))?.revisionId, 'r2');
    assert.equal(await store.policies.put(policy('f', 'live'), undefined), true);
    assert.deepEqual((await store.policies.listOwner('f')).map((p) => p.qualifier), ['', 'live']);
    assert.deepEqual(await store.policies.listOwner('g'), []);
    assert.equal(await store.policies.delete(`${ARN}f:live`, 'f', 'stale'), false);
    assert.equal(await store.policies.delete(`${ARN}f:live`, 'f', 'r1'), true);
    assert.deepStrictEqual(await store.policies.list(), [policy('f', '', 'r2', 't')]);
    // Each write is announced under its owner, as a change of the function.
    const revision = (await store.functions.snapshot('f')).revision;
    await feed.next((c) => c.name === 'f' && c.revision === revision, 'the last policy write on the feed');
  });

  it('resource policies go with their function, version, alias and layer version', async () => {
    const store = await t.store();
    await store.functions.insert(fn('f'));
    await store.versions.insert(version('f', 1));
    await store.aliases.put({ functionName: 'f', name: 'live', functionVersion: '1', description: '', revisionId: 'a1' });
    await store.policies.put(policy('f'), undefined);
    await store.policies.put(policy('f', '1'), undefined);
    await store.policies.put(policy('f', 'live'), undefined);
    await store.functions.insert(fn('g'));
    await store.policies.put(policy('g'), undefined);
    await store.aliases.delete('f', 'live');
    assert.deepEqual((await store.policies.listOwner('f')).map((p) => p.qualifier), ['', '1']);
    await store.versions.delete('f', '1');
    assert.deepEqual((await store.policies.listOwner('f')).map((p) => p.qualifier), ['']);
    await store.versions.insert(version('f', 2));
    await store.policies.put(policy('f', '2'), undefined);
    await store.functions.delete('f');
    assert.deepEqual(await store.policies.listOwner('f'), []);
    assert.equal((await store.policies.listOwner('g')).length, 1, 'another function’s stay');

    const published = await store.layerVersions.publish(layer('lib'));
    const layerArn = `arn:aws:lambda:us-east-1:000000000000:layer:lib:${published.version}`;
    const owner = layerPolicyOwner('lib');
    await store.policies.put({ resourceArn: layerArn, owner, qualifier: String(published.version), policy: '{}', revisionId: 'l1' }, undefined);
    assert.equal((await store.policies.listOwner(owner)).length, 1);
    assert.equal(await store.layerVersions.delete('lib', published.version), true);
    assert.deepEqual(await store.policies.listOwner(owner), []);
  });

  if (!t.shared) return;

  it('shared: another store sees a policy write announced, and two writers over one revision cannot both win', async () => {
    const db = await t.database();
    const a = await db.open();
    const b = await db.open();
    await a.functions.insert(fn('shared'));
    const onB = new ChangeLog(b.changes);
    await a.policies.put(policy('shared'), undefined);
    const revision = (await a.functions.snapshot('shared')).revision;
    await onB.next((c) => c.name === 'shared' && c.revision === revision, 'the policy write on the other store');
    assert.deepStrictEqual(await b.policies.get(`${ARN}shared`), policy('shared'));
    const results = await Promise.all([a.policies.put(policy('shared', '', 'from-a'), 'r1'), b.policies.put(policy('shared', '', 'from-b'), 'r1')]);
    assert.deepEqual(results.filter(Boolean), [true], 'exactly one wins');
    assert.ok(['from-a', 'from-b'].includes((await a.policies.get(`${ARN}shared`))!.revisionId));
  });
}
