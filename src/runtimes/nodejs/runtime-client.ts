/**
 * HTTP client for the Lambda Runtime API (2018-06-01) at AWS_LAMBDA_RUNTIME_API.
 * One keep-alive connection carries every call: /next and the post that answers it never overlap.
 */
import { HttpConnection, HttpConnectionError, type ChunkedRequest, type RawResponse } from './http-connection.js';

export interface NextInvocation {
  requestId: string;
  /** Raw event JSON, parsed once by the runtime. */
  body: string;
  deadlineMs: number;
  invokedFunctionArn: string;
  traceId: string | undefined;
  clientContext: string | undefined;
  cognitoIdentity: string | undefined;
  tenantId: string | undefined;
}

export class RuntimeApiError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RuntimeApiError';
  }
}

const ERROR_TYPE_HEADER = 'Lambda-Runtime-Function-Error-Type';
const ERROR_BODY_TRAILER = 'Lambda-Runtime-Function-Error-Body';
const JSON_HEADERS = 'Content-Type: application/json\r\n';
/** What Lambda's runtime sends ahead of a streamed response; the error trailers are declared up front. */
const STREAMING_HEADERS =
  `Lambda-Runtime-Function-Response-Mode: streaming\r\nTrailer: ${ERROR_TYPE_HEADER}, ${ERROR_BODY_TRAILER}\r\n`;

/** Header values may not hold control characters; an error name could (it is user data). */
function headerSafe(value: string): string {
  return value.replace(/[^\t\x20-\x7e\x80-\xff]/g, '');
}

/** A streamed response's error: its type, and the JSON error body in base64, as trailers. */
export function errorTrailers(errorType: string, body: string): string {
  return `${ERROR_TYPE_HEADER}: ${headerSafe(errorType)}\r\n${ERROR_BODY_TRAILER}: ${Buffer.from(body).toString('base64')}\r\n`;
}

/**
 * Kindling's sandboxes name the environment's unix socket here (src/sandbox/runtime-api-bridge.ts):
 * the same Runtime API without the TCP bridge. Not a Lambda variable, so it is taken out of the
 * environment before the handler loads.
 */
const SOCKET_VARIABLE = '_KINDLING_RUNTIME_API_SOCKET';

function takeSocketPath(): string | undefined {
  const path = process.env[SOCKET_VARIABLE];
  delete process.env[SOCKET_VARIABLE];
  return path === '' ? undefined : path;
}

export class RuntimeClient {
  readonly #connection: HttpConnection;
  readonly #base = '/2018-06-01/runtime';

  /** `runtimeApi` is AWS_LAMBDA_RUNTIME_API: `host:port`; `socketPath`, the same API on a unix socket. */
  constructor(runtimeApi: string, socketPath = takeSocketPath()) {
    const url = new URL(`http://${runtimeApi}`);
    this.#connection = new HttpConnection(url.hostname.replace(/^\[(.*)\]$/, '$1'), url.port === '' ? 80 : Number(url.port), socketPath);
  }

  /** Connects ahead of the first call. */
  connect(): Promise<void> {
    return this.#connection.connect();
  }

  /** Long-polls for the next event; no timeout, the host answers when there is work. */
  async next(): Promise<NextInvocation> {
    const res = await this.#send('GET', `${this.#base}/invocation/next`, '', undefined);
    const body = res.body.toString();
    if (res.status !== 200) throw new RuntimeApiError(`/next answered ${res.status}: ${body}`, res.status);
    const h = res.headers;
    const requestId = h.get('lambda-runtime-aws-request-id');
    if (requestId === undefined || requestId === '') {
      throw new RuntimeApiError('/next answered without Lambda-Runtime-Aws-Request-Id');
    }
    return {
      requestId,
      body,
      deadlineMs: Number(h.get('lambda-runtime-deadline-ms')),
      invokedFunctionArn: h.get('lambda-runtime-invoked-function-arn') ?? '',
      traceId: h.get('lambda-runtime-trace-id'),
      clientContext: h.get('lambda-runtime-client-context'),
      cognitoIdentity: h.get('lambda-runtime-cognito-identity'),
      tenantId: h.get('lambda-runtime-aws-tenant-id'),
    };
  }

  /** POSTs the handler's JSON result; resolves with the HTTP status (202 expected). */
  postResponse(requestId: string, body: string): Promise<number> {
    const path = `${this.#base}/invocation/${encodeURIComponent(requestId)}/response`;
    return this.#post(path, body, undefined);
  }

  /**
   * Starts the invocation's response in Lambda's streaming mode; its chunks follow. `contentType`
   * must be a valid header value (the response stream checks it when it is set).
   */
  openResponseStream(requestId: string, contentType: string): ChunkedRequest {
    const path = `${this.#base}/invocation/${encodeURIComponent(requestId)}/response`;
    const request = this.#connection.openChunked('POST', path, `${STREAMING_HEADERS}Content-Type: ${contentType}\r\n`);
    // Its failure names the request, as #send's do.
    const response = request.response.catch((err: unknown) => {
      throw new RuntimeApiError(`POST ${path} failed: ${(err as Error).message}`, undefined, { cause: err });
    });
    return Object.defineProperty(request, 'response', { value: response });
  }

  /** Keeps the process alive until the Runtime API's next answer (a streamed response is due). */
  hold(): void {
    this.#connection.hold();
  }

  postError(requestId: string, errorType: string, body: string): Promise<number> {
    const path = `${this.#base}/invocation/${encodeURIComponent(requestId)}/error`;
    return this.#post(path, body, errorType);
  }

  postInitError(errorType: string, body: string): Promise<number> {
    return this.#post(`${this.#base}/init/error`, body, errorType);
  }

  async #post(path: string, body: string, errorType: string | undefined): Promise<number> {
    const headers = errorType === undefined ? JSON_HEADERS : `${JSON_HEADERS}${ERROR_TYPE_HEADER}: ${headerSafe(errorType)}\r\n`;
    const res = await this.#send('POST', path, headers, body);
    return res.status;
  }

  /** One request; sent again once if a reused connection turned out closed before any answer. */
  async #send(method: string, path: string, headers: string, body: string | undefined): Promise<RawResponse> {
    try {
      return await this.#connection.request(method, path, headers, body);
    } catch (err) {
      if (err instanceof HttpConnectionError && err.retryable) {
        try {
          return await this.#connection.request(method, path, headers, body);
        } catch (again) {
          throw new RuntimeApiError(`${method} ${path} failed: ${(again as Error).message}`, undefined, { cause: again });
        }
      }
      throw new RuntimeApiError(`${method} ${path} failed: ${(err as Error).message}`, undefined, { cause: err });
    }
  }

  close(): void {
    this.#connection.close();
  }
}
