import { KindlingError, TooManyRequestsException } from '../shared/index.js';
import type { FunctionRecord } from '../store/index.js';
import { ExecutionEnvironment, type EnvironmentDeps } from './execution-environment.js';
import type { InitGate, ReleaseSlot } from './init-gate.js';
import type { InvokeRequest, InvokeResult } from './invoke-types.js';
import { ScaleLimiter } from './scale-limiter.js';

export interface PoolOptions {
  readonly idleTimeoutMs: number;
  readonly maxLifetimeMs: number;
  /** New environments per function per 10 seconds (Lambda's scaling rate). */
  readonly scaleRate: number;
}

/** An invoke waiting for an environment: a warm one freed up, or an Init slot for a new one. */
interface Waiter {
  take(env: ExecutionEnvironment): void;
}

/**
 * The execution environments of one function revision. One invocation per environment at a time;
 * a cold start when none is idle; the most recently used idle environment is reused first (it is
 * the warmest), so the rest age out and get reaped. A cold start waits for a slot of the worker's
 * InitGate; meanwhile an environment of this pool that finishes its invocation goes to the oldest
 * waiter, so a burst is served by the environments already started rather than only by new ones.
 */
export class EnvironmentPool {
  readonly fn: FunctionRecord;
  readonly #deps: EnvironmentDeps;
  readonly #options: PoolOptions;
  /** Where the function's unpacked code is on this machine, once `#code` has answered. */
  #codeDir: string | undefined;
  readonly #code: () => Promise<string>;
  #ensuring: Promise<string> | undefined;
  readonly #idle: ExecutionEnvironment[] = [];
  readonly #all = new Set<ExecutionEnvironment>();
  /** Environments kept initialised ahead of time (provisioned concurrency), ready or starting. */
  readonly #provisioned = new Set<ExecutionEnvironment>();
  readonly #scale: ScaleLimiter;
  readonly #gate: InitGate;
  /** Invokes waiting for an environment, oldest first. */
  readonly #waiters: Waiter[] = [];
  /** Environments whose memory is taken from the worker's budget (given back once, when they go). */
  readonly #charged = new Set<ExecutionEnvironment>();
  #provisionTarget = 0;
  #provisionedReady = 0;
  #retired = false;

  /** `code` makes the function's code present on this machine and names its folder (CodeStore.ensure). */
  constructor(deps: EnvironmentDeps, options: PoolOptions, fn: FunctionRecord, code: () => Promise<string>, gate: InitGate) {
    this.#deps = deps;
    this.#gate = gate;
    this.#options = options;
    this.fn = fn;
    this.#code = code;
    this.#scale = new ScaleLimiter(options.scaleRate, 10_000, deps.clock);
  }

  /** Provisioned environments that finished Init. */
  get provisionedReady(): number {
    return this.#provisionedReady;
  }

