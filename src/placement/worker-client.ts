import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import {
  encodeFrame,
  encodeMeta,
  FLEET_CIPHERS,
  FLEET_HEADERS,
  FLEET_INVOKE_PATH,
  FLEET_TLS_VERSION,
  KindlingError,
  serviceErrorFromWire,
  ServiceException,
  silentLogger,
  type FleetErrorBody,
  type FleetSighting,
  type Logger,
} from '../shared/index.js';
import type { FunctionRecord } from '../store/index.js';
import type { InvokeRequest, InvokeResult, ResponseSink } from '../worker/index.js';

export interface WorkerClientOptions {
  /** The cluster secret: the TLS pre-shared key every node holds. */
  readonly secret: Buffer;
  /** This node's id, sent as the PSK identity. */
  readonly nodeId: string;
  readonly logger?: Logger;
  /** A dead machine sends no RST: connecting gives up after this and the worker counts as unreachable. */
  readonly connectTimeoutMs?: number;
}

export interface WorkerInvokeOptions {
  /** No answer within this (from the call, retry included) and the invocation is lost. */
  readonly timeoutMs: number;
  /** Told what the worker's answer says of the version's environments there (for placement). */
  readonly onSighting?: (seen: FleetSighting) => void;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 1500;
/** Below the worker's keep-alive timeout (WORKER_KEEP_ALIVE_MS, 65 s): we drop idle sockets first. */
const IDLE_SOCKET_MS = 30_000;

type Attempt =
  | { readonly ok: true; readonly status: number; readonly headers: IncomingHttpHeaders; readonly body: Buffer }
  | {
      readonly ok: false;
      /** The TLS handshake finished: the request may have reached the worker. */
      readonly connected: boolean;
      readonly reused: boolean;
      /** Any byte of an answer arrived. */
      readonly responded: boolean;
      readonly timedOut: boolean;
      readonly error: Error;
    };

/**
 * The api node's end of the fleet wire (`shared/fleet-protocol.ts`): invokes on a worker over
 * keep-alive HTTPS with TLS 1.2 PSK. Failures come back as KindlingErrors placement can act on:
 * ERR_WORKER_UNREACHABLE and ERR_WORKER_DRAINING (nothing ran: try another worker) and
 * ERR_WORKER_LOST (it may have run); a worker's service errors come back as their own classes.
 */
export class WorkerClient {
  readonly #pooled: https.Agent;
  /** For the one retry after a pooled socket failed: a connection of its own, never a pooled one. */
  readonly #fresh: https.Agent;
  readonly #logger: Logger;
  readonly #connectTimeoutMs: number;
  /** Records are immutable: a warm invoke sends the JSON text made the first time. */
  readonly #records = new WeakMap<FunctionRecord, Buffer>();

