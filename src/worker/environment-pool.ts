import type { FunctionRecord } from '../store/index.js';
import { ExecutionEnvironment, type EnvironmentDeps } from './execution-environment.js';
import type { InvokeRequest, InvokeResult } from './invoke-types.js';

export interface PoolOptions {
  readonly idleTimeoutMs: number;
  readonly maxLifetimeMs: number;
}

/**
 * The execution environments of one function revision. One invocation per environment at a time;
 * a cold start when none is idle; the most recently used idle environment is reused first (it is
 * the warmest), so the rest age out and get reaped.
 */
export class EnvironmentPool {
  readonly fn: FunctionRecord;
  readonly #deps: EnvironmentDeps;
  readonly #options: PoolOptions;
  readonly #codeDir: string;
  readonly #idle: ExecutionEnvironment[] = [];
  readonly #all = new Set<ExecutionEnvironment>();
  #retired = false;

  constructor(deps: EnvironmentDeps, options: PoolOptions, fn: FunctionRecord, codeDir: string) {
    this.#deps = deps;
    this.#options = options;
    this.fn = fn;
    this.#codeDir = codeDir;
  }

  get size(): number {
    return this.#all.size;
  }

  get idleCount(): number {
    return this.#idle.length;
  }

  async invoke(request: InvokeRequest): Promise<InvokeResult> {
    const env = this.#takeIdle() ?? (await this.#coldStart());
    if (!(env instanceof ExecutionEnvironment)) return env;
    try {
      return await env.invoke(request);
    } finally {
      this.#release(env);
    }
  }

  /**
   * Shuts down idle environments that waited too long and those past their maximum lifetime (the
   * worker lease). Busy ones past their lifetime get no new work and stop when released.
   */
  sweep(now: number): void {
    for (let i = this.#idle.length - 1; i >= 0; i--) {
      const env = this.#idle[i]!;
      if (now - env.lastUsedAt >= this.#options.idleTimeoutMs || this.#expired(env, now)) {
        this.#idle.splice(i, 1);
        void this.#retire(env);
      }
    }
  }

  /** No new work from now on; idle environments stop now, busy ones when their invocation ends. */
  async retire(): Promise<void> {
    this.#retired = true;
    const idle = this.#idle.splice(0);
    await Promise.all([...idle.map((env) => this.#retire(env)), ...this.#waitForBusy()]);
  }

  #waitForBusy(): Promise<void>[] {
    return [...this.#all].map((env) => new Promise<void>((resolve) => env.onDeath(resolve)));
  }

  #takeIdle(): ExecutionEnvironment | undefined {
    const now = this.#deps.clock.now();
    let env: ExecutionEnvironment | undefined;
    while ((env = this.#idle.pop())) {
      if (!env.dead && !this.#expired(env, now)) return env;
      void this.#retire(env);
    }
    return undefined;
  }

  async #coldStart(): Promise<ExecutionEnvironment | InvokeResult> {
    const env = new ExecutionEnvironment(this.#deps, this.fn, this.#codeDir, this.fn.version ?? '$LATEST');
    this.#all.add(env);
    env.onDeath(() => this.#forget(env));
    const failure = await env.init();
    if (failure) {
      // Lambda answers an init failure like a function error; the next request tries Init again.
      return { payload: failure.payload, functionError: true, executedVersion: this.fn.version ?? '$LATEST' };
    }
    return env;
  }

  #release(env: ExecutionEnvironment): void {
    if (env.dead) return;
    if (this.#retired || this.#expired(env, this.#deps.clock.now())) {
      void this.#retire(env);
      return;
    }
    this.#idle.push(env);
  }

  #expired(env: ExecutionEnvironment, now: number): boolean {
    return now - env.bornAt >= this.#options.maxLifetimeMs;
  }

  async #retire(env: ExecutionEnvironment): Promise<void> {
    await env.stop();
    this.#forget(env);
  }

  #forget(env: ExecutionEnvironment): void {
    this.#all.delete(env);
    const at = this.#idle.indexOf(env);
    if (at !== -1) this.#idle.splice(at, 1);
  }
}
