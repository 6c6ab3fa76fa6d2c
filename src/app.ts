import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { join } from 'node:path';
import { ApiServer } from './api/index.js';
import { UrlServer } from './event-sources/index.js';
import { CodeStore, ImageStore, LayerView } from './code/index.js';
import { authMode, type KindlingConfig } from './config/index.js';
import { AccessKeys, anonymousCaller, Authenticator, Authorizer, ensureAdminKey, KeyFile, Roles, SessionIssuer, type CredentialSource, type ResourcePolicies } from './identity/index.js';
import {
  Aliases,
  ConcurrencySettings,
  EventInvokeConfigs,
  FunctionRegistry,
  FunctionTags,
  FunctionUrls,
  FunctionVersions,
  LayerRegistry,
  ImageFunctions,
  LIMITS,
  liveInControlPlane,
  Permissions,
  ResourcePolicyCache,
} from './control-plane/index.js';
import { ConcurrencyLimiter, FleetLimiter, InvokeService, ProvisionedConcurrency, type Limiter } from './invoke/index.js';
import { DIRECTORY_DEFAULTS, NodeAgent, NodeDirectory, ProvisionedShare, RemoteRunner, WorkerClient } from './placement/index.js';
import { LogQueryService, LogSink } from './logs/index.js';
import {
  DEFAULT_MAX_EVENT_AGE_SECONDS,
  DEFAULT_RETRY_ATTEMPTS,
  DeadLetterService,
  EventQueue,
  parseDestination,
  PollerFleet,
  QueueMetrics,
  type SettingsFor,
} from './queue/index.js';
import { createLogger, functionArn, functionLogGroupKey, parseFunctionRef, ServiceException, systemClock, unscope, type Clock, type Logger } from './shared/index.js';
import { ApiBridge, SANDBOX_TAG, selectSandboxes, type SandboxSelection } from './sandbox/index.js';
import { openPostgresStore, SqliteStore, type Store } from './store/index.js';
import { MemoryBudget, PrestartPool, WorkerFleet, WorkerLease, WorkerServer, type Runner } from './worker/index.js';

export interface Kindling {
  /** `http://host:port` of the API ('' on a worker-only node). */
  readonly url: string;
  readonly port: number;
  /** A worker node's fleet endpoint port. */
  readonly fleetPort?: number;
  /** Where function URLs are served (absent on a worker-only node). */
  readonly urlPort?: number;
  /** This process's id in the fleet's registry. */
  readonly nodeId: string;
  readonly store: Store;
  /** The sandbox driver functions get by default, and every driver they may ask for by tag. */
  readonly sandbox: { readonly defaultDriver: string; readonly allowed: readonly string[] };
  /** The execution environments, on a node with the worker role. */
  readonly fleet?: WorkerFleet;
  readonly logs: LogSink;
  readonly pollers?: PollerFleet;
  /** Sandboxes with a runtime started ahead of demand, on a worker (absent with --prewarm 0). */
  readonly prestart?: PrestartPool;
  /** Ids of the workers this node routes to now (an api or poller node's view of the fleet). */
  routable(): string[];
  /**
   * The services behind the API, which take the caller's account as a parameter: tests act as an
   * account other than the default one through these (the API authenticates only the default
   * account under `--auth none`).
   */
  readonly services: KindlingServices;
  /** Resolves when a worker node's lease ended and it drained and stopped (the process should exit 0). */
  readonly ended: Promise<void>;
  /** Resource policies (AddPermission), in memory: what cross-account access asks (identity/caller.ts). */
  readonly resourcePolicies: ResourcePolicyCache;
  /** Graceful stop: no new requests, in-flight invokes finish, environments shut down, store closed. */
  close(): Promise<void>;
}

