import type { Aliases, FunctionRegistry } from '../control-plane/index.js';
import type { DispatchResult, EventQueue, QueueMetrics } from '../queue/index.js';
import {
  InvalidParameterValueException,
  InvalidRequestContentException,
  RequestTooLargeException,
  ResourceNotFoundException,
  TooManyRequestsException,
  ValidationException,
  functionArn,
  newRequestId,
  parseFunctionRef,
  type Clock,
  type Partition,
} from '../shared/index.js';
import type { FunctionRecord, QueuedEvent } from '../store/index.js';
import type { InvokeRequest, InvokeResult, ResponseSink, Runner } from '../worker/index.js';
import type { Limiter } from './concurrency-limiter.js';
import { checkPayload } from './payload-check.js';

/** Lambda's limit on X-Amz-Client-Context (base64). */
const CLIENT_CONTEXT_MAX = 3583;
/** Lambda's limit on an event-mode payload (API_Invoke: 1 MB for asynchronous invocations). */
export const ASYNC_PAYLOAD_LIMIT = 1024 * 1024;

export interface InvokeInput {
  /** The id the API gave the request; it becomes the invocation's request id. */
  readonly requestId?: string;
  /** The `{FunctionName}` path segment, decoded: name, ARN or partial ARN, maybe qualified. */
  readonly functionName: string;
  /** The caller's account: a bare name is its function (an ARN names its own account's). */
  readonly account?: string;
  readonly qualifier?: string;
  readonly invocationType?: string;
  readonly logType?: string;
  /** X-Amz-Client-Context as sent: base64 of a JSON object. */
  readonly clientContext?: string;
  readonly payload: Buffer;
  /** A request-response invoke whose response streams here as the function writes it. */
  readonly stream?: ResponseSink;
}

export interface InvokeOutput {
  readonly status: 200 | 202 | 204;
  readonly requestId: string;
  readonly payload?: Buffer;
  readonly functionError?: 'Unhandled';
  /** Base64 of the last 4 KB of the log (X-Amz-Log-Result). */
  readonly logResult?: string;
  readonly executedVersion?: string;
  /** The body went to `InvokeInput.stream`; `payload` is then only an error body, if any. */
  readonly streamed?: boolean;
}

export interface InvokeServiceDeps {
  limiter: Limiter;
  registry: FunctionRegistry;
  aliases: Aliases;
  /** Where invocations run: this process's environments, or the fleet's workers. */
  fleet: Runner;
  queue: EventQueue;
  metrics: QueueMetrics;
  partition: Partition;
  clock: Clock;
}

/**
 * The data plane's front: resolves the function, then runs it (request-response) or queues it
 * durably (event). Queued events come back through `dispatchEvent`, the same path.
 */
export class InvokeService {
  readonly #registry: FunctionRegistry;
  readonly #limiter: Limiter;
  readonly #aliases: Aliases;
  readonly #fleet: Runner;
  readonly #queue: EventQueue;
  readonly #metrics: QueueMetrics;
  readonly #partition: Partition;
  readonly #clock: Clock;

  constructor(deps: InvokeServiceDeps) {
    this.#registry = deps.registry;
    this.#limiter = deps.limiter;
    this.#aliases = deps.aliases;
    this.#fleet = deps.fleet;
    this.#queue = deps.queue;
    this.#metrics = deps.metrics;
    this.#partition = deps.partition;
    this.#clock = deps.clock;
  }

  async invoke(input: InvokeInput): Promise<InvokeOutput> {
    const { fn, qualifier, requestId } = await this.#target(input);
    const type = input.invocationType ?? 'RequestResponse';
    if (type === 'DryRun') return { status: 204, requestId };
    if (type === 'Event') return this.#enqueue(fn, qualifier ?? '$LATEST', requestId, input.payload, ASYNC_PAYLOAD_LIMIT);
    if (type !== 'RequestResponse') {
      throw ValidationException.constraint(type, 'invocationType', 'Member must satisfy enum value set: [Event, RequestResponse, DryRun]');
    }
    return this.#sync(fn, qualifier, requestId, input, input.stream);
  }

  /**
   * InvokeWithResponseStream: a request-response invoke whose response goes to the sink `open`
   * makes, told the version that runs (X-Amz-Executed-Version comes before the body). Errors
   * thrown (not found, throttled, bad input) are thrown before any byte reaches the sink.
   */
  async invokeWithResponseStream(input: Omit<InvokeInput, 'stream'>, open: (executedVersion: string) => ResponseSink): Promise<InvokeOutput> {
    const { fn, qualifier, requestId } = await this.#target(input);
    const type = input.invocationType ?? 'RequestResponse';
    // Lambda's model: ResponseStreamingInvocationType has no Event.
    if (type !== 'RequestResponse' && type !== 'DryRun') {
      throw ValidationException.constraint(type, 'invocationType', 'Member must satisfy enum value set: [RequestResponse, DryRun]');
    }
    if (type === 'DryRun') return { status: 204, requestId };
    return this.#sync(fn, qualifier, requestId, input, open(fn.version ?? '$LATEST'));
  }

  /** The function version an invoke names, and the request id it runs under. */
  async #target(input: Omit<InvokeInput, 'stream'>): Promise<{ fn: FunctionRecord; qualifier: string | undefined; requestId: string }> {
    const ref = parseFunctionRef(input.functionName, this.#partition, undefined, undefined, input.account);
    const qualifier = resolveQualifier(ref.qualifier, input.qualifier);
    const fn = await this.#resolve(ref.name, qualifier);
    return { fn, qualifier, requestId: input.requestId ?? newRequestId() };
  }

