import { chmodSync, chownSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { ExtensionsApi } from './extensions-api.js';
import { MAX_RESPONSE_BYTES, tooLarge, type Invocation, type RuntimeOutcome, type StreamSink } from './invocation.js';
import { loopbackPeerUid } from './peer-uid.js';
import { headerValue, normalizeError, readBody, reply } from './runtime-http.js';
import { isStreamingResponse, readStreamedResponse } from './streamed-response.js';

const PREFIX = '/2018-06-01/runtime/';
const NEXT = `${PREFIX}invocation/next`;
const INIT_ERROR = `${PREFIX}init/error`;
const INVOCATION = `${PREFIX}invocation/`;

export interface InitFailure {
  readonly errorType: string;
  readonly payload: Buffer;
}

export interface EndpointEvents {
  /** The runtime asked for work: its Init is over (the first time) or it is idle again. */
  onNext(): void;
  onInitError(failure: InitFailure): void;
}

interface InFlight {
  readonly invocation: Invocation;
  readonly resolve: (outcome: RuntimeOutcome) => void;
  /** Where a streamed response goes as it arrives (InvokeWithResponseStream, streaming URLs). */
  readonly sink: StreamSink | undefined;
  /** A /response or /error for it has begun: an invocation is answered once (a second is refused). */
  answering?: boolean;
}

const SOCKET_NAME = 'runtime-api.sock';

/**
 * The Runtime API (2018-06-01) of ONE execution environment: the environment sees only its own
 * invocations because no other invocation ever reaches this server, and nothing but the
 * environment reaches it. It listens on a unix socket in a directory of its own (mkdtemp: 0700,
 * the server's user), never on a TCP port anyone could dial: the sandbox driver binds the socket
 * in, bridges to it as the sandbox's uid (grant), or, for a sandbox on the host's network, asks
 * for a loopback port that serves one uid only.
 */
export class RuntimeApiEndpoint {
  readonly #server: Server;
  readonly #events: EndpointEvents;
  #waiting: ServerResponse | undefined;
  #queued: Invocation | undefined;
  #inFlight: InFlight | undefined;
  #dir: string | undefined;
  #loopback: net.Server | undefined;
  #extensions: ExtensionsApi | undefined;

  constructor(events: EndpointEvents) {
    this.#events = events;
    this.#server = createServer((req, res) => this.#route(req, res));
    // `/next` is a long poll and a handler may run for 15 minutes between two requests on the
    // runtime's keep-alive connection: no server-side timeouts.
    this.#server.keepAliveTimeout = 0;
    this.#server.requestTimeout = 0;
    this.#server.headersTimeout = 0;
  }

  /** Listens on a socket in a new private directory under `baseDir`; returns the socket's path. */
  async listen(baseDir: string): Promise<string> {
    const dir = mkdtempSync(join(baseDir, 'kindling-rtapi-'));
    this.#dir = dir;
    const path = join(dir, SOCKET_NAME);
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(path, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    // Connecting takes write permission on the socket, and the sandbox's uid is not the server's:
    // the directory (0700) is what keeps everyone else out.
    chmodSync(path, 0o666);
    return path;
  }

  get socketPath(): string {
    if (this.#dir === undefined) throw new Error('the Runtime API endpoint is not listening');
    return join(this.#dir, SOCKET_NAME);
  }

  /** Hands the socket's directory to `uid` (still 0700): that uid's bridge may connect, nobody else. */
  grant(uid: number): void {
    if (this.#dir === undefined) throw new Error('the Runtime API endpoint is not listening');
    chownSync(this.#dir, uid, uid);
  }

  /**
   * A loopback TCP port for a sandbox on the host's network, serving only processes of `uid`. The
   * check reads the kernel's socket table once per connection (a runtime keeps one keep-alive
   * connection), before the HTTP server sees a byte; a connection from anyone else is closed.
   */
  async loopbackPort(uid: number): Promise<number> {
    const loopback = net.createServer({ noDelay: true }, (socket) => {
      const port = (loopback.address() as AddressInfo).port;
      if (socket.remoteAddress !== '127.0.0.1' || loopbackPeerUid(port, socket.remotePort ?? 0) !== uid) {
        socket.destroy();
        return;
      }
      this.#server.emit('connection', socket);
    });
    this.#loopback = loopback;
    await new Promise<void>((resolve, reject) => {
      loopback.once('error', reject);
      loopback.listen(0, '127.0.0.1', () => {
        loopback.off('error', reject);
        resolve();
      });
    });
    return (loopback.address() as AddressInfo).port;
  }

  /**
   * Hands an invocation to the runtime; settles with what the runtime answers. A streamed response
   * goes to `sink` as it arrives, if there is one, else it is gathered and answered whole.
   */
  deliver(invocation: Invocation, sink?: StreamSink): Promise<RuntimeOutcome> {
    return new Promise((resolve) => {
      this.#inFlight = { invocation, resolve, sink };
      const waiting = this.#waiting;
      if (waiting) {
        this.#waiting = undefined;
        this.#send(waiting, invocation);
      } else {
        this.#queued = invocation;
      }
    });
  }

  /** Forgets the invocation in flight (after a timeout or crash); late answers are refused. */
  abandon(): void {
    this.#inFlight = undefined;
    this.#queued = undefined;
  }

  close(): void {
    this.#waiting?.destroy();
    this.#waiting = undefined;
    this.#server.closeAllConnections();
    this.#server.close();
    this.#loopback?.close();
    if (this.#dir !== undefined) rmSync(this.#dir, { recursive: true, force: true });
  }

  #send(res: ServerResponse, invocation: Invocation): void {
    const headers: Record<string, string | number> = {
      'Content-Type': 'application/json',
      'Content-Length': invocation.payload.length,
      'Lambda-Runtime-Aws-Request-Id': invocation.requestId,
      'Lambda-Runtime-Deadline-Ms': invocation.deadlineMs,
      'Lambda-Runtime-Invoked-Function-Arn': invocation.invokedFunctionArn,
      'Lambda-Runtime-Trace-Id': invocation.traceId,
    };
    if (invocation.clientContext !== undefined) headers['Lambda-Runtime-Client-Context'] = invocation.clientContext;
    res.writeHead(200, headers);
    res.end(invocation.payload);
  }

  /** Serves the Extensions API on the same address, when the environment has extensions. */
  useExtensions(extensions: ExtensionsApi): void {
    this.#extensions = extensions;
  }

  #route(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '';
    if (this.#extensions?.handle(req, res, url)) return;
    if (req.method === 'GET' && url === NEXT) return this.#next(res);
    if (req.method === 'POST' && url === INIT_ERROR) return this.#initError(req, res);
    if (req.method === 'POST' && url.startsWith(INVOCATION)) {
      const rest = url.slice(INVOCATION.length);
      const slash = rest.indexOf('/');
      const id = rest.slice(0, slash);
      const action = rest.slice(slash + 1);
      if (slash > 0 && (action === 'response' || action === 'error')) return this.#answer(req, res, id, action);
    }
    reply(res, 404, { errorMessage: `Unknown Runtime API path: ${req.method} ${url}`, errorType: 'InvalidRequest' });
  }

  #next(res: ServerResponse): void {
    if (this.#waiting) {
      // One runtime, one /next at a time (as Lambda): a second concurrent poll replaces the first.
      this.#waiting.destroy();
    }
    const queued = this.#queued;
    if (queued) {
      this.#queued = undefined;
      this.#send(res, queued);
    } else {
      this.#waiting = res;
      res.once('close', () => {
        if (this.#waiting === res) this.#waiting = undefined;
      });
    }
    this.#events.onNext();
  }

  #initError(req: IncomingMessage, res: ServerResponse): void {
    readBody(req, MAX_RESPONSE_BYTES, (body) => {
      const errorType = headerValue(req, 'lambda-runtime-function-error-type') ?? 'Runtime.Unknown';
      reply(res, 202, { status: 'OK' });
      this.#events.onInitError({ errorType, payload: normalizeError(errorType, body) });
    });
  }

  #answer(req: IncomingMessage, res: ServerResponse, id: string, action: 'response' | 'error'): void {
    const current = this.#inFlight;
    if (!current || current.invocation.requestId !== id || current.answering) {
      req.resume();
      reply(res, 400, { errorMessage: `Invalid request ID: ${id}`, errorType: 'InvalidRequestID' });
      return;
    }
    current.answering = true;
    if (action === 'response' && isStreamingResponse(req)) {
      readStreamedResponse(req, res, {
        sink: current.sink,
        live: () => this.#inFlight === current,
        settle: (outcome) => {
          if (this.#inFlight !== current) return;
          this.#inFlight = undefined;
          current.resolve(outcome);
        },
      });
      return;
    }
    readBody(req, MAX_RESPONSE_BYTES, (body) => {
      if (this.#inFlight !== current) {
        reply(res, 400, { errorMessage: `Invalid request ID: ${id}`, errorType: 'InvalidRequestID' });
        return;
      }
      this.#inFlight = undefined;
      if (body === undefined) {
        reply(res, 413, { errorMessage: 'Exceeded maximum allowed payload size', errorType: 'RequestEntityTooLarge' });
        current.resolve(tooLarge(MAX_RESPONSE_BYTES, false));
        return;
      }
      reply(res, 202, { status: 'OK' });
      if (action === 'response') {
        current.resolve({ kind: 'response', payload: body });
      } else {
        const errorType = headerValue(req, 'lambda-runtime-function-error-type') ?? 'Unhandled';
        current.resolve({ kind: 'error', errorType, payload: normalizeError(errorType, body) });
      }
    });
  }
}
