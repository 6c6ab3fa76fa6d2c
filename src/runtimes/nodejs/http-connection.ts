/**
 * A minimal HTTP/1.1 client over one keep-alive connection (TCP, or the environment's unix socket),
 * for the Runtime API.
 *
 * Why not node:http: a runtime makes two requests per invocation (the answer, then the next /next)
 * and most environments are too little used for V8 to optimise http's many layers; measured on the
 * invoke benchmark at concurrency 32, node:http in the runtime cost about half the machine's CPU.
 * This speaks just what the Runtime API needs: one request at a time, Content-Length or chunked
 * bodies (both ways: a streamed response is posted chunked, with trailers), keep-alive.
 */
import net from 'node:net';

export interface RawResponse {
  readonly status: number;
  /** Header names in lower case; a repeated header keeps its first value. */
  readonly headers: ReadonlyMap<string, string>;
  readonly body: Buffer;
}

const HEADER_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');

interface Pending {
  readonly resolve: (response: RawResponse) => void;
  readonly reject: (error: Error) => void;
  received: boolean;
}

/** A request whose body is sent as it comes (Transfer-Encoding: chunked). */
export interface ChunkedRequest {
  /** Sends one chunk; false when the socket's buffer is full: wait for `onDrain` before more. */
  write(chunk: Buffer): boolean;
  onDrain(listener: () => void): void;
  /** Sends the last chunk and `trailers` (complete header lines, each ending in CRLF). */
  end(trailers?: string): void;
  /** Whether `end` was called: nothing more can be sent. */
  readonly ended: boolean;
  /** The server's answer; it may come before the body ends (the connection is then closed). */
  readonly response: Promise<RawResponse>;
}

export class HttpConnectionError extends Error {
  constructor(
    message: string,
    /** True when the request may be sent again: nothing of an answer arrived. */
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HttpConnectionError';
  }
}

export class HttpConnection {
  readonly #host: string;
  readonly #port: number;
  /** The unix socket to use instead of TCP; dropped if it cannot be reached (TCP then). */
  #socketPath: string | undefined;
  readonly #hostHeader: string;
  #socket: net.Socket | undefined;
  #buffer: Buffer = Buffer.alloc(0);
  #pending: Pending | undefined;
  /** Whether the socket has carried a request before (a server may have closed it meanwhile). */
  #reused = false;
  /** A chunked request's body is still being sent: an answer before its end leaves the socket unusable. */
  #bodyOpen = false;

  /** With `socketPath`, connects there; `host` and `port` then only name the server (Host header). */
  constructor(host: string, port: number, socketPath?: string) {
    this.#host = host;
    this.#port = port;
    this.#socketPath = socketPath;
    this.#hostHeader = `Host: ${host}:${port}\r\n`;
  }

