import { readlinkSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../shared/index.js';
import type { EgressNetwork } from './egress-network.js';

/** The exit status of a sandbox whose network could not be wired (its runtime never ran). */
export const NETWORK_GATE_EXIT = 126;

/**
 * Shell lines that hold a sandbox until its network is wired, in two halves so that the wiring
 * overlaps the rest of the sandbox's start: `announce` says on `fd` (a socket pair with the
 * server) that the network namespace exists; `await`, just before the runtime, waits for the
 * server's answer, so the runtime never runs, even for a moment, without the network it is to
 * have. No answer (the server could not wire it): exit 126, and the runtime never starts.
 */
export const gateLines = {
  announce: (fd: number): string => `echo >&${fd} 2>/dev/null || true`,
  await: (fd: number): string[] => [
    `read -r _ <&${fd} 2>/dev/null || { echo 'kindling: the sandbox network could not be set up' >&2; exit ${NETWORK_GATE_EXIT}; }`,
    `exec ${fd}<&-`,
  ],
};

/**
 * The server's side of gateLines: once the sandbox says its namespace exists, wires it through
 * `egress` (a process in it is `pid()`), then lets it go on. A failure is logged and closes the
 * gate, which ends the sandbox.
 */
export function openGate(gate: Duplex, egress: EgressNetwork, pid: () => number | undefined, logger: Logger): void {
  gate.on('error', () => undefined);
  gate.once('data', () => {
    const inside = pid();
    const wired = inside === undefined ? Promise.reject(new Error('no process of the sandbox is in its network namespace')) : egress.attach(inside);
    wired.then(
      () => gate.end('\n'),
      (err: unknown) => {
        logger.warn(`egress: a sandbox's network could not be set up: ${(err as Error).message}`);
        gate.destroy();
      },
    );
  });
}

/** The first of `pids` that is in another network namespace than the server's. */
export function inOtherNetns(pids: readonly number[]): number | undefined {
  const own = readlinkSync('/proc/self/ns/net');
  return pids.find((pid) => {
    try {
      return readlinkSync(`/proc/${pid}/ns/net`) !== own;
    } catch {
      return false;
    }
  });
}
