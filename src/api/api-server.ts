import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CodeStore } from '../code/index.js';
import type { Aliases, ConcurrencySettings, EventInvokeConfigs, FunctionRegistry, FunctionTags, FunctionUrls, FunctionVersions, LayerRegistry, Permissions } from '../control-plane/index.js';
import type { InvokeService, ProvisionedConcurrency } from '../invoke/index.js';
import type { LogQueryService } from '../logs/index.js';
import type { DeadLetterService, QueueMetrics } from '../queue/index.js';
import type { EventQueueTable, NodeTable } from '../store/index.js';
import { anonymousCaller, signedQueryPairs, type AccessKeys, type Authenticator, type Authorizer, type Caller, type Roles } from '../identity/index.js';
import { LambdaServiceError, listenOn, MissingAuthenticationTokenException, newRequestId, UnknownOperationException, type Logger, type Partition } from '../shared/index.js';
import { concurrencyRoutes } from './concurrency-routes.js';
import { provisionedRoutes } from './provisioned-routes.js';
import { eventConfigRoutes } from './event-config-routes.js';
import { functionRoutes } from './function-routes.js';
import { functionUrlRoutes } from './function-url-routes.js';
import { readSignedBody, sendError, sendJsonProtocolError } from './http-io.js';
import { CODE_REQUEST_LIMIT } from './function-routes.js';
import { keyRoutes } from './key-routes.js';
import { serviceOf } from './route-access.js';
import { invokeRoutes } from './invoke-routes.js';
import { streamInvokeRoutes } from './stream-invoke-routes.js';
import { kindlingRoutes } from './kindling-routes.js';
import { layerRoutes } from './layer-routes.js';
import { logsRoutes } from './logs-routes.js';
import { roleRoutes } from './role-routes.js';
import { Router, type AccessContext, type RouteMatch } from './router.js';
import { policyRoutes } from './policy-routes.js';
import { tagRoutes } from './tag-routes.js';
import { versionRoutes } from './version-routes.js';

export interface ApiDeps {
  registry: FunctionRegistry;
  versions: FunctionVersions;
  aliases: Aliases;
  concurrency: ConcurrencySettings;
  provisioned: ProvisionedConcurrency;
  invoker: InvokeService;
  code: CodeStore;
  partition: Partition;
  logger: Logger;
  eventConfigs: EventInvokeConfigs;
  deadLetters: DeadLetterService;
  metrics: QueueMetrics;
  events: EventQueueTable;
  /** The CloudWatch Logs API's read side. */
  logQuery: LogQueryService;
  /** PublishLayerVersion and the other layer operations. */
  layers: LayerRegistry;
  /** The fleet's node registry. */
  nodes: NodeTable;
  /** Execution roles and their policies. */
  roles: Roles;
  /** The access keys (`kindling keys`, the keys API). */
  keys: AccessKeys;
  /** SigV4 authentication and IAM-style authorization (`--auth sigv4`); absent under `--auth none`. */
  access?: { authenticator: Authenticator; authorizer: Authorizer };
  /** AddPermission and the other resource-policy operations. */
  permissions: Permissions;
  /** TagResource, UntagResource, ListTags. */
  tags: FunctionTags;
  /** CreateFunctionUrlConfig and the other function URL operations. */
  functionUrls: FunctionUrls;
}

/** Most requests (every Invoke without a Qualifier) have no query string: one empty set, read only. */
const NO_QUERY: URLSearchParams = new URLSearchParams();

/**
 * The HTTP front door: Lambda's REST API on one port. Routing, body limits and the one error
 * handler; the work itself is the control plane's and the invoke service's.
 */
export class ApiServer {
  readonly #server: Server;
  readonly #router = new Router();
  readonly #logger: Logger;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #anonymous: Caller;
  readonly #access: ApiDeps['access'];
  readonly #region: string;

