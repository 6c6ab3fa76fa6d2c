import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { isSandboxDriver, SANDBOX_DRIVERS, type SandboxDriverName } from './sandbox-drivers.js';
import { egressSettings, type EgressSettings } from './egress.js';

/** Every setting Kindling reads, validated and frozen once at start. */
export interface KindlingConfig extends EgressSettings {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  /**
   * The shared store: a `postgres://` connection string (docs/stores.md). Undefined: SQLite in the
   * data directory, the embedded default.
   */
  readonly store?: string;
  readonly region: string;
  readonly accountId: string;
  /** Idle environments are shut down after this long without work. */
  readonly idleTimeoutMs: number;
  /** Environments are retired at this age (Lambda's worker lease is 14 hours). */
  readonly maxLifetimeMs: number;
  /** Time between SIGTERM and SIGKILL at Shutdown. */
  readonly shutdownGraceMs: number;
  /** Lambda's Init phase limit (10 s). */
  readonly initTimeoutMs: number;
  /** The Node.js binary the nodejs* runtimes run on. */
  readonly nodeBinary: string;
  /** The Python 3 the python3.* runtimes run on (a system path, so sandboxes can show it). */
  readonly pythonBinary: string;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** Pollers leasing queued events side by side. */
  readonly pollers: number;
  /** Events one poller leases and runs at a time. */
  readonly pollerBatchSize: number;
  /** How long an event lease lasts unless renewed (renewed while the event runs): a dead poller's events run again after it. */
  readonly visibilityTimeoutMs: number;
  /** Multiplies every delay of the async retry policy (and the event age limit): 1 is Lambda's. */
  readonly retryDelayScale: number;
  /** The account's concurrency limit (Lambda's default quota is 1000). */
  readonly accountConcurrency: number;
  /** What reserved concurrency must leave unreserved (Lambda: 100). */
  readonly unreservedMinimum: number;
  /** New execution environments per function per 10 seconds (Lambda: 1000). */
  readonly scaleRate: number;
  /** Inits running at once on this worker (default: one per core); more cold starts wait. */
  readonly maxConcurrentInits: number;
  /** Cold starts waiting for an Init slot (default: 64 per slot); more are throttled (429) at once. */
  readonly maxQueuedInits: number;
  /** The default sandbox driver; `auto` is namespace where bwrap works, else process. */
  readonly sandbox: 'auto' | SandboxDriverName;
  /**
   * The drivers a function may ask for with its `kindling:sandbox` tag; undefined: the default
   * driver and the stronger ones (`process` only when the operator lists it). docs/security.md.
   */
  readonly allowSandbox?: readonly SandboxDriverName[];
  /** Container images: bytes an image may unpack to (Lambda: 10 GB), see docs/images.md. */
  readonly maxImageBytes: number;
  /** Container images: how long a registry may take to answer, or to send the next byte. */
  readonly registryTimeoutMs: number;
  /** Container images: registries (host:port) pulled from over plain HTTP besides loopback ones. */
  readonly insecureRegistries: readonly string[];
  /**
   * The fleet roles this process plays (docs/cluster.md): every one of them for `--role all`, the
   * default. Any other choice needs the shared store.
   */
  readonly roles: readonly FleetRole[];
  /** `--role all`: one process that is the whole platform (no fleet endpoint, no worker lease). */
  readonly allInOne: boolean;
  /** Where a worker's fleet endpoint listens (its host is `host`); 0 picks a free port. */
  readonly fleetPort: number;
  /** `host:port` other nodes reach this one at; undefined: the address it listens on. */
  readonly advertise?: string;
  /** A worker's maximum lifetime (Lambda's worker lease); spread by up to a tenth so a fleet does not drain at once. */
  readonly workerLeaseMs: number;
  /** Memory a worker's environments may take together, in MB (placement never goes beyond it). */
  readonly workerMemoryMb: number;
  /**
   * The most sandboxes kept with a runtime already started, waiting for a cold start
   * (worker/prestart-pool.ts); 0 turns them off.
   */
  readonly prewarm: number;
  /**
   * `sigv4`: every request is signed with an access key and checked against its policies; `none`:
   * anyone who reaches the port is the default account's administrator (loopback only). docs/security.md.
   */
  readonly auth: AuthMode;
  /** The key access keys' secrets are sealed with; fleet api nodes must share it. */
  readonly keyFile: string;
  /** Where function URLs are served (its host is `host`); 0 picks a free port. */
  readonly urlPort: number;
  /** The operator's domain for function URLs (`https://<id>.lambda-url.<region>.<domain>/`); undefined: `localhost`. */
  readonly urlDomain?: string;
}

