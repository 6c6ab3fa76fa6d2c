import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  InvalidRequestContentException,
  LambdaServiceError,
  RequestEntityTooLargeException,
  RequestTooLargeException,
  ServiceException,
  type Logger,
} from '../shared/index.js';

/**
 * Reads a request body up to `limit` bytes. Over the limit, AWS answers 413 naming the operation:
 * RequestTooLargeException for Invoke's payload, RequestEntityTooLargeException for the control
 * plane's JSON bodies (`entity`). The rest of the body is discarded, not buffered.
 */
export function readBody(req: IncomingMessage, limit: number, operation: string, entity = false): Promise<Buffer> {
  const tooLarge = () => {
    const message = `Request must be smaller than ${limit} bytes for the ${operation} operation`;
    return entity ? new RequestEntityTooLargeException(message) : new RequestTooLargeException(message);
  };
  // A signed request's body was read (and hashed) before the handler: it is handed over, not read again.
  const kept = KEPT_BODIES.get(req);
  if (kept) return kept.over || kept.body.length > limit ? Promise.reject(tooLarge()) : Promise.resolve(kept.body);
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) {
    req.resume();
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > limit) {
        over = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => (over ? reject(tooLarge()) : resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

/** Bodies read before their handler (to check a signature), by request. */
const KEPT_BODIES = new WeakMap<IncomingMessage, { body: Buffer; over: boolean }>();

/**
 * Reads a whole body once, hashing it as it comes (SigV4 signs the body's SHA-256), and keeps it for
 * the handler's `readBody`. Past `limit` the bytes are still hashed but no longer kept: the
 * handler's own limit (never above this one) then answers 413 in its operation's words.
 */
export async function readSignedBody(req: IncomingMessage, limit: number): Promise<{ body: Buffer; bodyHash: string }> {
  const hash = createHash('sha256');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
  }
  const over = size > limit;
  const body = over ? Buffer.alloc(0) : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  KEPT_BODIES.set(req, { body, over });
  return { body, bodyHash: hash.digest('hex') };
}

export async function readJson(req: IncomingMessage, limit: number, operation: string): Promise<Record<string, unknown>> {
  const body = await readBody(req, limit, operation, true);
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new InvalidRequestContentException(`Could not parse request body into json: ${(err as Error).message}`, { cause: err });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidRequestContentException('Could not parse request body into json: the body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  requestId: string,
  headers: Record<string, string> = {},
): void {
  const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': data?.length ?? 0,
    'X-Amzn-RequestId': requestId,
    ...headers,
  });
  res.end(data);
}

/**
 * The one place errors become responses: status, `X-Amzn-ErrorType`, `{Type, message}` as Lambda
 * sends them. Anything that is not a Lambda error is a bug of ours: logged, answered as
 * ServiceException without internals.
 */
export function sendError(res: ServerResponse, err: unknown, requestId: string, logger: Logger): void {
  let error: LambdaServiceError;
  if (err instanceof LambdaServiceError) {
    error = err;
  } else {
    logger.error('internal error', { requestId, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    error = new ServiceException('An internal error occurred in Kindling; see the server log for the request id.', { cause: err });
  }
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, error.status, error.toBody(), requestId, { 'X-Amzn-ErrorType': error.code, ...error.extraHeaders() });
}

/**
 * An error in the AWS JSON protocol's shape (CloudWatch Logs): 400 for the caller's errors, 500 for
 * ours, `{"__type", "message"}`.
 */
export function sendJsonProtocolError(res: ServerResponse, err: LambdaServiceError, requestId: string, contentType: string): void {
  sendJson(res, err.kind === 'Service' ? 500 : 400, { __type: err.code, message: err.message }, requestId, {
    'Content-Type': contentType,
    'X-Amzn-ErrorType': err.code,
  });
}
