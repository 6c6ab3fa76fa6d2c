/**
 * Values an execution environment reports in Lambda's own shapes and words: platform errors, how a
 * runtime exited, the log tail, the X-Ray trace header.
 */
import type { SandboxExit } from '../sandbox/index.js';

/** Lambda's platform errors carry no trace: `{errorType, errorMessage}`. */
export function errorPayloadNoTrace(errorType: string, errorMessage: string): Buffer {
  return Buffer.from(JSON.stringify({ errorType, errorMessage }));
}

export function describeExit(exit: SandboxExit): string {
  if (exit.signal) return `signal: ${exit.signal === 'SIGKILL' ? 'killed' : exit.signal.toLowerCase().replace(/^sig/, '')}`;
  return `exit status ${exit.code ?? 'unknown'}`;
}

export function lastBytes(text: string, limit: number): string {
  const buffer = Buffer.from(text);
  return buffer.length <= limit ? text : buffer.subarray(buffer.length - limit).toString('utf8');
}

/** An X-Ray trace header as Lambda passes it: `Root=1-<epoch hex>-<24 hex>;Sampled=0`. */
export function traceId(requestId: string): string {
  const epoch = Math.floor(Date.now() / 1000).toString(16);
  const hex = requestId.replaceAll('-', '');
  return `Root=1-${epoch}-${hex.slice(0, 24)};Parent=${hex.slice(16, 32)};Sampled=0`;
}
