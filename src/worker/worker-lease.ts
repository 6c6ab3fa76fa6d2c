import type { Clock } from '../shared/index.js';

/** The part of the lease by which a worker's end may come early, so a fleet started together does not drain together. */
const JITTER = 0.1;

/**
 * A worker's lease (Lambda leases a Worker for at most 14 hours): it ends between 90% and 100% of
 * `leaseMs` after the start, picked at random once. At the end the worker takes no new work,
 * finishes what is in flight and exits, for its supervisor to start a fresh one.
 */
export class WorkerLease {
  readonly endsAt: number;
  readonly #clock: Clock;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: { leaseMs: number; startedAt: number; clock: Clock; random?: () => number }) {
    this.#clock = options.clock;
    const jitter = Math.floor((options.random ?? Math.random)() * options.leaseMs * JITTER);
    this.endsAt = options.startedAt + options.leaseMs - jitter;
  }

  /** Calls `onEnd` once, at the lease's end. */
  start(onEnd: () => void): void {
    const wait = () => {
      const left = this.endsAt - this.#clock.now();
      if (left <= 0) return onEnd();
      // setTimeout holds at most 2^31-1 ms (24.8 days): wait in steps.
      this.#timer = this.#clock.setTimeout(wait, Math.min(left, 2 ** 31 - 1));
    };
    wait();
  }

  stop(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
  }
}
