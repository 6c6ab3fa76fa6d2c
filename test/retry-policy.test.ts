import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decide, isExpired, type RetrySettings } from '../src/queue/index.js';

const lambda: RetrySettings = { maximumRetryAttempts: 2, maximumEventAgeSeconds: 21_600, delayScale: 1 };
const fresh = { enqueuedAt: 0, attempts: 0, systemRetries: 0 };

describe("Lambda's async retry policy", () => {
  it('succeeds on success', () => {
    assert.deepEqual(decide(fresh, 'success', lambda, 10), { action: 'succeed' });
  });

  it('retries a function error after 1 minute, then 2 minutes, then gives up', () => {
    const first = decide(fresh, 'function-error', lambda, 1_000);
    assert.deepEqual(first, { action: 'retry', at: 61_000, attempts: 1, systemRetries: 0 });
    const second = decide({ ...fresh, attempts: 1 }, 'function-error', lambda, 62_000);
    assert.deepEqual(second, { action: 'retry', at: 182_000, attempts: 2, systemRetries: 0 });
    assert.deepEqual(decide({ ...fresh, attempts: 2 }, 'function-error', lambda, 183_000), {
      action: 'fail',
      condition: 'RetriesExhausted',
      attempts: 3,
    });
  });

  it('honours MaximumRetryAttempts 0', () => {
    assert.deepEqual(decide(fresh, 'function-error', { ...lambda, maximumRetryAttempts: 0 }, 5), {
      action: 'fail',
      condition: 'RetriesExhausted',
      attempts: 1,
    });
  });

  it('backs off throttles exponentially from 1 s to 5 minutes, without using up function retries', () => {
    const delays = [0, 1, 2, 3, 8, 9, 12].map((n) => {
      const d = decide({ ...fresh, systemRetries: n }, 'throttled', lambda, 0);
      assert.equal(d.action, 'retry');
      return d.action === 'retry' ? d.at : -1;
    });
    assert.deepEqual(delays, [1_000, 2_000, 4_000, 8_000, 256_000, 300_000, 300_000]);
    const d = decide(fresh, 'system-error', lambda, 0);
    assert.ok(d.action === 'retry' && d.attempts === 0 && d.systemRetries === 1);
  });

  it('never schedules past the maximum event age, and expires there', () => {
    const settings = { ...lambda, maximumEventAgeSeconds: 60 };
    const d = decide(fresh, 'function-error', settings, 30_000);
    assert.ok(d.action === 'retry' && d.at === 60_000);
    assert.equal(isExpired(fresh, settings, 59_999), false);
    assert.equal(isExpired(fresh, settings, 60_000), true);
  });

  it('scales every delay and the age limit with --retry-delay-scale', () => {
    const scaled = { ...lambda, delayScale: 0.001 };
    const d = decide(fresh, 'function-error', scaled, 0);
    assert.ok(d.action === 'retry' && d.at === 60);
    assert.equal(isExpired(fresh, scaled, 21_600), true);
  });
});
