import { driversAtLeast, type SandboxDriverName } from '../config/index.js';
import { KindlingError, type Logger } from '../shared/index.js';
import { SandboxSelection } from './driver-selection.js';
import { NamespaceSandboxDriver } from './namespace/namespace-driver.js';
import { MicroVmSandboxDriver } from './microvm/microvm-driver.js';
import { ProcessSandboxDriver } from './process/process-sandbox.js';
import type { SandboxDriver } from './sandbox.js';
import { UidPool } from './uid-pool.js';
import type { ApiBridge } from './api-bridge.js';
import { EgressNetwork } from './egress/egress-network.js';

export interface SandboxOptions {
  readonly sandbox: 'auto' | SandboxDriverName;
  /** What the operator allows functions to ask for; undefined: the default and stronger drivers. */
  readonly allow?: readonly SandboxDriverName[];
  readonly dataDir: string;
  readonly prlimit?: string;
  /** `--egress`: `allow` gives sandboxes a route out where the drivers can isolate it (docs/network.md). */
  readonly egress?: 'allow' | 'deny';
  /** `--egress-deny`: IPv4 CIDRs no sandbox reaches. */
  readonly egressDeny?: readonly string[];
  /** Kindling's API for functions (AWS_ENDPOINT_URL); undefined on a node that serves no API. */
  readonly apiBridge?: ApiBridge;
}

/**
 * Probes every driver once and picks the default: `auto` is namespace where it works, else process
 * with a warning. Asking for a driver that cannot run here is an error at start; an allowed driver
 * that cannot run here is left out with the reason printed.
 */
export async function selectSandboxes(options: SandboxOptions, logger: Logger): Promise<SandboxSelection> {
  // One pool for every driver: no two live environments share a host uid, whatever their driver.
  const uids = new UidPool();
  const egress = await openEgress(options, logger);
  const network = { ...(egress ? { egress } : {}), ...(options.apiBridge ? { apiBridge: options.apiBridge } : {}), logger };
  const candidates: SandboxDriver[] = [
    new ProcessSandboxDriver({ dataDir: options.dataDir, uids, ...network, ...(options.prlimit ? { prlimit: options.prlimit } : {}) }),
    new NamespaceSandboxDriver({ uids, ...network }),
    new MicroVmSandboxDriver({ dataDir: options.dataDir, logger, uids }),
  ];
  const usable: SandboxDriver[] = [];
  for (const driver of candidates) {
    const why = await driver.unavailable();
    if (why === undefined) usable.push(driver);
    else logger.info(`sandbox driver ${driver.name} is not available: ${why}`);
  }
  let name = options.sandbox;
  if (name === 'auto') {
    name = usable.some((d) => d.name === 'namespace') ? 'namespace' : 'process';
    if (name === 'process') {
      logger.warn('sandbox: the namespace driver is not available here, so functions run in the process sandbox, which isolates them from the host only by a uid of their own (see docs/sandboxes.md)');
    }
  }
  if (!usable.some((d) => d.name === name)) {
    await egress?.close();
    throw new KindlingError('ERR_SANDBOX_UNAVAILABLE', `--sandbox ${name}: that driver cannot run on this machine (see the messages above)`);
  }
  const allowed = options.allow ?? driversAtLeast(name);
  if (!allowed.includes(name)) {
    await egress?.close();
    throw new KindlingError('ERR_SANDBOX_NOT_ALLOWED', `--allow-sandbox ${allowed.join(',')} leaves out the default driver '${name}': list it too, or choose another --sandbox`);
  }
  return new SandboxSelection(
    usable.filter((driver) => allowed.includes(driver.name as SandboxDriverName)),
    name,
    () => egress?.close() ?? Promise.resolve(),
  );
}

/**
 * The outbound network, when the operator allows it and this machine can isolate it: without
 * root, nftables or iproute2, sandboxes keep a loopback only (closed, never the host's network).
 */
async function openEgress(options: SandboxOptions, logger: Logger): Promise<EgressNetwork | undefined> {
  if (options.egress === 'deny') return undefined;
  const why = EgressNetwork.unavailable();
  if (why !== undefined) {
    logger.warn(`egress: functions get no outbound network here: ${why} (docs/network.md)`);
    return undefined;
  }
  return EgressNetwork.open({ deny: options.egressDeny ?? [], logger });
}
