/** One invocation as the Runtime API hands it to a runtime. */
export interface Invocation {
  readonly requestId: string;
  readonly payload: Buffer;
  readonly deadlineMs: number;
  readonly invokedFunctionArn: string;
  readonly traceId: string;
  /** The client context as JSON text (decoded from X-Amz-Client-Context). */
  readonly clientContext?: string;
}

/** What the runtime answered for an invocation. */
export type RuntimeOutcome =
  | { readonly kind: 'response'; readonly payload: Buffer }
  | { readonly kind: 'error'; readonly errorType: string; readonly payload: Buffer };

/** Lambda's limit on a synchronous response (RIE: MaxPayloadSize = 6 MiB + 100 bytes). */
export const MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 100;

/** An error body as Lambda's runtimes shape it. */
export function errorPayload(errorType: string, errorMessage: string, trace: string[] = []): Buffer {
  return Buffer.from(JSON.stringify({ errorType, errorMessage, trace }));
}
