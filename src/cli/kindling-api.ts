import { loadClientConfig, type ClientFlags } from '../config/index.js';
import { unreachable } from './client.js';

/** An error answer of Kindling's own API: `name` is the X-Amzn-ErrorType, as for Lambda's errors. */
export class KindlingApiError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = code;
    this.code = code;
  }
}

/** A call to Kindling's HTTP API under `/kindling/` (what Lambda has no API for). */
export async function kindlingApi<T>(flags: ClientFlags, method: string, path: string, body?: unknown): Promise<T> {
  const config = loadClientConfig(flags);
  let res: Response;
  try {
    res = await fetch(`${config.endpoint.replace(/\/$/, '')}${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } }),
    });
  } catch (err) {
    throw unreachable((err as Error).cause ?? err, config.endpoint) ?? err;
  }
  const parsed = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) {
    const code = res.headers.get('x-amzn-errortype') ?? `HTTP${res.status}`;
    throw new KindlingApiError(code, String(parsed['message'] ?? parsed['Message'] ?? res.statusText));
  }
  return parsed as T;
}
