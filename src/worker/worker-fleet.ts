import type { CodeStore } from '../code/index.js';
import type { FunctionRecord } from '../store/index.js';
import { EnvironmentPool, type PoolOptions } from './environment-pool.js';
import type { EnvironmentDeps } from './execution-environment.js';
import type { InvokeRequest, InvokeResult } from './invoke-types.js';

/**
 * Every function's environment pool. A pool belongs to one revision of a function: a code or
 * configuration change retires the old pool (in-flight work finishes) and the next invoke gets a
 * fresh one.
 */
export class WorkerFleet {
  readonly #deps: EnvironmentDeps;
  readonly #options: PoolOptions;
  readonly #code: CodeStore;
  readonly #pools = new Map<string, EnvironmentPool>();
  readonly #retiring = new Set<Promise<void>>();
  readonly #sweeper: NodeJS.Timeout;
  #closed = false;

  constructor(deps: EnvironmentDeps, options: PoolOptions, code: CodeStore) {
    this.#deps = deps;
    this.#options = options;
    this.#code = code;
    const period = Math.max(50, Math.min(options.idleTimeoutMs, options.maxLifetimeMs, 60_000) / 4);
    this.#sweeper = setInterval(() => this.#sweep(), period);
    this.#sweeper.unref();
  }

  invoke(fn: FunctionRecord, request: InvokeRequest): Promise<InvokeResult> {
    let pool = this.#pools.get(fn.name);
    if (!pool || pool.fn.codeKey !== fn.codeKey) {
      if (pool) this.retire(fn.name);
      pool = new EnvironmentPool(this.#deps, this.#options, fn, this.#code.codePath(fn.codeKey));
      this.#pools.set(fn.name, pool);
    }
    return pool.invoke(request);
  }

  /** Retires the environments of a function (after an update or delete). */
  retire(name: string): void {
    const pool = this.#pools.get(name);
    if (!pool) return;
    this.#pools.delete(name);
    const done = pool.retire().finally(() => this.#retiring.delete(done));
    this.#retiring.add(done);
  }

  /** Environment counts per function: for tests, metrics and the console. */
  stats(name: string): { environments: number; idle: number } {
    const pool = this.#pools.get(name);
    return { environments: pool?.size ?? 0, idle: pool?.idleCount ?? 0 };
  }

  /** Stops every environment; in-flight invocations finish first. Idempotent. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      clearInterval(this.#sweeper);
      for (const name of [...this.#pools.keys()]) this.retire(name);
    }
    await Promise.all([...this.#retiring]);
  }

  #sweep(): void {
    const now = this.#deps.clock.now();
    for (const pool of this.#pools.values()) pool.sweep(now);
  }
}
