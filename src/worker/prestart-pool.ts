import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { linkTree, linkTreeSync, markCommonjs } from '../code/index.js';
import { RuntimeApiEndpoint, type EndpointEvents } from '../runtime-api/index.js';
import type { Sandbox, SandboxDriver } from '../sandbox/index.js';
import { newEnvironmentId, type Clock, type Logger } from '../shared/index.js';
import type { FunctionRecord } from '../store/index.js';
import { interpreterFor, prestartable, runtimeBase, RUNTIMES_DIR, sdkFor, type Launch } from './runtime-launch.js';

/** Code up to this size (zipped) is linked without leaving the thread: a few files. */
const LINK_IN_THREAD_BYTES = 512 * 1024;
/** The variable a pre-started runtime is started with; it is gone once a function is bound. */
const PRESTARTED_VARIABLE = '_KINDLING_PRESTARTED';
/** What a pre-started runtime writes to stdout once it waits for its function (src/runtimes). */
const READY_LINE = 'kindling-prestarted-runtime-ready\n';
/** Cold starts counted toward a kind's demand for this long. */
const DEMAND_WINDOW_MS = 10_000;
/** A kind nobody cold-started for this long keeps no pre-started runtime (the seeds keep one). */
const FORGET_MS = 5 * 60_000;
/** How many runtimes start at once: starting them must not take the CPU invokes need. */
const STARTING_AT_ONCE = 2;
/** A runtime that is not waiting for its function by then is given up. */
const READY_TIMEOUT_MS = 10_000;
const MAINTAIN_EVERY_MS = 5_000;

/** One kind of pre-started runtime: what every sandbox of it shares. */
export interface PrestartKind {
  readonly driver: SandboxDriver;
  /** The Lambda runtime name whose client is started (its interpreter is what matters). */
  readonly runtime: string;
  readonly memoryMb: number;
  readonly ephemeralStorageMb: number;
}

export interface PrestartOptions {
  /** The most pre-started runtimes waiting at once, all kinds together (`--prewarm`); 0 turns them off. */
  readonly limit: number;
  /** Where each one's task root lives on the host while it waits (the data directory's `prestart/`). */
  readonly dir: string;
  readonly nodeBinary: string;
  readonly pythonBinary: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly shutdownGraceMs: number;
  /** Kinds kept ready even before any demand (the first invoke after a deploy). */
  readonly seeds?: readonly PrestartKind[];
  /** Whether the worker's memory has room for another runtime of `mb` beside what it runs (fleet workers). */
  readonly room?: (mb: number) => boolean;
}

/**
 * A sandbox whose runtime is booted and waiting for a function: the "stem cell" of OpenWhisk and
 * Fission, SOCK's zygote. It is used once, for one function, and then belongs to that function's
 * execution environment; nothing of one function ever reaches another through it.
 */
export class PrestartedRuntime {
  readonly endpoint: RuntimeApiEndpoint;
  readonly sandbox: Sandbox;
  /** The variables it was started with (its runtime's, none of a function's). */
  readonly baseEnv: Readonly<Record<string, string>>;
  /** Its task root on the host, empty until a function is bound. */
  readonly codeDir: string;
  readonly driver: SandboxDriver;
  readonly #events: { target: EndpointEvents | undefined };
  /** Once its cold start is over: the pool starts the one that replaces it. */
  #coldStartOver: () => void = () => undefined;

  constructor(parts: { endpoint: RuntimeApiEndpoint; sandbox: Sandbox; baseEnv: Record<string, string>; codeDir: string; driver: SandboxDriver; events: { target: EndpointEvents | undefined } }) {
    this.endpoint = parts.endpoint;
    this.sandbox = parts.sandbox;
    this.baseEnv = parts.baseEnv;
    this.codeDir = parts.codeDir;
    this.driver = parts.driver;
    this.#events = parts.events;
  }

  onColdStartOver(listener: () => void): void {
    this.#coldStartOver = listener;
  }

