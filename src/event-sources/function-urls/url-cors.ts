import type { IncomingHttpHeaders } from 'node:http';

/** A function URL's Cors member, as the Lambda API takes it. */
export interface UrlCors {
  readonly AllowCredentials?: boolean;
  readonly AllowHeaders?: readonly string[];
  readonly AllowMethods?: readonly string[];
  readonly AllowOrigins?: readonly string[];
  readonly ExposeHeaders?: readonly string[];
  readonly MaxAge?: number;
}

const CORS_HEADER = /^access-control-/i;

/** A CORS preflight: OPTIONS with an Origin and Access-Control-Request-Method. */
export function isPreflight(method: string | undefined, headers: IncomingHttpHeaders): boolean {
  return method === 'OPTIONS' && headers.origin !== undefined && headers['access-control-request-method'] !== undefined;
}

/** The origin to allow (`*` or the request's own), or undefined when the configuration does not allow it. */
function allowedOrigin(cors: UrlCors, origin: string | undefined): string | undefined {
  if (origin === undefined) return undefined;
  const origins = cors.AllowOrigins ?? [];
  // Any origin: `*`, never the caller's own echoed back (with credentials that would let every
  // site read responses made with the user's cookies; browsers refuse `*` with credentials).
  if (origins.includes('*')) return '*';
  const wanted = origin.toLowerCase();
  return origins.some((o) => o.toLowerCase() === wanted) ? origin : undefined;
}

/**
 * The answer to a preflight, which Lambda gives itself without invoking the function: the allowed
 * methods, headers and max age when the origin is allowed; no CORS headers (the browser refuses)
 * when it is not.
 */
export function preflightHeaders(cors: UrlCors, headers: IncomingHttpHeaders): Record<string, string> {
  const origin = allowedOrigin(cors, headers.origin);
  const answer: Record<string, string> = { vary: 'Origin' };
  if (origin === undefined) return answer;
  answer['access-control-allow-origin'] = origin;
  if (cors.AllowMethods?.length) answer['access-control-allow-methods'] = cors.AllowMethods.join(',');
  if (cors.AllowHeaders?.length) answer['access-control-allow-headers'] = cors.AllowHeaders.join(',');
  if (cors.AllowCredentials && origin !== '*') answer['access-control-allow-credentials'] = 'true';
  if (cors.MaxAge !== undefined && cors.MaxAge > 0) answer['access-control-max-age'] = String(cors.MaxAge);
  return answer;
}

/**
 * A response's headers with the URL's CORS configuration applied: the function's own
 * `Access-Control-*` headers give way to the configuration's, as on Lambda.
 */
export function withCors(cors: UrlCors | undefined, requestHeaders: IncomingHttpHeaders, headers: Record<string, string>): Record<string, string> {
  if (cors === undefined) return headers;
  const out: Record<string, string> = {};
  let vary: string | undefined;
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() === 'vary') vary = vary === undefined ? value : `${vary}, ${value}`;
    else if (!CORS_HEADER.test(name)) out[name] = value;
  }
  const origin = allowedOrigin(cors, requestHeaders.origin);
  out['vary'] = vary ? `${vary}, Origin` : 'Origin';
  if (origin === undefined) return out;
  out['access-control-allow-origin'] = origin;
  if (cors.AllowCredentials && origin !== '*') out['access-control-allow-credentials'] = 'true';
  if (cors.ExposeHeaders?.length) out['access-control-expose-headers'] = cors.ExposeHeaders.join(',');
  return out;
}
