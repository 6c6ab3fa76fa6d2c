import { driversAtLeast, type SandboxDriverName } from '../config/index.js';
import { KindlingError, type Logger } from '../shared/index.js';
import { SandboxSelection } from './driver-selection.js';
import { NamespaceSandboxDriver } from './namespace/namespace-driver.js';
import { MicroVmSandboxDriver } from './microvm/microvm-driver.js';
import { ProcessSandboxDriver } from './process/process-sandbox.js';
import type { SandboxDriver } from './sandbox.js';
import { UidPool } from './uid-pool.js';

export interface SandboxOptions {
  readonly sandbox: 'auto' | SandboxDriverName;
  /** What the operator allows functions to ask for; undefined: the default and stronger drivers. */
  readonly allow?: readonly SandboxDriverName[];
  readonly dataDir: string;
  readonly prlimit?: string;
}

/**
 * Probes every driver once and picks the default: `auto` is namespace where it works, else process
 * with a warning. Asking for a driver that cannot run here is an error at start; an allowed driver
 * that cannot run here is left out with the reason printed.
 */
export async function selectSandboxes(options: SandboxOptions, logger: Logger): Promise<SandboxSelection> {
  // One pool for every driver: no two live environments share a host uid, whatever their driver.
  const uids = new UidPool();
  const candidates: SandboxDriver[] = [
    new ProcessSandboxDriver({ dataDir: options.dataDir, uids, logger, ...(options.prlimit ? { prlimit: options.prlimit } : {}) }),
    new NamespaceSandboxDriver({ uids }),
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
    throw new KindlingError('ERR_SANDBOX_UNAVAILABLE', `--sandbox ${name}: that driver cannot run on this machine (see the messages above)`);
  }
  const allowed = options.allow ?? driversAtLeast(name);
  if (!allowed.includes(name)) {
    throw new KindlingError('ERR_SANDBOX_NOT_ALLOWED', `--allow-sandbox ${allowed.join(',')} leaves out the default driver '${name}': list it too, or choose another --sandbox`);
  }
  return new SandboxSelection(
    usable.filter((driver) => allowed.includes(driver.name as SandboxDriverName)),
    name,
  );
}