  /**
   * Gives the runtime its function: the code appears at its task root (hard links into the
   * unpacked code, shown read-only), and its variables go down stdin. Its Runtime API's events go
   * to `events` from here on.
   */
  async bind(codeDir: string, codeSize: number, env: Readonly<Record<string, string>>, events: EndpointEvents): Promise<void> {
    this.#events.target = events;
    if (codeSize <= LINK_IN_THREAD_BYTES) linkTreeSync(codeDir, this.codeDir);
    else await linkTree(codeDir, this.codeDir);
    const stdin = this.sandbox.stdin;
    if (!stdin) throw new Error('a pre-started sandbox has no stdin');
    stdin.on('error', () => undefined);
    // Every variable it will have: the runtime drops the rest (the marker), keeps its Runtime API.
    const endpoint = this.sandbox.apiEndpoint === undefined ? {} : { AWS_ENDPOINT_URL: this.sandbox.apiEndpoint };
    stdin.end(`${JSON.stringify({ env: { ...endpoint, ...env, AWS_LAMBDA_RUNTIME_API: this.sandbox.runtimeApiAddress } })}\n`);
  }

  /** Its cold start is over (its first invocation answered, or its Init failed). */
  coldStartOver(): void {
    const listener = this.#coldStartOver;
    this.#coldStartOver = () => undefined;
    listener();
  }
}

interface KindState {
  readonly kind: PrestartKind;
  readonly ready: PrestartedRuntime[];
  starting: number;
  /** When its recent cold starts happened (pre-started or not), oldest first. */
  readonly demand: number[];
  lastDemand: number;
  readonly seed: boolean;
  /** After a failed start, none is tried again before this (backing off). */
  retryAt: number;
  failures: number;
}

/**
 * Sandboxes with a runtime already booted, per kind (sandbox driver, interpreter, memory, /tmp
 * size), so that a cold start only binds the function's code and variables into one and loads
 * the handler. Each kind keeps as many as it had cold starts in the last ten seconds (one while
 * it had any in the last five minutes, and always one for a seed), within `limit` for all kinds
 * and the worker's memory; a taken one is replaced once its cold start is answered.
 */
export class PrestartPool {
  readonly #options: PrestartOptions;
  readonly #kinds = new Map<string, KindState>();
  #starting = 0;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  readonly #stats = { hits: 0, misses: 0, started: 0, failed: 0 };

  constructor(options: PrestartOptions) {
    this.#options = options;
  }

  get enabled(): boolean {
    return this.#options.limit > 0;
  }