  /**
   * Sends one request and resolves with the whole response. `extraHeaders` are complete header
   * lines (each ending in CRLF); Host and Content-Length are added here.
   */
  request(method: string, path: string, extraHeaders: string, body?: Buffer | string): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      const socket = this.#begin(resolve, reject);
      if (socket === undefined) return;
      const length = body === undefined ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.length;
      const head =
        `${method} ${path} HTTP/1.1\r\n${this.#hostHeader}${extraHeaders}` +
        (method === 'GET' ? '\r\n' : `Content-Length: ${length}\r\n\r\n`);
      if (body === undefined || length === 0) {
        socket.write(head);
      } else if (typeof body === 'string' && length < 65536) {
        socket.write(head + body);
      } else {
        socket.cork();
        socket.write(head);
        socket.write(body);
        socket.uncork();
      }
    });
  }

  /**
   * Sends the head of a request whose body follows in chunks; `extraHeaders` as for `request`
   * (Transfer-Encoding is added here). Chunks written after the server answered are dropped.
   */
  openChunked(method: string, path: string, extraHeaders: string): ChunkedRequest {
    let socket: net.Socket | undefined;
    const response = new Promise<RawResponse>((resolve, reject) => (socket = this.#begin(resolve, reject)));
    let ended = socket === undefined;
    let answered = ended;
    const settled = (): void => {
      answered = true;
    };
    response.then(settled, settled);
    if (socket !== undefined) {
      this.#bodyOpen = true;
      socket.write(`${method} ${path} HTTP/1.1\r\n${this.#hostHeader}${extraHeaders}Transfer-Encoding: chunked\r\n\r\n`);
    }
    return {
      response,
      get ended() {
        return ended;
      },
      write(chunk) {
        // A zero-length chunk would end the body.
        if (ended || answered || chunk.length === 0 || socket!.destroyed) return true;
        socket!.cork();
        socket!.write(`${chunk.length.toString(16)}\r\n`);
        socket!.write(chunk);
        const flushed = socket!.write(CRLF);
        socket!.uncork();
        return flushed;
      },
      onDrain(listener) {
        if (ended || answered || socket!.destroyed) listener();
        else socket!.once('drain', listener);
      },
      end: (trailers = '') => {
        if (ended) return;
        ended = true;
        if (answered || socket!.destroyed) return;
        this.#bodyOpen = false;
        socket!.write(`0\r\n${trailers}\r\n`);
      },
    };
  }

  /** Keeps the process alive on this connection until its next answer (a request is due on it). */
  hold(): void {
    this.#connect().ref();
  }

  /**
   * Opens the connection ahead of the first request (a pre-started runtime, while it waits);
   * settles once it is open or has failed (the first request then reports the failure).
   */
  connect(): Promise<void> {
    const socket = this.#connect();
    return new Promise((resolve) => {
      socket.once('connect', () => resolve());
      socket.once('error', () => resolve());
    });
  }

  close(): void {
    this.#socket?.destroy();
    this.#socket = undefined;
  }

  /** Takes the connection for one request; undefined (and `reject` called) while another is out. */
  #begin(resolve: Pending['resolve'], reject: Pending['reject']): net.Socket | undefined {
    if (this.#pending) {
      reject(new HttpConnectionError('one Runtime API request at a time', false));
      return undefined;
    }
    const socket = this.#connect();
    this.#pending = { resolve, reject, received: false };
    socket.ref();
    return socket;
  }

  #connect(): net.Socket {
    if (this.#socket && !this.#socket.destroyed) {
      this.#reused = true;
      return this.#socket;
    }
    this.#reused = false;
    this.#buffer = Buffer.alloc(0);
    const socket = this.#socketPath === undefined ? net.connect(this.#port, this.#host) : net.connect(this.#socketPath);
    if (this.#socketPath === undefined) socket.setNoDelay(true);
    let connected = false;
    socket.once('connect', () => (connected = true));
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (err) => this.#fail(socket, err, connected));
    socket.on('close', () => this.#fail(socket, new Error('the Runtime API closed the connection'), connected));
    this.#socket = socket;
    return socket;
  }

  #fail(socket: net.Socket, cause: Error, connected: boolean): void {
    if (this.#socket !== socket) return;
    this.#socket = undefined;
    this.#bodyOpen = false;
    const pending = this.#pending;
    this.#pending = undefined;
    // The unix socket is a shortcut: when it cannot be reached, the request goes again over TCP.
    const fallBack = !connected && this.#socketPath !== undefined;
    if (fallBack) this.#socketPath = undefined;
    pending?.reject(new HttpConnectionError(cause.message, fallBack || (this.#reused && !pending.received), { cause }));
  }

  #onData(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    if (this.#pending) this.#pending.received = true;
    const response = this.#parse();
    if (!response) return;
    const pending = this.#pending;
    this.#pending = undefined;
    // Between requests the idle connection must not keep the process alive: Lambda's
    // callbackWaitsForEmptyEventLoop waits for the event loop to empty.
    this.#socket?.unref();
    // Answered before its body ended: the server has the rest of it to skip, so the socket goes.
    if (response.headers.get('connection') === 'close' || this.#bodyOpen) this.close();
    this.#bodyOpen = false;
    pending?.resolve(response);
  }

  /** A whole response from the buffer, or undefined when more bytes are needed. */
  #parse(): RawResponse | undefined {
    const buffer = this.#buffer;
    const headerEnd = buffer.indexOf(HEADER_END);
    if (headerEnd === -1) return undefined;
    const lines = buffer.toString('latin1', 0, headerEnd).split('\r\n');
    const status = Number(lines[0]!.slice(9, 12));
    const headers = new Map<string, string>();
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).toLowerCase();
      if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
    }
    const start = headerEnd + HEADER_END.length;
    let body: Buffer;
    let end: number;
    if (headers.get('transfer-encoding')?.toLowerCase() === 'chunked') {
      const chunked = readChunked(buffer, start);
      if (!chunked) return undefined;
      ({ body, end } = chunked);
    } else {
      const length = status === 204 || status === 304 ? 0 : Number(headers.get('content-length') ?? 0);
      end = start + length;
      if (buffer.length < end) return undefined;
      body = buffer.subarray(start, end);
    }
    this.#buffer = buffer.length === end ? Buffer.alloc(0) : buffer.subarray(end);
    return { status, headers, body };
  }
}

/** A chunked body starting at `start`, or undefined while incomplete. Trailers are skipped. */
function readChunked(buffer: Buffer, start: number): { body: Buffer; end: number } | undefined {
  const parts: Buffer[] = [];
  let at = start;
  for (;;) {
    const lineEnd = buffer.indexOf(CRLF, at);
    if (lineEnd === -1) return undefined;
    const size = parseInt(buffer.toString('latin1', at, lineEnd), 16);
    at = lineEnd + 2;
    if (size === 0) {
      // Optional trailers, then a blank line.
      const blank = buffer.indexOf(HEADER_END, at - 2);
      if (blank === -1) return undefined;
      return { body: Buffer.concat(parts), end: blank + HEADER_END.length };
    }
    if (buffer.length < at + size + 2) return undefined;
    parts.push(buffer.subarray(at, at + size));
    at += size + 2;
  }
}
