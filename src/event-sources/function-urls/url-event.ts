import type { IncomingMessage } from 'node:http';

/** What a function URL request carries besides the HTTP request itself. */
export interface UrlEventContext {
  readonly urlId: string;
  /** The function's account: requestContext.accountId. */
  readonly accountId: string;
  /** The Host the client addressed (`<url-id>.lambda-url.<region>.<domain>`), without a port. */
  readonly domainName: string;
  readonly requestId: string;
  readonly timeEpoch: number;
  /** requestContext.authorizer.iam, for AWS_IAM URLs. */
  readonly iam?: IamAuthorizer;
}

export interface IamAuthorizer {
  readonly accessKey: string;
  readonly accountId: string;
  readonly callerId: string;
  readonly userArn: string;
  readonly userId: string;
}

/** Event payload format 2.0 (`version: "2.0"`, routeKey `$default`), as Lambda builds it for a function URL. */
export interface UrlEvent {
  readonly version: '2.0';
  readonly routeKey: '$default';
  readonly rawPath: string;
  readonly rawQueryString: string;
  readonly cookies?: string[];
  readonly headers: Record<string, string>;
  readonly queryStringParameters?: Record<string, string>;
  readonly requestContext: Record<string, unknown>;
  readonly body?: string;
  readonly isBase64Encoded: boolean;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * The event for one request. Headers are lower-cased and repeated ones joined with commas; the
 * Cookie header becomes `cookies` (split at `;`), as Lambda does; repeated query parameters are
 * joined with commas in `queryStringParameters` and kept as sent in `rawQueryString`. A body that is
 * not text (by its Content-Type) is base64-encoded with `isBase64Encoded: true`.
 */
export function urlEvent(req: IncomingMessage, body: Buffer, context: UrlEventContext): UrlEvent {
  const target = req.url ?? '/';
  const q = target.indexOf('?');
  const rawPath = q === -1 ? target : target.slice(0, q);
  const rawQueryString = q === -1 ? '' : target.slice(q + 1);

  // No prototype: a header or query key named `constructor` or `__proto__` is a key like any other.
  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  let cookies: string[] | undefined;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    if (name === 'cookie') {
      for (const cookie of value.split(';')) {
        const trimmed = cookie.trim();
        if (trimmed !== '') (cookies ??= []).push(trimmed);
      }
      continue;
    }
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }

  const text = isText(headers['content-type']);
  const event: UrlEvent = {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString,
    ...(cookies ? { cookies } : {}),
    headers,
    ...queryParameters(rawQueryString),
    requestContext: {
      accountId: context.iam ? context.accountId : 'anonymous',
      apiId: context.urlId,
      ...(context.iam ? { authorizer: { iam: { ...context.iam, cognitoIdentity: null, principalOrgId: null } } } : {}),
      domainName: context.domainName,
      domainPrefix: context.urlId,
      http: {
        method: req.method ?? 'GET',
        path: safeDecode(rawPath),
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: sourceIp(req),
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: context.requestId,
      routeKey: '$default',
      stage: '$default',
      time: clfTime(context.timeEpoch),
      timeEpoch: context.timeEpoch,
    },
    ...(body.length > 0 ? { body: text ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: body.length > 0 && !text,
  };
  return event;
}

function queryParameters(raw: string): { queryStringParameters?: Record<string, string> } {
  if (raw === '') return {};
  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [name, value] of new URLSearchParams(raw)) {
    params[name] = params[name] === undefined ? value : `${params[name]},${value}`;
  }
  return Object.keys(params).length === 0 ? {} : { queryStringParameters: params };
}

/** Content types Lambda passes as text; everything else (and no type at all) goes base64. */
function isText(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  return (
    type.startsWith('text/') ||
    type === 'application/json' ||
    type.endsWith('+json') ||
    type === 'application/xml' ||
    type.endsWith('+xml') ||
    type === 'application/javascript' ||
    type === 'application/x-www-form-urlencoded' ||
    type === 'application/graphql' ||
    type === 'application/x-yaml' ||
    type === 'application/yaml'
  );
}

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

function sourceIp(req: IncomingMessage): string {
  const address = req.socket.remoteAddress ?? '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/** `12/Mar/2020:19:03:58 +0000`, as requestContext.time reads. */
function clfTime(epochMs: number): string {
  const d = new Date(epochMs);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
}