  /** Makes the directory and starts the seeds; then keeps every kind at its size. */
  start(): void {
    if (!this.enabled) return;
    mkdirSync(this.#options.dir, { recursive: true });
    // Left by a server that died: its sandboxes died with it.
    for (const stale of readdirNames(this.#options.dir)) rmSync(join(this.#options.dir, stale), { recursive: true, force: true });
    markCommonjs(this.#options.dir);
    for (const kind of this.#options.seeds ?? []) this.#state(kind, true);
    this.#timer = setInterval(() => this.#maintain(), MAINTAIN_EVERY_MS);
    this.#timer.unref();
    this.#maintain();
  }

  /**
   * A cold start of `fn` on `driver`: a pre-started runtime of its kind when one is ready, else
   * undefined (the caller starts a sandbox of its own). Counts toward the kind's demand either way.
   */
  claim(driver: SandboxDriver, fn: FunctionRecord): PrestartedRuntime | undefined {
    const state = this.#demand(driver, fn);
    if (!state) return undefined;
    const taken = state.ready.shift();
    if (taken) {
      this.#stats.hits++;
      // The replacement starts once this cold start is answered: starting a sandbox and booting
      // a runtime take the thread and a core for a while, and this cold start is waiting.
      taken.onColdStartOver(() => this.#fill(state));
    } else {
      this.#stats.misses++;
      this.#fill(state);
    }
    return taken;
  }

  /**
   * A cold start of `fn` is coming (it was just deployed): counts toward its kind's demand, so
   * that one is ready, or on its way, when the first invoke comes.
   */
  expect(driver: SandboxDriver, fn: FunctionRecord): void {
    const state = this.#demand(driver, fn);
    if (state) this.#fill(state);
  }

  /** Counts a cold start (coming or happening) of `fn` toward its kind's demand; undefined when it cannot use one. */
  #demand(driver: SandboxDriver, fn: FunctionRecord): KindState | undefined {
    if (!this.enabled || this.#closed || !prestartable(fn) || driver.runsPrestarted !== true) return undefined;
    const state = this.#state({ driver, runtime: fn.runtime, memoryMb: fn.memorySize, ephemeralStorageMb: fn.ephemeralStorage }, false);
    const now = this.#options.clock.now();
    state.demand.push(now);
    state.lastDemand = now;
    return state;
  }

  /** Hits and misses of cold starts that could use one, and how many are waiting. */
  stats(): { hits: number; misses: number; started: number; failed: number; ready: number } {
    let ready = 0;
    for (const state of this.#kinds.values()) ready += state.ready.length;
    return { ...this.#stats, ready };
  }

  /** Waits until every kind has its runtimes ready (tests and benchmarks; false when it gave up). */
  async settled(timeoutMs = 30_000): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      if ([...this.#kinds.values()].every((state) => state.starting === 0 && state.ready.length >= Math.min(this.#target(state), this.#options.limit))) return true;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return false;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    const waiting = [...this.#kinds.values()].flatMap((state) => state.ready.splice(0));
    await Promise.all(waiting.map((runtime) => this.#discard(runtime)));
  }

  #state(kind: PrestartKind, seed: boolean): KindState {
    const name = [kind.driver.name, kind.driver.network, interpreterFor(kind.runtime, this.#options), kind.memoryMb, kind.ephemeralStorageMb].join('\0');
    let state = this.#kinds.get(name);
    if (!state) {
      state = { kind, ready: [], starting: 0, demand: [], lastDemand: 0, seed, retryAt: 0, failures: 0 };
      this.#kinds.set(name, state);
    }
    return state;
  }

  #target(state: KindState): number {
    const now = this.#options.clock.now();
    while (state.demand.length > 0 && state.demand[0]! < now - DEMAND_WINDOW_MS) state.demand.shift();
    const recent = state.seed || now - state.lastDemand < FORGET_MS ? 1 : 0;
    return Math.max(recent, state.demand.length);
  }

  #maintain(): void {
    if (this.#closed) return;
    for (const [name, state] of this.#kinds) {
      const target = this.#target(state);
      // Beyond what demand asks for now: the oldest go first.
      while (state.ready.length > target) void this.#discard(state.ready.shift()!);
      if (target === 0 && state.starting === 0 && state.ready.length === 0) this.#kinds.delete(name);
      else this.#fill(state);
    }
  }

  #total(): { count: number; mb: number } {
    let count = 0;
    let mb = 0;
    for (const state of this.#kinds.values()) {
      count += state.ready.length + state.starting;
      mb += (state.ready.length + state.starting) * state.kind.memoryMb;
    }
    return { count, mb };
  }

  #fill(state: KindState): void {
    const target = this.#target(state);
    while (
      !this.#closed &&
      state.ready.length + state.starting < target &&
      this.#starting < STARTING_AT_ONCE &&
      this.#options.clock.now() >= state.retryAt
    ) {
      const total = this.#total();
      if (total.count >= this.#options.limit) return;
      if (this.#options.room && !this.#options.room(total.mb + state.kind.memoryMb)) return;
      state.starting++;
      this.#starting++;
      void this.#startOne(state).finally(() => {
        state.starting--;
        this.#starting--;
        // Another kind may have been waiting for a start slot.
        for (const other of this.#kinds.values()) this.#fill(other);
      });
    }
  }

  async #startOne(state: KindState): Promise<void> {
    const { kind } = state;
    const id = newEnvironmentId();
    const dir = join(this.#options.dir, id);
    const codeDir = join(dir, 'task');
    const events: { target: EndpointEvents | undefined } = { target: undefined };
    const endpoint = new RuntimeApiEndpoint({
      onNext: () => events.target?.onNext(),
      onInitError: (failure) => events.target?.onInitError(failure),
    });
    let sandbox: Sandbox | undefined;
    let runtime: PrestartedRuntime | undefined;
    try {
      mkdirSync(codeDir, { recursive: true, mode: 0o755 });
      await endpoint.listen(tmpdir());
      const launch: Launch = runtimeBase(kind.runtime, kind.memoryMb, {
        pathView: kind.driver.pathView,
        codeDir,
        nodeBinary: this.#options.nodeBinary,
        pythonBinary: this.#options.pythonBinary,
      });
      sandbox = await kind.driver.start({
        id,
        functionName: '(pre-started)',
        command: launch.command,
        args: launch.args,
        codeDir,
        runtimeDir: RUNTIMES_DIR.replace(/\/$/, ''),
        ...sdkFor(kind.runtime),
        env: { ...launch.env, [PRESTARTED_VARIABLE]: '1' },
        memoryMb: kind.memoryMb,
        ephemeralStorageMb: kind.ephemeralStorageMb,
        runtimeApi: endpoint,
        stdin: true,
      });
      const started = sandbox;
      void started.exited.then(() => {
        endpoint.close();
        rmSync(dir, { recursive: true, force: true });
        // One that dies while it waits is simply no longer there to take.
        const at = runtime ? state.ready.indexOf(runtime) : -1;
        if (at >= 0) state.ready.splice(at, 1);
      });
      await waitForReady(started);
      runtime = new PrestartedRuntime({ endpoint, sandbox: started, baseEnv: launch.env, codeDir, driver: kind.driver, events });
      this.#stats.started++;
      state.failures = 0;
      if (this.#closed) {
        await this.#discard(runtime);
        return;
      }
      state.ready.push(runtime);
    } catch (err) {
      this.#stats.failed++;
      state.failures++;
      // Backing off: 1 s, 2 s, 4 s, ... up to a minute between tries; cold starts go on without.
      state.retryAt = this.#options.clock.now() + Math.min(60_000, 1000 * 2 ** (state.failures - 1));
      if (state.failures === 1) {
        this.#options.logger.warn(`pre-started ${kind.runtime} runtime (${kind.driver.name} sandbox) failed to start: ${(err as Error).message}`);
      }
      sandbox?.kill();
      if (!sandbox) {
        endpoint.close();
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }

  async #discard(runtime: PrestartedRuntime): Promise<void> {
    // Its runtime exits quietly when stdin closes without a function.
    runtime.sandbox.stdin?.on('error', () => undefined).end();
    await runtime.sandbox.stop(this.#options.shutdownGraceMs);
  }
}

/** Resolves once the runtime says it waits for its function; rejects when it exits or takes too long. */
function waitForReady(sandbox: Sandbox): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    let errors = '';
    const onData = (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      if (seen.includes(READY_LINE)) done();
      else if (seen.length > 4096) done(new Error(`it wrote something else than its ready line: ${seen.slice(0, 200)}`));
    };
    const onError = (chunk: Buffer) => {
      if (errors.length < 2048) errors += chunk.toString('utf8');
    };
    const timer = setTimeout(() => done(new Error(`not ready after ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
    let finished = false;
    const done = (err?: Error) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      sandbox.stdout.off('data', onData);
      sandbox.stderr.off('data', onError);
      sandbox.stdout.pause();
      sandbox.stderr.pause();
      if (err) reject(err);
      else resolve();
    };
    sandbox.stdout.on('data', onData);
    sandbox.stderr.on('data', onError);
    void sandbox.exited.then((exit) => done(new Error(`it exited (${exit.code ?? exit.signal}) before it was ready: ${errors.trim().slice(0, 500)}`)));
  });
}

function readdirNames(dir: string): string[] {
  try {
    return readdirSync(dir).filter((name) => name !== 'package.json');
  } catch {
    return [];
  }
}