  constructor(deps: ApiDeps) {
    this.#logger = deps.logger;
    this.#anonymous = anonymousCaller(deps.partition.accountId);
    this.#access = deps.access;
    this.#region = deps.partition.region;
    invokeRoutes(this.#router, deps.invoker);
    streamInvokeRoutes(this.#router, deps.invoker, deps.logger);
    functionRoutes(this.#router, deps);
    versionRoutes(this.#router, deps);
    concurrencyRoutes(this.#router, deps);
    provisionedRoutes(this.#router, deps.provisioned);
    eventConfigRoutes(this.#router, deps.eventConfigs);
    layerRoutes(this.#router, deps);
    kindlingRoutes(this.#router, deps);
    logsRoutes(this.#router, deps.logQuery);
    roleRoutes(this.#router, deps.roles);
    keyRoutes(this.#router, { keys: deps.keys, defaultAccountId: deps.partition.accountId });
    policyRoutes(this.#router, deps.permissions);
    tagRoutes(this.#router, deps.tags);
    functionUrlRoutes(this.#router, deps.functionUrls);
    this.#server = createServer((req, res) => this.#handle(req, res));
    this.#server.keepAliveTimeout = 65_000;
  }

  listen(port: number, host: string): Promise<AddressInfo> {
    return listenOn(this.#server, port, host);
  }

  /** Stops taking connections and waits for requests in flight (invokes finish). Idempotent. */
  async close(): Promise<void> {
    if (this.#server.listening) {
      const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      this.#server.closeIdleConnections();
      await Promise.all([...this.#inFlight]);
      this.#server.closeAllConnections();
      await closed;
    }
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const requestId = newRequestId();
    const done = this.#dispatch(req, res, requestId).catch((err: unknown) => sendError(res, err, requestId, this.#logger));
    this.#inFlight.add(done);
    void done.finally(() => this.#inFlight.delete(done));
  }

  async #dispatch(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const route = this.#router.match(req.method ?? 'GET', path);
    if (!route) {
      req.resume();
      throw new UnknownOperationException(`Unknown operation: ${req.method} ${path}`);
    }
    const query = q === -1 ? NO_QUERY : new URLSearchParams(url.slice(q + 1));
    try {
      const caller = this.#access && !route.access.public ? await this.#authorize(req, route, path, q === -1 ? '' : url.slice(q + 1), query) : this.#anonymous;
      await route.handler({ req, res, params: route.params, query, requestId, caller });
    } catch (err) {
      // The AWS JSON protocol (CloudWatch Logs) answers every error its own way, auth errors too.
      if (route.access.jsonProtocol && err instanceof LambdaServiceError && !res.headersSent) {
        sendJsonProtocolError(res, err, requestId, route.access.jsonProtocol);
        return;
      }
      throw err;
    }
  }

  /**
   * `--auth sigv4`: reads the body once (SigV4 signs its hash; the handler is handed the same bytes),
   * authenticates the signature, then asks the authorizer for the route's action on its resource.
   */
  async #authorize(req: IncomingMessage, route: RouteMatch, path: string, rawQuery: string, query: URLSearchParams): Promise<Caller> {
    const { authenticator, authorizer } = this.#access!;
    // Unsigned: said before reading a body nobody will use.
    if (req.headers.authorization === undefined && !query.has('X-Amz-Algorithm')) {
      req.resume();
      throw new MissingAuthenticationTokenException();
    }
    const { body, bodyHash } = await readSignedBody(req, CODE_REQUEST_LIMIT);
    const caller = await authenticator.authenticate({
      method: req.method ?? 'GET',
      path,
      query: signedQueryPairs(rawQuery),
      headers: req.headers,
      bodyHash,
      services: route.access.services ?? [typeof route.access.action === 'string' ? serviceOf(route.access.action) : ''],
    });
    const context: AccessContext = { params: route.params, query, headers: req.headers, caller, region: this.#region, body };
    const action = typeof route.access.action === 'string' ? route.access.action : route.access.action(context);
    const resource = route.access.resource(context);
    authorizer.authorize({ caller, action, resource, resourceAccount: accountOf(resource) ?? caller.accountId });
    return caller;
  }
}

/** The account of an ARN (`arn:aws:lambda:us-east-1:123456789012:...`), or undefined for `*`. */
function accountOf(resource: string): string | undefined {
  const account = resource.split(':')[4];
  return account !== undefined && /^\d{12}$/.test(account) ? account : undefined;
}