  /**
   * Keeps `count` environments initialised ahead of time (AWS_LAMBDA_INITIALIZATION_TYPE
   * provisioned-concurrency), replacing them when they die or are retired. Invokes use them first.
   */
  provision(count: number): void {
    this.#provisionTarget = count;
    for (const env of [...this.#provisioned].slice(count)) {
      this.#provisioned.delete(env);
      const at = this.#idle.indexOf(env);
      if (at !== -1) {
        this.#idle.splice(at, 1);
        void this.#retire(env);
      }
    }
    this.#countReady();
    this.#fill();
  }

  #fill(): void {
    const codeDir = this.#codeDir;
    if (codeDir === undefined) {
      if (this.#retired || this.#provisioned.size >= this.#provisionTarget) return;
      this.#ensureCode().then(
        () => this.#fill(),
        (err: unknown) => this.#deps.logger.error('provisioned environments cannot start: the code is not available', { function: this.fn.name, error: String(err) }),
      );
      return;
    }
    while (!this.#retired && this.#provisioned.size < this.#provisionTarget) {
      try {
        this.#deps.memory?.take(this.fn.memorySize);
      } catch (err) {
        this.#deps.logger.warn('provisioned environments cannot start: the worker has no memory left', { function: this.fn.name, error: String(err) });
        return;
      }
      const env = new ExecutionEnvironment(this.#deps, this.fn, codeDir, this.fn.version ?? '$LATEST', 'provisioned-concurrency');
      this.#charged.add(env);
      this.#provisioned.add(env);
      this.#all.add(env);
      env.onDeath(() => {
        this.#forget(env);
        if (this.#provisioned.delete(env)) {
          this.#countReady();
          // Replaced as Lambda replaces provisioned environments, within the scaling rate.
          setImmediate(() => this.#fill());
        }
      });
      // Paced by the scaling rate and by the worker's Init slots, like every Init, but never refused.
      void this.#scale
        .take()
        .then(() => this.#gate.enterPaced())
        .then((release) => env.init().finally(release))
        .then(
          (failure) => {
            if (failure) return;
            env.ready = true;
            this.#countReady();
            this.#offer(env, 'bottom');
          },
          () => void env.stop(),
        );
    }
  }

  #countReady(): void {
    let ready = 0;
    for (const env of this.#provisioned) if (env.ready) ready++;
    this.#provisionedReady = ready;
  }

  get size(): number {
    return this.#all.size;
  }

  get idleCount(): number {
    return this.#idle.length;
  }

  async invoke(request: InvokeRequest): Promise<InvokeResult> {
    const env = this.#takeIdle() ?? (await this.#waitOrColdStart(request.requestId));
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
      // Provisioned environments are not reaped when idle; they are replaced at their lifetime.
      const idleTooLong = !this.#provisioned.has(env) && now - env.lastUsedAt >= this.#options.idleTimeoutMs;
      if (idleTooLong || this.#expired(env, now)) {
        this.#idle.splice(i, 1);
        void this.#retire(env);
      }
    }
  }

  /**
   * Shuts down idle environments (never provisioned ones), least recently used first, until `mb`
   * is freed; their memory is given back at once. Returns the MB freed.
   */
  evictIdle(mb: number): number {
    let freed = 0;
    for (let i = 0; i < this.#idle.length && freed < mb; ) {
      const env = this.#idle[i]!;
      if (this.#provisioned.has(env)) {
        i++;
        continue;
      }
      this.#idle.splice(i, 1);
      if (this.#charged.delete(env)) {
        this.#deps.memory?.give(this.fn.memorySize);
        freed += this.fn.memorySize;
      }
      void this.#retire(env);
    }
    return freed;
  }

  /** No new work from now on; idle environments stop now, busy ones when their invocation ends. */
  async retire(): Promise<void> {
    this.#retired = true;
    this.#provisionTarget = 0;
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

  async #waitOrColdStart(requestId: string): Promise<ExecutionEnvironment | InvokeResult> {
    const got = await this.#wait();
    if (got instanceof ExecutionEnvironment) return got;
    try {
      return await this.#coldStart(requestId, got);
    } catch (err) {
      // The worker's memory is taken, but this version has environments here: the first to finish
      // its invocation takes this one (placement sent it here expecting one to be free soon).
      if (err instanceof KindlingError && err.code === 'ERR_WORKER_FULL' && this.#all.size > 0) return this.#waitForEnvironment(err);
      throw err;
    }
  }

  /** Waits, within the function's timeout, for an environment of this pool to finish its invocation. */
  #waitForEnvironment(full: KindlingError): Promise<ExecutionEnvironment> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const at = this.#waiters.indexOf(waiter);
        if (at !== -1) this.#waiters.splice(at, 1);
        reject(full);
      }, this.fn.timeout * 1000);
      const waiter: Waiter = {
        take: (env) => {
          clearTimeout(timer);
          resolve(env);
        },
      };
      this.#waiters.push(waiter);
    });
  }

  /**
   * Waits, within the function's timeout, for whichever comes first: an environment of this pool
   * finishing its invocation, or an Init slot. Rejects with 429 when the worker's queue is full or
   * the wait runs out. The gate calls back synchronously, so a waiter is never served twice.
   */
  #wait(): Promise<ExecutionEnvironment | ReleaseSlot> {
    return new Promise((resolve, reject) => {
      let served = false;
      let cancel = (): void => {};
      const waiter: Waiter = {
        take: (env) => {
          cancel();
          resolve(env);
        },
      };
      const leave = (): void => {
        served = true;
        const at = this.#waiters.indexOf(waiter);
        if (at !== -1) this.#waiters.splice(at, 1);
      };
      cancel = this.#gate.enter(
        {
          onSlot: (release) => {
            leave();
            resolve(release);
          },
          onRefused: (err) => {
            leave();
            reject(err);
          },
        },
        this.fn.timeout * 1000,
      );
      if (!served) this.#waiters.push(waiter);
    });
  }

  /** A new environment, its Init holding one of the worker's Init slots (the Init timer starts here). */
  async #coldStart(requestId: string, release: ReleaseSlot): Promise<ExecutionEnvironment | InvokeResult> {
    try {
      // Once per pool: the first cold start on this machine may fetch and unpack the code.
      const codeDir = this.#codeDir ?? (await this.#ensureCode());
      this.#deps.memory?.take(this.fn.memorySize);
      // Lambda scales each function by a bounded number of new environments per 10 seconds.
      if (!this.#scale.tryTake()) {
        this.#deps.memory?.give(this.fn.memorySize);
        throw new TooManyRequestsException('FunctionInvocationRateLimitExceeded', 1);
      }
      const env = new ExecutionEnvironment(this.#deps, this.fn, codeDir, this.fn.version ?? '$LATEST');
      this.#charged.add(env);
      this.#all.add(env);
      env.onDeath(() => this.#forget(env));
      const failure = await env.init(requestId);
      if (failure) {
        // Lambda answers an init failure like a function error; the next request tries Init again.
        return { payload: failure.payload, functionError: true, executedVersion: this.fn.version ?? '$LATEST' };
      }
      return env;
    } finally {
      release();
    }
  }

  /** Asks once at a time; a failure is not kept, so the next cold start asks again. */
  #ensureCode(): Promise<string> {
    this.#ensuring ??= this.#code().then(
      (dir) => (this.#codeDir = dir),
      (err: unknown) => {
        this.#ensuring = undefined;
        throw err;
      },
    );
    return this.#ensuring;
  }

  #release(env: ExecutionEnvironment): void {
    if (env.dead) return;
    if (this.#retired || this.#expired(env, this.#deps.clock.now())) {
      void this.#retire(env);
      return;
    }
    this.#offer(env, 'top');
  }

  /** A free environment goes to the oldest waiter, or to the idle list (top: reused first). */
  #offer(env: ExecutionEnvironment, end: 'top' | 'bottom'): void {
    const waiter = this.#waiters.shift();
    if (waiter) waiter.take(env);
    else if (end === 'top') this.#idle.push(env);
    else this.#idle.unshift(env);
  }

  #expired(env: ExecutionEnvironment, now: number): boolean {
    return now - env.bornAt >= this.#options.maxLifetimeMs;
  }

  async #retire(env: ExecutionEnvironment): Promise<void> {
    await env.stop();
    this.#forget(env);
  }

  #forget(env: ExecutionEnvironment): void {
    if (this.#charged.delete(env)) this.#deps.memory?.give(this.fn.memorySize);
    this.#all.delete(env);
    const at = this.#idle.indexOf(env);
    if (at !== -1) this.#idle.splice(at, 1);
  }
}
