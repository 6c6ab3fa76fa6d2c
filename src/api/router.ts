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

interface Route {
  readonly method: string;
  readonly pattern: RegExp;
  readonly handler: Handler;
}

/** A small table router: Lambda's REST paths are few and fixed. */
export class Router {
  readonly #routes: Route[] = [];

  on(method: string, pattern: RegExp, handler: Handler): this {
    this.#routes.push({ method, pattern, handler });
    return this;
  }

  /** The handler and its decoded parameters, or `undefined` for an unknown operation. */
  match(method: string, path: string): { handler: Handler; params: string[] } | undefined {
    for (const route of this.#routes) {
      if (route.method !== method) continue;
      const match = route.pattern.exec(path);
      if (match) return { handler: route.handler, params: match.slice(1).map((p) => decodeURIComponent(p ?? '')) };
    }
    return undefined;
  }
}
