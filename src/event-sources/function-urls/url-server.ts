import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signedQueryPairs, type Authenticator, type Authorizer, type Caller } from '../../identity/index.js';
import type { InvokeInput, InvokeOutput } from '../../invoke/index.js';
import { functionArn, LambdaServiceError, listenOn, whenDrained, newRequestId, unscope, type Clock, type Logger, type Partition } from '../../shared/index.js';
import { isPreflight, preflightHeaders, withCors, type UrlCors } from './url-cors.js';
import { urlEvent, type IamAuthorizer } from './url-event.js';
import { HTTP_INTEGRATION_TYPE, mapResponse, PreludeReader, type UrlResponse } from './url-response.js';

/** What a URL request needs to know of its function URL configuration. */
export interface UrlTarget {
  readonly urlId: string;
  /** The function's key (scoped: docs/accounts.md). */
  readonly functionName: string;
  /** `$LATEST` or an alias name. */
  readonly qualifier: string;
  readonly authType: 'NONE' | 'AWS_IAM';
  readonly invokeMode: 'BUFFERED' | 'RESPONSE_STREAM';
  readonly cors?: UrlCors;
}

export interface UrlDirectory {
  /** The configuration a url-id names; fast (every request asks). */
  resolve(urlId: string): Promise<UrlTarget | undefined>;
}

export interface UrlServerDeps {
  urls: UrlDirectory;
  /** The data plane (InvokeService.invoke): a URL request is a request-response invoke. */
  invoke(input: InvokeInput): Promise<InvokeOutput>;
  /** `--auth sigv4`: how AWS_IAM URLs check signatures. Absent: AWS_IAM URLs answer 403. */
  access?: { authenticator: Authenticator; authorizer: Authorizer };
  partition: Partition;
  clock: Clock;
  logger: Logger;
}

/** Lambda's limit on a synchronous request payload: the event, body included, must fit in it. */
const REQUEST_LIMIT = 6 * 1024 * 1024;
const HOST = /^([a-z0-9]{32})\.lambda-url\.([a-z0-9-]+)\./;

/**
 * Function URLs (docs/function-urls.md): an HTTP server on its own port that turns each request
 * into an event of payload format 2.0 and the function's answer into the HTTP response, as Lambda's
 * URL endpoint does, buffered or streamed. The function is named by the Host header
 * (`<url-id>.lambda-url.<region>.<domain>`); nothing else of the API is reachable here.
 */
export class UrlServer {
  readonly #deps: UrlServerDeps;
  readonly #server: Server;

  constructor(deps: UrlServerDeps) {
    this.#deps = deps;
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((err: unknown) => {
        deps.logger.error('function URL request failed', { error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
        if (!res.headersSent) message(res, 500, 'InternalFailure', 'Internal Server Error', '');
        else res.destroy();
      });
    });
    this.#server.keepAliveTimeout = 5000;
  }

