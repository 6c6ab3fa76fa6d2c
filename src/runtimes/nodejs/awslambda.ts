/**
 * The `awslambda` global of Lambda's Node.js runtime, there before the handler module loads:
 * `streamifyResponse` marks a handler as streaming, `HttpResponseStream.from` puts a function URL's
 * status, headers and cookies ahead of the body.
 */
import { MalformedStreamingHandler } from './errors.js';

// The symbols Lambda's runtime marks a handler with (Symbol.for: a library may mark it too).
const HANDLER_STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const HANDLER_HIGHWATERMARK = Symbol.for('aws.lambda.runtime.handler.streaming.highWaterMark');
const STREAM_RESPONSE = 'response';

/** What function URLs and InvokeWithResponseStream read as "a JSON prelude, 8 NUL bytes, then the body". */
export const HTTP_INTEGRATION_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';
const PRELUDE_DELIMITER_LENGTH = 8;

/** The part of a response stream HttpResponseStream.from uses. */
export interface PreludeTarget {
  setContentType(contentType: string): void;
  _onBeforeFirstWrite?: ((write: (chunk: string | Uint8Array) => void) => void) | undefined;
}

export class HttpResponseStream {
  /**
   * Sets the stream's content type to the HTTP integration's and, before its first byte, writes the
   * prelude as JSON and then the delimiter. Returns the same stream.
   */
  static from<T extends PreludeTarget>(underlyingStream: T, prelude: unknown): T {
    underlyingStream.setContentType(HTTP_INTEGRATION_CONTENT_TYPE);
    const metadata = JSON.stringify(prelude);
    underlyingStream._onBeforeFirstWrite = (write) => {
      write(metadata);
      write(new Uint8Array(PRELUDE_DELIMITER_LENGTH));
    };
    return underlyingStream;
  }
}

interface StreamifyOptions {
  highWaterMark?: number;
}

type Marked = Record<symbol, unknown>;

function streamifyResponse<H extends object>(handler: H, options?: StreamifyOptions): H {
  const marked = handler as Marked;
  marked[HANDLER_STREAMING] = STREAM_RESPONSE;
  if (typeof options?.highWaterMark === 'number') marked[HANDLER_HIGHWATERMARK] = Math.trunc(options.highWaterMark);
  return handler;
}

/**
 * Sets `globalThis.awslambda`, keeping whatever a module set there already. Lambda skips it when
 * AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA is `1` or `true`.
 */
export function installAwsLambdaGlobal(disabled: string | undefined): void {
  if (disabled === '1' || disabled === 'true') return;
  const global = globalThis as { awslambda?: object };
  global.awslambda = { ...global.awslambda, streamifyResponse, HttpResponseStream };
}

export interface StreamingMode {
  /** Set when the handler streams its response (`(event, responseStream, context)`). */
  readonly streaming: boolean;
  readonly highWaterMark: number | undefined;
}

/** How a loaded handler answers; throws Runtime.MalformedStreamingHandler for a mode Lambda lacks. */
export function streamingMode(handler: object): StreamingMode {
  const marked = handler as Marked;
  const mode = marked[HANDLER_STREAMING];
  if (!mode) return { streaming: false, highWaterMark: undefined };
  if (mode !== STREAM_RESPONSE) throw new MalformedStreamingHandler('Only response streaming is supported.');
  const highWaterMark = Number(marked[HANDLER_HIGHWATERMARK]);
  return { streaming: true, highWaterMark: Number.isNaN(highWaterMark) || highWaterMark === 0 ? undefined : highWaterMark };
}
