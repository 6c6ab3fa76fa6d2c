import { TooManyRequestsException, type Clock } from '../shared/index.js';

export interface InitGateLimits {
  /** Inits that may run at once on this worker (sized from its cores). */
  readonly maxConcurrent: number;
  /** On-demand cold starts that may wait for an Init slot; beyond it they are throttled at once. */
  readonly maxQueued: number;
}

/** Hands a granted slot back; calling it again does nothing. */
export type ReleaseSlot = () => void;

/** Who waits for a slot: told synchronously, so a caller never sees a slot it already gave up. */
export interface GateEntry {
  onSlot(release: ReleaseSlot): void;
  /** Only for on-demand entries: the wait passed its deadline. */
  onRefused(err: TooManyRequestsException): void;
}

interface Queued {
  readonly entry: GateEntry;
  readonly paced: boolean;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Admits Inits at the rate the machine can run them: at most `maxConcurrent` at once across every
 * function of the worker, the rest waiting first come, first served. 200 runtimes booting at once
 * on 2 cores all miss the Init limit; admitted a few at a time, each finishes in its normal time.
 *
 * An on-demand cold start waits at most until its deadline and only while the queue has room;
 * otherwise it is throttled as Lambda throttles requests that come faster than it can scale
 * (429 FunctionInvocationRateLimitExceeded). Provisioned Inits are paced, never refused.
 */
export class InitGate {
  readonly #limits: InitGateLimits;
  readonly #clock: Clock;
  readonly #queue: Queued[] = [];
  #running = 0;
  #queuedOnDemand = 0;
  #closed = false;

  constructor(limits: InitGateLimits, clock: Clock) {
    this.#limits = limits;
    this.#clock = clock;
  }

  /** Inits running now. */
  get running(): number {
    return this.#running;
  }

  /** Inits waiting for a slot (on-demand and provisioned). */
  get waiting(): number {
    return this.#queue.length;
  }

  /**
   * An on-demand cold start: `onSlot` now or later, or `onRefused` after `waitMs`. Throws
   * TooManyRequestsException at once when the queue is full. Returns a cancel function for a
   * caller that was served otherwise (a warm environment freed up); it does nothing once granted.
   */
  enter(entry: GateEntry, waitMs: number): () => void {
    if (this.#closed) throw throttled();
    if (this.#grantNow(entry)) return () => {};
    if (this.#queuedOnDemand >= this.#limits.maxQueued) throw throttled();
    const queued: Queued = { entry, paced: false, timer: undefined };
    queued.timer = this.#clock.setTimeout(() => {
      if (this.#remove(queued)) entry.onRefused(throttled());
    }, waitMs);
    this.#queue.push(queued);
    this.#queuedOnDemand++;
    return () => void this.#remove(queued);
  }

  /** A provisioned Init: waits its turn for as long as it takes. */
  enterPaced(): Promise<ReleaseSlot> {
    return new Promise((resolve) => {
      const entry: GateEntry = { onSlot: resolve, onRefused: () => {} };
      if (!this.#grantNow(entry)) this.#queue.push({ entry, paced: true, timer: undefined });
    });
  }

  /**
   * The worker is shutting down: no Init starts any more. Waiting invokes are throttled (the
   * caller retries elsewhere or later); waiting provisioned Inits are dropped. Idempotent.
   */
  close(): void {
    this.#closed = true;
    for (const queued of [...this.#queue]) {
      this.#remove(queued);
      if (!queued.paced) queued.entry.onRefused(throttled());
    }
  }

  #grantNow(entry: GateEntry): boolean {
    if (this.#queue.length > 0 || this.#running >= this.#limits.maxConcurrent) return false;
    this.#grant(entry);
    return true;
  }

  #grant(entry: GateEntry): void {
    this.#running++;
    let released = false;
    entry.onSlot(() => {
      if (released) return;
      released = true;
      this.#running--;
      this.#next();
    });
  }

  #next(): void {
    while (!this.#closed && this.#running < this.#limits.maxConcurrent) {
      const queued = this.#queue[0];
      if (!queued) return;
      this.#remove(queued);
      this.#grant(queued.entry);
    }
  }

  /** Takes an entry out of the queue; false when it had already left (granted, refused, cancelled). */
  #remove(queued: Queued): boolean {
    const at = this.#queue.indexOf(queued);
    if (at === -1) return false;
    this.#queue.splice(at, 1);
    if (!queued.paced) this.#queuedOnDemand--;
    if (queued.timer !== undefined) this.#clock.clearTimeout(queued.timer);
    return true;
  }
}

function throttled(): TooManyRequestsException {
  // Lambda's Reason when requests arrive faster than a function can scale; retry after a second.
  return new TooManyRequestsException('FunctionInvocationRateLimitExceeded', 1);
}
