import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { ContractContext } from './context.js';

export function identityContract(t: ContractContext): void {
  it('role policies: put (replacing per account, role and name), list an account’s or a role’s, delete', async () => {
    const store = await t.store();
    const a = '111111111111';
    const b = '222222222222';
    await store.rolePolicies.put({ accountId: a, roleName: 'writer', policyName: 'p1', document: '{"v":1}', updatedAt: 1 });
    await store.rolePolicies.put({ accountId: a, roleName: 'writer', policyName: 'p1', document: '{"v":2}', updatedAt: 2 });
    await store.rolePolicies.put({ accountId: a, roleName: 'reader', policyName: 'p1', document: '{"r":1}', updatedAt: 3 });
    await store.rolePolicies.put({ accountId: b, roleName: 'writer', policyName: 'p1', document: '{"b":1}', updatedAt: 4 });
    assert.deepStrictEqual(await store.rolePolicies.list(a, 'writer'), [{ accountId: a, roleName: 'writer', policyName: 'p1', document: '{"v":2}', updatedAt: 2 }]);
    assert.deepEqual(
      (await store.rolePolicies.list(a)).map((p) => `${p.roleName}/${p.policyName}`),
      ['reader/p1', 'writer/p1'],
      'an account lists only its own roles’ policies',
    );
    assert.equal(await store.rolePolicies.delete(a, 'writer', 'p1'), true);
    assert.equal(await store.rolePolicies.delete(a, 'writer', 'p1'), false, 'a second delete finds nothing');
    assert.deepEqual(await store.rolePolicies.list(a, 'writer'), []);
    assert.equal((await store.rolePolicies.list(b, 'writer')).length, 1, 'the other account’s role of the same name is untouched');
  });
}
