/** The lines Lambda's platform writes around each invocation (LAMBDA.md 1.6). */
export function startLine(requestId: string, version: string): string {
  return `START RequestId: ${requestId} Version: ${version}`;
}

export function endLine(requestId: string): string {
  return `END RequestId: ${requestId}`;
}

export interface ReportFigures {
  durationMs: number;
  memorySizeMb: number;
  maxMemoryUsedMb: number;
  /** Only on a cold start. */
  initDurationMs?: number;
  /** `timeout`, `error` (runtime exit) when the invocation did not end normally. */
  status?: string;
}

export function reportLine(requestId: string, f: ReportFigures): string {
  // Lambda bills in 1 ms steps since 2020.
  const billed = Math.max(1, Math.ceil(f.durationMs));
  let line =
    `REPORT RequestId: ${requestId}\tDuration: ${f.durationMs.toFixed(2)} ms\tBilled Duration: ${billed} ms\t` +
    `Memory Size: ${f.memorySizeMb} MB\tMax Memory Used: ${f.maxMemoryUsedMb} MB\t`;
  if (f.initDurationMs !== undefined) line += `Init Duration: ${f.initDurationMs.toFixed(2)} ms\t`;
  if (f.status !== undefined) line += `Status: ${f.status}\t`;
  return line;
}

/** The timeout line Lambda writes into the function's log. */
export function timeoutLine(requestId: string, timeoutSeconds: number): string {
  return `${new Date().toISOString()} ${requestId} Task timed out after ${timeoutSeconds.toFixed(2)} seconds`;
}

/**
 * The line that says how much output a phase (Init, an invocation, the time between invocations)
 * wrote past Kindling's per-phase log limit: counted, not stored. Lambda's Telemetry API reports
 * its own drops the same way, as bytes (`platform.logsDropped`, `droppedBytes`).
 */
export function logsDroppedLine(phase: string, droppedBytes: number, limitBytes: number, requestId?: string): string {
  const id = requestId === undefined ? '' : `RequestId: ${requestId}\t`;
  return `LOGS_DROPPED ${id}Phase: ${phase}\tDropped Bytes: ${droppedBytes}\tLimit: ${limitBytes} bytes\t`;
}
