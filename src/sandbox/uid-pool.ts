import { randomInt } from 'node:crypto';

/**
 * Host uids for sandboxes, one per environment and never two live environments on the same one, so
 * that even outside their namespaces they cannot signal, trace or share files with each other.
 * The range (0x70000000 up) is one that systemd leaves unused (its container ranges end below
 * it) and that no login user has; the same number serves as the gid. Several servers on one host
 * start at random offsets, which keeps them apart in practice, not by contract.
 */
export const SANDBOX_UID_BASE = 0x7000_0000;
const SIZE = 65_536;

export class UidPool {
  readonly #base: number;
  readonly #used = new Set<number>();
  #next = randomInt(SIZE);

  constructor(base = SANDBOX_UID_BASE) {
    this.#base = base;
  }

  take(): number {
    for (let i = 0; i < SIZE; i++) {
      const uid = this.#base + ((this.#next + i) % SIZE);
      if (this.#used.has(uid)) continue;
      this.#used.add(uid);
      this.#next = (this.#next + i + 1) % SIZE;
      return uid;
    }
    throw new Error('every sandbox uid is in use');
  }

  /** Only once no process of the sandbox is left. */
  release(uid: number): void {
    this.#used.delete(uid);
  }
}
