import { createHmac } from 'node:crypto';
import { ValidationException } from '../shared/index.js';
import type { FunctionUrlAuthType, FunctionUrlCors, FunctionUrlInvokeMode, FunctionUrlRecord } from '../store/index.js';

/**
 * What CreateFunctionUrlConfig and UpdateFunctionUrlConfig are told, checked against the AWS SDK
 * model's constraints (lambda 2015-03-31: FunctionUrlQualifier, FunctionUrlAuthType, Cors, InvokeMode).
 */

const AUTH_TYPES: readonly FunctionUrlAuthType[] = ['NONE', 'AWS_IAM'];
const INVOKE_MODES: readonly FunctionUrlInvokeMode[] = ['BUFFERED', 'RESPONSE_STREAM'];
/** The model's FunctionUrlQualifier: `$LATEST` or an alias name, never a version number. */
const QUALIFIER = /^(\$LATEST|(?![0-9]+$)[a-zA-Z0-9-_]+)$/;
const QUALIFIER_PATTERN = '(^\\$LATEST$)|((?!^[0-9]+$)([a-zA-Z0-9-_]+))';
const QUALIFIER_MAX = 128;
/** Cors lists: how many members, and how long each may be (HeadersList, AllowMethodsList, AllowOriginsList). */
const CORS_LISTS = {
  AllowHeaders: { member: 'allowHeaders', maxItems: 100, maxLength: 1024, minLength: 0 },
  AllowMethods: { member: 'allowMethods', maxItems: 6, maxLength: 6, minLength: 0 },
  AllowOrigins: { member: 'allowOrigins', maxItems: 100, maxLength: 253, minLength: 1 },
  ExposeHeaders: { member: 'exposeHeaders', maxItems: 100, maxLength: 1024, minLength: 0 },
} as const;
const MAX_AGE = { min: 0, max: 86_400 } as const;

/** 32 characters from a-z and 2-7 (base32, lower case), as Lambda's url-ids are 32 of [a-z0-9]. */
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
const URL_ID = /^[a-z0-9]{32}$/;

/** The settings of a URL that its create or update names. */
export interface UrlSettings {
  authType?: FunctionUrlAuthType;
  cors?: FunctionUrlCors;
  invokeMode?: FunctionUrlInvokeMode;
}

/** The Qualifier query parameter or the one in the name: `$LATEST` or an alias; undefined is `$LATEST`. */
export function validateUrlQualifier(qualifier: string | undefined): string {
  if (qualifier === undefined) return '$LATEST';
  if (qualifier.length > QUALIFIER_MAX) throw ValidationException.constraint(qualifier, 'qualifier', `Member must have length less than or equal to ${QUALIFIER_MAX}`);
  if (!QUALIFIER.test(qualifier)) {
    throw ValidationException.constraint(qualifier, 'qualifier', `Member must satisfy regular expression pattern: ${QUALIFIER_PATTERN}`);
  }
  return qualifier;
}

/** AuthType, Cors and InvokeMode of a request body; `create` requires AuthType, as the model does. */
export function validateUrlSettings(body: Record<string, unknown>, create: boolean): UrlSettings {
  const out: UrlSettings = {};
  const authType = body['AuthType'];
  if (authType === undefined || authType === null) {
    if (create) throw new ValidationException("1 validation error detected: Value null at 'authType' failed to satisfy constraint: Member must not be null");
  } else out.authType = oneOf(authType, 'authType', AUTH_TYPES);
  if (body['Cors'] !== undefined && body['Cors'] !== null) out.cors = validateCors(body['Cors']);
  if (body['InvokeMode'] !== undefined && body['InvokeMode'] !== null) out.invokeMode = oneOf(body['InvokeMode'], 'invokeMode', INVOKE_MODES);
  return out;
}

function oneOf<T extends string>(value: unknown, member: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw ValidationException.constraint(value, member, `Member must satisfy enum value set: [${allowed.join(', ')}]`);
  }
  return value as T;
}

