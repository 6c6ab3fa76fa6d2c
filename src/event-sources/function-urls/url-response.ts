import { validateHeaderName, validateHeaderValue } from 'node:http';

/** What goes back to the HTTP client: Lambda's mapping of a function's answer. */
export interface UrlResponse {
  readonly statusCode: number;
  /** Header names as the function wrote them; values already strings. */
  readonly headers: Record<string, string>;
  readonly cookies: readonly string[];
  readonly body: Buffer;
}

/** The content type with which a streaming function's response begins with an HTTP prelude. */
export const HTTP_INTEGRATION_TYPE = 'application/vnd.awslambda.http-integration-response';
/** The prelude ends at eight NUL bytes. */
const PRELUDE_END = Buffer.alloc(8);
/** A prelude larger than this is not one (a function writing garbage): the response fails. */
const PRELUDE_MAX = 64 * 1024;

/**
 * A buffered function's answer as Lambda maps it for a function URL: an object with `statusCode`
 * is an HTTP response (`headers`, `cookies`, `body`, `isBase64Encoded`); any other JSON is a 200
 * `application/json` response whose body is that JSON (a bare string: the string itself).
 * Undefined: the answer cannot be mapped (not JSON, or a bad statusCode): the URL answers 502.
 */
export function mapResponse(payload: Buffer): UrlResponse | undefined {
  let parsed: unknown;
  try {
    parsed = payload.length === 0 ? null : JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) && 'statusCode' in parsed) {
    return httpResponse(parsed as Record<string, unknown>);
  }
  const body = typeof parsed === 'string' ? Buffer.from(parsed) : payload;
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, cookies: [], body: parsed === null ? Buffer.alloc(0) : body };
}

/**
 * Headers that frame the response on the connection: the URL endpoint sets them, never the
 * function (one that could would split the response, or desynchronise a proxy's keep-alive).
 */
const FRAMING = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer', 'proxy-connection']);

/** Whether HTTP can carry this header (a token name; a value without CR, LF or NUL, Latin-1). */
function carriable(name: string, value: string): boolean {
  try {
    validateHeaderName(name);
    validateHeaderValue(name, value);
    return true;
  } catch {
    return false;
  }
}

/**
 * `{statusCode, headers, cookies, body, isBase64Encoded}`: a prelude's fields, or a whole response.
 * Undefined (the URL answers 502) for a status outside 200–599 or a header HTTP cannot carry.
 */
export function httpResponse(fields: Record<string, unknown>): UrlResponse | undefined {
  const status = Number(fields['statusCode']);
  if (!Number.isInteger(status) || status < 200 || status > 599) return undefined;
  const headers: Record<string, string> = {};
  const given = fields['headers'];
  if (typeof given === 'object' && given !== null) {
    for (const [name, value] of Object.entries(given)) {
      if (value === undefined || value === null || FRAMING.has(name.toLowerCase())) continue;
      const text = String(value);
      if (!carriable(name, text)) return undefined;
      headers[name] = text;
    }
  }
  const cookies = Array.isArray(fields['cookies']) ? fields['cookies'].map(String) : [];
  if (!cookies.every((cookie) => carriable('set-cookie', cookie))) return undefined;
  const rawBody = fields['body'];
  const text = rawBody === undefined || rawBody === null ? '' : typeof rawBody === 'string' ? rawBody : JSON.stringify(rawBody);
  const body = fields['isBase64Encoded'] === true ? Buffer.from(text, 'base64') : Buffer.from(text);
  return { statusCode: status, headers, cookies, body };
}

/**
 * Reads the HTTP prelude at the start of a streamed HTTP-integration response: JSON, then eight NUL
 * bytes, then the body. `push` returns undefined until the prelude is complete, then the prelude's
 * response head (body empty) and whatever body bytes came with it.
 */
export class PreludeReader {
  #buffered: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): { head: UrlResponse | undefined; rest: Buffer } | undefined {
    this.#buffered = this.#buffered.length === 0 ? chunk : Buffer.concat([this.#buffered, chunk]);
    const end = this.#buffered.indexOf(PRELUDE_END);
    if (end === -1) {
      if (this.#buffered.length > PRELUDE_MAX) return { head: undefined, rest: Buffer.alloc(0) };
      return undefined;
    }
    let head: UrlResponse | undefined;
    try {
      const fields: unknown = JSON.parse(this.#buffered.subarray(0, end).toString('utf8'));
      if (typeof fields === 'object' && fields !== null && !Array.isArray(fields)) {
        head = httpResponse({ statusCode: 200, ...(fields as Record<string, unknown>), body: undefined, isBase64Encoded: false });
      }
    } catch {
      head = undefined;
    }
    const rest = this.#buffered.subarray(end + PRELUDE_END.length);
    this.#buffered = Buffer.alloc(0);
    return { head, rest };
  }
}
