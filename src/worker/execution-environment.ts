import type { MemoryBudget } from './memory-budget.js';
import type { PrestartedRuntime, PrestartPool } from './prestart-pool.js';
import { tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import { endLine, OutputCapture, reportLine, startLine, timeoutLine, type LogSink } from '../logs/index.js';
import { errorPayload, ExtensionsApi, RuntimeApiEndpoint, type EndpointEvents, type InitFailure, type RuntimeOutcome } from '../runtime-api/index.js';
import { type PathView, type Sandbox, type SandboxDriver, type SandboxExit, type SandboxSelection } from '../sandbox/index.js';
import { bareName, functionLogGroupKey, newEnvironmentId, newLogStreamName, type Clock, type Logger } from '../shared/index.js';
import type { FunctionLayer, FunctionRecord } from '../store/index.js';
import type { InvokeRequest, InvokeResult } from './invoke-types.js';
import { extensionsIn, functionVariables, InvalidEntrypoint, launchFor, RUNTIMES_DIR, sdkFor } from './runtime-launch.js';
import { describeExit, errorPayloadNoTrace, lastBytes, traceId } from './platform-values.js';
import type { VariableContext } from './lambda-variables.js';
import { TrackedSink } from './tracked-sink.js';

export interface EnvironmentDeps {
  readonly sandboxes: SandboxSelection;
  /** The function's layers merged into one folder for /opt (undefined when it has none). */
  readonly optDir: (layers: readonly FunctionLayer[]) => Promise<string | undefined>;
  readonly logs: LogSink;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly region: string;
  readonly nodeBinary: string;
  readonly pythonBinary: string;
  readonly initTimeoutMs: number;
  readonly shutdownGraceMs: number;
  /** A fleet worker's declared memory, which its environments never exceed (unbounded when absent). */
  readonly memory?: MemoryBudget;
  /** Runtimes started ahead of demand, for cold starts that can use one (absent: every cold start starts its own). */
  readonly prestart?: PrestartPool;
  /** Temporary credentials for a function's execution role, issued once per environment (absent: none are set). */
  readonly credentials?: (fn: FunctionRecord) => VariableContext['credentials'];
}

type InvokeEnd =
  | { readonly kind: 'outcome'; readonly outcome: RuntimeOutcome }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'exit'; readonly exit: SandboxExit };

type InitEnd = { readonly kind: 'ready' } | { readonly kind: 'failed'; readonly failure: InitFailure };

const MB = 1024 * 1024;
/** Lambda's Shutdown budget with external extensions. */
const EXTENSIONS_SHUTDOWN_MS = 2_000;
/** Lambda's X-Amz-Log-Result carries the last 4 KB of the invocation's log. */
const TAIL_BYTES = 4096;

/**
 * One execution environment: a sandboxed runtime, its own Runtime API endpoint and log stream.
 * Init once, then Invoke one request at a time while warm, then Shutdown.
 */
