import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { QueuedEvent, Store } from '../../../src/store/index.js';
import type { ContractContext } from './context.js';
import { letter, newEvent } from './records.js';

const ids = (events: readonly QueuedEvent[]) => events.map((e) => e.id);

export function eventContract(t: ContractContext): void {
  it('events: enqueue returns new increasing ids; lease hands out the oldest first, exactly as enqueued', async () => {
    const store = await t.store();
    assert.equal(await store.events.nextVisibleAt(), undefined);
    assert.deepEqual(await store.events.lease('a', 10, 5_000, 6_000), []);
    const first = await store.events.enqueue([newEvent('f', 1, 1_000), newEvent('f', 2, 1_001), newEvent('g', 3, 1_002)]);
    const second = await store.events.enqueue([newEvent('f', 4, 1_003)]);
    const all = [...first, ...second];
    assert.equal(new Set(all).size, 4);
    assert.deepEqual(all, [...all].sort((a, b) => a - b), 'ids grow in enqueue order');
    assert.equal(await store.events.count(), 4);
    assert.equal(await store.events.count('f'), 3);
    assert.equal(await store.events.count('nobody'), 0);
    assert.equal(await store.events.nextVisibleAt(), 1_000);

    const leased = await store.events.lease('a', 2, 5_000, 6_000);
    assert.deepStrictEqual(leased, [
      { id: all[0]!, functionName: 'f', qualifier: '$LATEST', requestId: 'req-f-1', payload: Buffer.from('{"n":1}'), enqueuedAt: 1_000, attempts: 0, systemRetries: 0 },
      { id: all[1]!, functionName: 'f', qualifier: '$LATEST', requestId: 'req-f-2', payload: Buffer.from('{"n":2}'), enqueuedAt: 1_001, attempts: 0, systemRetries: 0 },
    ]);
    assert.ok(Buffer.isBuffer(leased[0]!.payload), 'payloads come back as Buffers');
    assert.equal(await store.events.count(), 4, 'a leased event is still queued');
  });

  it('events: a lease hides its events until it expires; an expired lease is another owner’s to take', async () => {
    const store = await t.store();
    const all = await store.events.enqueue([1, 2, 3].map((n) => newEvent('f', n)));
    assert.deepEqual(ids(await store.events.lease('a', 2, 5_000, 6_000)), all.slice(0, 2));
    assert.deepEqual(ids(await store.events.lease('b', 10, 5_000, 6_000)), all.slice(2), 'only the unleased one');
    assert.deepEqual(await store.events.lease('b', 10, 5_999, 6_500), [], 'hidden until the lease ends');
    assert.equal(await store.events.nextVisibleAt(), 6_000);
    const taken = await store.events.lease('c', 10, 6_000, 7_000);
    assert.deepEqual(ids(taken).sort((x, y) => x - y), all, 'every expired lease is leasable again');
  });

  it('events: renew extends only the live leases of that owner', async () => {
    const store = await t.store();
    const [e1, e2, e3] = await store.events.enqueue([1, 2, 3].map((n) => newEvent('f', n)));
    await store.events.lease('a', 1, 1_000, 2_000); // e1, a
    await store.events.lease('b', 1, 1_000, 2_000); // e2, b
    await store.events.lease('a', 1, 1_000, 1_500); // e3, a, expiring first
    assert.equal(await store.events.renew('a', 1_600, 3_000), 1, 'e1 only: e3’s lease had expired at 1,600');
    // e3 expired and e2 expires at 2,000: another owner takes them, e1 stays hidden.
    const taken = await store.events.lease('c', 10, 2_000, 9_000);
    assert.deepEqual(ids(taken).sort((x, y) => x - y), [e2!, e3!].sort((x, y) => x - y));
    // a's renewal must not reach e3, which c holds now; b has nothing live.
    assert.equal(await store.events.renew('a', 2_500, 4_000), 1);
    assert.equal(await store.events.renew('b', 2_500, 4_000), 0);
    assert.deepEqual(await store.events.lease('d', 10, 3_500, 9_000), [], 'e1 renewed to 4,000; e2 and e3 are c’s until 9,000');
    assert.deepEqual(ids(await store.events.lease('d', 10, 4_000, 9_000)), [e1]);
  });

  it('events: release ends an owner’s live leases at once, and no other’s', async () => {
    const store = await t.store();
    const [e1, e2] = await store.events.enqueue([1, 2].map((n) => newEvent('f', n)));
    await store.events.lease('a', 1, 1_000, 5_000);
    await store.events.lease('b', 1, 1_000, 5_000);
    assert.equal(await store.events.release('a', 2_000), 1);
    assert.equal(await store.events.nextVisibleAt(), 2_000);
    assert.deepEqual(ids(await store.events.lease('c', 10, 2_000, 9_000)), [e1]);
    assert.equal(await store.events.release('a', 2_000), 0, 'nothing left to release');
    assert.deepEqual(await store.events.lease('c', 10, 2_000, 9_000), [], `b still holds ${e2}`);
  });

  it('events: apply settles (deleting, enqueuing what follows, dead-lettering) and schedules retries together', async () => {
    const store = await t.store();
    const [e1, e2, e3] = await store.events.enqueue([1, 2, 3].map((n) => newEvent('f', n)));
    const leased = await store.events.lease('a', 3, 1_000, 5_000);
    const byId = new Map(leased.map((e) => [e.id, e]));
    await store.events.apply(
      [
        { event: byId.get(e1!)!, enqueue: [newEvent('dest', 100, 1_200)] },
        { event: byId.get(e2!)!, deadLetters: [letter('f', 2)] },
      ],
      [{ event: byId.get(e3!)!, visibleAt: 3_000, attempts: 1, systemRetries: 2, lastResponse: '{"errorType":"Boom"}' }],
    );
    assert.equal(await store.events.count('f'), 1, 'the settled events left the queue');
    assert.equal(await store.events.count('dest'), 1);
    assert.equal((await store.deadLetters.list('f')).length, 1);

    // The retry: released from a's lease (a's renewals must not push it back), hidden until 3,000,
    // then offered with its new counts.
    assert.equal(await store.events.renew('a', 2_000, 10_000), 0, 'a holds no lease after apply');
    assert.deepEqual((await store.events.lease('b', 10, 2_000, 9_000)).map((e) => e.functionName), ['dest']);
    const retried = await store.events.lease('b', 10, 3_000, 9_000);
    assert.deepStrictEqual(retried, [{ ...byId.get(e3!)!, attempts: 1, systemRetries: 2, lastResponse: '{"errorType":"Boom"}' }]);

    // Nothing given: nothing happens.
    await store.events.apply([], []);
    assert.equal(await store.events.count(), 2);
  });

  it('events: deleteFunction drops one function’s events only', async () => {
    const store = await t.store();
    await store.events.enqueue([newEvent('f', 1), newEvent('g', 2), newEvent('f', 3)]);
    await store.events.deleteFunction('f');
    assert.equal(await store.events.count(), 1);
    assert.equal((await store.events.lease('a', 10, 5_000, 6_000))[0]?.functionName, 'g');
  });

  it('events: 500 events, 4 pollers leasing at once (each on its own store where shared): every event leased exactly once', async () => {
    const db = await t.database();
    const first = await db.open();
    const pollers: Store[] = t.shared ? [first, ...(await Promise.all([db.open(), db.open(), db.open()]))] : [first, first, first, first];
    const enqueued: number[] = [];
    for (let batch = 0; batch < 5; batch++) {
      enqueued.push(...(await first.events.enqueue(Array.from({ length: 100 }, (_, i) => newEvent('busy', batch * 100 + i)))));
    }
    const got = await Promise.all(
      pollers.map(async (store, p) => {
        const mine: number[] = [];
        for (;;) {
          const leased = await store.events.lease(`poller-${p}`, 7, 10_000, 1_000_000);
          if (leased.length === 0) return mine;
          mine.push(...ids(leased));
        }
      }),
    );
    const all = got.flat();
    assert.equal(all.length, 500, `leased ${all.length} times in all (${got.map((g) => g.length)})`);
    assert.equal(new Set(all).size, 500, 'no event leased twice');
    assert.deepEqual([...all].sort((a, b) => a - b), [...enqueued].sort((a, b) => a - b));
    if (t.shared) assert.ok(got.filter((g) => g.length > 0).length >= 2, `the work was shared: ${got.map((g) => g.length)}`);
  });

  it('dead letters: listed by source in id order with paging, read one, count dropped, redrive in one go', async () => {
    const store = await t.store();
    await store.events.enqueue([1, 2, 3, 4].map((n) => newEvent('f', n)));
    const leased = await store.events.lease('a', 4, 1_000, 5_000);
    await store.events.apply(
      [
        { event: leased[0]!, deadLetters: [letter('f', 1)] },
        { event: leased[1]!, deadLetters: [letter('f', 2, { kind: 'dropped', queueName: undefined, condition: 'EventAgeExceeded' })] },
        { event: leased[2]!, deadLetters: [letter('f', 3, { kind: 'destination', queueName: 'failures' })] },
        { event: leased[3]!, deadLetters: [letter('g', 4)] },
      ],
      [],
    );
    const list = await store.deadLetters.list('f');
    assert.equal(list.length, 3);
    assert.deepEqual(list.map((l) => l.id), [...list.map((l) => l.id)].sort((a, b) => a - b));
    const { queueName: _absent, ...dropped } = letter('f', 2, { kind: 'dropped', condition: 'EventAgeExceeded' });
    assert.deepStrictEqual(list.map(({ id: _id, ...rest }) => rest), [letter('f', 1), dropped, letter('f', 3, { kind: 'destination', queueName: 'failures' })]);
    assert.deepStrictEqual(await store.deadLetters.get(list[1]!.id), list[1]);
    assert.equal(await store.deadLetters.get(999_999), undefined);
    assert.deepEqual((await store.deadLetters.list('f', { limit: 2 })).map((l) => l.id), [list[0]!.id, list[1]!.id]);
    assert.deepEqual((await store.deadLetters.list('f', { afterId: list[1]!.id })).map((l) => l.id), [list[2]!.id]);
    assert.equal(await store.deadLetters.countDropped('f'), 1);
    assert.equal(await store.deadLetters.countDropped('g'), 0);

    await store.deadLetters.redrive([list[0]!, list[2]!], [newEvent('f', 11, 7_000), newEvent('f', 13, 7_000)]);
    assert.deepEqual((await store.deadLetters.list('f')).map((l) => l.id), [list[1]!.id]);
    assert.equal(await store.events.count('f'), 2);
    assert.deepEqual((await store.events.lease('b', 10, 8_000, 9_000)).map((e) => e.requestId), ['req-f-11', 'req-f-13']);
  });
}