function validateCors(value: unknown): FunctionUrlCors {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw ValidationException.constraint(value, 'cors', 'Member must be a structure');
  const given = value as Record<string, unknown>;
  const cors: FunctionUrlCors = {};
  const credentials = given['AllowCredentials'];
  if (credentials !== undefined && credentials !== null) {
    if (typeof credentials !== 'boolean') throw ValidationException.constraint(credentials, 'cors.allowCredentials', 'Member must be a boolean');
    cors.AllowCredentials = credentials;
  }
  for (const [name, limits] of Object.entries(CORS_LISTS) as [keyof typeof CORS_LISTS, (typeof CORS_LISTS)[keyof typeof CORS_LISTS]][]) {
    const list = given[name];
    if (list === undefined || list === null) continue;
    const member = `cors.${limits.member}`;
    if (!Array.isArray(list) || list.some((item) => typeof item !== 'string')) throw ValidationException.constraint(list, member, 'Member must be a list of strings');
    if (list.length > limits.maxItems) throw ValidationException.constraint(list, member, `Member must have length less than or equal to ${limits.maxItems}`);
    for (const item of list as string[]) {
      if (item.length > limits.maxLength || item.length < limits.minLength) {
        const bounds = [`Member must have length less than or equal to ${limits.maxLength}`, ...(limits.minLength > 0 ? [`Member must have length greater than or equal to ${limits.minLength}`] : [])];
        throw ValidationException.constraint(list, member, `Member must satisfy constraint: [${bounds.join(', ')}]`);
      }
      // The model's pattern `.*` matches no line terminator; the values become response headers.
      if (/[\u0000-\u001f\u007f]/.test(item) || /[^\u0000-\u00ff]/.test(item)) {
        throw ValidationException.constraint(list, member, 'Member must satisfy regular expression pattern: .*');
      }
    }
    cors[name] = [...(list as string[])];
  }
  const maxAge = given['MaxAge'];
  if (maxAge !== undefined && maxAge !== null) {
    if (typeof maxAge !== 'number' || !Number.isInteger(maxAge)) throw ValidationException.constraint(maxAge, 'cors.maxAge', 'Member must be an integer');
    if (maxAge < MAX_AGE.min) throw ValidationException.constraint(maxAge, 'cors.maxAge', `Member must have value greater than or equal to ${MAX_AGE.min}`);
    if (maxAge > MAX_AGE.max) throw ValidationException.constraint(maxAge, 'cors.maxAge', `Member must have value less than or equal to ${MAX_AGE.max}`);
    cors.MaxAge = maxAge;
  }
  return cors;
}

/**
 * The url-id of a function's `$LATEST` or alias: derived, not drawn, so the same function and
 * qualifier made again (or read by another api node) get the same URL. Keyed with a secret so that
 * a URL cannot be guessed from a function's name.
 */
export function deriveUrlId(secret: Buffer, accountId: string, name: string, qualifier: string): string {
  const digest = createHmac('sha256', secret).update(`${accountId}|${name}|${qualifier}`).digest();
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < 32) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
    if (out.length === 32) break;
  }
  return out;
}

/** Whether a string could be a url-id (the first label of a URL's host). */
export function isUrlId(value: string): boolean {
  return URL_ID.test(value);
}

/**
 * The url-id of a request's Host (`<url-id>.lambda-url.<region>.<domain>[:port]`), if it is one of
 * this region's function URL hosts.
 */
export function urlIdOfHost(host: string | undefined, region: string): string | undefined {
  if (host === undefined) return undefined;
  const lower = host.toLowerCase();
  const dot = lower.indexOf('.');
  const id = lower.slice(0, dot);
  return dot !== -1 && isUrlId(id) && lower.startsWith(`.lambda-url.${region}.`, dot) ? id : undefined;
}

/** Applies an update's settings to a URL: a given Cors replaces the old one whole, as Lambda does. */
export function updatedUrl(current: FunctionUrlRecord, settings: UrlSettings, now: number): FunctionUrlRecord {
  return {
    ...current,
    ...(settings.authType ? { authType: settings.authType } : {}),
    ...(settings.cors ? { cors: settings.cors } : {}),
    ...(settings.invokeMode ? { invokeMode: settings.invokeMode } : {}),
    lastModifiedTime: now,
  };
}
