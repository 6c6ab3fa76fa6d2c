import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export const EXTENSIONS_PREFIX = '/2020-01-01/extension/';

/** Lambda's limit on external extensions per function. */
export const MAX_EXTENSIONS = 10;

interface Extension {
  readonly id: string;
  readonly name: string;
  readonly events: ReadonlySet<string>;
  /** Its pending `event/next`, held until there is an event. */
  waiting: ServerResponse | undefined;
  /** An event sent before it asked for one. */
  queued: Record<string, unknown> | undefined;
  /** Asked for its first event: its Init is over. */
  initDone: boolean;
  /** Still working on the last event it was given. */
  busy: boolean;
}

export interface ExtensionsIdentity {
  readonly functionName: string;
  readonly functionVersion: string;
  readonly handler: string;
}

export interface ExtensionFailure {
  readonly errorType: string;
  readonly message: string;
}

/**
 * The Extensions API (2020-01-01) of one execution environment: register, event/next (INVOKE,
 * SHUTDOWN), init/error, exit/error. Init is over when every extension has asked for its first
 * event; an invocation is over when every extension subscribed to INVOKE has asked for the next one.
 */
export class ExtensionsApi {
  readonly #identity: ExtensionsIdentity;
  readonly #expected: number;
  readonly #extensions = new Map<string, Extension>();
  #readyResolve!: (failure: ExtensionFailure | undefined) => void;
  readonly ready: Promise<ExtensionFailure | undefined>;
  #settled = false;
  #idleWaiters: (() => void)[] = [];

  constructor(identity: ExtensionsIdentity, expected: number) {
    this.#identity = identity;
    this.#expected = expected;
    this.ready = new Promise((resolve) => (this.#readyResolve = resolve));
    if (expected === 0) this.#settle(undefined);
  }

  get registered(): number {
    return this.#extensions.size;
  }

  /** Handles `/2020-01-01/extension/...`; false for other paths. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    if (!path.startsWith(EXTENSIONS_PREFIX)) return false;
    const action = path.slice(EXTENSIONS_PREFIX.length);
    if (req.method === 'POST' && action === 'register') this.#register(req, res);
    else if (req.method === 'GET' && action === 'event/next') this.#next(req, res);
    else if (req.method === 'POST' && (action === 'init/error' || action === 'exit/error')) this.#error(req, res, action);
    else reply(res, 404, { errorMessage: `Unknown Extensions API path: ${req.method} ${path}`, errorType: 'InvalidRequest' });
    return true;
  }

  /** Sends INVOKE to the subscribed extensions; resolves when every one of them is done with it. */
  invoke(event: { requestId: string; deadlineMs: number; invokedFunctionArn: string; traceId: string }): Promise<void> {
    this.#send('INVOKE', {
      eventType: 'INVOKE',
      deadlineMs: event.deadlineMs,
      requestId: event.requestId,
      invokedFunctionArn: event.invokedFunctionArn,
      tracing: { type: 'X-Amzn-Trace-Id', value: event.traceId },
    });
    return this.#idle();
  }