export interface KindlingServices {
  readonly registry: FunctionRegistry;
  readonly versions: FunctionVersions;
  readonly aliases: Aliases;
  readonly concurrency: ConcurrencySettings;
  readonly eventConfigs: EventInvokeConfigs;
  readonly layers: LayerRegistry;
  readonly invoker: InvokeService;
  readonly logQuery: LogQueryService;
  readonly deadLetters: DeadLetterService;
  /** Function URLs: their configs, and `resolve(urlId)` for the URL server. */
  readonly functionUrls: FunctionUrls;
}

/** The composition root: builds every component from the config and wires them together. */
export async function startKindling(
  config: KindlingConfig,
  options: {
    logger?: Logger;
    clock?: Clock;
    /** Opens the store at a path (SQLite's by default); tests hand in one that answers late. */
    openStore?: (path: string) => Store;
    /** More places access keys are known (the session credentials of functions' roles). */
    credentialSources?: readonly CredentialSource[];
    /** Resource-based policies, asked for cross-account access (denied without them). */
    resourcePolicies?: ResourcePolicies;
  } = {},
): Promise<Kindling> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const clock = options.clock ?? systemClock;
  const partition = { region: config.region, accountId: config.accountId };
  // Checked again here, for configs not made by loadConfig: an open API off loopback never starts.
  authMode(config.auth, config.host, config.roles.includes('api'));
  mkdirSync(config.dataDir, { recursive: true });

  const prlimit = ['/usr/bin/prlimit', '/bin/prlimit'].find((path) => existsSync(path));
  if (!prlimit) logger.warn('prlimit not found: process sandboxes run without rlimits');
  // Kindling's API for functions (AWS_ENDPOINT_URL): this process's own, where it serves one (docs/network.md).
  const apiBridge = config.roles.includes('api') && config.roles.includes('worker') ? await ApiBridge.open() : undefined;
  // A store that cannot be opened (a damaged file, a database down) ends the start: what was
  // opened before it (the bridge's socket, the firewall table) goes too, or the process never exits.
  let opened: SandboxSelection | undefined;
  let store: Store;
  try {
    opened = await selectSandboxes(
      {
        sandbox: config.sandbox, dataDir: config.dataDir, ...(config.allowSandbox ? { allow: config.allowSandbox } : {}), ...(prlimit ? { prlimit } : {}),
        // A node that runs no functions touches no firewall.
        egress: config.roles.includes('worker') ? config.egress : 'deny', egressDeny: config.egressDeny, ...(apiBridge ? { apiBridge } : {}),
      },
      logger,
    );
    // SQLite in the data directory, or the PostgreSQL that several servers share (docs/stores.md).
    const storePath = join(config.dataDir, 'kindling.db');
    store = options.openStore
      ? options.openStore(storePath)
      : config.store
        ? await openPostgresStore(config.store, { logger })
        : new SqliteStore(storePath);
  } catch (err) {
    await opened?.close();
    await apiBridge?.close();
    throw err;
  }
  const sandboxes = opened;
  const code = new CodeStore(config.dataDir, store.blobs);
  const layers: LayerRegistry = new LayerRegistry({
    store,
    code,
    partition,
    clock,
    logger,
    // Another account's layer version in a function's Layers: only where its policy lets the
    // function's account in (AddLayerVersionPermission). Asked when a function is created or
    // updated, after the cache below has loaded.
    layerAccess: (arn: string, account: string): boolean => (options.resourcePolicies ?? resourcePolicies).allows(arn, { caller: anonymousCaller(account), action: 'lambda:GetLayerVersion' }),
  });
  const layerView = new LayerView(config.dataDir, code);
  const isQueueArn = (arn: string, account: string) => parseDestination(arn, partition, account)?.kind === 'queue';
  // Container images (PackageType Image), unpacked into the code store: docs/images.md.
  const images = new ImageStore(config.dataDir, code, store.blobs, {
    maxImageBytes: config.maxImageBytes,
    registryTimeoutMs: config.registryTimeoutMs,
    insecureRegistries: config.insecureRegistries,
  });
  code.buildImagesWith(images);
  const registry = new FunctionRegistry({ store, code, partition, clock, logger, isQueueArn, layers, sandboxNames: sandboxes.names, images: new ImageFunctions(images) });
  const versions = new FunctionVersions({ store, registry, partition, clock });
  const aliases = new Aliases({ store, registry, versions, partition });
  const concurrency = new ConcurrencySettings({
    store,
    registry,
    partition,
    limits: { accountConcurrency: config.accountConcurrency, unreservedMinimum: config.unreservedMinimum },
  });
  const eventConfigs = new EventInvokeConfigs({
    store,
    registry,
    partition,
    clock,
    deliverable: (arn, functionName) => parseDestination(arn, partition, unscope(partition.accountId, functionName).accountId) !== undefined,
    qualifierExists: (name, qualifier) => void aliases.lookup(name, qualifier),
  });
  // Function URLs: their url-ids are keyed with the key file, so every api node derives the same ones.
  const keyFile = KeyFile.openOrCreate(config.keyFile).keyFile;
  const functionUrls = new FunctionUrls({
    store, registry, aliases, partition, clock, secret: keyFile.deriveKey('kindling function url ids'),
    urlPort: config.urlPort, ...(config.urlDomain ? { urlDomain: config.urlDomain } : {}), iamAuth: config.auth === 'sigv4',
  });
  // What the control plane keeps in memory for the invoke path, read once before the API listens.
  await registry.load();
  await versions.load();
  await aliases.load();
  await concurrency.load();
  await eventConfigs.load();
  const resourcePolicies = new ResourcePolicyCache({ store, logger, live: liveInControlPlane({ registry, versions, aliases }) });
  await resourcePolicies.load();
  registry.watch();
  resourcePolicies.watch();
  const logs = new LogSink({ store, clock, logger });
  const roles = new Set(config.roles);
  const nodeId = `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  const startedAt = clock.now();
  // A fleet node (any --role but all) finds the others through the store's registry.
  const directory = config.allInOne ? undefined : new NodeDirectory({ nodes: store.nodes, logger });
  const secret = config.allInOne ? undefined : await store.nodes.clusterSecret();

  // Execution roles, and the temporary credentials each environment gets for its function's role
  // (docs/security.md). Valid for an environment's longest life and its longest invoke: a new
  // environment gets new ones; the role's policies are read at each request, so revoking is at once.
  const executionRoles = new Roles({ table: store.rolePolicies, clock });
  // The key file (opened above) seals access keys' secrets and signs session tokens: every node that
  // issues or verifies them (api and worker nodes of a fleet) must share it (docs/security.md).
  const sessions = new SessionIssuer({
    key: keyFile.deriveKey('kindling session credentials'),
    clock,
    roles: executionRoles,
    roleOf: (arn) => {
      const ref = parseFunctionRef(arn, partition);
      return registry.find(ref.name)?.role;
    },
  });
  const credentialLifetimeMs = config.maxLifetimeMs + LIMITS.timeoutMax * 1000;

  // The worker: execution environments in sandboxes (this process's, or a worker node's).
  const memory = config.allInOne ? undefined : new MemoryBudget(config.workerMemoryMb);
  const prestart = roles.has('worker') && config.prewarm > 0 ? prestartPool(config, sandboxes, { clock, logger, memory }) : undefined;
  prestart?.start();
  const localFleet = roles.has('worker')
    ? new WorkerFleet(
        {
          sandboxes,
          optDir: (fnLayers) => layerView.optDir(fnLayers),
          logs,
          clock,
          logger,
          region: config.region,
          nodeBinary: config.nodeBinary,
          pythonBinary: config.pythonBinary,
          initTimeoutMs: config.initTimeoutMs,
          shutdownGraceMs: config.shutdownGraceMs,
          // A fleet worker never places environments beyond the memory it declared.
          ...(memory ? { memory } : {}),
          ...(prestart ? { prestart } : {}),
          credentials: (fn) => sessions.issue(functionArn(partition, fn.name), fn.role, credentialLifetimeMs),
        },
        {
          idleTimeoutMs: config.idleTimeoutMs,
          maxLifetimeMs: config.maxLifetimeMs,
          scaleRate: config.scaleRate,
          maxConcurrentInits: config.maxConcurrentInits,
          maxQueuedInits: config.maxQueuedInits,
        },
        code,
      )
    : undefined;
  if (localFleet) {
    // A change to $LATEST retires its environments; deleting the function retires every version's.
    registry.on('change', (name, kind) => {
      if (kind !== 'created') localFleet.retire(name, kind === 'deleted' ? undefined : '$LATEST');
      // A deploy is a cold start about to happen: its kind of pre-started runtime is wanted.
      const fn = kind === 'deleted' ? undefined : registry.find(name);
      if (fn && prestart) {
        try {
          prestart.expect(sandboxes.forTags(fn.tags), fn);
        } catch {
          // a driver the function may not use: its invoke will say so
        }
      }
    });
    versions.on('deleted', (name, version) => localFleet.retire(name, version));
  }
  // Where invocations run: here (--role all), or on the fleet's workers through placement.
  const client = directory && secret && (roles.has('api') || roles.has('poller')) ? new WorkerClient({ secret, nodeId, logger }) : undefined;
  const remote = directory && client ? new RemoteRunner({ directory, client, logger, driverOf: (fn) => fn.tags[SANDBOX_TAG] }) : undefined;
  const runner: Runner | undefined = config.allInOne ? localFleet : remote;
  // Provisioned environments live on workers: a worker node keeps its share of every config.
  const provisionRunner: Runner | undefined = localFleet && directory ? new ProvisionedShare(localFleet, directory, nodeId) : (localFleet ?? remote);
  const provisioned = new ProvisionedConcurrency({ store, registry, aliases, concurrency, fleet: provisionRunner ?? NO_RUNNER, partition, clock });
  // Concurrency is counted across every process on a shared store (grants in the database), in
  // memory on the embedded one.
  const limiter: Limiter =
    store.kind === 'postgres'
      ? new FleetLimiter({ grants: store.grants, holder: nodeId, accountLimit: config.accountConcurrency, apiNodes: () => directory?.apiNodes ?? 1, logger })
      : new ConcurrencyLimiter(config.accountConcurrency);
  concurrency.onChange((name, reserved) => limiter.setReserved(name, reserved));
  const metrics = new QueueMetrics();
  const queue = new EventQueue({ table: store.events, logger });
  const invoker = new InvokeService({ limiter, registry, aliases, fleet: runner ?? NO_RUNNER, queue, metrics, partition, clock });
  const settingsFor: SettingsFor = (name, qualifier) => {
    const settings = eventConfigs.find(name, qualifier);
    const deadLetterTarget = registry.find(name)?.deadLetterTarget;
    return {
      maximumRetryAttempts: settings?.maximumRetryAttempts ?? DEFAULT_RETRY_ATTEMPTS,
      maximumEventAgeSeconds: settings?.maximumEventAgeInSeconds ?? DEFAULT_MAX_EVENT_AGE_SECONDS,
      ...(settings?.onSuccess ? { onSuccess: settings.onSuccess } : {}),
      ...(settings?.onFailure ? { onFailure: settings.onFailure } : {}),
      ...(deadLetterTarget ? { deadLetterTarget } : {}),
    };
  };
  const pollers = roles.has('poller')
    ? new PollerFleet(
        {
          table: store.events,
          queue,
          dispatch: (event) => invoker.dispatchEvent(event),
          settingsFor,
          partition,
          clock,
          logger,
          metrics,
          logLine: (name, message) => logs.write(functionLogGroupKey(name), 'kindling/async-events', clock.now(), message),
          commitLogs: () => logs.flush(),
        },
        {
          pollers: config.pollers,
          batchSize: config.pollerBatchSize,
          visibilityTimeoutMs: config.visibilityTimeoutMs,
          delayScale: config.retryDelayScale,
          owner: nodeId,
        },
      )
    : undefined;
  const deadLetters = new DeadLetterService({ table: store.deadLetters, queue, clock });
  const logQuery = new LogQueryService({ logs: store.logs, partition });
  // Who may call the API: access keys sealed with the key file (docs/security.md).
  const keys = roles.has('api') ? new AccessKeys({ table: store.keys, keyFile, clock }) : undefined;
  if (keys && config.auth === 'sigv4') {
    await ensureAdminKey(keys, { accountId: config.accountId, region: config.region, credentialsPath: join(config.dataDir, 'credentials'), logger });
  }
  const access =
    keys && config.auth === 'sigv4'
      ? {
          authenticator: new Authenticator({ sources: [keys, sessions, ...(options.credentialSources ?? [])], region: config.region, clock }),
          authorizer: new Authorizer(options.resourcePolicies ?? resourcePolicies),
        }
      : undefined;
  const api = keys
    ? new ApiServer({
        ...{ registry, versions, aliases, concurrency, provisioned, invoker, code, partition, logger, eventConfigs, deadLetters, metrics, events: store.events, logQuery, layers },
        ...{ nodes: store.nodes, keys, roles: executionRoles, ...(access ? { access } : {}) },
        permissions: new Permissions({ store, cache: resourcePolicies, registry, versions, aliases, layers, partition }),
        tags: new FunctionTags({ registry, partition }),
        functionUrls,
      })
    : undefined;
  // Every node but a worker-only one listens for the Lambda API; a worker only on its fleet endpoint.
  const address = api ? await api.listen(config.port, config.host) : undefined;
  if (address) apiBridge?.target(address.port, address.address);
  const url = address ? `http://${hostPort(address.address, address.port)}` : '';
  // Function URLs: a port of their own beside the API's (docs/function-urls.md).
  const urlServer = api ? new UrlServer({ urls: functionUrls, invoke: (input) => invoker.invoke(input), ...(access ? { access } : {}), partition, clock, logger }) : undefined;
  const urlAddress = urlServer ? await urlServer.listen(config.urlPort, config.host) : undefined;
  if (urlAddress) functionUrls.setPort(urlAddress.port);

  // A worker node: its fleet endpoint, its heartbeat and its lease.
  let draining = false;
  const workerServer = localFleet && secret && !config.allInOne ? new WorkerServer({ secret, runner: localFleet, logger, accepting: () => !draining, sighting: (fn) => localFleet.sighting(fn.name, fn.version) }) : undefined;
  const fleetAddress = workerServer ? await workerServer.listen(config.fleetPort, config.host) : undefined;
  const lease = workerServer ? new WorkerLease({ leaseMs: config.workerLeaseMs, startedAt, clock }) : undefined;
  const advertised = config.advertise ?? (fleetAddress ? hostPort(advertisedHost(config.host), fleetAddress.port) : address ? hostPort(advertisedHost(config.host), address.port) : '');
  const agent = directory
    ? new NodeAgent({
        nodes: store.nodes,
        logger,
        describe: () => ({
          id: nodeId,
          roles: config.roles,
          address: advertised,
          cores: availableParallelism(),
          memoryMb: config.workerMemoryMb,
          drivers: localFleet ? sandboxes.names : [],
          startedAt,
          ...(lease ? { leaseEndsAt: lease.endsAt } : {}),
          state: draining ? 'draining' : 'active',
          inventory: JSON.stringify(localFleet?.inventory() ?? {}),
        }),
      })
    : undefined;
  await agent?.start();
  await directory?.start();
  if (limiter instanceof FleetLimiter) limiter.start();
  await pollers?.start();
  await provisioned.start();
  logger.info(`Kindling ${config.allInOne ? 'listening' : `node ${nodeId} (${config.roles.join(', ')})`}${url ? ` on ${url}` : ''}`, {
    dataDir: config.dataDir,
    ...(fleetAddress ? { fleet: advertised } : {}),
    ...(lease ? { leaseEndsAt: new Date(lease.endsAt).toISOString() } : {}),
  });

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      lease?.stop();
      // Out of routing first: the fleet hears this node drains before it stops answering.
      draining = true;
      await agent?.beat();
      // A worker keeps answering "draining" (nothing is run, the api node sends it elsewhere) until
      // every node has read the registry again, so no call meets a closed socket.
      if (workerServer) await new Promise((resolve) => setTimeout(resolve, DIRECTORY_DEFAULTS.refreshMs * 1.5));
      await urlServer?.close();
      await api?.close();
      await pollers?.close();
      await workerServer?.close();
      await provisionRunner?.close();
      await prestart?.close();
      await remote?.close();
      if (limiter instanceof FleetLimiter) await limiter.close();
      directory?.close();
      await agent?.close(nodeId);
      await logs.close();
      registry.close();
      resourcePolicies.close();
      await store.close();
      await sandboxes.close();
      await apiBridge?.close();
      logger.info('Kindling stopped');
    })());
  // The lease's end: no new work, in-flight finished, environments shut down, deregistered.
  const ended = new Promise<void>((resolve) => {
    lease?.start(() => {
      logger.info('fleet: the worker lease ends: draining, then exiting for the supervisor to start a fresh worker', { node: nodeId });
      void close().then(resolve);
    });
  });

  return {
    url,
    port: address?.port ?? 0,
    ...(urlAddress ? { urlPort: urlAddress.port } : {}),
    ...(fleetAddress ? { fleetPort: fleetAddress.port } : {}),
    nodeId,
    store,
    sandbox: { defaultDriver: sandboxes.defaultDriver.name, allowed: sandboxes.names },
    ...(localFleet ? { fleet: localFleet } : {}),
    logs,
    ...(pollers ? { pollers } : {}),
    ...(prestart ? { prestart } : {}),
    ended,
    routable: () => (directory?.workers ?? []).map((w) => w.id),
    resourcePolicies,
    services: { registry, versions, aliases, concurrency, eventConfigs, layers, invoker, logQuery, deadLetters, functionUrls },
    close,
  };
}

