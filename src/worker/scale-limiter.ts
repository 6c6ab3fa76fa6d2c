import type { Clock } from '../shared/index.js';

/**
 * A token bucket: `rate` new environments per `periodMs`, refilled continuously (Lambda scales a
 * function by 1,000 environments every 10 seconds).
 */
export class ScaleLimiter {
  readonly #rate: number;
  readonly #periodMs: number;
  readonly #clock: Clock;
  #tokens: number;
  #at: number;

  constructor(rate: number, periodMs: number, clock: Clock) {
    this.#rate = rate;
    this.#periodMs = periodMs;
    this.#clock = clock;
    this.#tokens = rate;
    this.#at = clock.now();
  }

  #refill(): void {
    const now = this.#clock.now();
    this.#tokens = Math.min(this.#rate, this.#tokens + ((now - this.#at) * this.#rate) / this.#periodMs);
    this.#at = now;
  }

  /** Takes a token now, or says there is none. */
  tryTake(): boolean {
    this.#refill();
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Waits for a token (provisioning is paced, not refused). */
  async take(): Promise<void> {
    while (!this.tryTake()) {
      const wait = Math.ceil(((1 - this.#tokens) * this.#periodMs) / this.#rate);
      await new Promise<void>((resolve) => this.#clock.setTimeout(resolve, Math.max(1, wait)));
    }
  }
}