export type AuthMode = 'sigv4' | 'none';

export type FleetRole = 'api' | 'worker' | 'poller';
export const FLEET_ROLES: readonly FleetRole[] = ['api', 'worker', 'poller'];

export const DEFAULTS = {
  host: '127.0.0.1',
  port: 9000,
  dataDir: '.kindling',
  region: 'us-east-1',
  accountId: '000000000000',
  idleTimeoutMs: 10 * 60_000,
  maxLifetimeMs: 14 * 3600_000,
  shutdownGraceMs: 2_000,
  initTimeoutMs: 10_000,
  logLevel: 'info',
  pollers: 2,
  pollerBatchSize: 10,
  // Leases are renewed while their events run: this is how soon a dead process's events run again.
  visibilityTimeoutMs: 30_000,
  retryDelayScale: 1,
  sandbox: 'auto',
  accountConcurrency: 1000,
  unreservedMinimum: 100,
  scaleRate: 1000,
  // Lambda's limit on a container image: 10 GB uncompressed, all layers together.
  maxImageBytes: 10 * 1024 ** 3,
  registryTimeoutMs: 30_000,
  fleetPort: 9001,
  // Lambda leases a Worker for at most 14 hours.
  workerLeaseMs: 14 * 3600_000,
  prewarm: 4,
  urlPort: 9003,
} as const;

export class ConfigError extends Error {}

/** `kindling serve`'s flags; each is also read from `KINDLING_<FLAG>` (`--data-dir`: KINDLING_DATA_DIR). */
export const OPTIONS = {
  host: { type: 'string' },
  port: { type: 'string' },
  'data-dir': { type: 'string' },
  store: { type: 'string' },
  region: { type: 'string' },
  'account-id': { type: 'string' },
  'idle-timeout': { type: 'string' },
  'max-lifetime': { type: 'string' },
  'shutdown-grace': { type: 'string' },
  'log-level': { type: 'string' },
  pollers: { type: 'string' },
  'poller-batch-size': { type: 'string' },
  'visibility-timeout': { type: 'string' },
  'retry-delay-scale': { type: 'string' },
  sandbox: { type: 'string' },
  'allow-sandbox': { type: 'string' },
  'account-concurrency': { type: 'string' },
  python: { type: 'string' },
  'unreserved-minimum': { type: 'string' },
  'scale-rate': { type: 'string' },
  'max-concurrent-inits': { type: 'string' },
  'max-queued-inits': { type: 'string' },
  'max-image-size': { type: 'string' },
  'registry-timeout': { type: 'string' },
  'insecure-registries': { type: 'string' },
  role: { type: 'string' },
  'fleet-port': { type: 'string' },
  advertise: { type: 'string' },
  'worker-lease': { type: 'string' },
  'worker-memory': { type: 'string' },
  prewarm: { type: 'string' },
  auth: { type: 'string' },
  'key-file': { type: 'string' },
  egress: { type: 'string' },
  'egress-deny': { type: 'string', multiple: true },
  'url-port': { type: 'string' },
  'url-domain': { type: 'string' },
} as const;

/** Seconds given as a flag or variable ("30", "1.5"), turned into milliseconds. */
function seconds(name: string, raw: string | undefined, fallbackMs: number, minMs = 0): number {
  if (raw === undefined || raw === '') return fallbackMs;
  const value = Number(raw);
  if (!Number.isFinite(value) || value * 1000 < minMs) {
    throw new ConfigError(`${name} must be a number of seconds (at least ${minMs / 1000}), got '${raw}'`);
  }
  return Math.round(value * 1000);
}

function scale(raw: string | undefined): number {
  if (raw === undefined || raw === '') return DEFAULTS.retryDelayScale;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || value > 1000) {
    throw new ConfigError(`--retry-delay-scale must be a number above 0 (1 is Lambda's schedule), got '${raw}'`);
  }
  return value;
}

