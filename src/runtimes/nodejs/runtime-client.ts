/**
 * HTTP client for the Lambda Runtime API (2018-06-01) at AWS_LAMBDA_RUNTIME_API.
 * One keep-alive socket carries every call: /next and the post that answers it never overlap.
 */
import http from 'node:http';

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
const JSON_TYPE = 'application/json';

function header(headers: http.IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Header values may not hold control characters; an error name could (it is user data). */
function headerSafe(value: string): string {
  return value.replace(/[^\t\x20-\x7e\x80-\xff]/g, '');
}

function isRetryable(err: unknown, req: http.ClientRequest): boolean {
  // The server may close an idle keep-alive socket just as we reuse it (Node's documented race).
  const code = (err as NodeJS.ErrnoException).code;
  return req.reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE');
}

export class RuntimeClient {
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: 1, noDelay: true });
  readonly #host: string;
  readonly #port: number;
  readonly #base = '/2018-06-01/runtime';
  readonly #nextOptions: http.RequestOptions;

  /** `runtimeApi` is AWS_LAMBDA_RUNTIME_API: `host:port`. */
  constructor(runtimeApi: string) {
    const url = new URL(`http://${runtimeApi}`);
    this.#host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    this.#port = url.port === '' ? 80 : Number(url.port);
    this.#nextOptions = this.#options('GET', `${this.#base}/invocation/next`, {});
  }

  #options(method: string, path: string, headers: http.OutgoingHttpHeaders): http.RequestOptions {
    return { agent: this.#agent, host: this.#host, port: this.#port, method, path, headers };
  }

  /** Long-polls for the next event; no timeout, the host answers when there is work. */
  next(): Promise<NextInvocation> {
    return new Promise((resolve, reject) => {
      const attempt = (retried: boolean): void => {
        const req = http.request(this.#nextOptions, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const body = chunks.length === 1 ? chunks[0]!.toString() : Buffer.concat(chunks).toString();
            if (res.statusCode !== 200) {
              reject(new RuntimeApiError(`/next answered ${res.statusCode}: ${body}`, res.statusCode));
              return;
            }
            const requestId = header(res.headers, 'lambda-runtime-aws-request-id');
            if (requestId === undefined || requestId === '') {
              reject(new RuntimeApiError('/next answered without Lambda-Runtime-Aws-Request-Id'));
              return;
            }
            const h = res.headers;
            resolve({
              requestId,
              body,
              deadlineMs: Number(header(h, 'lambda-runtime-deadline-ms')),
              invokedFunctionArn: header(h, 'lambda-runtime-invoked-function-arn') ?? '',
              traceId: header(h, 'lambda-runtime-trace-id'),
              clientContext: header(h, 'lambda-runtime-client-context'),
              cognitoIdentity: header(h, 'lambda-runtime-cognito-identity'),
              tenantId: header(h, 'lambda-runtime-aws-tenant-id'),
            });
          });
        });
        req.on('error', (err) => {
          if (!retried && isRetryable(err, req)) attempt(true);
          else reject(new RuntimeApiError(`/next failed: ${err.message}`, undefined, { cause: err }));
        });
        req.end();
      };
      attempt(false);
    });
  }

  /** POSTs the handler's JSON result; resolves with the HTTP status (202 expected). */
  postResponse(requestId: string, body: string): Promise<number> {
    const path = `${this.#base}/invocation/${encodeURIComponent(requestId)}/response`;
    return this.#post(path, body, undefined);
  }

  postError(requestId: string, errorType: string, body: string): Promise<number> {
    const path = `${this.#base}/invocation/${encodeURIComponent(requestId)}/error`;
    return this.#post(path, body, errorType);
  }

  postInitError(errorType: string, body: string): Promise<number> {
    return this.#post(`${this.#base}/init/error`, body, errorType);
  }

  #post(path: string, body: string, errorType: string | undefined): Promise<number> {
    const headers: http.OutgoingHttpHeaders = {
      'Content-Type': JSON_TYPE,
      'Content-Length': Buffer.byteLength(body),
    };
    if (errorType !== undefined) headers[ERROR_TYPE_HEADER] = headerSafe(errorType);
    const options = this.#options('POST', path, headers);
    return new Promise((resolve, reject) => {
      const attempt = (retried: boolean): void => {
        const req = http.request(options, (res) => {
          // Drain the body so the socket goes back to the agent for the next /next.
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.on('error', reject);
        });
        req.on('error', (err) => {
          if (!retried && isRetryable(err, req)) attempt(true);
          else reject(new RuntimeApiError(`POST ${path} failed: ${err.message}`, undefined, { cause: err }));
        });
        req.end(body);
      };
      attempt(false);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}