  /** Sends SHUTDOWN; resolves when every subscribed extension is done or the deadline passes. */
  async shutdown(reason: 'spindown' | 'timeout' | 'failure', budgetMs: number): Promise<void> {
    if (this.#extensions.size === 0) return;
    this.#send('SHUTDOWN', { eventType: 'SHUTDOWN', shutdownReason: reason, deadlineMs: Date.now() + budgetMs });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#idle(), new Promise<void>((resolve) => (timer = setTimeout(resolve, budgetMs)))]);
    clearTimeout(timer);
  }

  /** The environment is going away: nothing more will answer. */
  close(): void {
    for (const extension of this.#extensions.values()) {
      extension.waiting?.destroy();
      extension.waiting = undefined;
      extension.busy = false;
    }
    this.#checkIdle();
    this.#settle({ errorType: 'Extension.Crash', message: 'The environment stopped before its extensions were ready' });
  }

  #register(req: IncomingMessage, res: ServerResponse): void {
    readJsonBody(req, (body) => {
      const name = header(req, 'lambda-extension-name');
      if (!name) return reply(res, 400, { errorMessage: 'Lambda-Extension-Name header is required', errorType: 'Extension.InvalidRequest' });
      if (this.#settled) {
        return reply(res, 403, { errorMessage: 'Extensions can only register during Init', errorType: 'Extension.ForbiddenError' });
      }
      if (this.#extensions.size >= MAX_EXTENSIONS) {
        return reply(res, 400, { errorMessage: `At most ${MAX_EXTENSIONS} extensions can register`, errorType: 'Extension.TooManyExtensions' });
      }
      const events = Array.isArray(body?.['events']) ? (body['events'] as unknown[]).filter((e): e is string => e === 'INVOKE' || e === 'SHUTDOWN') : [];
      const extension: Extension = { id: randomUUID(), name, events: new Set(events), waiting: undefined, queued: undefined, initDone: false, busy: false };
      this.#extensions.set(extension.id, extension);
      const data = Buffer.from(JSON.stringify(this.#identity));
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': data.length, 'Lambda-Extension-Identifier': extension.id });
      res.end(data);
    });
  }

  #next(req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    const extension = this.#byId(req, res);
    if (!extension) return;
    extension.waiting?.destroy();
    extension.busy = false;
    if (!extension.initDone) {
      extension.initDone = true;
      this.#checkReady();
    }
    const queued = extension.queued;
    if (queued) {
      extension.queued = undefined;
      extension.busy = true;
      sendEvent(res, queued);
    } else {
      extension.waiting = res;
      res.once('close', () => {
        if (extension.waiting === res) extension.waiting = undefined;
      });
    }
    this.#checkIdle();
  }

  #error(req: IncomingMessage, res: ServerResponse, action: string): void {
    readJsonBody(req, () => {
      const extension = this.#byId(req, res);
      if (!extension) return;
      const errorType = header(req, 'lambda-extension-function-error-type') ?? 'Extension.Unknown';
      reply(res, 202, { status: 'OK' });
      if (action === 'init/error') this.#settle({ errorType, message: `Extension ${extension.name} failed to initialise` });
      extension.busy = false;
      this.#checkIdle();
    });
  }

  #byId(req: IncomingMessage, res: ServerResponse): Extension | undefined {
    const id = header(req, 'lambda-extension-identifier');
    const extension = id === undefined ? undefined : this.#extensions.get(id);
    if (!extension) reply(res, 403, { errorMessage: 'Unknown Lambda-Extension-Identifier', errorType: 'Extension.ForbiddenError' });
    return extension;
  }

  #send(eventType: string, event: Record<string, unknown>): void {
    for (const extension of this.#extensions.values()) {
      if (!extension.events.has(eventType)) continue;
      extension.busy = true;
      const waiting = extension.waiting;
      if (waiting) {
        extension.waiting = undefined;
        sendEvent(waiting, event);
      } else {
        extension.queued = event;
      }
    }
  }

  #idle(): Promise<void> {
    return new Promise((resolve) => {
      this.#idleWaiters.push(resolve);
      this.#checkIdle();
    });
  }

  #checkIdle(): void {
    for (const extension of this.#extensions.values()) if (extension.busy) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  #checkReady(): void {
    if (this.#extensions.size < this.#expected) return;
    for (const extension of this.#extensions.values()) if (!extension.initDone) return;
    this.#settle(undefined);
  }

  #settle(failure: ExtensionFailure | undefined): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#readyResolve(failure);
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function reply(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  const data = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': data.length });
  res.end(data);
}

function sendEvent(res: ServerResponse, event: Record<string, unknown>): void {
  const data = Buffer.from(JSON.stringify(event));
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': data.length });
  res.end(data);
}

function readJsonBody(req: IncomingMessage, done: (body: Record<string, unknown> | undefined) => void): void {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    try {
      done(chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : undefined);
    } catch {
      done(undefined);
    }
  });
}