export class ExecutionEnvironment {
  readonly id = newEnvironmentId();
  readonly logGroup: string;
  /** Where its lines are written: the group in the function's own account (account-scope.ts). */
  readonly #logGroupKey: string;
  readonly logStream: string;
  readonly bornAt: number;
  lastUsedAt: number;
  readonly #deps: EnvironmentDeps;
  readonly #fn: FunctionRecord;
  readonly #codeDir: string;
  readonly #version: string;
  /** The pre-started runtime it took, until its first invocation is answered. */
  #prestarted: PrestartedRuntime | undefined;
  /** Its Runtime API: its own, or the one its pre-started runtime came with. */
  #endpoint: RuntimeApiEndpoint;
  readonly #endpointEvents: EndpointEvents = {
    onNext: () => {
      const end = this.#initEnd;
      this.#initEnd = undefined;
      end?.({ kind: 'ready' });
    },
    onInitError: (failure) => {
      const end = this.#initEnd;
      this.#initEnd = undefined;
      end?.({ kind: 'failed', failure });
    },
  };
  #sandbox: Sandbox | undefined;
  #initEnd: ((end: InitEnd) => void) | undefined;
  #invokeEnd: ((end: InvokeEnd) => void) | undefined;
  #initDurationMs: number | undefined;
  /** The invocation's last log lines (for X-Amz-Log-Result), kept to about TAIL_BYTES. */
  #tail: string[] | undefined;
  #tailBytes = 0;
  /** Reads the runtime's stdout and stderr into the log, within the sink's budget and the phase's limit. */
  #capture: OutputCapture | undefined;
  #dead = false;
  #stopping: Promise<void> | undefined;
  #extensions: ExtensionsApi | undefined;
  #exitedAlready = false;
  readonly #deathListeners: (() => void)[] = [];

  /** Init finished (provisioned environments are counted once ready). */
  ready = false;
  readonly #initializationType: 'on-demand' | 'provisioned-concurrency';
  /** Issued at the first launch and kept for the environment's life (null: none could be). */
  #credentials: VariableContext['credentials'] | null | undefined;

  constructor(
    deps: EnvironmentDeps,
    fn: FunctionRecord,
    codeDir: string,
    version = '$LATEST',
    initializationType: 'on-demand' | 'provisioned-concurrency' = 'on-demand',
  ) {
    this.#deps = deps;
    this.#initializationType = initializationType;
    this.#fn = fn;
    this.#codeDir = codeDir;
    this.#version = version;
    this.bornAt = deps.clock.now();
    this.lastUsedAt = this.bornAt;
    // The function's key carries its account (account-scope.ts): the name it sees is the bare one,
    // its lines go to the group of that name in its own account.
    this.logGroup = `/aws/lambda/${bareName(fn.name)}`;
    this.#logGroupKey = functionLogGroupKey(fn.name);
    this.logStream = newLogStreamName(version, new Date(this.bornAt));
    this.#endpoint = new RuntimeApiEndpoint(this.#endpointEvents);
  }

  get dead(): boolean {
    return this.#dead;
  }

  /** Calls `listener` once when the environment dies on its own (crash, kill) or is stopped. */
  onDeath(listener: () => void): void {
    if (this.#dead) listener();
    else this.#deathListeners.push(listener);
  }

  /**
   * The Init phase: start the sandbox and wait for the runtime's first `/next`. Returns the
   * runtime's init error (as an invoke payload) when Init fails; the environment is then dead.
   */
  async init(requestId?: string): Promise<InitFailure | undefined> {
    const started = performance.now();
    const driver = this.#deps.sandboxes.forTags(this.#fn.tags);
    const prestarted = this.#deps.prestart?.claim(driver, this.#fn);
    if (prestarted) return this.#initPrestarted(prestarted, started);
    await this.#endpoint.listen(tmpdir());
    const optDir = this.#fn.layers?.length ? await this.#deps.optDir(this.#fn.layers) : undefined;
    let launch: ReturnType<typeof launchFor>;
    try {
      launch = this.#launch(driver.pathView, optDir, driver.runsImages === true);
    } catch (err) {
      if (!(err instanceof InvalidEntrypoint)) throw err;
      const message = `${requestId ? `RequestId: ${requestId} ` : ''}Error: ${err.message}`;
      this.#log(message);
      this.#endpoint.close();
      this.#markDead();
      return { errorType: 'Runtime.InvalidEntrypoint', payload: errorPayloadNoTrace('Runtime.InvalidEntrypoint', message) };
    }
    const extensionCount = extensionsIn(optDir).length;
    if (extensionCount > 0) {
      this.#extensions = new ExtensionsApi(
        { functionName: bareName(this.#fn.name), functionVersion: this.#version, handler: this.#fn.handler },
        extensionCount,
      );
      this.#endpoint.useExtensions(this.#extensions);
    }
    const runtimeReady = new Promise<InitEnd>((resolve) => (this.#initEnd = resolve));
    // Init is over when the runtime asks for work and every extension has asked for its first event.
    const extensions = this.#extensions;
    const ended = extensions
      ? runtimeReady.then(async (end): Promise<InitEnd> => {
          if (end.kind !== 'ready') return end;
          const failure = await extensions.ready;
          return failure
            ? { kind: 'failed', failure: { errorType: failure.errorType, payload: errorPayload(failure.errorType, failure.message) } }
            : end;
        })
      : runtimeReady;
    let sandbox: Sandbox;
    try {
      sandbox = await driver.start({
        id: this.id,
        functionName: this.#fn.name,
        command: launch.command,
        args: launch.args,
        codeDir: this.#codeDir,
        ...(optDir ? { optDir } : {}),
        runtimeDir: RUNTIMES_DIR.replace(/\/$/, ''),
        ...sdkFor(this.#fn.runtime),
        env: launch.env,
        memoryMb: this.#fn.memorySize,
        ephemeralStorageMb: this.#fn.ephemeralStorage,
        runtimeApi: this.#endpoint,
        ...(launch.rootfs ? { rootfs: launch.rootfs } : {}), // PackageType Image
        ...(launch.workingDir ? { workingDir: launch.workingDir } : {}),
      });
    } catch (err) {
      this.#endpoint.close();
      this.#markDead();
      throw err;
    }
    return this.#awaitInit(sandbox, driver, ended, started);
  }

  /**
   * A cold start in a sandbox whose runtime was started ahead of demand: it becomes this
   * environment's for good, with the function's code and variables; Init is the handler's load.
   */
  async #initPrestarted(prestarted: PrestartedRuntime, started: number): Promise<InitFailure | undefined> {
    this.#endpoint = prestarted.endpoint;
    const ended = new Promise<InitEnd>((resolve) => (this.#initEnd = resolve));
    const env = { ...functionVariables(this.#fn, this.#variableContext()), ...prestarted.baseEnv };
    try {
      await prestarted.bind(this.#codeDir, this.#fn.codeSize, env, this.#endpointEvents);
    } catch (err) {
      prestarted.sandbox.kill();
      this.#endpoint.close();
      this.#markDead();
      prestarted.coldStartOver();
      throw err;
    }
    this.#prestarted = prestarted;
    const failure = await this.#awaitInit(prestarted.sandbox, prestarted.driver, ended, started);
    // Provisioned environments wait for invocations that may be long in coming.
    if (failure || this.#initializationType === 'provisioned-concurrency') this.#releasePrestarted();
    return failure;
  }

  /** Its cold start is over (first invocation answered, or Init failed): the pool may start another. */
  #releasePrestarted(): void {
    this.#prestarted?.coldStartOver();
    this.#prestarted = undefined;
  }

  /** Init's end: the runtime's first `/next`, its init error, its exit, or the Init limit. */
  async #awaitInit(sandbox: Sandbox, driver: SandboxDriver, ended: Promise<InitEnd>, started: number): Promise<InitFailure | undefined> {
    this.#sandbox = sandbox;
    this.#capture = new OutputCapture({ sink: this.#deps.logs, onLine: (line) => this.#log(line) });
    this.#capture.attach(sandbox.stdout);
    this.#capture.attach(sandbox.stderr);
    // A pre-started sandbox's output was paused while it waited (prestart-pool.ts).
    sandbox.stdout.resume();
    sandbox.stderr.resume();
    void sandbox.exited.then((exit) => this.#exited(exit));

    // Lambda's Init limit covers the runtime and every extension getting ready; a driver that boots
    // slowly (a microVM under emulation) asks for more.
    const initTimeoutMs = driver.initTimeoutMs ?? this.#deps.initTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<InitEnd>((resolve) => {
      timer = this.#deps.clock.setTimeout(() => {
        this.#initEnd = undefined;
        const message = `INIT timed out after ${(initTimeoutMs / 1000).toFixed(2)} seconds`;
        resolve({ kind: 'failed', failure: { errorType: 'Sandbox.Timedout', payload: errorPayload('Sandbox.Timedout', message) } });
      }, initTimeoutMs);
    });
    const end = await Promise.race([ended, timedOut]);
    this.#deps.clock.clearTimeout(timer!);
    this.#capture.enter({ kind: 'idle' });
    this.#initDurationMs = performance.now() - started;
    if (end.kind === 'ready') {
      sandbox.initEnded?.();
      // Lambda's REPORT shows Init Duration only when Init ran as part of the invocation.
      if (this.#initializationType === 'provisioned-concurrency') this.#initDurationMs = undefined;
      return undefined;
    }

    this.#log(
      `INIT_REPORT Init Duration: ${this.#initDurationMs.toFixed(2)} ms\tPhase: init\tStatus: error\tError Type: ${end.failure.errorType}`,
    );
    await this.stop();
    return end.failure;
  }

  #launch(pathView: PathView, optDir: string | undefined, runsImages: boolean): ReturnType<typeof launchFor> {
    return launchFor(this.#fn, {
      runsImages, // PackageType Image
      nodeBinary: this.#deps.nodeBinary,
      pythonBinary: this.#deps.pythonBinary,
      pathView,
      codeDir: this.#codeDir,
      ...(optDir ? { optDir } : {}),
      ...this.#variableContext(),
    });
  }

  #variableContext(): VariableContext {
    this.#credentials ??= this.#deps.credentials?.(this.#fn) ?? null;
    return {
      ...(this.#credentials ? { credentials: this.#credentials } : {}),
      region: this.#deps.region,
      version: this.#version,
      logGroup: this.logGroup,
      logStream: this.logStream,
      initializationType: this.#initializationType,
    };
  }

  /** The Invoke phase for one request. Never throws for function failures: they are values. */
  async invoke(request: InvokeRequest): Promise<InvokeResult> {
    const sandbox = this.#sandbox!;
    const started = performance.now();
    const initDurationMs = this.#initDurationMs;
    this.#initDurationMs = undefined;
    this.#tail = request.tail ? [] : undefined;
    this.#tailBytes = 0;
    this.#capture?.enter({ kind: 'invoke', requestId: request.requestId });
    this.#log(startLine(request.requestId, this.#version));

    const timeoutMs = this.#fn.timeout * 1000;
    const stream = request.stream && new TrackedSink(request.stream);
    let timer: NodeJS.Timeout | undefined;
    const end = await new Promise<InvokeEnd>((resolve) => {
      this.#invokeEnd = resolve;
      timer = this.#deps.clock.setTimeout(() => resolve({ kind: 'timeout' }), timeoutMs);
      const invocation = {
        requestId: request.requestId,
        payload: request.payload,
        deadlineMs: this.#deps.clock.now() + timeoutMs,
        invokedFunctionArn: request.invokedFunctionArn,
        traceId: traceId(request.requestId),
        ...(request.clientContext === undefined ? {} : { clientContext: request.clientContext }),
      };
      // With extensions, the invocation completes when the runtime and every extension are done.
      const extensionsDone = this.#extensions?.invoke(invocation);
      const delivered = this.#endpoint.deliver(invocation, stream);
      const done = extensionsDone ? Promise.all([delivered, extensionsDone]).then(([outcome]) => outcome) : delivered;
      void done.then((outcome) => resolve({ kind: 'outcome', outcome }));
      if (this.#dead) resolve({ kind: 'exit', exit: { code: null, signal: null } });
    });
    this.#invokeEnd = undefined;
    // However it ended (an exit mid-invoke too), the timeout has nothing more to do.
    this.#deps.clock.clearTimeout(timer!);
    const durationMs = performance.now() - started;

    let payload: Buffer;
    let status: string | undefined;
    if (end.kind === 'outcome') {
      payload = end.outcome.payload;
    } else if (end.kind === 'timeout') {
      // Lambda stops the environment at the timeout and starts a fresh one for the next request.
      this.#endpoint.abandon();
      sandbox.kill();
      this.#markDead();
      this.#log(timeoutLine(request.requestId, this.#fn.timeout));
      payload = errorPayloadNoTrace(
        'Sandbox.Timedout',
        `RequestId: ${request.requestId} Error: Task timed out after ${this.#fn.timeout.toFixed(2)} seconds`,
      );
      status = 'timeout';
    } else {
      this.#endpoint.abandon();
      // Lambda names an exit at the memory limit Runtime.OutOfMemory, any other Runtime.ExitError.
      const errorType = end.exit.outOfMemory ? 'Runtime.OutOfMemory' : 'Runtime.ExitError';
      const message = `RequestId: ${request.requestId} Error: Runtime exited with error: ${describeExit(end.exit)}`;
      this.#log(message);
      this.#log(errorType);
      payload = errorPayloadNoTrace(errorType, message);
      status = 'error';
    }

    // Output the runtime wrote before answering reaches its log ahead of END.
    await this.#capture?.caughtUp();
    this.#capture?.enter({ kind: 'idle' });
    this.#log(endLine(request.requestId));
    this.#log(
      reportLine(request.requestId, {
        durationMs,
        memorySizeMb: this.#fn.memorySize,
        maxMemoryUsedMb: Math.max(1, Math.ceil(sandbox.stats().maxMemoryBytes / MB)),
        ...(initDurationMs === undefined ? {} : { initDurationMs }),
        ...(status === undefined ? {} : { status }),
      }),
    );
    this.lastUsedAt = this.#deps.clock.now();
    const tail = this.#tail;
    this.#tail = undefined;
    this.#releasePrestarted();
    return {
      payload,
      functionError: end.kind !== 'outcome' || end.outcome.kind === 'error',
      executedVersion: this.#version,
      ...(stream?.started ? { streamed: true } : {}),
      ...(tail ? { log: lastBytes(tail.join('\n') + '\n', TAIL_BYTES) } : {}),
    };
  }

  /** Shutdown: SIGTERM, grace, SIGKILL. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#markDead();
      // Shutdown: extensions get SHUTDOWN and Lambda's 2 s budget, then the runtime its signals.
      if (this.#extensions && this.#sandbox && !this.#exitedAlready) await this.#extensions.shutdown('spindown', EXTENSIONS_SHUTDOWN_MS);
      this.#extensions?.close();
      await this.#sandbox?.stop(this.#deps.shutdownGraceMs);
      this.#endpoint.close();
    })();
    return this.#stopping;
  }

  #exited(exit: SandboxExit): void {
    this.#exitedAlready = true;
    this.#markDead();
    this.#endpoint.close();
    this.#initEnd?.({
      kind: 'failed',
      failure: { errorType: 'Runtime.ExitError', payload: errorPayloadNoTrace('Runtime.ExitError', `Runtime exited with error: ${describeExit(exit)}`) },
    });
    this.#initEnd = undefined;
    this.#invokeEnd?.({ kind: 'exit', exit });
  }

  #markDead(): void {
    if (this.#dead) return;
    this.#dead = true;
    this.#releasePrestarted();
    for (const listener of this.#deathListeners.splice(0)) listener();
  }

  #log(message: string): void {
    this.#deps.logs.write(this.#logGroupKey, this.logStream, this.#deps.clock.now(), message);
    const tail = this.#tail;
    if (tail) {
      // Only the last 4 KB are answered: a function writing megabytes must not be held in memory.
      tail.push(message);
      this.#tailBytes += message.length + 1;
      while (tail.length > 1 && this.#tailBytes - (tail[0]!.length + 1) >= TAIL_BYTES) this.#tailBytes -= tail.shift()!.length + 1;
    }
  }
}
