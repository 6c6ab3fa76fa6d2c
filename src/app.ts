import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ApiServer } from './api/index.js';
import { CodeStore, ImageStore, LayerView } from './code/index.js';
import type { KindlingConfig } from './config/index.js';
import { Aliases, ConcurrencySettings, EventInvokeConfigs, FunctionRegistry, FunctionVersions, LayerRegistry, ImageFunctions } from './control-plane/index.js';
import { ConcurrencyLimiter, InvokeService, ProvisionedConcurrency } from './invoke/index.js';
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
import { selectSandboxes } from './sandbox/index.js';
import { createLogger, systemClock, type Clock, type Logger } from './shared/index.js';
import { openPostgresStore, SqliteStore, type Store } from './store/index.js';
import { WorkerFleet } from './worker/index.js';

export interface Kindling {
  /** `http://host:port` of the API. */
  readonly url: string;
  readonly port: number;
  readonly store: Store;
  readonly fleet: WorkerFleet;
  readonly logs: LogSink;
  readonly pollers: PollerFleet;
  /** Graceful stop: no new requests, in-flight invokes finish, environments shut down, store closed. */
  close(): Promise<void>;
}

/** The composition root: builds every component from the config and wires them together. */
export async function startKindling(
  config: KindlingConfig,
  options: {
    logger?: Logger;
    clock?: Clock;
    /** Opens the store at a path (SQLite's by default); tests hand in one that answers late. */
    openStore?: (path: string) => Store;
  } = {},
): Promise<Kindling> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const clock = options.clock ?? systemClock;
  const partition = { region: config.region, accountId: config.accountId };
  mkdirSync(config.dataDir, { recursive: true });

  const prlimit = ['/usr/bin/prlimit', '/bin/prlimit'].find((path) => existsSync(path));
  if (!prlimit) logger.warn('prlimit not found: process sandboxes run without rlimits');
  const sandboxes = await selectSandboxes(
    { sandbox: config.sandbox, dataDir: config.dataDir, ...(config.allowSandbox ? { allow: config.allowSandbox } : {}), ...(prlimit ? { prlimit } : {}) },
    logger,
  );
  // SQLite in the data directory, or the PostgreSQL that several servers share (docs/stores.md).
  const storePath = join(config.dataDir, 'kindling.db');
  const store = options.openStore
    ? options.openStore(storePath)
    : config.store
      ? await openPostgresStore(config.store, { logger })
      : new SqliteStore(storePath);
  const code = new CodeStore(config.dataDir, store.blobs);
  const layers = new LayerRegistry({ store, code, partition, clock, logger });
  const layerView = new LayerView(config.dataDir, code);
  const isQueueArn = (arn: string) => parseDestination(arn, partition)?.kind === 'queue';
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
  const limiter = new ConcurrencyLimiter(config.accountConcurrency);
  concurrency.onChange((name, reserved) => limiter.setReserved(name, reserved));
  const eventConfigs = new EventInvokeConfigs({
    store,
    registry,
    partition,
    clock,
    deliverable: (arn) => parseDestination(arn, partition) !== undefined,
    qualifierExists: (name, qualifier) => void aliases.lookup(name, qualifier),
  });
  // What the control plane keeps in memory for the invoke path, read once before the API listens.
  await registry.load();
  await versions.load();
  await aliases.load();
  await concurrency.load();
  await eventConfigs.load();
  registry.watch();
  const logs = new LogSink({ store, clock, logger });
  const fleet = new WorkerFleet(
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
    },
    {
      idleTimeoutMs: config.idleTimeoutMs,
      maxLifetimeMs: config.maxLifetimeMs,
      scaleRate: config.scaleRate,
      maxConcurrentInits: config.maxConcurrentInits,
      maxQueuedInits: config.maxQueuedInits,
    },
    code,
  );
  // A change to $LATEST retires its environments; deleting the function retires every version's.
  registry.on('change', (name, kind) => fleet.retire(name, kind === 'deleted' ? undefined : '$LATEST'));
  versions.on('deleted', (name, version) => fleet.retire(name, version));
  const provisioned = new ProvisionedConcurrency({ store, registry, aliases, concurrency, fleet, partition, clock });
  const metrics = new QueueMetrics();
  const queue = new EventQueue({ table: store.events, logger });
  const invoker = new InvokeService({ limiter, registry, aliases, fleet, queue, metrics, partition, clock });
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
  const pollers = new PollerFleet(
    {
      table: store.events,
      queue,
      dispatch: (event) => invoker.dispatchEvent(event),
      settingsFor,
      partition,
      clock,
      logger,
      metrics,
      logLine: (name, message) => logs.write(`/aws/lambda/${name}`, 'kindling/async-events', clock.now(), message),
      commitLogs: () => logs.flush(),
    },
    {
      pollers: config.pollers,
      batchSize: config.pollerBatchSize,
      visibilityTimeoutMs: config.visibilityTimeoutMs,
      delayScale: config.retryDelayScale,
      owner: `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`,
    },
  );
  const deadLetters = new DeadLetterService({ table: store.deadLetters, queue, clock });
  const logQuery = new LogQueryService({ logs: store.logs, partition });
  const api = new ApiServer({ registry, versions, aliases, concurrency, provisioned, invoker, code, partition, logger, eventConfigs, deadLetters, metrics, events: store.events, logQuery, layers });
  const address = await api.listen(config.port, config.host);
  await pollers.start();
  await provisioned.start();
  const url = `http://${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}`;
  logger.info(`Kindling listening on ${url}`, { dataDir: config.dataDir });

  let closing: Promise<void> | undefined;
  return {
    url,
    port: address.port,
    store,
    fleet,
    logs,
    pollers,
    close: () =>
      (closing ??= (async () => {
        await api.close();
        await pollers.close();
        await fleet.close();
        await logs.close();
        registry.close();
        await store.close();
        logger.info('Kindling stopped');
      })()),
  };
}
