import { EventStreamCodec } from '@smithy/core/event-streams';
import type { ServerResponse } from 'node:http';
import type { InvokeOutput, InvokeService } from '../invoke/index.js';
import { whenDrained, type Logger } from '../shared/index.js';
import { invokeInput } from './invoke-routes.js';
import { onFunction } from './route-access.js';
import type { Router } from './router.js';

const codec = new EventStreamCodec(
  (bytes) => Buffer.from(bytes).toString('utf8'),
  (text) => Buffer.from(text, 'utf8'),
);

/** One event of Lambda's InvokeWithResponseStreamResponseEvent union, as the AWS SDK reads it. */
function event(type: 'PayloadChunk' | 'InvokeComplete', contentType: string, body: Uint8Array): Uint8Array {
  return codec.encode({
    headers: {
      ':event-type': { type: 'string', value: type },
      ':message-type': { type: 'string', value: 'event' },
      ':content-type': { type: 'string', value: contentType },
    },
    body,
  });
}

/**
 * The answer of one InvokeWithResponseStream: headers go out with the first event (so an error
 * before the function streams is still an ordinary AWS error), then a PayloadChunk per chunk, then
 * InvokeComplete.
 */
class EventStreamAnswer {
  readonly #res: ServerResponse;
  readonly #requestId: string;
  readonly #executedVersion: string;

  constructor(res: ServerResponse, requestId: string, executedVersion: string) {
    this.#res = res;
    this.#requestId = requestId;
    this.#executedVersion = executedVersion;
  }

  get begun(): boolean {
    return this.#res.headersSent;
  }

  /** False: the client is behind (see `drained`). */
  chunk(chunk: Buffer): boolean {
    this.begin();
    // A client that went away misses the rest; the function runs on to its end, as on Lambda.
    if (chunk.length === 0 || this.#res.destroyed) return true;
    return this.#res.write(event('PayloadChunk', 'application/octet-stream', chunk));
  }

  complete(errorCode?: string, errorDetails?: string, logResult?: string): void {
    this.begin();
    const body = {
      ...(errorCode === undefined ? {} : { ErrorCode: errorCode }),
      ...(errorDetails === undefined ? {} : { ErrorDetails: errorDetails }),
      ...(logResult === undefined ? {} : { LogResult: logResult }),
    };
    if (!this.#res.destroyed) this.#res.end(event('InvokeComplete', 'application/json', Buffer.from(JSON.stringify(body))));
  }

  /**
   * Status and headers, once: when the function starts streaming, or at its first event. The
   * Content-Type header is the function's (the model's ResponseStreamContentType); the body is an
   * event stream whatever it says, as on Lambda.
   */
  begin(contentType = 'application/octet-stream'): void {
    if (this.#res.headersSent) return;
    this.#res.writeHead(200, {
      'Content-Type': contentType,
      'X-Amzn-RequestId': this.#requestId,
      'X-Amz-Executed-Version': this.#executedVersion,
    });
  }
}

/** `{errorType, errorMessage}` of an error body, as InvokeComplete's ErrorCode and ErrorDetails. */
function errorParts(payload: Buffer | undefined): { code: string; details: string } {
  try {
    const parsed = JSON.parse(payload?.toString('utf8') ?? '') as { errorType?: unknown; errorMessage?: unknown };
    return {
      code: typeof parsed.errorType === 'string' ? parsed.errorType : 'Unhandled',
      details: typeof parsed.errorMessage === 'string' ? parsed.errorMessage : (payload?.toString('utf8') ?? ''),
    };
  } catch {
    return { code: 'Unhandled', details: payload?.toString('utf8') ?? '' };
  }
}

function finish(answer: EventStreamAnswer, out: InvokeOutput): void {
  // A function that answered whole (it did not stream) still answers through the event stream.
  if (!out.streamed) answer.begin('application/json');
  if (!out.streamed && !out.functionError && out.payload) answer.chunk(out.payload);
  if (out.functionError) {
    const { code, details } = errorParts(out.payload);
    answer.complete(code, details, out.logResult);
  } else {
    answer.complete(undefined, undefined, out.logResult);
  }
}

/** InvokeWithResponseStream: `POST /2021-11-15/functions/{FunctionName}/response-streaming-invocations`. */
export function streamInvokeRoutes(router: Router, invoker: InvokeService, logger: Logger): void {
  const path = /^\/2021-11-15\/functions\/([^/]+)\/response-streaming-invocations\/?$/;
  router.on('POST', path, onFunction('lambda:InvokeFunction', { qualified: true }), async (ctx) => {
    const { res, requestId } = ctx;
    const input = await invokeInput(ctx, 'InvokeWithResponseStream');
    let answer: EventStreamAnswer | undefined;
    try {
      const out = await invoker.invokeWithResponseStream(
        input,
        (executedVersion) => {
          const opened = new EventStreamAnswer(res, requestId, executedVersion);
          answer = opened;
          return { start: (contentType) => opened.begin(contentType), write: (chunk) => opened.chunk(chunk), drained: (listener) => whenDrained(res, listener) };
        },
      );
      if (out.status === 204 || !answer) {
        res.writeHead(out.status, { 'X-Amzn-RequestId': requestId, 'Content-Length': 0 });
        res.end();
        return;
      }
      finish(answer, out);
    } catch (err) {
      // Before the stream began: an ordinary AWS error (the one error handler). After: the stream ends with it.
      if (!answer?.begun) throw err;
      logger.warn('InvokeWithResponseStream failed mid-stream', { requestId, error: err instanceof Error ? err.message : String(err) });
      answer.complete('ServiceException', 'The invocation failed while its response was streaming.');
    }
  });
}
