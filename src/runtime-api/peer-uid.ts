import { readFileSync } from 'node:fs';

/** 127.0.0.1 as /proc/net/tcp writes it: the address's bytes in host (little-endian) order. */
const LOOPBACK_V4 = '0100007F';
/** ::ffff:127.0.0.1 in /proc/net/tcp6 (a dual-stack client's view of the same address). */
const LOOPBACK_V4_MAPPED = '0000000000000000FFFF00000100007F';

/**
 * The uid that owns the client end of a loopback TCP connection, read from the kernel's socket
 * table (the `uid` column of /proc/net/tcp and tcp6): the line whose local end is the client's
 * port and whose remote end is the server's. Undefined when no such line is found.
 */
export function loopbackPeerUid(serverPort: number, clientPort: number): number | undefined {
  const local = hexPort(clientPort);
  const remote = hexPort(serverPort);
  for (const [file, address] of [['/proc/net/tcp', LOOPBACK_V4], ['/proc/net/tcp6', LOOPBACK_V4_MAPPED]] as const) {
    let table: string;
    try {
      table = readFileSync(file, 'latin1');
    } catch {
      continue;
    }
    // State 01, ESTABLISHED: a closed connection's TIME_WAIT line on the same ports has no owner.
    const want = `${address}:${local} ${address}:${remote} 01 `;
    const at = table.indexOf(want);
    if (at < 0) continue;
    // local rem st tx_queue:rx_queue tr:tm->when retrnsmt uid ...
    const fields = table.slice(at, table.indexOf('\n', at)).trim().split(/\s+/);
    const uid = Number(fields[6]);
    return Number.isInteger(uid) ? uid : undefined;
  }
  return undefined;
}

function hexPort(port: number): string {
  return port.toString(16).toUpperCase().padStart(4, '0');
}
