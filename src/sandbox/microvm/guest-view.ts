import { realpathSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { SandboxSpec } from '../sandbox.js';
import { GUEST_BIN_DIR } from './guest-init.js';
import { GUEST } from './guest-protocol.js';

/** What one guest is shown of the host, and how its /init is told. */
export interface GuestView {
  /** Host directories shared read-only, by 9p mount tag. */
  readonly shares: Readonly<Record<string, string>>;
  /** The runtime's program as the guest sees it. */
  readonly command: string;
  /** The per-guest part of the kernel command line, read by the guest's /init. */
  readonly kernelArgs: readonly string[];
}

/** Paths the guest has: its own busybox in /bin, the rest through the shares. */
const GUEST_PATHS = ['/usr/', '/bin/', '/sbin/', '/lib/', '/lib64/', '/var/task/', '/var/runtime/', '/opt/'];

/**
 * The guest sees the host's /usr (the runtimes' binaries and libraries, Debian having merged /lib
 * into it), the function's code at /var/task, its layers at /opt, Kindling's runtime clients at
 * /var/runtime, all read-only, and nothing else of the host. A runtime binary kept elsewhere (a
 * Node.js installed under /root, say) has its directory shared at /run/kindling-bin.
 */
export function guestViewFor(spec: SandboxSpec): GuestView {
  const shares: Record<string, string> = {
    [GUEST.shares.usr]: '/usr',
    [GUEST.shares.task]: spec.codeDir,
    [GUEST.shares.runtime]: spec.runtimeDir,
    ...(spec.optDir ? { [GUEST.shares.opt]: spec.optDir } : {}),
  };
  let command = spec.command;
  if (command.startsWith('/') && !visible(command)) {
    const real = realpathSync(command);
    if (visible(real)) command = real;
    else {
      shares[GUEST.shares.bin] = dirname(real);
      command = `${GUEST_BIN_DIR}/${basename(real)}`;
    }
  }
  const kernelArgs = [
    `kindling.mem=${spec.memoryMb}`,
    `kindling.tmp=${spec.ephemeralStorageMb}`,
    ...(spec.optDir ? ['kindling.opt=1'] : []),
    ...(shares[GUEST.shares.bin] ? ['kindling.bin=1'] : []),
  ];
  return { shares, command, kernelArgs };
}

function visible(path: string): boolean {
  return GUEST_PATHS.some((prefix) => path.startsWith(prefix));
}
