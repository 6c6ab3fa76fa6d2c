import type { CodeStore } from '../code/index.js';
import type { FunctionRecord } from '../store/index.js';
import { EnvironmentPool, type PoolOptions } from './environment-pool.js';
import type { EnvironmentDeps } from './execution-environment.js';
import { InitGate } from './init-gate.js';
import type { FleetSighting, PoolInventory, WorkerInventory } from '../shared/index.js';
import type { InvokeRequest, InvokeResult, Runner } from './invoke-types.js';

export interface FleetOptions extends PoolOptions {
  /** Inits running at once across the whole worker (see InitGate). */
  readonly maxConcurrentInits: number;
  /** Cold starts waiting for an Init slot across the whole worker; more are throttled at once. */
  readonly maxQueuedInits: number;
}

/**
 * Every function's environment pool. A pool belongs to one revision of a function: a code or
 * configuration change retires the old pool (in-flight work finishes) and the next invoke gets a
 * fresh one.
 */
export class WorkerFleet implements Runner {
  readonly #deps: EnvironmentDeps;
  readonly #options: PoolOptions;
  readonly #code: CodeStore;
  readonly #pools = new Map<string, EnvironmentPool>();
  /** One gate for the whole worker: the cores are shared by every function's Inits. */
  readonly #gate: InitGate;
  readonly #retiring = new Set<Promise<void>>();
  readonly #sweeper: NodeJS.Timeout;
  #closed = false;
  #busy = 0;

  constructor(deps: EnvironmentDeps, options: FleetOptions, code: CodeStore) {
    this.#deps = deps;
    this.#options = options;
    this.#code = code;
    // Over the memory budget, idle environments of other versions go first (least recently used).
    deps.memory?.evictWith((needed) => {
      let freed = 0;
      for (const pool of this.#pools.values()) if (freed < needed) freed += pool.evictIdle(needed - freed);
      return freed;
    });
    this.#gate = new InitGate({ maxConcurrent: options.maxConcurrentInits, maxQueued: options.maxQueuedInits }, deps.clock);
    const period = Math.max(50, Math.min(options.idleTimeoutMs, options.maxLifetimeMs, 60_000) / 4);
    this.#sweeper = setInterval(() => this.#sweep(), period);
    this.#sweeper.unref();
  }

  invoke(fn: FunctionRecord, request: InvokeRequest): Promise<InvokeResult> {
    // Refused before any environment starts when the operator no longer allows the function's
    // sandbox driver (--allow-sandbox narrowed after it was tagged).
    this.#deps.sandboxes.forTags(fn.tags);
    this.#busy++;
    return this.#poolFor(fn)
      .invoke(request)
      .finally(() => this.#busy--);
  }

  /** The pool of a function version: environments are never shared between versions. */
  #poolFor(fn: FunctionRecord): EnvironmentPool {
    const key = poolKey(fn.name, fn.version);
    let pool = this.#pools.get(key);
    // A record of another revision (code or configuration changed, on this or another node) gets
    // a fresh pool; the old one finishes its work and stops.
    if (!pool || pool.fn.codeKey !== fn.codeKey || pool.fn.revisionId !== fn.revisionId) {
      if (pool) this.#retireKey(key);
      pool = new EnvironmentPool(this.#deps, this.#options, fn, () => this.#code.ensure(fn.codeKey, fn.packageType), this.#gate);
      this.#pools.set(key, pool);
    }
    return pool;
  }

  /** Keeps `count` environments of this version initialised ahead of time (0 to stop). */
  provision(fn: FunctionRecord, count: number): void {
    this.#poolFor(fn).provision(count);
  }

  /** Provisioned environments of this version that are initialised and ready. */
  provisionedReady(fn: FunctionRecord): number {
    return this.#pools.get(poolKey(fn.name, fn.version))?.provisionedReady ?? 0;
  }

  /** Retires the environments of one version of a function, or of all its versions. */
  retire(name: string, version?: string): void {
    if (version !== undefined) return this.#retireKey(poolKey(name, version));
    for (const key of [...this.#pools.keys()]) if (key.startsWith(`${name}:`)) this.#retireKey(key);
  }

  #retireKey(key: string): void {
    const pool = this.#pools.get(key);
    if (!pool) return;
    this.#pools.delete(key);
    const done = pool.retire().finally(() => this.#retiring.delete(done));
    this.#retiring.add(done);
  }

  /** Inits running and waiting for a slot across the worker: for tests, metrics and the console. */
  inits(): { running: number; waiting: number } {
    return { running: this.#gate.running, waiting: this.#gate.waiting };
  }

  /** Environment counts per function (all versions, or one): for tests, metrics and the console. */
  stats(name: string, version?: string): { environments: number; idle: number } {
    let environments = 0;
    let idle = 0;
    for (const [key, pool] of this.#pools) {
      if (version === undefined ? key.startsWith(`${name}:`) : key === poolKey(name, version)) {
        environments += pool.size;
        idle += pool.idleCount;
      }
    }
    return { environments, idle };
  }

  /** One version's environments here (sent back with each fleet answer, for placement). */
  sighting(name: string, version: string | undefined): FleetSighting {
    return { environments: this.#pools.get(poolKey(name, version))?.size ?? 0 };
  }

  /** What this worker runs, per function version: the heartbeat's payload and placement's input. */
  inventory(): WorkerInventory {
    const pools: Record<string, PoolInventory> = {};
    let memoryUsedMb = 0;
    for (const [key, pool] of this.#pools) {
      if (pool.size === 0 && pool.provisionedReady === 0) continue;
      pools[key] = {
        revisionId: pool.fn.revisionId,
        environments: pool.size,
        idle: pool.idleCount,
        provisionedReady: pool.provisionedReady,
        memoryMb: pool.fn.memorySize,
      };
      memoryUsedMb += pool.size * pool.fn.memorySize;
    }
    return { pools, memoryUsedMb: this.#deps.memory?.usedMb ?? memoryUsedMb, busy: this.#busy };
  }

  /** Invocations running now. */
  get busy(): number {
    return this.#busy;
  }

  /** Stops every environment; in-flight invocations finish first. Idempotent. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      clearInterval(this.#sweeper);
      this.#gate.close();
      for (const key of [...this.#pools.keys()]) this.#retireKey(key);
    }
    await Promise.all([...this.#retiring]);
  }

  #sweep(): void {
    const now = this.#deps.clock.now();
    for (const pool of this.#pools.values()) pool.sweep(now);
  }
}

function poolKey(name: string, version: string | undefined): string {
  return `${name}:${version ?? '$LATEST'}`;
}
