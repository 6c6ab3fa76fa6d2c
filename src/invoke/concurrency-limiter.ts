import { scopePrefix, TooManyRequestsException } from '../shared/index.js';
import { ReservedLimits } from './reserved-limits.js';

/** What the invoke path counts concurrency with: this process alone, or the fleet (FleetLimiter). */
export interface Limiter {
  setReserved(name: string, reserved: number | undefined): void;
  /**
   * Takes a slot for one invocation of `name`, or throws TooManyRequestsException with Lambda's
   * Reason. Resolves to whether the slot came from the unreserved pool (hand it back to `release`).
   */
  acquire(name: string): boolean | Promise<boolean>;
  release(name: string, fromUnreserved: boolean): void;
  /** Invocations running now (on this node), for GetAccountSettings and tests. */
  inFlight(name?: string): number;
}

/**
 * Concurrency accounting on the invoke path, as Lambda keeps it: a function with reserved
 * concurrency N never runs more than N at once and only draws on its own N; every other function
 * shares the unreserved pool (the account limit minus everything reserved). Over a limit: 429.
 */
export class ConcurrencyLimiter implements Limiter {
  readonly #accountLimit: number;
  readonly #reserved = new ReservedLimits();
  readonly #inFlight = new Map<string, number>();
  /** Unreserved slots in use, per account (`scopePrefix`): each account has its own limit. */
  readonly #unreservedInUse = new Map<string, number>();

  constructor(accountLimit: number) {
    this.#accountLimit = accountLimit;
  }

  setReserved(name: string, reserved: number | undefined): void {
    this.#reserved.set(name, reserved);
  }

  /**
   * Takes a slot for one invocation of `name`, or throws TooManyRequestsException with Lambda's
   * Reason. Returns whether the slot came from the unreserved pool (hand it back to `release`).
   */
  acquire(name: string): boolean {
    const reserved = this.#reserved.get(name);
    const running = this.#inFlight.get(name) ?? 0;
    if (reserved !== undefined) {
      if (running >= reserved) throw new TooManyRequestsException('ReservedFunctionConcurrentInvocationLimitExceeded', 1);
      this.#inFlight.set(name, running + 1);
      return false;
    }
    const account = scopePrefix(name);
    const inUse = this.#unreservedInUse.get(account) ?? 0;
    if (inUse >= this.#accountLimit - this.#reserved.total(account)) {
      throw new TooManyRequestsException('ConcurrentInvocationLimitExceeded', 1);
    }
    this.#unreservedInUse.set(account, inUse + 1);
    this.#inFlight.set(name, running + 1);
    return true;
  }

  release(name: string, fromUnreserved: boolean): void {
    const running = this.#inFlight.get(name) ?? 0;
    if (running <= 1) this.#inFlight.delete(name);
    else this.#inFlight.set(name, running - 1);
    if (fromUnreserved) {
      const account = scopePrefix(name);
      const inUse = (this.#unreservedInUse.get(account) ?? 0) - 1;
      if (inUse <= 0) this.#unreservedInUse.delete(account);
      else this.#unreservedInUse.set(account, inUse);
    }
  }

  /** Invocations running now, for GetAccountSettings and tests. */
  inFlight(name?: string): number {
    if (name !== undefined) return this.#inFlight.get(name) ?? 0;
    let total = 0;
    for (const n of this.#inFlight.values()) total += n;
    return total;
  }
}
