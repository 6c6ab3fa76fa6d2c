import type { FunctionRecord } from '../store/index.js';
import type { FunctionRegistry } from '../control-plane/index.js';
import {
  InvalidParameterValueException,
  InvalidRequestContentException,
  ResourceNotFoundException,
  ValidationException,
  functionArn,
  newRequestId,
  parseFunctionRef,
  type Partition,
} from '../shared/index.js';
import type { WorkerFleet } from '../worker/index.js';

/** Lambda's limit on X-Amz-Client-Context (base64). */
const CLIENT_CONTEXT_MAX = 3583;
const EMPTY_EVENT = Buffer.from('{}');

export interface InvokeInput {
  /** The id the API gave the request; it becomes the invocation's request id. */
  readonly requestId?: string;
  /** The `{FunctionName}` path segment, decoded: name, ARN or partial ARN, maybe qualified. */
  readonly functionName: string;
  readonly qualifier?: string;
  readonly invocationType?: string;
  readonly logType?: string;
  /** X-Amz-Client-Context as sent: base64 of a JSON object. */
  readonly clientContext?: string;
  readonly payload: Buffer;
}

export interface InvokeOutput {
  readonly status: 200 | 202 | 204;
  readonly requestId: string;
  readonly payload?: Buffer;
  readonly functionError?: 'Unhandled';
  /** Base64 of the last 4 KB of the log (X-Amz-Log-Result). */
  readonly logResult?: string;
  readonly executedVersion?: string;
}

/** The data plane's front: resolves the function and hands the request to the worker fleet. */
export class InvokeService {
  readonly #registry: FunctionRegistry;
  readonly #fleet: WorkerFleet;
  readonly #partition: Partition;

  constructor(deps: { registry: FunctionRegistry; fleet: WorkerFleet; partition: Partition }) {
    this.#registry = deps.registry;
    this.#fleet = deps.fleet;
    this.#partition = deps.partition;
  }

  async invoke(input: InvokeInput): Promise<InvokeOutput> {
    const ref = parseFunctionRef(input.functionName, this.#partition);
    const qualifier = resolveQualifier(ref.qualifier, input.qualifier);
    const fn = await this.#resolve(ref.name, qualifier);
    const requestId = input.requestId ?? newRequestId();

    const type = input.invocationType ?? 'RequestResponse';
    if (type === 'DryRun') return { status: 204, requestId };
    if (type === 'Event') {
      throw new InvalidParameterValueException(
        'Event invocations are not available in this Kindling build yet: invoke with InvocationType RequestResponse.',
      );
    }
    if (type !== 'RequestResponse') {
      throw ValidationException.constraint(type, 'invocationType', 'Member must satisfy enum value set: [Event, RequestResponse, DryRun]');
    }
    const logType = input.logType ?? 'None';
    if (logType !== 'None' && logType !== 'Tail') {
      throw ValidationException.constraint(logType, 'logType', 'Member must satisfy enum value set: [None, Tail]');
    }
    const payload = checkPayload(input.payload);
    const clientContext = decodeClientContext(input.clientContext);

    const result = await this.#fleet.invoke(fn, {
      requestId,
      payload,
      invokedFunctionArn: functionArn(this.#partition, fn.name, qualifier),
      tail: logType === 'Tail',
      ...(clientContext === undefined ? {} : { clientContext }),
    });
    return {
      status: 200,
      requestId,
      payload: result.payload,
      executedVersion: result.executedVersion,
      ...(result.functionError ? { functionError: 'Unhandled' as const } : {}),
      ...(result.log === undefined ? {} : { logResult: Buffer.from(result.log).toString('base64') }),
    };
  }

  async #resolve(name: string, qualifier: string | undefined): Promise<FunctionRecord> {
    let fn = this.#registry.find(name);
    if (!fn || (qualifier !== undefined && qualifier !== '$LATEST')) {
      throw new ResourceNotFoundException(`Function not found: ${functionArn(this.#partition, name, qualifier)}`);
    }
    if (fn.state === 'Pending') {
      // Created a moment ago: Kindling has the code ready, the state flips on the next tick.
      await this.#registry.settled(name);
      fn = this.#registry.getByName(name);
    }
    return fn;
  }
}

function resolveQualifier(fromName: string | undefined, fromQuery: string | undefined): string | undefined {
  if (fromName !== undefined && fromQuery !== undefined && fromName !== fromQuery) {
    throw new InvalidParameterValueException('The derived qualifier from the function name does not match the specified qualifier.');
  }
  return fromName ?? fromQuery;
}

/** Lambda takes only JSON events; an empty body is the empty object. */
function checkPayload(payload: Buffer): Buffer {
  if (payload.length === 0) return EMPTY_EVENT;
  try {
    JSON.parse(payload.toString('utf8'));
  } catch (err) {
    throw new InvalidRequestContentException(`Could not parse request body into json: Could not parse payload into json: ${(err as Error).message}`, { cause: err });
  }
  return payload;
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
