import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import {
  decodeFrame,
  FLEET_CIPHERS,
  FLEET_HEADERS,
  FLEET_INVOKE_PATH,
  FLEET_TLS_VERSION,
  LambdaServiceError,
  listenOn,
  parseFunctionRecord,
  ServiceException,
  TooManyRequestsException,
  KindlingError,
  type FleetErrorBody,
  type FleetSighting,
  type Logger,
} from '../shared/index.js';
import type { FunctionRecord } from '../store/index.js';
import { FleetStreamAnswer, resultFields } from './fleet-stream.js';
import type { InvokeRequest, InvokeResult } from './invoke-types.js';

/** What runs an invocation on this worker (WorkerFleet). */
export interface WorkerRunner {
  invoke(fn: FunctionRecord, request: InvokeRequest): Promise<InvokeResult>;
}

export interface WorkerServerOptions {
  /** The cluster secret: the TLS pre-shared key every node holds. */
  readonly secret: Buffer;
  readonly runner: WorkerRunner;
  readonly logger: Logger;
  /** False while the worker drains near its lease end: invokes are refused (503) and nothing runs. */
  readonly accepting: () => boolean;
  /** The version's environments here after an invocation, sent back for placement. */
  readonly sighting?: (fn: FunctionRecord) => FleetSighting;
  /** Largest request frame; Lambda's 6 MB payload plus the record and meta fit well under the default. */
  readonly maxFrameBytes?: number;
}

/**
 * Above WorkerClient's idle-socket timeout: the client always drops an idle socket before the worker
 * would, so a pooled socket is not closed under a request being written to it.
 */
export const WORKER_KEEP_ALIVE_MS = 65_000;
const HEADERS_TIMEOUT_MS = 10_000;
/** Receiving a whole request (not running it: that can take Lambda's 15 minutes). */
const REQUEST_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_FRAME = 16 * 1024 * 1024;
/** Parsed records by their JSON text: warm invokes of a version send the same text every time. */
const RECORD_CACHE_SIZE = 256;
/** Request ids recently finished, for the client's one retry (see FLEET_HEADERS.attempt). */
const FINISHED_IDS = 4096;

/**
 * The worker's end of the fleet wire (`shared/fleet-protocol.ts`): HTTPS with TLS 1.2 PSK, so only
 * nodes holding the cluster secret can connect, drive the worker or read its payloads.
 */
