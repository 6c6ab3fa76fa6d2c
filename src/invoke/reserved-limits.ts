import { scopePrefix } from '../shared/index.js';

/**
 * Reserved concurrency per function and its sum per account (what that account's unreserved pool is
 * short of: each account has its own limit), kept together.
 */
export class ReservedLimits {
  readonly #reserved = new Map<string, number>();
  /** By account (`scopePrefix` of the function's key). */
  readonly #totals = new Map<string, number>();

  set(name: string, reserved: number | undefined): void {
    const account = scopePrefix(name);
    let total = (this.#totals.get(account) ?? 0) - (this.#reserved.get(name) ?? 0);
    if (reserved === undefined) this.#reserved.delete(name);
    else {
      this.#reserved.set(name, reserved);
      total += reserved;
    }
    this.#totals.set(account, total);
  }

  get(name: string): number | undefined {
    return this.#reserved.get(name);
  }

  /** Everything reserved over the functions of one account (`scopePrefix` of any of its keys). */
  total(account: string): number {
    return this.#totals.get(account) ?? 0;
  }
}
