/**
 * The wire between an api node (WorkerClient, `placement/`) and a worker node (WorkerServer,
 * `worker/`): a shape file both ends import, so `worker/` never imports `placement/`.
 *
 * `POST /fleet/v1/invoke` over HTTPS with TLS 1.2 PSK: the pre-shared key is the cluster secret and
 * the identity the calling node's id, so both ends authenticate each other with no certificates.
 *
 * Body frame:
 *   u32 BE  M   length of the request meta
 *   M bytes     JSON {requestId, invokedFunctionArn, clientContext?, tail}
 *   u32 BE  F   length of the function record
 *   F bytes     JSON FunctionRecord (its own section, so the worker can cache the parsed record by its text)
 *   the rest    the payload, as the caller sent it (never parsed: binary-safe)
 *
 * Response 200: the body is the result's payload; headers below carry the rest of the InvokeResult.
 * A LambdaServiceError: its status, `x-amzn-errortype: <code>`, JSON `{message, reason?}`, Retry-After.
 */
import type { FunctionRecord } from '../store/index.js';

export const FLEET_INVOKE_PATH = '/fleet/v1/invoke';

/**
 * A node whose heartbeat is older than this is out of routing (placement's NodeDirectory) and shows
 * as down (`kindling cluster ls`). Heartbeats come every second; the issue asks for at most 5 s.
 */
export const NODE_DEAD_AFTER_MS = 3000;

/** TLS 1.2 PSK suites (TLS 1.3 resumption-style PSK is a different mechanism Node does not expose). */
export const FLEET_CIPHERS = 'PSK-AES128-GCM-SHA256:PSK-AES256-GCM-SHA384';
export const FLEET_TLS_VERSION = 'TLSv1.2';

export const FLEET_HEADERS = {
  /** On 503: the worker is draining (near its lease end) and ran nothing. */
  draining: 'x-kindling-draining',
  functionError: 'x-kindling-function-error',
  executedVersion: 'x-kindling-executed-version',
  /** Base64 of the invocation's log (when `tail` was asked for). */
  log: 'x-kindling-log',
  errorType: 'x-amzn-errortype',
  retryAfter: 'retry-after',
  /**
   * `2` on the one retry a client makes after a reused keep-alive socket failed before any answer:
   * the worker joins a run of that request id still in flight, and refuses (409 + `replayed`) one it
   * already finished, instead of running it twice.
   */
  attempt: 'x-kindling-attempt',
  replayed: 'x-kindling-replayed',
  /** On 503: the worker has no memory for another environment and ran nothing (try another). */
  full: 'x-kindling-full',
  /** On 200: the version's environments on the worker after this invocation (placement's sighting). */
  environments: 'x-kindling-environments',
  /**
   * On a request, `1`: the caller streams the response (InvokeWithResponseStream, a streaming URL).
   * On the answer, the Content-Type the function streams with: the body is the function's chunks as
   * written, and the result's fields come after it as trailers (these names, plus `errorBody`).
   */
  stream: 'x-kindling-stream',
  /** Trailer of a streamed answer: base64 of the error body, when the function failed. */
  errorBody: 'x-kindling-error-body',
} as const;

/** A worker's environments of one version, as its answer says (fresher than its heartbeat). */
export interface FleetSighting {
  readonly environments: number;
}

/** The request fields of the frame besides the function record and the payload. */
export interface FleetInvokeMeta {
  readonly requestId: string;
  readonly invokedFunctionArn: string;
  readonly clientContext?: string;
  readonly tail: boolean;
}

/** The error body a worker sends (the client rebuilds the class from `x-amzn-errortype`). */
export interface FleetErrorBody {
  readonly message: string;
  readonly reason?: string;
}

export interface DecodedFrame {
  readonly meta: FleetInvokeMeta;
  /** The function record's JSON text (the worker's cache key). */
  readonly functionText: string;
  /** A view into the body, not a copy. */
  readonly payload: Buffer;
}

/** One allocation, one copy of the payload: meta and record sections, then the payload. */
export function encodeFrame(meta: Buffer, fn: Buffer, payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(8 + meta.length + fn.length + payload.length);
  let at = frame.writeUInt32BE(meta.length, 0);
  at += meta.copy(frame, at);
  at = frame.writeUInt32BE(fn.length, at);
  at += fn.copy(frame, at);
  payload.copy(frame, at);
  return frame;
}

/** The JSON text of a request's meta (the function record is a section of its own). */
export function encodeMeta(meta: FleetInvokeMeta): Buffer {
  return Buffer.from(JSON.stringify(meta));
}

/** The frame's parts, or undefined when it is malformed (lengths past the end, meta not the right shape). */
export function decodeFrame(body: Buffer): DecodedFrame | undefined {
  if (body.length < 4) return undefined;
  const metaEnd = 4 + body.readUInt32BE(0);
  if (metaEnd + 4 > body.length) return undefined;
  const fnEnd = metaEnd + 4 + body.readUInt32BE(metaEnd);
  if (fnEnd > body.length) return undefined;
  let meta: unknown;
  try {
    meta = JSON.parse(body.toString('utf8', 4, metaEnd));
  } catch {
    return undefined;
  }
  if (!isMeta(meta)) return undefined;
  return { meta, functionText: body.toString('utf8', metaEnd + 4, fnEnd), payload: body.subarray(fnEnd) };
}

function isMeta(value: unknown): value is FleetInvokeMeta {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Record<string, unknown>;
  return (
    typeof m['requestId'] === 'string' &&
    typeof m['invokedFunctionArn'] === 'string' &&
    typeof m['tail'] === 'boolean' &&
    (m['clientContext'] === undefined || typeof m['clientContext'] === 'string')
  );
}

/** A parsed function record, or undefined when the text is not one (checked as far as the worker relies on it). */
export function parseFunctionRecord(text: string): FunctionRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const r = value as Record<string, unknown>;
  const ok =
    typeof r['name'] === 'string' &&
    typeof r['codeKey'] === 'string' &&
    typeof r['packageType'] === 'string' &&
    typeof r['tags'] === 'object' &&
    r['tags'] !== null &&
    typeof r['environment'] === 'object' &&
    r['environment'] !== null;
  return ok ? (value as FunctionRecord) : undefined;
}

/** A worker's environments of one function version, as placement sees them. */
export interface PoolInventory {
  /** The function record's revision the environments run. */
  readonly revisionId: string;
  readonly environments: number;
  readonly idle: number;
  readonly provisionedReady: number;
  /** MemorySize of the function, per environment. */
  readonly memoryMb: number;
}

/** What a worker runs, keyed by `name:version`: the inventory in its heartbeat (NodeRecord.inventory, JSON), placement's input. */
export interface WorkerInventory {
  readonly pools: Readonly<Record<string, PoolInventory>>;
  /** Memory its environments take (MemorySize each), in MB. */
  readonly memoryUsedMb: number;
  /** Invocations running on it now. */
  readonly busy: number;
}
