import type { IncomingMessage, ServerResponse } from 'node:http';
import { MAX_RESPONSE_BYTES, MAX_STREAMED_BYTES, STREAM_BURST_BYTES, STREAM_BYTES_PER_SECOND, tooLarge, type RuntimeOutcome, type StreamSink } from './invocation.js';
import { headerValue, normalizeError, reply } from './runtime-http.js';

/** `Lambda-Runtime-Function-Response-Mode: streaming` on a `/response` (Lambda's streaming protocol). */
export function isStreamingResponse(req: IncomingMessage): boolean {
  return headerValue(req, 'lambda-runtime-function-response-mode')?.toLowerCase() === 'streaming';
}

export interface StreamedAnswer {
  /** Where the body goes as it arrives; absent: it is gathered and answered whole (Invoke). */
  readonly sink: StreamSink | undefined;
  /** False once the invocation was answered or abandoned (a timeout): nothing more is forwarded. */
  readonly live: () => boolean;
  /** Settles the invocation, once. */
  readonly settle: (outcome: RuntimeOutcome) => void;
}

const ERROR_TYPE = 'lambda-runtime-function-error-type';
const ERROR_BODY = 'lambda-runtime-function-error-body';

/**
 * Reads a streamed `/response`: every chunk goes to the sink as it arrives (or is gathered, within
 * Lambda's 6 MB, when nobody streams), then the trailers say whether it ended in an error (type,
 * and the error's JSON in base64). Past Lambda's 20 MB the invocation ends at once with
 * Function.ResponseSizeTooLarge; the rest of the body is read and dropped, and the runtime is told 413.
 */
export function readStreamedResponse(req: IncomingMessage, res: ServerResponse, answer: StreamedAnswer): void {
  const { sink, live, settle } = answer;
  const streamed = sink !== undefined;
  const limit = streamed ? MAX_STREAMED_BYTES : MAX_RESPONSE_BYTES;
  const chunks: Buffer[] = [];
  let size = 0;
  // The sink is the reader's (an HTTP response, an event stream): whatever it throws must not
  // reach this request's handler, where it would end the process. A broken sink gets nothing more.
  let broken = false;
  const toSink = (call: () => boolean | void): boolean | void => {
    if (broken) return;
    try {
      return call();
    } catch {
      broken = true;
    }
  };
  // The runtime's upload is held while anyone holds it (a reader behind, Lambda's pace past 6 MB):
  // TCP then holds the runtime back, and nothing piles up here.
  let holds = 0;
  const hold = () => {
    if (holds++ === 0) req.pause();
  };
  const release = () => {
    if (--holds === 0) req.resume();
  };
  if (sink) toSink(() => sink.start(headerValue(req, 'content-type') ?? 'application/octet-stream'));
  let pacedFrom: number | undefined;
  req.on('data', (chunk: Buffer) => {
    if (size > limit || !live()) return;
    size += chunk.length;
    if (size > limit) return settle(tooLarge(limit, streamed));
    if (sink) {
      if (toSink(() => sink.write(chunk)) === false && sink.drained) {
        hold();
        toSink(() => sink.drained!(release));
      }
    } else chunks.push(chunk);
    if (streamed && size > STREAM_BURST_BYTES) {
      // Past the first 6 MB, Lambda's pace: the runtime's upload is held (TCP backpressure) until
      // the bytes beyond the burst are within 2 MB/s of the moment the burst was used up.
      pacedFrom ??= performance.now();
      const due = pacedFrom + ((size - STREAM_BURST_BYTES) / STREAM_BYTES_PER_SECOND) * 1000;
      const ahead = due - performance.now();
      if (ahead > 1) {
        hold();
        setTimeout(release, ahead).unref();
      }
    }
  });
  req.on('end', () => {
    if (size > limit) return reply(res, 413, { errorMessage: 'Exceeded maximum allowed payload size', errorType: 'RequestEntityTooLarge' });
    if (!live()) return reply(res, 400, { errorMessage: 'The invocation is over', errorType: 'InvalidRequestID' });
    reply(res, 202, {});
    const errorType = trailer(req, ERROR_TYPE);
    if (errorType !== undefined) {
      const body = trailer(req, ERROR_BODY);
      const payload = normalizeError(errorType, body === undefined ? undefined : Buffer.from(body, 'base64'));
      settle({ kind: 'error', errorType, payload, ...(streamed ? { streamed: true } : {}) });
      return;
    }
    settle(streamed ? { kind: 'response', payload: Buffer.alloc(0), streamed: true } : { kind: 'response', payload: Buffer.concat(chunks, size) });
  });
}

function trailer(req: IncomingMessage, name: string): string | undefined {
  const value = req.trailers[name];
  return value === undefined || value === '' ? undefined : value;
}
