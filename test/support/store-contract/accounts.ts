import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { ContractContext } from './context.js';
import { furnish } from './functions.js';
import { layer, letter, newEvent } from './records.js';

/**
 * Accounts (docs/accounts.md): the control plane keys another account's function, layer and log
 * group as `<account>:<name>`, the default account's by the bare name. The store keeps keys as
 * opaque text: two accounts' `hello` are two functions in every table, and removing one leaves
 * every row of the other.
 */
const OTHER = '111122223333:hello';

export function accountContract(t: ContractContext): void {
  it('accounts: two accounts\' functions of one name are two functions; deleting one leaves every row of the other', async () => {
    const store = await t.store();
    await furnish(store, 'hello');
    await furnish(store, OTHER);
    await store.events.enqueue([newEvent('hello', 1), newEvent(OTHER, 1), newEvent(OTHER, 2)]);
    assert.equal(await store.events.count('hello'), 1);
    assert.equal(await store.events.count(OTHER), 2);

    await store.functions.delete(OTHER);
    await store.events.deleteFunction(OTHER);
    const kept = await store.functions.snapshot('hello');
    assert.equal(kept.function?.name, 'hello');
    assert.deepEqual([kept.versions.length, kept.aliases.length, kept.eventConfigs.length, kept.provisioned.length, kept.reserved], [2, 1, 2, 1, 5]);
    const gone = await store.functions.snapshot(OTHER);
    assert.equal(gone.function, undefined);
    assert.deepEqual([gone.versions, gone.aliases, gone.eventConfigs, gone.provisioned, gone.reserved], [[], [], [], [], undefined]);
    assert.equal(await store.events.count('hello'), 1);
    assert.equal(await store.events.count(OTHER), 0);
  });

  it('accounts: dead letters, layers and log groups of one name stay apart per account', async () => {
    const store = await t.store();
    await store.events.enqueue([newEvent(OTHER, 1)]);
    const [event] = await store.events.lease('p', 1, 5_000, 6_000);
    await store.events.apply([{ event: event!, deadLetters: [letter(OTHER, 1)] }], []);
    assert.equal((await store.deadLetters.list(OTHER)).length, 1);
    assert.deepEqual(await store.deadLetters.list('hello'), []);

    const ours = await store.layerVersions.publish(layer('lib'));
    const theirs = await store.layerVersions.publish(layer('111122223333:lib'));
    assert.deepEqual([ours.version, theirs.version], [1, 1], 'each account numbers its own layer from 1');
    await store.layerVersions.delete('lib', 1);
    assert.equal((await store.layerVersions.get('111122223333:lib', 1))?.layerName, '111122223333:lib');

    await store.logs.append(
      [
        { group: '/aws/lambda/hello', stream: 's', events: [{ timestamp: 1, message: 'ours' }] },
        { group: '111122223333:/aws/lambda/hello', stream: 's', events: [{ timestamp: 1, message: 'theirs' }] },
      ],
      10,
    );
    assert.deepEqual((await store.logs.getEvents('111122223333:/aws/lambda/hello', 's')).map((e) => e.message), ['theirs']);
    assert.deepEqual((await store.logs.getEvents('/aws/lambda/hello', 's')).map((e) => e.message), ['ours']);
    assert.deepEqual((await store.logs.queryGroups({ prefix: '111122223333:', limit: 10 })).map((g) => g.logGroupName), ['111122223333:/aws/lambda/hello']);
  });
}