export class WorkerServer {
  readonly #server: https.Server;
  readonly #runner: WorkerRunner;
  readonly #logger: Logger;
  readonly #accepting: () => boolean;
  readonly #sighting: ((fn: FunctionRecord) => FleetSighting) | undefined;
  readonly #maxFrame: number;
  readonly #records = new Map<string, FunctionRecord>();
  readonly #running = new Map<string, Promise<InvokeResult>>();
  readonly #finished = new Set<string>();
  /** Requests being handled: counted down when a response is finished or abandoned. */
  #inFlight = 0;
  #idle: (() => void) | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: WorkerServerOptions) {
    this.#runner = options.runner;
    this.#logger = options.logger;
    this.#accepting = options.accepting;
    this.#sighting = options.sighting;
    this.#maxFrame = options.maxFrameBytes ?? DEFAULT_MAX_FRAME;
    const secret = options.secret;
    this.#server = https.createServer(
      {
        // Every node holds the same key; the identity names the caller for the log only.
        pskCallback: () => secret,
        ciphers: FLEET_CIPHERS,
        minVersion: FLEET_TLS_VERSION,
        maxVersion: FLEET_TLS_VERSION,
      },
      (req, res) => this.#handle(req, res),
    );
    this.#server.keepAliveTimeout = WORKER_KEEP_ALIVE_MS;
    this.#server.headersTimeout = HEADERS_TIMEOUT_MS;
    this.#server.requestTimeout = REQUEST_TIMEOUT_MS;
    this.#server.on('tlsClientError', (err: NodeJS.ErrnoException, socket) => {
      // A wrong secret, plain HTTP, a TLS client without PSK: refused in the handshake.
      this.#logger.warn('fleet connection refused', { remote: socket.remoteAddress, code: err.code });
    });
  }

  listen(port: number, host: string): Promise<AddressInfo> {
    return listenOn(this.#server, port, host);
  }

  /** Stops listening, lets the invokes in flight answer, then closes every connection. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      this.#server.closeIdleConnections();
      if (this.#inFlight > 0) await new Promise<void>((resolve) => (this.#idle = resolve));
      this.#server.closeAllConnections();
      await closed;
    })();
    return this.#closing;
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'POST' || req.url !== FLEET_INVOKE_PATH) return answerEmpty(res, 404);
    // Refused before reading the body: the api node sends the invoke to another worker.
    if (this.#closing || !this.#accepting()) return answerEmpty(res, 503, { [FLEET_HEADERS.draining]: '1' });
    this.#inFlight++;
    res.once('close', () => {
      if (--this.#inFlight === 0) this.#idle?.();
    });
    this.#serve(req, res).catch((err: unknown) => {
      if (!res.headersSent) return this.#answerError(res, err);
      this.#logger.error('fleet invoke failed while answering', { error: String(err) });
      res.destroy();
    });
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req, this.#maxFrame);
    if (body === 'too-large') return answerEmpty(res, 413);
    if (!body) return; // the caller went away mid-request
    const frame = decodeFrame(body);
    const fn = frame && this.#record(frame.functionText);
    if (!frame || !fn) return answerEmpty(res, 400);
    const { requestId } = frame.meta;
    // A streamed answer goes out as the function writes it: a retry cannot join a run whose chunks
    // went to the first attempt's (lost) connection.
    const stream = req.headers[FLEET_HEADERS.stream] === '1' ? new FleetStreamAnswer(res) : undefined;
    let run: Promise<InvokeResult> | undefined;
    if (req.headers[FLEET_HEADERS.attempt] === '2') {
      // The client's retry after its socket failed: join the first attempt if it is running here,
      // and refuse to run a finished one a second time (the client reports it lost).
      run = stream ? undefined : this.#running.get(requestId);
      if (run) this.#logger.debug('fleet retry joined the invoke running', { requestId });
      else if (this.#finished.has(requestId) || this.#running.has(requestId)) return answerEmpty(res, 409, { [FLEET_HEADERS.replayed]: '1' });
    }
    run ??= this.#start(fn, { ...frame.meta, payload: frame.payload, ...(stream ? { stream } : {}) });
    let result: InvokeResult;
    try {
      result = await run;
    } catch (err) {
      // Mid-stream the answer cannot change its status: cut, the api node reports the invocation lost.
      if (res.headersSent) throw err;
      return this.#answerError(res, err);
    }
    const environments = this.#sighting?.(fn).environments;
    if (stream?.started) return stream.end(result, environments);
    res.writeHead(200, { 'content-length': result.payload.length, ...resultFields(result, environments) });
    res.end(result.payload);
  }

  #start(fn: FunctionRecord, request: InvokeRequest): Promise<InvokeResult> {
    let run: Promise<InvokeResult>;
    try {
      run = this.#runner.invoke(fn, request);
    } catch (err) {
      // WorkerFleet refuses some invokes synchronously (a sandbox driver no longer allowed).
      run = Promise.reject(err);
    }
    const id = request.requestId;
    this.#running.set(id, run);
    const settle = (ran: boolean): void => {
      if (this.#running.get(id) === run) this.#running.delete(id);
      if (!ran) return;
      this.#finished.delete(id);
      this.#finished.add(id);
      if (this.#finished.size > FINISHED_IDS) this.#finished.delete(this.#finished.values().next().value as string);
    };
    // A service error (a throttle, a refused driver) means the function did not run: a retry may run it.
    run.then(
      () => settle(true),
      (err: unknown) => settle(!(err instanceof LambdaServiceError)),
    );
    return run;
  }

  #record(text: string): FunctionRecord | undefined {
    const cached = this.#records.get(text);
    if (cached) return cached;
    const fn = parseFunctionRecord(text);
    if (!fn) return undefined;
    if (this.#records.size >= RECORD_CACHE_SIZE) this.#records.delete(this.#records.keys().next().value as string);
    this.#records.set(text, fn);
    return fn;
  }

  #answerError(res: ServerResponse, err: unknown): void {
    // No memory for another environment: nothing ran, the api node places it on another worker.
    if (err instanceof KindlingError && err.code === 'ERR_WORKER_FULL') return answerEmpty(res, 503, { [FLEET_HEADERS.full]: '1' });
    let error: LambdaServiceError;
    if (err instanceof LambdaServiceError) {
      error = err;
    } else {
      // The api node learns only that the worker failed; the detail stays in this worker's log.
      this.#logger.error('fleet invoke failed on the worker', { error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      error = new ServiceException('The worker failed to run the invocation.');
    }
    const body: FleetErrorBody = {
      message: error.message,
      ...(error instanceof TooManyRequestsException ? { reason: error.reason } : {}),
    };
    const text = Buffer.from(JSON.stringify(body));
    const headers: OutgoingHttpHeaders = {
      ...lowerKeys(error.extraHeaders()),
      'content-type': 'application/json',
      'content-length': text.length,
      [FLEET_HEADERS.errorType]: error.code,
    };
    res.writeHead(error.status, headers);
    res.end(text);
  }
}

function answerEmpty(res: ServerResponse, status: number, headers: OutgoingHttpHeaders = {}): void {
  res.writeHead(status, { ...headers, 'content-length': 0 });
  res.end();
}

function lowerKeys(headers: Record<string, string>): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v;
  return out;
}

/** The request body; 'too-large' past the limit; undefined if the caller went away. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large' | undefined> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) return Promise.resolve('too-large');
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        resolve('too-large');
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    req.once('error', () => resolve(undefined));
    req.once('close', () => {
      if (!req.complete) resolve(undefined);
    });
  });
}
