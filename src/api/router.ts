import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Caller } from '../identity/index.js';

export interface RouteContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** Decoded path parameters, in the order of the pattern's groups. */
  readonly params: readonly string[];
  readonly query: URLSearchParams;
  readonly requestId: string;
  /** Who is calling (authenticated, or the default account's administrator under `--auth none`). */
  readonly caller: Caller;
}

export type Handler = (ctx: RouteContext) => Promise<void> | void;

/** What the authorizer is told about one request to a route, to name its action and resource. */
export interface AccessContext {
  readonly params: readonly string[];
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  readonly caller: Caller;
  readonly region: string;
  /** The body, when it was read before the handler (signed requests); empty otherwise. */
  readonly body: Buffer;
}

/**
 * Who may call a route: its IAM action and the resource it acts on. Every route declares one, so
 * none can be added that the authorizer does not know. `public` routes skip authentication: only
 * for URLs that are themselves the capability (Code.Location's content hash), as AWS's presigned
 * URLs are.
 */
export interface RouteAccess {
  /** `lambda:InvokeFunction`, or a function of the request (one path, several operations: Logs' X-Amz-Target). */
  readonly action: string | ((ctx: AccessContext) => string);
  /** The resource's ARN (with the account of an ARN given in the path), or `*`. */
  readonly resource: (ctx: AccessContext) => string;
  /** The SigV4 signing names accepted in the credential scope; the action's prefix by default. */
  readonly services?: readonly string[];
  readonly public?: boolean;
  /** The route speaks the AWS JSON protocol (its content type): errors go out as `{__type, message}`. */
  readonly jsonProtocol?: string;
}

export interface RouteMatch {
  readonly handler: Handler;
  readonly params: string[];
  readonly access: RouteAccess;
}

interface Route {
  readonly method: string;
  readonly pattern: RegExp;
  readonly handler: Handler;
  readonly access: RouteAccess;
}

/** A small table router: Lambda's REST paths are few and fixed. */
export class Router {
  readonly #routes: Route[] = [];

  on(method: string, pattern: RegExp, access: RouteAccess, handler: Handler): this {
    this.#routes.push({ method, pattern, handler, access });
    return this;
  }

  /** The handler and its decoded parameters, or `undefined` for an unknown operation. */
  match(method: string, path: string): RouteMatch | undefined {
    for (const route of this.#routes) {
      if (route.method !== method) continue;
      const match = route.pattern.exec(path);
      if (match) return { handler: route.handler, access: route.access, params: match.slice(1).map((p) => decodeURIComponent(p ?? '')) };
    }
    return undefined;
  }
}
