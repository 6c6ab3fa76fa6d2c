import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { loadClientConfig, type ClientFlags } from '../config/index.js';
import { createLambdaClient, unreachable } from './client.js';

/** An error answer of Kindling's own API: `name` is the X-Amzn-ErrorType, as for Lambda's errors. */
export class KindlingApiError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = code;
    this.code = code;
  }
}

/**
 * A call to Kindling's HTTP API under `/kindling/` (what Lambda has no API for), signed with SigV4
 * (service `kindling`) by the credentials the Lambda commands use, so it works under `--auth sigv4`.
 */
export async function kindlingApi<T>(flags: ClientFlags, method: string, path: string, body?: unknown): Promise<T> {
  const config = loadClientConfig(flags);
  const url = new URL(`${config.endpoint.replace(/\/$/, '')}${path}`);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  // The credentials as the SDK resolves them (keys, profile, chain): the Lambda client's provider.
  const lambda = createLambdaClient(config);
  let signed: { headers: Record<string, string> };
  try {
    const credentials = await lambda.config.credentials();
    const signer = new SignatureV4({ credentials, region: config.region, service: 'kindling', sha256: Sha256 });
    signed = await signer.sign({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: { host: url.host, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(payload === undefined ? {} : { body: payload }),
    });
  } finally {
    lambda.destroy();
  }
  let res: Response;
  try {
    const { host: _host, ...headers } = signed.headers;
    res = await fetch(url, { method, headers, ...(payload === undefined ? {} : { body: payload }) });
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
