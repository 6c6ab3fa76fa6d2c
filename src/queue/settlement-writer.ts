import type { Logger } from '../shared/index.js';
import type { EventQueueTable, EventRetry, EventSettlement } from '../store/index.js';

/**
 * Batches what happens to events after their attempt (deleted, retried, dead-lettered, passed on
 * to a destination) into one transaction per turn of the event loop, written only after the log
 * lines of those attempts are committed: a crash in between leaves the events leased, so they run
 * again, and never leaves an event settled without its log (docs/async.md).
 */
export class SettlementWriter {
  readonly #table: EventQueueTable;
  readonly #logger: Logger;
  readonly #afterFlush: (enqueued: boolean) => void;
  /** Commits every log line written so far; resolves once they are committed. */
  readonly #commitLogs: () => Promise<void>;
  #settlements: EventSettlement[] = [];
  #retries: EventRetry[] = [];
  #waiters: ((written: boolean) => void)[] = [];
  #scheduled = false;

  constructor(deps: { table: EventQueueTable; logger: Logger; afterFlush: (enqueued: boolean) => void; commitLogs: () => Promise<void> }) {
    this.#table = deps.table;
    this.#commitLogs = deps.commitLogs;
    this.#logger = deps.logger;
    this.#afterFlush = deps.afterFlush;
  }

  /** Resolves with whether the settlement was written (false: the store refused it). */
  settle(settlement: EventSettlement): Promise<boolean> {
    this.#settlements.push(settlement);
    return this.#schedule();
  }

  /** Resolves with whether the retry was written (false: the store refused it). */
  retry(retry: EventRetry): Promise<boolean> {
    this.#retries.push(retry);
    return this.#schedule();
  }

  #schedule(): Promise<boolean> {
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => void this.flush());
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  async flush(): Promise<void> {
    this.#scheduled = false;
    const settlements = this.#settlements;
    const retries = this.#retries;
    const waiters = this.#waiters;
    this.#settlements = [];
    this.#retries = [];
    this.#waiters = [];
    let written = true;
    if (settlements.length > 0 || retries.length > 0) {
      try {
        // The attempts' lines (END, REPORT, a drop notice) were written before they were settled:
        // one log commit carries them all, strictly before the settlements' own.
        await this.#commitLogs();
        await this.#table.apply(settlements, retries);
      } catch (err) {
        // The events stay leased, no longer renewed, and come back when their lease ends: delivered again, not lost.
        written = false;
        this.#logger.error('could not record event outcomes; they will be delivered again', { error: String(err) });
      }
      this.#afterFlush(retries.length > 0 || settlements.some((s) => (s.enqueue?.length ?? 0) > 0));
    }
    for (const resolve of waiters) resolve(written);
  }
}
