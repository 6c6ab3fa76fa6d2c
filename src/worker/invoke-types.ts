/** What the invoke service asks of an environment. */
export interface InvokeRequest {
  readonly requestId: string;
  readonly payload: Buffer;
  readonly invokedFunctionArn: string;
  /** JSON text of the client context. */
  readonly clientContext?: string;
  /** Keep the invocation's log for X-Amz-Log-Result. */
  readonly tail: boolean;
}

export interface InvokeResult {
  readonly payload: Buffer;
  /** Set when the function failed (Lambda's X-Amz-Function-Error: Unhandled). */
  readonly functionError: boolean;
  /** The invocation's log lines, when `tail` was asked for. */
  readonly log?: string;
  readonly executedVersion: string;
}
