import { IncompleteSignatureException, InvalidSignatureException, MissingAuthenticationTokenException } from '../shared/index.js';

const ALGORITHM = 'AWS4-HMAC-SHA256';
/** SigV4's longest presigned URL lifetime: seven days. */
const MAX_EXPIRES_SECONDS = 7 * 24 * 3600;

/** What a request claims about its signature, read from its Authorization header or its query. */
export interface SignatureClaim {
  readonly accessKeyId: string;
  /** `X-Amz-Date` as sent (yyyyMMddTHHmmssZ) and as a time. */
  readonly amzDate: string;
  readonly signingDate: Date;
  readonly region: string;
  readonly service: string;
  /** Lower-case names, in the order given. */
  readonly signedHeaders: readonly string[];
  readonly signature: string;
  /** A presigned URL's lifetime in seconds; absent for header-signed requests. */
  readonly expiresSeconds?: number;
  /** `X-Amz-Security-Token`, from the header or the query. */
  readonly sessionToken?: string;
}

type Headers = Readonly<Record<string, string | string[] | undefined>>;

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Reads the signature claim, or says what is missing in AWS's words. `query` is the decoded query
 * string. A request with neither an Authorization header nor `X-Amz-Algorithm` is unsigned.
 */
export function readSignatureClaim(headers: Headers, query: ReadonlyMap<string, string>): SignatureClaim {
  const authorization = header(headers, 'authorization');
  if (authorization !== undefined) return fromHeader(authorization, headers);
  if (query.has('X-Amz-Algorithm')) return fromQuery(query);
  throw new MissingAuthenticationTokenException();
}

function fromHeader(authorization: string, headers: Headers): SignatureClaim {
  const space = authorization.indexOf(' ');
  const algorithm = space === -1 ? authorization : authorization.slice(0, space);
  if (algorithm !== ALGORITHM) {
    throw new IncompleteSignatureException(`Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=${algorithm}`);
  }
  const fields = new Map<string, string>();
  for (const part of authorization.slice(space + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq !== -1) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const missing = ['Credential', 'Signature', 'SignedHeaders'].filter((name) => !fields.get(name));
  const amzDate = header(headers, 'x-amz-date');
  const problems = missing.map((name) => `Authorization header requires '${name}' parameter.`);
  if (amzDate === undefined) problems.push("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  if (problems.length > 0) throw new IncompleteSignatureException(`${problems.join(' ')} Authorization=${authorization}`);
  const token = header(headers, 'x-amz-security-token');
  return claim(fields.get('Credential')!, amzDate!, fields.get('SignedHeaders')!, fields.get('Signature')!, undefined, token);
}

function fromQuery(query: ReadonlyMap<string, string>): SignatureClaim {
  const algorithm = query.get('X-Amz-Algorithm');
  if (algorithm !== ALGORITHM) throw new IncompleteSignatureException(`X-Amz-Algorithm only supports ${ALGORITHM}`);
  const names = ['X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-SignedHeaders', 'X-Amz-Date', 'X-Amz-Expires'];
  const missing = names.filter((name) => !query.get(name));
  if (missing.length > 0) {
    throw new IncompleteSignatureException(missing.map((name) => `AWS query-string parameters must include '${name}'.`).join(' ') + ' Re-examine the query-string parameters.');
  }
  const expires = Number(query.get('X-Amz-Expires'));
  if (!Number.isInteger(expires) || expires < 0 || expires > MAX_EXPIRES_SECONDS) {
    throw new IncompleteSignatureException(`X-Amz-Expires must be a whole number of seconds from 0 to ${MAX_EXPIRES_SECONDS}.`);
  }
  const get = (name: string) => query.get(name)!;
  return claim(get('X-Amz-Credential'), get('X-Amz-Date'), get('X-Amz-SignedHeaders'), get('X-Amz-Signature'), expires, query.get('X-Amz-Security-Token'));
}

function claim(
  credential: string,
  amzDate: string,
  signedHeaders: string,
  signature: string,
  expiresSeconds: number | undefined,
  sessionToken: string | undefined,
): SignatureClaim {
  // AKID/20261130/us-east-1/lambda/aws4_request
  const parts = credential.split('/');
  if (parts.length !== 5 || parts.some((p) => p === '') || parts[4] !== 'aws4_request') {
    throw new IncompleteSignatureException(`Credential should be scoped to a valid region. Credential=${credential}`);
  }
  const [accessKeyId, day, region, service] = parts as [string, string, string, string, string];
  const signingDate = parseAmzDate(amzDate);
  if (!signingDate) throw new IncompleteSignatureException(`Date must be in ISO-8601 'basic format'. Got '${amzDate}'. See http://en.wikipedia.org/wiki/ISO_8601`);
  if (!amzDate.startsWith(day)) {
    throw new InvalidSignatureException(`Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${day}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`);
  }
  return {
    accessKeyId,
    amzDate,
    signingDate,
    region,
    service,
    signedHeaders: signedHeaders.split(';').map((h) => h.trim().toLowerCase()).filter((h) => h !== ''),
    signature,
    ...(expiresSeconds === undefined ? {} : { expiresSeconds }),
    ...(sessionToken === undefined ? {} : { sessionToken }),
  };
}

/** `20261130T041629Z` as a time, or undefined when it is not one. */
function parseAmzDate(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return Number.isNaN(date.getTime()) || date.getUTCDate() !== d ? undefined : date;
}

/** `Date` as SigV4 writes it. */
export function formatAmzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** The query as SigV4 reads it: each name and value percent-decoded (`+` stays `+`), in order. */
export function signedQueryPairs(raw: string): [string, string][] {
  if (raw === '') return [];
  return raw.split('&').map((part) => {
    const eq = part.indexOf('=');
    const [name, value] = eq === -1 ? [part, ''] : [part.slice(0, eq), part.slice(eq + 1)];
    return [decode(name), decode(value)];
  });
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