  listen(port: number, host: string): Promise<AddressInfo> {
    return listenOn(this.#server, port, host);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeIdleConnections();
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = newRequestId();
    res.setHeader('x-amzn-RequestId', requestId);
    const host = (req.headers.host ?? '').toLowerCase().replace(/:\d+$/, '');
    const match = HOST.exec(host);
    const target = match && match[2] === this.#deps.partition.region ? await this.#deps.urls.resolve(match[1]!) : undefined;
    if (!target) {
      // An unknown URL and one that is not allowed look the same from outside.
      req.resume();
      return message(res, 403, 'AccessDeniedException', 'Forbidden', requestId);
    }
    if (target.cors && isPreflight(req.method, req.headers)) {
      req.resume();
      res.writeHead(200, { ...preflightHeaders(target.cors, req.headers), 'content-length': 0 });
      res.end();
      return;
    }
    if (!(req.url ?? '').startsWith('/')) {
      req.resume();
      return message(res, 400, 'ValidationException', 'The request target must be a path.', requestId);
    }
    if (target.authType === 'AWS_IAM' && !signed(req)) {
      // Said before reading a body nobody will use.
      req.resume();
      return message(res, 403, 'MissingAuthenticationTokenException', 'Missing Authentication Token', requestId);
    }
    const body = await readBody(req, REQUEST_LIMIT);
    if (body === undefined) {
      return message(res, 413, 'RequestTooLargeException', `Request must be smaller than ${REQUEST_LIMIT} bytes for the InvokeFunction operation`, requestId);
    }
    const { accountId, name } = unscope(this.#deps.partition.accountId, target.functionName);
    let iam: IamAuthorizer | undefined;
    if (target.authType === 'AWS_IAM') {
      try {
        iam = await this.#authorize(req, body, target, accountId);
      } catch (err) {
        return message(res, 403, err instanceof LambdaServiceError ? err.code : 'AccessDeniedException', err instanceof Error ? err.message : 'Forbidden', requestId);
      }
    }
    const timeEpoch = this.#deps.clock.now();
    const event = urlEvent(req, body, { urlId: target.urlId, accountId, domainName: host, requestId, timeEpoch, ...(iam ? { iam } : {}) });
    const input = { requestId, functionName: name, account: accountId, qualifier: target.qualifier, payload: Buffer.from(JSON.stringify(event)) };
    if (target.invokeMode === 'RESPONSE_STREAM') return this.#stream(req, res, input, target);
    let output: InvokeOutput;
    try {
      output = await this.#deps.invoke(input);
    } catch (err) {
      return this.#invokeError(res, err, requestId);
    }
    const mapped = output.functionError ? undefined : mapResponse(output.payload ?? Buffer.alloc(0));
    if (!mapped) return message(res, 502, 'ServiceException', 'Internal Server Error', requestId);
    send(res, mapped, withCors(target.cors, req.headers, mapped.headers));
  }

  /** RESPONSE_STREAM: the function's chunks go to the client as it writes them. */
  async #stream(req: IncomingMessage, res: ServerResponse, input: InvokeInput, target: UrlTarget): Promise<void> {
    let prelude: PreludeReader | undefined;
    let started = false;
    let failed = false;
    const head = (response: Pick<UrlResponse, 'statusCode' | 'headers' | 'cookies'>) => {
      const headers: Record<string, string | string[]> = withCors(target.cors, req.headers, response.headers);
      if (response.cookies.length > 0) headers['set-cookie'] = [...response.cookies];
      res.writeHead(response.statusCode, headers);
    };
    // What the function streams is untrusted: nothing it sends may throw out of here (this runs in
    // the Runtime API's request handler); an answer HTTP cannot carry fails the response instead.
    const guarded = (step: () => boolean | void): boolean | void => {
      if (failed) return;
      try {
        return step();
      } catch {
        failed = true;
      }
    };
    const sink = {
      start: (contentType: string) =>
        guarded(() => {
          if (started) throw new Error('the response already began');
          started = true;
          if (contentType === HTTP_INTEGRATION_TYPE) prelude = new PreludeReader();
          else head({ statusCode: 200, headers: { 'content-type': contentType }, cookies: [] });
        }),
      write: (chunk: Buffer) =>
        guarded(() => {
          if (prelude) {
            const read = prelude.push(chunk);
            if (!read) return;
            prelude = undefined;
            if (!read.head) throw new Error('the HTTP prelude is not one');
            head(read.head);
            chunk = read.rest;
            if (chunk.length === 0) return;
          }
          if (!res.headersSent) throw new Error('a chunk before the response began');
          return res.destroyed || res.write(chunk);
        }),
      drained: (listener: () => void) => whenDrained(res, listener),
    };
    let output: InvokeOutput;
    try {
      output = await this.#deps.invoke({ ...input, stream: sink });
    } catch (err) {
      return this.#invokeError(res, err, input.requestId!);
    }
    if (!res.headersSent) {
      if (output.functionError || failed || prelude) return message(res, 502, 'ServiceException', 'Internal Server Error', input.requestId!);
      if (!output.streamed) {
        // A function that does not stream answers whole, its payload as the body.
        const payload = output.payload ?? Buffer.alloc(0);
        return send(res, { statusCode: 200, headers: {}, cookies: [], body: payload }, withCors(target.cors, req.headers, { 'content-type': 'application/json' }));
      }
      head({ statusCode: 200, headers: {}, cookies: [] });
    }
    // An error after the response began cannot change its status: the body ends unfinished.
    if (output.functionError || failed) res.destroy();
    else res.end();
  }

  /** AWS_IAM: a SigV4 signature by a key allowed lambda:InvokeFunctionUrl on the function. */
  async #authorize(req: IncomingMessage, body: Buffer, target: UrlTarget, accountId: string): Promise<IamAuthorizer> {
    const access = this.#deps.access;
    if (!access) throw new Error('Forbidden');
    // The Host names the function: a signature that does not cover it could be replayed on another URL.
    if (!signedHeaders(req).includes('host')) throw new Error('The signature must cover the Host header (SignedHeaders includes host).');
    const target_ = req.url ?? '/';
    const q = target_.indexOf('?');
    const caller: Caller = await access.authenticator.authenticate({
      method: req.method ?? 'GET',
      path: q === -1 ? target_ : target_.slice(0, q),
      query: q === -1 ? [] : signedQueryPairs(target_.slice(q + 1)),
      headers: req.headers,
      bodyHash: createHash('sha256').update(body).digest('hex'),
      services: ['lambda'],
    });
    const resource = functionArn(this.#deps.partition, target.functionName, target.qualifier === '$LATEST' ? undefined : target.qualifier);
    access.authorizer.authorize({ caller, action: 'lambda:InvokeFunctionUrl', resource, resourceAccount: accountId, functionUrlAuthType: 'AWS_IAM' });
    const userId = caller.accessKeyId ?? caller.arn;
    return { accessKey: caller.accessKeyId ?? '', accountId: caller.accountId, callerId: userId, userArn: caller.arn, userId };
  }

  #invokeError(res: ServerResponse, err: unknown, requestId: string): void {
    if (res.headersSent) {
      // A streamed response already began (a worker lost mid-stream): it can only end unfinished.
      this.#deps.logger.warn('function URL stream ended by an error', { requestId, error: err instanceof Error ? err.message : String(err) });
      res.destroy();
      return;
    }
    if (err instanceof LambdaServiceError && (err.status === 429 || err.status === 413)) {
      if (err.status === 429) res.setHeader('retry-after', '1');
      return message(res, err.status, err.code, err.message, requestId);
    }
    if (err instanceof LambdaServiceError && err.status === 404) return message(res, 403, 'AccessDeniedException', 'Forbidden', requestId);
    this.#deps.logger.error('function URL invoke failed', { requestId, error: err instanceof Error ? err.message : String(err) });
    message(res, 502, 'ServiceException', 'Internal Server Error', requestId);
  }
}

