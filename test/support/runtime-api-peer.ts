/**
 * A Runtime API 2018-06-01 peer for runtime clients under test, speaking it with node:http as the
 * host does (keep-alive, no idle timeout): it queues events for /next and records what the runtime
 * posts, streamed responses included (body chunks in arrival order, trailers).
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Posted {
  kind: string;
  headers: http.IncomingHttpHeaders;
  /** Body chunks as they arrived. */
  chunks: Buffer[];
  body: Buffer;
  trailers: NodeJS.Dict<string>;
}

/** A Runtime API 2018-06-01 peer: queues events for /next, records what the runtime posts. */
export class RuntimeApiPeer {
  readonly #server = http.createServer((req, res) => this.#route(req, res));
  readonly #queue: { requestId: string; body: string }[] = [];
  readonly #results = new Map<string, (posted: Posted) => void>();
  /** What a handler's GET /test/gate/<name> waits for before it is answered. */
  readonly gates = new Map<string, () => unknown>();
  #waitingNext: http.ServerResponse | undefined;
  /** The sockets that carried Runtime API requests (not the handlers' side channel). */
  readonly runtimeSockets = new Set<Socket>();
  /** Called with a streamed response's request as it starts (before its body is read). */
  onStream: ((req: http.IncomingMessage, posted: Posted, res: http.ServerResponse) => void) | undefined;
  address = '';

  async start(): Promise<this> {
    this.#server.keepAliveTimeout = 0; // as Kindling's own Runtime API endpoint
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    this.address = `127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  invoke(event: unknown): Promise<Posted> {
    const requestId = randomUUID();
    const posted = new Promise<Posted>((resolve) => this.#results.set(requestId, resolve));
    this.#queue.push({ requestId, body: JSON.stringify(event) });
    this.#deliver();
    return posted;
  }

  #deliver(): void {
    const res = this.#waitingNext;
    const event = this.#queue.shift();
    if (event === undefined) return;
    if (res === undefined) return void this.#queue.unshift(event);
    this.#waitingNext = undefined;
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(event.body),
      'Lambda-Runtime-Aws-Request-Id': event.requestId,
      'Lambda-Runtime-Deadline-Ms': String(Date.now() + 60_000),
      'Lambda-Runtime-Invoked-Function-Arn': 'arn:aws:lambda:us-east-1:000000000000:function:fn',
    });
    res.end(event.body);
  }

  #route(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = req.url ?? '';
    const gate = /^\/test\/gate\/(.+)$/.exec(url);
    if (gate) return void Promise.resolve(this.gates.get(gate[1]!)?.()).then(() => res.end('open'));
    this.runtimeSockets.add(req.socket);
    if (req.method === 'GET' && url === '/2018-06-01/runtime/invocation/next') {
      this.#waitingNext = res;
      res.on('close', () => this.#waitingNext === res && (this.#waitingNext = undefined));
      this.#deliver();
      return;
    }
    const match = /^\/2018-06-01\/runtime\/(?:invocation\/([^/]+)\/(response|error)|(init\/error))$/.exec(url);
    const posted: Posted = { kind: match?.[2] ?? match?.[3] ?? url, headers: req.headers, chunks: [], body: Buffer.alloc(0), trailers: {} };
    req.on('data', (chunk: Buffer) => posted.chunks.push(chunk));
    if (req.headers['lambda-runtime-function-response-mode'] === 'streaming') this.onStream?.(req, posted, res);
    req.on('end', () => {
      posted.body = Buffer.concat(posted.chunks);
      posted.trailers = req.trailers;
      if (!res.headersSent) res.writeHead(202, { 'Content-Type': 'application/json' }).end('{"status":"OK"}');
      const requestId = match?.[1] === undefined ? 'init' : decodeURIComponent(match[1]);
      this.#results.get(requestId)?.(posted);
      this.#results.delete(requestId);
    });
  }

  /** Resolves with what the runtime posts to /runtime/init/error. */
  initError(): Promise<Posted> {
    return new Promise((resolve) => this.#results.set('init', resolve));
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    this.#server.close();
    await once(this.#server, 'close');
  }
}
