import type { AccessContext, RouteAccess } from './router.js';

/**
 * The action and resource of each kind of route, as IAM names them for Lambda, CloudWatch Logs and
 * Kindling's own API. A resource ARN carries the account of an ARN the caller gave (another
 * account's function) or else the caller's own; the authorizer compares it with the caller's.
 */

/** `name`, `123456789012:function:name[:q]` or `arn:aws:lambda:region:123456789012:function:name[:q]`. */
const FUNCTION_REF = /^(?:arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:(\d{12}):function:|(\d{12}):function:)?([^:]+)(?::([^:]+))?$/;

function functionArn(ctx: AccessContext, ref: string, qualifier: string | null | undefined): string {
  const match = FUNCTION_REF.exec(ref);
  const account = match?.[1] ?? match?.[2] ?? ctx.caller.accountId;
  const name = match?.[3] ?? ref;
  const q = match?.[4] ?? qualifier ?? undefined;
  return `arn:aws:lambda:${ctx.region}:${account}:function:${name}${q ? `:${q}` : ''}`;
}

/**
 * A route on one function (its name or ARN the first path parameter). `qualified`: the request's
 * qualifier (in the ARN or `?Qualifier=`) is part of the resource, as Lambda has it for Invoke,
 * GetFunction and the other operations on a version or alias.
 */
export function onFunction(action: string, options: { qualified?: boolean; services?: readonly string[] } = {}): RouteAccess {
  return {
    action,
    resource: (ctx) => functionArn(ctx, ctx.params[0] ?? '', options.qualified ? ctx.query.get('Qualifier') : undefined),
    ...(options.services ? { services: options.services } : {}),
  };
}

/** A route on a layer (its name or ARN the first path parameter), or one of its versions (the second). */
export function onLayer(action: string, versioned: boolean): RouteAccess {
  return {
    action,
    resource: (ctx) => {
      const ref = ctx.params[0] ?? '';
      const arn = /^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:(\d{12}):layer:([^:]+)$/.exec(ref);
      const base = `arn:aws:lambda:${ctx.region}:${arn?.[1] ?? ctx.caller.accountId}:layer:${arn?.[2] ?? ref}`;
      return versioned ? `${base}:${ctx.params[1] ?? ''}` : base;
    },
  };
}

/** A route whose path names the resource by its full ARN (TagResource, UntagResource, ListTags). */
export function onArn(action: string): RouteAccess {
  return { action, resource: (ctx) => ctx.params[0] ?? '*' };
}

/** A route on no one resource (ListFunctions, GetAccountSettings, Kindling's cluster view). */
export function onAny(action: string, services?: readonly string[]): RouteAccess {
  return { action, resource: () => '*', ...(services ? { services } : {}) };
}

/** Kindling's own API is signed as the service `kindling` (the `kindling` CLI) or `lambda` (an SDK pointed at it). */
export const KINDLING_SERVICES: readonly string[] = ['kindling', 'lambda'];

/** A URL that is its own capability, as a presigned URL is (not authenticated). */
export function publicUrl(action: string): RouteAccess {
  return { action, resource: () => '*', public: true };
}

/** The IAM service prefix of an action (`lambda` of `lambda:InvokeFunction`). */
export function serviceOf(action: string): string {
  return action.slice(0, action.indexOf(':'));
}

/** The JSON body of a request that was read before its handler (signed requests), or `{}`. */
function bodyMembers(ctx: AccessContext): Record<string, unknown> {
  if (ctx.body.length === 0) return {};
  try {
    const parsed: unknown = JSON.parse(ctx.body.toString('utf8'));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** CreateFunction: the function it makes, named in the body. */
export function onNewFunction(action: string): RouteAccess {
  return {
    action,
    resource: (ctx) => {
      const name = bodyMembers(ctx)['FunctionName'];
      return functionArn(ctx, typeof name === 'string' && name !== '' ? name : '*', undefined);
    },
  };
}

/**
 * CloudWatch Logs' JSON protocol: one path, the operation in `X-Amz-Target`, the log group in the
 * body (`arn:aws:logs:region:account:log-group:NAME:*`, as IAM names it).
 */
export function onLogs(targetPrefix: string, contentType: string): RouteAccess {
  return {
    jsonProtocol: contentType,
    services: ['logs'],
    action: (ctx) => {
      const target = ctx.headers['x-amz-target'];
      return `logs:${typeof target === 'string' && target.startsWith(targetPrefix) ? target.slice(targetPrefix.length) : 'Unknown'}`;
    },
    resource: (ctx) => {
      const body = bodyMembers(ctx);
      const identifier = body['logGroupIdentifier'] ?? body['logGroupName'];
      if (typeof identifier === 'string' && identifier.startsWith('arn:')) return identifier.endsWith(':*') ? identifier : `${identifier}:*`;
      const group = typeof identifier === 'string' && identifier !== '' ? identifier : '*';
      return `arn:aws:logs:${ctx.region}:${ctx.caller.accountId}:log-group:${group}:*`;
    },
  };
}