function send(res: ServerResponse, response: UrlResponse, headers: Record<string, string>): void {
  const out: Record<string, string | string[] | number> = { ...headers, 'content-length': response.body.length };
  if (response.cookies.length > 0) out['set-cookie'] = [...response.cookies];
  try {
    res.writeHead(response.statusCode, out);
  } catch {
    // A header the function set that HTTP cannot carry (a newline in a value): Lambda answers 502.
    for (const name of res.getHeaderNames()) if (name !== 'x-amzn-requestid') res.removeHeader(name);
    return message(res, 502, 'ServiceException', 'Internal Server Error', '');
  }
  res.end(response.body);
}

/** Whether a request carries a SigV4 signature (header or presigned query). */
function signed(req: IncomingMessage): boolean {
  return req.headers.authorization !== undefined || /[?&]X-Amz-Algorithm=/.test(req.url ?? '');
}

/** The SignedHeaders a SigV4 signature names (Authorization header, or X-Amz-SignedHeaders of a presigned URL). */
function signedHeaders(req: IncomingMessage): string[] {
  const fromHeader = /SignedHeaders=([^,\s]+)/.exec(req.headers.authorization ?? '')?.[1];
  const fromQuery = /[?&]X-Amz-SignedHeaders=([^&]+)/.exec(req.url ?? '')?.[1];
  const list = fromHeader ?? (fromQuery === undefined ? undefined : safeDecode(fromQuery));
  return list === undefined ? [] : list.toLowerCase().split(';');
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Lambda's URL endpoint answers its own errors as `{"Message": ...}` with the error's type. */
function message(res: ServerResponse, status: number, type: string, text: string, requestId: string): void {
  const body = Buffer.from(JSON.stringify({ Message: text }));
  const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': body.length, 'x-amzn-ErrorType': type };
  if (requestId !== '') headers['x-amzn-RequestId'] = requestId;
  res.writeHead(status, headers);
  res.end(body);
}

/** Reads a body up to `limit` bytes; undefined when it is longer (the rest is drained). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > limit ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
