import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TooManyRequestsException } from '../src/shared/index.js';
import { InitGate, type GateEntry, type ReleaseSlot } from '../src/worker/init-gate.js';
import { FakeClock } from './support/fake-clock.js';

/** An entry that records what the gate told it. */
function entry(name: string, log: string[]): GateEntry & { release?: ReleaseSlot; refused?: TooManyRequestsException } {
  const e: GateEntry & { release?: ReleaseSlot; refused?: TooManyRequestsException } = {
    onSlot: (release) => {
      e.release = release;
      log.push(`slot ${name}`);
    },
    onRefused: (err) => {
      e.refused = err;
      log.push(`refused ${name}`);
    },
  };
  return e;
}

describe('InitGate', () => {
  it('runs at most maxConcurrent Inits and hands freed slots to waiters first come, first served', () => {
    const log: string[] = [];
    const gate = new InitGate({ maxConcurrent: 2, maxQueued: 10 }, new FakeClock());
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((n) => entry(n, log)) as [ReturnType<typeof entry>, ReturnType<typeof entry>, ReturnType<typeof entry>, ReturnType<typeof entry>];
    for (const e of [a, b, c, d]) gate.enter(e, 1000);
    assert.deepEqual(log, ['slot a', 'slot b']);
    assert.equal(gate.running, 2);
    assert.equal(gate.waiting, 2);
    b.release!();
    b.release!(); // a second call frees nothing more
    assert.deepEqual(log, ['slot a', 'slot b', 'slot c']);
    a.release!();
    assert.deepEqual(log, ['slot a', 'slot b', 'slot c', 'slot d']);
    assert.equal(gate.running, 2);
  });

  it('throttles at once when the queue is full, with Lambda’s Reason and Retry-After', () => {
    const log: string[] = [];
    const gate = new InitGate({ maxConcurrent: 1, maxQueued: 1 }, new FakeClock());
    gate.enter(entry('a', log), 1000);
    gate.enter(entry('b', log), 1000);
    assert.throws(
      () => gate.enter(entry('c', log), 1000),
      (err: unknown) => {
        assert.ok(err instanceof TooManyRequestsException);
        assert.equal(err.reason, 'FunctionInvocationRateLimitExceeded');
        assert.deepEqual(err.extraHeaders(), { 'Retry-After': '1' });
        return true;
      },
    );
    assert.deepEqual(log, ['slot a']);
  });

  it('refuses a waiter whose wait runs out, and only that one', () => {
    const clock = new FakeClock();
    const log: string[] = [];
    const gate = new InitGate({ maxConcurrent: 1, maxQueued: 5 }, clock);
    const a = entry('a', log);
    gate.enter(a, 1000);
    const short = entry('short', log);
    gate.enter(short, 500);
    gate.enter(entry('long', log), 5000);
    clock.advance(499);
    assert.deepEqual(log, ['slot a']);
    clock.advance(1);
    assert.deepEqual(log, ['slot a', 'refused short']);
    assert.equal(short.refused?.reason, 'FunctionInvocationRateLimitExceeded');
    assert.equal(gate.waiting, 1);
    a.release!();
    assert.deepEqual(log, ['slot a', 'refused short', 'slot long']);
    clock.advance(10_000); // the granted waiter's timer is gone: no late refusal
    assert.deepEqual(log, ['slot a', 'refused short', 'slot long']);
    assert.equal(clock.pending, 0);
  });

  it('forgets a waiter that was served otherwise (a warm environment freed up)', () => {
    const clock = new FakeClock();
    const log: string[] = [];
    const gate = new InitGate({ maxConcurrent: 1, maxQueued: 1 }, clock);
    const a = entry('a', log);
    gate.enter(a, 1000);
    const cancel = gate.enter(entry('b', log), 1000);
    cancel();
    assert.equal(gate.waiting, 0);
    gate.enter(entry('c', log), 1000); // b's place in the queue is free again
    clock.advance(999);
    a.release!();
    clock.advance(5000);
    assert.deepEqual(log, ['slot a', 'slot c']);
  });

  it('paces provisioned Inits through the same slots, without a deadline or the queue bound', async () => {
    const clock = new FakeClock();
    const log: string[] = [];
    const gate = new InitGate({ maxConcurrent: 1, maxQueued: 0 }, clock);
    const a = entry('a', log);
    gate.enter(a, 1000);
    let provisioned: ReleaseSlot | undefined;
    const waiting = gate.enterPaced().then((release) => (provisioned = release));
    clock.advance(60_000);
    await Promise.resolve();
    assert.equal(provisioned, undefined);
    a.release!();
    await waiting;
    assert.equal(gate.running, 1);
    assert.throws(() => gate.enter(entry('b', log), 1000), TooManyRequestsException);
    provisioned!();
    assert.equal(gate.running, 0);
  });

  it('throttles every waiting invoke at close, and starts nothing more', () => {
    const clock = new FakeClock();
    const log: string[] = [];
    const gate = new InitGate({ maxConcurrent: 1, maxQueued: 5 }, clock);
    const a = entry('a', log);
    gate.enter(a, 1000);
    gate.enter(entry('b', log), 1000);
    void gate.enterPaced();
    gate.close();
    assert.deepEqual(log, ['slot a', 'refused b']);
    assert.equal(gate.waiting, 0);
    assert.equal(clock.pending, 0);
    a.release!();
    assert.equal(gate.running, 0);
    assert.throws(() => gate.enter(entry('c', log), 1000), TooManyRequestsException);
  });
});
