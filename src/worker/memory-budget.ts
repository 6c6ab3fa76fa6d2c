import { KindlingError } from '../shared/index.js';

/**
 * The memory a worker declared for its execution environments (`--worker-memory`): every
 * environment takes its function's MemorySize while it lives, and none starts beyond the budget.
 * When it is short, idle environments of other functions are shut down first (`evict`); if that
 * is not enough, the cold start is refused with ERR_WORKER_FULL and placement tries another worker.
 */
export class MemoryBudget {
  readonly totalMb: number;
  #usedMb = 0;
  #evict: (neededMb: number) => number = () => 0;

  constructor(totalMb: number) {
    this.totalMb = totalMb;
  }

  get usedMb(): number {
    return this.#usedMb;
  }

  /** How to free memory: shuts idle environments down and returns the MB given back. */
  evictWith(evict: (neededMb: number) => number): void {
    this.#evict = evict;
  }

  /** Takes `mb` for a new environment, evicting idle ones if needed, or throws ERR_WORKER_FULL. */
  take(mb: number): void {
    const short = this.#usedMb + mb - this.totalMb;
    if (short > 0) this.#evict(short);
    if (this.#usedMb + mb > this.totalMb) {
      throw new KindlingError('ERR_WORKER_FULL', `This worker has no memory for another ${mb} MB environment (${this.#usedMb} of ${this.totalMb} MB in use).`);
    }
    this.#usedMb += mb;
  }

  give(mb: number): void {
    this.#usedMb = Math.max(0, this.#usedMb - mb);
  }
}
