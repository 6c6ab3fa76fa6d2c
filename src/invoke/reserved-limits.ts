/** Reserved concurrency per function and its sum (what the unreserved pool is short of), kept together. */
export class ReservedLimits {
  readonly #reserved = new Map<string, number>();
  #total = 0;

  set(name: string, reserved: number | undefined): void {
    this.#total -= this.#reserved.get(name) ?? 0;
    if (reserved === undefined) this.#reserved.delete(name);
    else {
      this.#reserved.set(name, reserved);
      this.#total += reserved;
    }
  }

  get(name: string): number | undefined {
    return this.#reserved.get(name);
  }

  /** Everything reserved, over all functions. */
  get total(): number {
    return this.#total;
  }
}