/** `host:port`, with brackets around an IPv6 host. */
function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** What the others are told to reach: the listening address, or this machine's name for a wildcard. */
function advertisedHost(host: string): string {
  return host === '0.0.0.0' || host === '::' ? hostname() : host;
}

/** A node without the role that would run invocations (never called: its API or pollers are off). */
const NO_RUNNER: Runner = {
  invoke: () => Promise.reject(new ServiceException('This node runs no invocations (see --role).')),
  provision: () => undefined,
  provisionedReady: () => 0,
  retire: () => undefined,
  close: () => Promise.resolve(),
};

/** The default kinds kept ready from the start: Node.js and Python at Lambda's default size, on the default driver. */
const PRESTART_SEEDS = [
  { runtime: 'nodejs20.x', memoryMb: 128, ephemeralStorageMb: 512 },
  { runtime: 'python3.12', memoryMb: 128, ephemeralStorageMb: 512 },
] as const;

function prestartPool(
  config: KindlingConfig,
  sandboxes: SandboxSelection,
  deps: { clock: Clock; logger: Logger; memory: MemoryBudget | undefined },
): PrestartPool {
  const driver = sandboxes.defaultDriver;
  const { memory } = deps;
  return new PrestartPool({
    limit: config.prewarm,
    dir: join(config.dataDir, 'prestart'),
    nodeBinary: config.nodeBinary,
    pythonBinary: config.pythonBinary,
    clock: deps.clock,
    logger: deps.logger,
    shutdownGraceMs: config.shutdownGraceMs,
    seeds: driver.runsPrestarted ? PRESTART_SEEDS.map((seed) => ({ ...seed, driver })) : [],
    // A fleet worker keeps them within the memory it declared, beside its environments.
    ...(memory ? { room: (mb: number) => memory.usedMb + mb <= memory.totalMb } : {}),
  });
}
