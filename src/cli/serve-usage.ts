import { DEFAULTS, SANDBOX_DRIVERS, SERVE_OPTIONS } from '../config/index.js';

interface FlagHelp {
  /** What the flag's value is, as shown after it. */
  readonly value: string;
  readonly about: string;
  readonly default: string;
}

const seconds = (ms: number) => `${ms / 1000} s${ms >= 3600_000 ? ` (${ms / 3600_000} h)` : ''}`;

/**
 * One line for each of serve's flags. Keyed by the config's own flag table, so a flag added there
 * without a line here does not compile.
 */
const FLAGS: Readonly<Record<keyof typeof SERVE_OPTIONS, FlagHelp>> = {
  host: { value: '<address>', about: 'address the Lambda API (and a fleet endpoint) listens on', default: DEFAULTS.host },
  port: { value: '<port>', about: 'port of the Lambda API, 0 for any free one', default: String(DEFAULTS.port) },
  'data-dir': { value: '<dir>', about: 'where code, images and the SQLite store are kept', default: `./${DEFAULTS.dataDir}` },
  store: { value: '<postgres://...>', about: 'a PostgreSQL store several servers share, see docs/stores.md', default: 'SQLite in the data directory' },
  region: { value: '<region>', about: 'the region in ARNs', default: DEFAULTS.region },
  'account-id': { value: '<12 digits>', about: 'the account in ARNs', default: DEFAULTS.accountId },
  'idle-timeout': { value: '<seconds>', about: 'an idle execution environment is shut down after this', default: seconds(DEFAULTS.idleTimeoutMs) },
  'max-lifetime': { value: '<seconds>', about: 'an execution environment is retired at this age', default: seconds(DEFAULTS.maxLifetimeMs) },
  'shutdown-grace': { value: '<seconds>', about: 'between SIGTERM and SIGKILL when an environment shuts down', default: seconds(DEFAULTS.shutdownGraceMs) },
  'log-level': { value: '<level>', about: 'debug, info, warn or error', default: DEFAULTS.logLevel },
  pollers: { value: '<n>', about: 'pollers running queued (async) events side by side', default: String(DEFAULTS.pollers) },
  'poller-batch-size': { value: '<n>', about: 'events one poller leases and runs at a time', default: String(DEFAULTS.pollerBatchSize) },
  'visibility-timeout': { value: '<seconds>', about: "how soon a dead poller's events run again", default: seconds(DEFAULTS.visibilityTimeoutMs) },
  'retry-delay-scale': { value: '<factor>', about: "multiplies the async retry delays; 1 is Lambda's schedule", default: String(DEFAULTS.retryDelayScale) },
  sandbox: { value: '<driver>', about: `the default sandbox: auto (namespace where it works, else process), ${SANDBOX_DRIVERS.join(', ')}`, default: DEFAULTS.sandbox },
  'allow-sandbox': { value: '<list>', about: 'drivers a function may ask for with its kindling:sandbox tag', default: 'the default driver and stronger ones' },
  'account-concurrency': { value: '<n>', about: "the account's concurrency limit", default: String(DEFAULTS.accountConcurrency) },
  python: { value: '<path>', about: 'the Python 3 the python3.* runtimes run on', default: '/usr/bin/python3 or /usr/local/bin/python3' },
  'unreserved-minimum': { value: '<n>', about: 'concurrency that reserved concurrency must leave unreserved', default: String(DEFAULTS.unreservedMinimum) },
  'scale-rate': { value: '<n>', about: 'new execution environments per function per 10 seconds', default: String(DEFAULTS.scaleRate) },
  'max-concurrent-inits': { value: '<n>', about: 'Inits running at once; more cold starts wait', default: 'one per core' },
  'max-queued-inits': { value: '<n>', about: 'cold starts waiting for an Init; more are throttled with 429', default: '64 per Init slot' },
  'max-image-size': { value: '<bytes>', about: 'what a container image may unpack to', default: `${DEFAULTS.maxImageBytes}, 10 GB` },
  'registry-timeout': { value: '<seconds>', about: 'how long a container registry may take to answer', default: seconds(DEFAULTS.registryTimeoutMs) },
  'insecure-registries': { value: '<list>', about: 'registries (host:port) pulled from over plain HTTP, besides loopback', default: 'none' },
  role: { value: '<roles>', about: 'all, or fleet roles from api, worker, poller, see docs/cluster.md', default: 'all' },
  'fleet-port': { value: '<port>', about: "port of a worker's fleet endpoint, 0 for any free one", default: String(DEFAULTS.fleetPort) },
  advertise: { value: '<host:port>', about: 'where the other nodes of a fleet reach this one', default: 'the address it listens on' },
  'worker-lease': { value: '<seconds>', about: "a fleet worker's lifetime, after which it drains and exits", default: seconds(DEFAULTS.workerLeaseMs) },
  'worker-memory': { value: '<MB>', about: "memory a fleet worker's environments may take together", default: '80% of RAM' },
  auth: { value: '<mode>', about: 'sigv4 (signed requests, access keys and policies) or none (anyone is the admin; loopback addresses only)', default: 'none on a loopback --host, else required' },
  'key-file': { value: '<path>', about: "seals access keys' secrets, signs session credentials; every node of a fleet needs the same file", default: '<data-dir>/kindling.key' },
  egress: { value: 'allow|deny', about: 'whether functions reach the outside (never the host), see docs/network.md', default: 'allow' },
  'egress-deny': { value: '<CIDR>', about: 'an IPv4 range no function reaches (repeatable)', default: 'none beyond link-local, loopback, multicast' },
  prewarm: { value: '<N>', about: 'sandboxes kept with a runtime started, waiting for cold starts (0: off)', default: String(DEFAULTS.prewarm) },
  'url-port': { value: '<port>', about: 'port of function URLs (http://<url-id>.lambda-url.<region>.localhost:<port>/), 0 for any free one', default: String(DEFAULTS.urlPort) },
  'url-domain': { value: '<domain>', about: 'URLs become https://<url-id>.lambda-url.<region>.<domain>/, for a DNS name and TLS proxy of your own', default: 'localhost, over http' },
};

/** The variable a flag is also read from: `--data-dir` is KINDLING_DATA_DIR. */
function envName(flag: string): string {
  return `KINDLING_${flag.toUpperCase().replaceAll('-', '_')}`;
}

/** `kindling serve --help`. */
export function serveUsage(): string {
  const rows: [string, string][] = Object.entries(FLAGS).map(([flag, help]) => [
    `--${flag} ${help.value}`,
    `${help.about} (default: ${help.default}; ${envName(flag)})`,
  ]);
  rows.push(['-h, --help', 'print this help'], ['-v, --version', "print Kindling's version"]);
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return `Usage: kindling serve [options]

Runs the platform (the Lambda API, execution environments, event pollers) until SIGINT or SIGTERM.
Every flag can be set in the environment too, by the variable named; a flag wins over its variable.

Options:
${rows.map(([left, right]) => `  ${left.padEnd(width)}${right}\n`).join('')}`;
}