  /** A request-response invoke, its response answered whole or streamed to `stream`. */
  async #sync(fn: FunctionRecord, qualifier: string | undefined, requestId: string, input: Omit<InvokeInput, 'stream'>, stream: ResponseSink | undefined): Promise<InvokeOutput> {
    const logType = input.logType ?? 'None';
    if (logType !== 'None' && logType !== 'Tail') {
      throw ValidationException.constraint(logType, 'logType', 'Member must satisfy enum value set: [None, Tail]');
    }
    const payload = checkPayload(input.payload);
    const clientContext = decodeClientContext(input.clientContext);

    const result = await this.#run(fn, {
      requestId,
      payload,
      invokedFunctionArn: functionArn(this.#partition, fn.name, qualifier),
      tail: logType === 'Tail',
      ...(clientContext === undefined ? {} : { clientContext }),
      ...(stream === undefined ? {} : { stream }),
    });
    return {
      status: 200,
      requestId,
      payload: result.payload,
      executedVersion: result.executedVersion,
      ...(result.streamed ? { streamed: true } : {}),
      ...(result.functionError ? { functionError: 'Unhandled' as const } : {}),
      ...(result.log === undefined ? {} : { logResult: Buffer.from(result.log).toString('base64') }),
    };
  }

  /** The legacy InvokeAsync (`/2014-11-13/.../invoke-async/`): event mode with its 256 KB limit. */
  async invokeAsync(functionName: string, payload: Buffer, requestId = newRequestId(), account = this.#partition.accountId): Promise<InvokeOutput> {
    const ref = parseFunctionRef(functionName, this.#partition, undefined, undefined, account);
    const fn = await this.#resolve(ref.name, ref.qualifier);
    return this.#enqueue(fn, ref.qualifier ?? '$LATEST', requestId, payload, 256 * 1024, 'InvokeAsync');
  }

  /** Runs a queued event through the same path as a synchronous invoke (the poller fleet's Dispatch). */
  async dispatchEvent(event: QueuedEvent): Promise<DispatchResult> {
    let fn = this.#aliases.resolve(event.functionName, event.qualifier);
    if (!fn) return { outcome: 'function-gone' };
    if (fn.state === 'Pending') {
      await this.#registry.settled(fn.name);
      fn = this.#registry.getByName(fn.name);
    }
    try {
      const result = await this.#run(fn, {
        requestId: event.requestId,
        payload: event.payload,
        invokedFunctionArn: functionArn(this.#partition, fn.name, event.qualifier),
        tail: false,
      });
      return {
        outcome: result.functionError ? 'function-error' : 'success',
        payload: result.payload,
        executedVersion: result.executedVersion,
      };
    } catch (err) {
      if (err instanceof TooManyRequestsException) return { outcome: 'throttled', reason: err.reason };
      if (err instanceof ResourceNotFoundException) return { outcome: 'function-gone', reason: err.message };
      return { outcome: 'system-error', reason: err instanceof Error ? err.message : String(err) };
    }
  }

  /** Runs an invocation within the function's concurrency (sync and event alike). */
  async #run(fn: FunctionRecord, request: InvokeRequest): Promise<InvokeResult> {
    const fromUnreserved = await this.#limiter.acquire(fn.name);
    try {
      return await this.#fleet.invoke(fn, request);
    } finally {
      this.#limiter.release(fn.name, fromUnreserved);
    }
  }

  /** Event mode: answered (202) only once the event is committed and fsynced. */
  async #enqueue(fn: FunctionRecord, qualifier: string, requestId: string, raw: Buffer, limit: number, operation = 'InvokeFunction'): Promise<InvokeOutput> {
    if (raw.length > limit) {
      throw new RequestTooLargeException(`Request must be smaller than ${limit} bytes for the ${operation} operation`);
    }
    const payload = checkPayload(raw);
    await this.#queue.enqueue({ functionName: fn.name, qualifier, requestId, payload, enqueuedAt: this.#clock.now() });
    this.#metrics.add(fn.name, 'AsyncEventsReceived');
    return { status: 202, requestId };
  }

  /** The version that runs: $LATEST, a version, or one picked by an alias's weights. */
  async #resolve(name: string, qualifier: string | undefined): Promise<FunctionRecord> {
    let fn = this.#aliases.resolve(name, qualifier);
    if (!fn) {
      // Lambda names what it looked for: an unqualified invoke is one of $LATEST.
      throw new ResourceNotFoundException(`Function not found: ${functionArn(this.#partition, name, qualifier ?? '$LATEST')}`);
    }
    if (fn.state === 'Pending') {
      // Created a moment ago: Kindling has the code ready, the state flips on the next tick.
      await this.#registry.settled(name);
      fn = this.#registry.getByName(name);
    }
    return fn;
  }
}

/** Invoke's Qualifier member, as the model constrains it. */
const QUALIFIER = /^[a-zA-Z0-9$_-]{1,128}$/;

function resolveQualifier(fromName: string | undefined, fromQuery: string | undefined): string | undefined {
  if (fromQuery !== undefined && !QUALIFIER.test(fromQuery)) {
    throw ValidationException.constraint(fromQuery, 'qualifier', 'Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)');
  }
  if (fromName !== undefined && fromQuery !== undefined && fromName !== fromQuery) {
    throw new InvalidParameterValueException('The derived qualifier from the function name does not match the specified qualifier.');
  }
  return fromName ?? fromQuery;
}

function decodeClientContext(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (raw.length > CLIENT_CONTEXT_MAX) {
    throw new InvalidParameterValueException(`Client context must be at most ${CLIENT_CONTEXT_MAX} bytes of base64.`);
  }
  const text = Buffer.from(raw, 'base64').toString('utf8');
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null) throw new Error('not an object');
  } catch (err) {
    throw new InvalidRequestContentException('Client context must be a valid Base64-encoded JSON object.', { cause: err });
  }
  return text;
}