function count(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got '${raw}'`);
  }
  return value;
}

/** `--allow-sandbox namespace,microvm`: driver names, each known, at least one. */
function driverList(raw: string | undefined): SandboxDriverName[] | undefined {
  if (raw === undefined) return undefined;
  const names = raw.split(',').map((name) => name.trim()).filter((name) => name !== '');
  const unknown = names.filter((name) => !isSandboxDriver(name));
  if (names.length === 0 || unknown.length > 0) {
    throw new ConfigError(`--allow-sandbox must list drivers from ${SANDBOX_DRIVERS.join(', ')}, separated by commas, got '${raw}'`);
  }
  return [...new Set(names as SandboxDriverName[])];
}

/** `--role api,worker`: `all` (the default), or fleet roles, each known, at least one. */
function roleList(raw: string | undefined): FleetRole[] | 'all' {
  if (raw === undefined || raw === '' || raw === 'all') return 'all';
  const names = raw.split(',').map((name) => name.trim()).filter((name) => name !== '');
  const unknown = names.filter((name) => !(FLEET_ROLES as readonly string[]).includes(name));
  if (names.length === 0 || unknown.length > 0) {
    throw new ConfigError(`--role must be all, or one or more of ${FLEET_ROLES.join(', ')} separated by commas, got '${raw}'`);
  }
  return FLEET_ROLES.filter((role) => names.includes(role));
}

/**
 * Reads flags > KINDLING_* environment > defaults. `argv` is what follows the `serve` command.
 * The only place in Kindling that reads the environment.
 */
export function loadConfig(
  argv: readonly string[] = [],
  env: NodeJS.ProcessEnv = process.env,
  overrides: Partial<KindlingConfig> = {},
): KindlingConfig {
  let values: Record<string, string | undefined>;
  try {
    // Every flag is one string but --egress-deny, a list (read apart, egressDenyRaw).
    ({ values } = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: false, strict: true }) as unknown as {
      values: Record<string, string | undefined>;
    });
  } catch (err) {
    throw new ConfigError((err as Error).message, { cause: err });
  }
  const pick = (flag: string, variable: string): string | undefined => values[flag] ?? env[variable];

  const portRaw = pick('port', 'KINDLING_PORT');
  const port = portRaw === undefined ? DEFAULTS.port : Number(portRaw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`--port must be an integer from 0 to 65535, got '${portRaw}'`);
  }
  const accountId = pick('account-id', 'KINDLING_ACCOUNT_ID') ?? DEFAULTS.accountId;
  if (!/^\d{12}$/.test(accountId)) throw new ConfigError(`--account-id must be 12 digits, got '${accountId}'`);
  const region = pick('region', 'KINDLING_REGION') ?? DEFAULTS.region;
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) throw new ConfigError(`--region must look like us-east-1, got '${region}'`);
  const logLevel = pick('log-level', 'KINDLING_LOG_LEVEL') ?? DEFAULTS.logLevel;
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) {
    throw new ConfigError(`--log-level must be debug, info, warn or error, got '${logLevel}'`);
  }

  const sandbox = pick('sandbox', 'KINDLING_SANDBOX') ?? DEFAULTS.sandbox;
  if (sandbox !== 'auto' && !isSandboxDriver(sandbox)) {
    throw new ConfigError(`--sandbox must be auto, ${SANDBOX_DRIVERS.join(', ')}, got '${sandbox}'`);
  }
  const allowSandbox = driverList(pick('allow-sandbox', 'KINDLING_ALLOW_SANDBOX'));
  if (allowSandbox && sandbox !== 'auto' && !allowSandbox.includes(sandbox)) {
    throw new ConfigError(`--allow-sandbox must include the default driver (--sandbox ${sandbox}), got '${allowSandbox.join(',')}'`);
  }

  // An Init is mostly CPU (a runtime booting, a function loading its code): one per core keeps each
  // within its time limit. The queue bounds the invokes waiting (each also no longer than its
  // function's timeout) to what the slots and the environments freed meanwhile can plausibly serve.
  const maxConcurrentInits = count('--max-concurrent-inits', pick('max-concurrent-inits', 'KINDLING_MAX_CONCURRENT_INITS'), availableParallelism(), 1, 10_000);
  const maxQueuedInits = count('--max-queued-inits', pick('max-queued-inits', 'KINDLING_MAX_QUEUED_INITS'), 64 * maxConcurrentInits, 0, 1_000_000);

  const store = pick('store', 'KINDLING_STORE');
  if (store !== undefined && store !== '' && !/^postgres(ql)?:\/\//.test(store)) {
    throw new ConfigError(`--store must be a PostgreSQL connection string (postgres://user:password@host:port/database), got '${redactPassword(store)}'`);
  }

  const roles = roleList(pick('role', 'KINDLING_ROLE'));
  if (roles !== 'all' && !store) {
    throw new ConfigError(`--role ${roles.join(',')} needs the shared store: add --store postgres://... (only --role all runs on the embedded SQLite)`);
  }
  const fleetPortRaw = pick('fleet-port', 'KINDLING_FLEET_PORT');
  const fleetPort = fleetPortRaw === undefined ? DEFAULTS.fleetPort : Number(fleetPortRaw);
  if (!Number.isInteger(fleetPort) || fleetPort < 0 || fleetPort > 65535) {
    throw new ConfigError(`--fleet-port must be an integer from 0 to 65535, got '${fleetPortRaw}'`);
  }
  const urlPort = count('--url-port', pick('url-port', 'KINDLING_URL_PORT'), DEFAULTS.urlPort, 0, 65535);
  const urlDomain = pick('url-domain', 'KINDLING_URL_DOMAIN');
  // A DNS name whose labels are letters, digits and hyphens: what follows `<url-id>.lambda-url.<region>.`.
  if (urlDomain !== undefined && !/^(?=.{1,200}$)([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(urlDomain)) {
    throw new ConfigError(`--url-domain must be a DNS name in lower case such as example.com (URLs are https://<url-id>.lambda-url.<region>.<domain>/), got '${urlDomain}'`);
  }
  const advertise = pick('advertise', 'KINDLING_ADVERTISE');
  if (advertise !== undefined && !/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(advertise)) {
    throw new ConfigError(`--advertise must be host:port (where the other nodes reach this one), got '${advertise}'`);
  }

  const host = pick('host', 'KINDLING_HOST') ?? DEFAULTS.host;
  // Only the API answers callers: a worker's or poller's --host is its fleet endpoint, whose peers authenticate with the cluster secret.
  const auth = authMode(pick('auth', 'KINDLING_AUTH'), host, roles === 'all' || roles.includes('api'));
  const dataDir = resolve(pick('data-dir', 'KINDLING_DATA_DIR') ?? DEFAULTS.dataDir);

  const config: KindlingConfig = {
    host,
    port,
    dataDir,
    ...(store ? { store } : {}),
    region,
    accountId,
    idleTimeoutMs: seconds('--idle-timeout', pick('idle-timeout', 'KINDLING_IDLE_TIMEOUT'), DEFAULTS.idleTimeoutMs, 100),
    maxLifetimeMs: seconds('--max-lifetime', pick('max-lifetime', 'KINDLING_MAX_LIFETIME'), DEFAULTS.maxLifetimeMs, 1000),
    shutdownGraceMs: seconds('--shutdown-grace', pick('shutdown-grace', 'KINDLING_SHUTDOWN_GRACE'), DEFAULTS.shutdownGraceMs),
    initTimeoutMs: DEFAULTS.initTimeoutMs,
    nodeBinary: process.execPath,
    pythonBinary: pick('python', 'KINDLING_PYTHON') ?? ['/usr/bin/python3', '/usr/local/bin/python3'].find((p) => existsSync(p)) ?? 'python3',
    logLevel: logLevel as KindlingConfig['logLevel'],
    pollers: count('--pollers', pick('pollers', 'KINDLING_POLLERS'), DEFAULTS.pollers, 1, 64),
    pollerBatchSize: count('--poller-batch-size', pick('poller-batch-size', 'KINDLING_POLLER_BATCH_SIZE'), DEFAULTS.pollerBatchSize, 1, 100),
    visibilityTimeoutMs: seconds('--visibility-timeout', pick('visibility-timeout', 'KINDLING_VISIBILITY_TIMEOUT'), DEFAULTS.visibilityTimeoutMs, 100),
    retryDelayScale: scale(pick('retry-delay-scale', 'KINDLING_RETRY_DELAY_SCALE')),
    sandbox,
    ...(allowSandbox ? { allowSandbox } : {}),
    accountConcurrency: count('--account-concurrency', pick('account-concurrency', 'KINDLING_ACCOUNT_CONCURRENCY'), DEFAULTS.accountConcurrency, 1, 1_000_000),
    unreservedMinimum: count('--unreserved-minimum', pick('unreserved-minimum', 'KINDLING_UNRESERVED_MINIMUM'), DEFAULTS.unreservedMinimum, 0, 1_000_000),
    scaleRate: count('--scale-rate', pick('scale-rate', 'KINDLING_SCALE_RATE'), DEFAULTS.scaleRate, 1, 1_000_000),
    maxConcurrentInits,
    maxQueuedInits,
    maxImageBytes: count('--max-image-size', pick('max-image-size', 'KINDLING_MAX_IMAGE_SIZE'), DEFAULTS.maxImageBytes, 1, Number.MAX_SAFE_INTEGER),
    registryTimeoutMs: seconds('--registry-timeout', pick('registry-timeout', 'KINDLING_REGISTRY_TIMEOUT'), DEFAULTS.registryTimeoutMs, 100),
    insecureRegistries: (pick('insecure-registries', 'KINDLING_INSECURE_REGISTRIES') ?? '').split(',').map((r) => r.trim()).filter((r) => r !== ''),
    roles: roles === 'all' ? FLEET_ROLES : roles,
    allInOne: roles === 'all',
    fleetPort,
    ...(advertise ? { advertise } : {}),
    workerLeaseMs: seconds('--worker-lease', pick('worker-lease', 'KINDLING_WORKER_LEASE'), DEFAULTS.workerLeaseMs, 1000),
    workerMemoryMb: count('--worker-memory', pick('worker-memory', 'KINDLING_WORKER_MEMORY'), Math.floor((totalmem() / 1024 ** 2) * 0.8), 128, 1_000_000_000),
    prewarm: count('--prewarm', pick('prewarm', 'KINDLING_PREWARM'), DEFAULTS.prewarm, 0, 1000),
    auth,
    keyFile: resolve(pick('key-file', 'KINDLING_KEY_FILE') ?? join(dataDir, 'kindling.key')),
    urlPort,
    ...(urlDomain ? { urlDomain } : {}),
    ...egressSettings(pick('egress', 'KINDLING_EGRESS'), egressDenyRaw(values['egress-deny'] as unknown, env['KINDLING_EGRESS_DENY']), (message) => new ConfigError(message)),
    ...overrides,
  };
  return Object.freeze(config);
}

/**
 * `--auth`: `none` is allowed only where nobody but this machine can connect (a loopback address),
 * and is the default there; on any other address the operator must ask for `sigv4`.
 */
export function authMode(raw: string | undefined, host: string, servesApi: boolean): AuthMode {
  if (raw !== undefined && raw !== 'sigv4' && raw !== 'none') throw new ConfigError(`--auth must be sigv4 or none, got '${raw}'`);
  if (raw === 'sigv4') return 'sigv4';
  if (servesApi && !isLoopback(host)) {
    throw new ConfigError(
      `--host ${host} is reachable from other machines, and --auth ${raw ?? 'none (the default)'} would let anyone there do anything: ` +
        'add --auth sigv4 (requests signed with access keys; see docs/security.md), or listen on 127.0.0.1',
    );
  }
  return 'none';
}

/** Whether only this machine can reach an address: 127.0.0.0/8, ::1, localhost. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** `--egress-deny` is repeatable (parseArgs gives a list); the variable, one comma-separated string. */
function egressDenyRaw(flags: unknown, variable: string | undefined): string[] {
  if (Array.isArray(flags)) return flags as string[];
  return variable === undefined ? [] : [variable];
}

/** A connection string fit for a message: its password replaced. */
export function redactPassword(url: string): string {
  return url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@');
}