  constructor(options: WorkerClientOptions) {
    const { secret, nodeId } = options;
    const tls: https.AgentOptions = {
      pskCallback: () => ({ psk: secret, identity: nodeId }),
      ciphers: FLEET_CIPHERS,
      minVersion: FLEET_TLS_VERSION,
      maxVersion: FLEET_TLS_VERSION,
      // No certificate to check: the PSK handshake only completes with a peer holding the secret.
      checkServerIdentity: () => undefined,
    };
    // The agent's timeout ends idle pooled sockets only: a socket waiting on a long invoke stays.
    this.#pooled = new https.Agent({ ...tls, keepAlive: true, timeout: IDLE_SOCKET_MS, scheduling: 'lifo' });
    this.#fresh = new https.Agent({ ...tls, keepAlive: false });
    this.#logger = options.logger ?? silentLogger;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  }

  async invoke(address: string, fn: FunctionRecord, request: InvokeRequest, options: WorkerInvokeOptions): Promise<InvokeResult> {
    const meta = encodeMeta({
      requestId: request.requestId,
      invokedFunctionArn: request.invokedFunctionArn,
      ...(request.clientContext !== undefined ? { clientContext: request.clientContext } : {}),
      tail: request.tail,
    });
    const frame = encodeFrame(meta, this.#recordText(fn), request.payload);
    const deadline = performance.now() + options.timeoutMs;
    const sink = request.stream;
    const first = await this.#send(this.#pooled, address, frame, false, options.timeoutMs, sink);
    if (first.ok) return answer(first, address, false, options.onSighting);
    if (!first.connected) throw unreachable(address, first.error);
    // A pooled socket can fail before the worker read anything (closed by the worker just as it was
    // reused). Retry once on a new connection; the worker joins the first attempt if it did arrive
    // and is running, and refuses one that already finished, so nothing runs twice.
    if (first.reused && !first.responded && !first.timedOut) {
      this.#logger.debug('fleet invoke retried on a new connection', { address, error: first.error.message });
      const second = await this.#send(this.#fresh, address, frame, true, Math.max(0, deadline - performance.now()), sink);
      // Whatever the retry met, the first attempt may have run: even "draining" (a closing worker
      // refuses the retry before it could join a first attempt that is still running).
      if (second.ok) return answer(second, address, true, options.onSighting);
      throw lost(address, second.error);
    }
    throw lost(address, first.error);
  }

  /** Closes the pooled connections. Idempotent. */
  close(): void {
    this.#pooled.destroy();
    this.#fresh.destroy();
  }

  #recordText(fn: FunctionRecord): Buffer {
    let text = this.#records.get(fn);
    if (!text) {
      text = Buffer.from(JSON.stringify(fn));
      this.#records.set(fn, text);
    }
    return text;
  }

  #send(agent: https.Agent, address: string, frame: Buffer, retry: boolean, timeoutMs: number, sink?: ResponseSink): Promise<Attempt> {
    const { host, port } = splitAddress(address);
    const headers: OutgoingHttpHeaders = { 'content-length': frame.length };
    if (retry) headers[FLEET_HEADERS.attempt] = '2';
    if (sink) headers[FLEET_HEADERS.stream] = '1';
    return new Promise((resolve) => {
      let connected = false;
      let reused = false;
      let responded = false;
      let timedOut = false;
      let connectTimer: NodeJS.Timeout | undefined;
      const settle = (attempt: Attempt): void => {
        clearTimeout(timer);
        clearTimeout(connectTimer);
        resolve(attempt);
      };
      const fail = (error: Error): void => settle({ ok: false, connected, reused, responded, timedOut, error });
      const req = https.request({ agent, host, port, method: 'POST', path: FLEET_INVOKE_PATH, headers });
      const timer = setTimeout(() => {
        timedOut = true;
        req.destroy(new Error(`no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      req.once('socket', (socket) => {
        if (req.reusedSocket) {
          connected = reused = true;
          return;
        }
        connectTimer = setTimeout(() => req.destroy(new Error(`no connection within ${this.#connectTimeoutMs} ms`)), this.#connectTimeoutMs);
        socket.once('secureConnect', () => {
          connected = true;
          clearTimeout(connectTimer);
        });
      });
      req.once('error', fail);
      req.once('response', (res) => {
        responded = true;
        const streamed = res.statusCode === 200 && sink ? res.headers[FLEET_HEADERS.stream] : undefined;
        if (typeof streamed === 'string') {
          // The function's chunks, passed on as they arrive; the result follows in trailers.
          sink!.start(streamed);
          res.on('data', (chunk: Buffer) => {
            // A reader behind holds the worker's answer, and so (TCP) the worker and its runtime.
            if (sink!.write(chunk) === false && sink!.drained) {
              res.pause();
              sink!.drained(() => res.resume());
            }
          });
          res.once('end', () => {
            const body = Buffer.from(String(res.trailers[FLEET_HEADERS.errorBody] ?? ''), 'base64');
            settle({ ok: true, status: 200, headers: { ...res.headers, ...res.trailers }, body });
          });
        } else {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            chunks.push(chunk);
            size += chunk.length;
          });
          res.once('end', () => {
            const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
            settle({ ok: true, status: res.statusCode ?? 0, headers: res.headers, body });
          });
        }
        res.once('error', fail);
        res.once('close', () => {
          if (!res.complete) fail(new Error('the connection closed mid-answer'));
        });
      });
      req.end(frame);
    });
  }
}

/** The InvokeResult of a worker's answer, or the error it stands for. */
function answer(attempt: Extract<Attempt, { ok: true }>, address: string, retry = false, onSighting?: (seen: FleetSighting) => void): InvokeResult {
  const { status, headers, body } = attempt;
  if (status === 200) {
    const log = headers[FLEET_HEADERS.log];
    const environments = headers[FLEET_HEADERS.environments];
    if (onSighting && typeof environments === 'string') onSighting({ environments: Number(environments) });
    return {
      payload: body,
      functionError: headers[FLEET_HEADERS.functionError] === '1',
      executedVersion: String(headers[FLEET_HEADERS.executedVersion] ?? ''),
      ...(headers[FLEET_HEADERS.stream] === undefined ? {} : { streamed: true }),
      ...(typeof log === 'string' ? { log: Buffer.from(log, 'base64').toString('utf8') } : {}),
    };
  }
  if (status === 503 && headers[FLEET_HEADERS.draining] === '1') {
    if (retry) throw new KindlingError('ERR_WORKER_LOST', `worker ${address} began draining while the invocation was sent`);
    throw new KindlingError('ERR_WORKER_DRAINING', `worker ${address} is draining`);
  }
  if (status === 503 && headers[FLEET_HEADERS.full] === '1') {
    if (retry) throw new KindlingError('ERR_WORKER_LOST', `worker ${address} refused the retried invocation`);
    throw new KindlingError('ERR_WORKER_FULL', `worker ${address} has no memory for another environment`);
  }
  if (status === 409 && headers[FLEET_HEADERS.replayed] === '1') {
    throw new KindlingError('ERR_WORKER_LOST', `worker ${address} ran the invocation but its answer was lost`);
  }
  const code = headers[FLEET_HEADERS.errorType];
  if (typeof code === 'string') {
    const wire = parseErrorBody(body);
    const retryAfter = Number(headers[FLEET_HEADERS.retryAfter]);
    throw serviceErrorFromWire(code, wire.message, {
      ...(wire.reason !== undefined ? { reason: wire.reason } : {}),
      ...(Number.isFinite(retryAfter) ? { retryAfterSeconds: retryAfter } : {}),
    });
  }
  throw new ServiceException(`The worker answered ${status}.`);
}

function parseErrorBody(body: Buffer): FleetErrorBody {
  try {
    const value = JSON.parse(body.toString('utf8')) as Partial<FleetErrorBody>;
    return {
      message: typeof value.message === 'string' ? value.message : 'The worker failed to run the invocation.',
      ...(typeof value.reason === 'string' ? { reason: value.reason } : {}),
    };
  } catch {
    return { message: 'The worker failed to run the invocation.' };
  }
}

function unreachable(address: string, cause: Error): KindlingError {
  return new KindlingError('ERR_WORKER_UNREACHABLE', `worker ${address} is unreachable: ${describe(cause)}`, { cause });
}

function lost(address: string, cause: Error): KindlingError {
  return new KindlingError('ERR_WORKER_LOST', `the invocation on worker ${address} got no answer: ${describe(cause)}`, { cause });
}

function describe(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code ? `${code} ${err.message}` : err.message;
}

/** `host:port`, `[v6]:port`. */
function splitAddress(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  const host = address.slice(0, at).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(address.slice(at + 1)) };
}
