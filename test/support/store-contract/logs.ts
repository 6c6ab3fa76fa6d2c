import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { LogBatch, Store } from '../../../src/store/index.js';
import type { ContractContext } from './context.js';

const G = '/aws/lambda/f';

/** Three streams of one group, written in two appends, plus another group. */
async function fill(store: Store): Promise<void> {
  const batches: LogBatch[] = [
    { group: G, stream: 's-a', events: [{ timestamp: 100, message: 'a1' }, { timestamp: 300, message: 'a2' }] },
    { group: G, stream: 's-b', events: [{ timestamp: 200, message: 'b1' }] },
    { group: '/aws/lambda/g', stream: 'x', events: [{ timestamp: 50, message: 'g1' }] },
  ];
  await store.logs.append(batches, 1_000);
  await store.logs.append([{ group: G, stream: 's-c', events: [{ timestamp: 300, message: 'c1' }, { timestamp: 150, message: 'c0' }] }, { group: G, stream: 's-a', events: [{ timestamp: 300, message: 'a3' }] }], 2_000);
  // An empty batch makes nothing.
  await store.logs.append([{ group: '/aws/lambda/empty', stream: 'e', events: [] }], 3_000);
}

export function logContract(t: ContractContext): void {
  it('logs: append makes groups and streams with their sizes and event times', async () => {
    const store = await t.store();
    await fill(store);
    assert.deepEqual((await store.logs.listGroups()).map((g) => [g.logGroupName, g.storedBytes]), [
      ['/aws/lambda/f', 'a1a2b1c1c0a3'.length],
      ['/aws/lambda/g', 2],
    ]);
    assert.deepEqual(await store.logs.getGroup(G), { logGroupName: G, creationTime: 100, storedBytes: 12 });
    assert.equal(await store.logs.getGroup('/aws/lambda/empty'), undefined);
    assert.deepEqual(await store.logs.getStream(G, 's-a'), {
      logStreamName: 's-a',
      creationTime: 100,
      firstEventTimestamp: 100,
      lastEventTimestamp: 300,
      lastIngestionTime: 2_000,
      storedBytes: 6,
    });
    assert.equal(await store.logs.getStream(G, 'none'), undefined);
    assert.deepEqual((await store.logs.listStreams(G)).map((s) => s.logStreamName), ['s-a', 's-b', 's-c']);
    assert.deepEqual((await store.logs.listStreams(G)).find((s) => s.logStreamName === 's-c')?.firstEventTimestamp, 150);
  });

  it('logs: a stream’s events by time, then in the order written; time bounds and limit', async () => {
    const store = await t.store();
    await fill(store);
    assert.deepEqual(await store.logs.getEvents(G, 's-a'), [
      { timestamp: 100, ingestionTime: 1_000, message: 'a1' },
      { timestamp: 300, ingestionTime: 1_000, message: 'a2' },
      { timestamp: 300, ingestionTime: 2_000, message: 'a3' },
    ]);
    assert.deepEqual((await store.logs.getEvents(G, 's-a', { startTime: 200 })).map((e) => e.message), ['a2', 'a3']);
    assert.deepEqual((await store.logs.getEvents(G, 's-a', { endTime: 299 })).map((e) => e.message), ['a1']);
    assert.deepEqual((await store.logs.getEvents(G, 's-a', { limit: 2 })).map((e) => e.message), ['a1', 'a2']);
    assert.deepEqual(await store.logs.getEvents(G, 'none'), []);
  });

  it('logs: queryEvents in (timestamp, id) order either way, resuming strictly after a position, by stream and time', async () => {
    const store = await t.store();
    await fill(store);
    const all = await store.logs.queryEvents({ group: G, limit: 100 });
    assert.deepEqual(all.map((e) => e.message), ['a1', 'c0', 'b1', 'a2', 'c1', 'a3']);
    assert.deepEqual(all.map((e) => e.stream), ['s-a', 's-c', 's-b', 's-a', 's-c', 's-a']);
    for (let i = 1; i < all.length; i++) {
      const [p, q] = [all[i - 1]!, all[i]!];
      assert.ok(p.timestamp < q.timestamp || (p.timestamp === q.timestamp && p.id < q.id), 'ids order events of equal time');
    }
    const down = await store.logs.queryEvents({ group: G, limit: 100, descending: true });
    assert.deepEqual(down.map((e) => e.message), ['a3', 'c1', 'a2', 'b1', 'c0', 'a1']);

    // Pages: two at a time, each from the last one's position.
    const pages: string[][] = [];
    let from: { timestamp: number; id: number } | undefined;
    for (;;) {
      const page = await store.logs.queryEvents({ group: G, limit: 2, ...(from ? { from } : {}) });
      if (page.length === 0) break;
      pages.push(page.map((e) => e.message));
      from = { timestamp: page.at(-1)!.timestamp, id: page.at(-1)!.id };
    }
    assert.deepEqual(pages, [['a1', 'c0'], ['b1', 'a2'], ['c1', 'a3']]);
    const before = await store.logs.queryEvents({ group: G, limit: 2, descending: true, from: { timestamp: all[3]!.timestamp, id: all[3]!.id } });
    assert.deepEqual(before.map((e) => e.message), ['b1', 'c0']);

    assert.deepEqual((await store.logs.queryEvents({ group: G, streams: ['s-a'], limit: 100 })).map((e) => e.message), ['a1', 'a2', 'a3']);
    assert.deepEqual((await store.logs.queryEvents({ group: G, streams: ['s-b', 's-c'], limit: 100 })).map((e) => e.message), ['c0', 'b1', 'c1']);
    assert.deepEqual((await store.logs.queryEvents({ group: G, streams: [], limit: 100 })).map((e) => e.message), [], 'no streams: no events');
    assert.deepEqual((await store.logs.queryEvents({ group: G, startTime: 150, endTime: 200, limit: 100 })).map((e) => e.message), ['c0', 'b1']);
    const [one] = await store.logs.queryEvents({ group: G, streams: ['s-b'], limit: 1 });
    assert.deepEqual(one, { id: one!.id, stream: 's-b', timestamp: 200, ingestionTime: 1_000, message: 'b1' });
  });

  it('logs: queryStreams by name or last event time, either way, with prefix and resume point; queryGroups by prefix and page', async () => {
    const store = await t.store();
    await fill(store);
    const names = async (q: Parameters<Store['logs']['queryStreams']>[1]) => (await store.logs.queryStreams(G, q)).map((s) => s.logStreamName);
    assert.deepEqual(await names({ orderBy: 'LogStreamName', descending: false, limit: 10 }), ['s-a', 's-b', 's-c']);
    assert.deepEqual(await names({ orderBy: 'LogStreamName', descending: true, limit: 2 }), ['s-c', 's-b']);
    assert.deepEqual(await names({ orderBy: 'LogStreamName', descending: false, limit: 10, after: { name: 's-a', lastEventTime: 0 } }), ['s-b', 's-c']);
    assert.deepEqual(await names({ orderBy: 'LogStreamName', descending: false, limit: 10, prefix: 's-b' }), ['s-b']);
    // Last event times: s-a 300, s-b 200, s-c 300 (ties by name).
    assert.deepEqual(await names({ orderBy: 'LastEventTime', descending: false, limit: 10 }), ['s-b', 's-a', 's-c']);
    assert.deepEqual(await names({ orderBy: 'LastEventTime', descending: true, limit: 10 }), ['s-c', 's-a', 's-b']);
    assert.deepEqual(await names({ orderBy: 'LastEventTime', descending: false, limit: 10, after: { name: 's-a', lastEventTime: 300 } }), ['s-c']);
    assert.deepEqual(await names({ orderBy: 'LastEventTime', descending: true, limit: 10, after: { name: 's-a', lastEventTime: 300 } }), ['s-b']);

    await store.logs.append([{ group: '/aws/other', stream: 'o', events: [{ timestamp: 1, message: 'o' }] }], 4_000);
    const groups = async (q: { prefix?: string; after?: string; limit: number }) => (await store.logs.queryGroups(q)).map((g) => g.logGroupName);
    assert.deepEqual(await groups({ limit: 10 }), ['/aws/lambda/f', '/aws/lambda/g', '/aws/other']);
    assert.deepEqual(await groups({ prefix: '/aws/lambda/', limit: 10 }), ['/aws/lambda/f', '/aws/lambda/g']);
    assert.deepEqual(await groups({ after: '/aws/lambda/f', limit: 1 }), ['/aws/lambda/g']);
    assert.deepEqual(await groups({ prefix: '/aws/lambda_', limit: 10 }), [], 'a prefix is literal, not a LIKE pattern');
  });
}
