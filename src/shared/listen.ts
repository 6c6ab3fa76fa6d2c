import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Listens on `host:port` (0: a free port); rejects if it cannot (the port is taken). */
export function listenOn(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

/**
 * Calls `listener` once the response can take more (its buffered bytes were written), or at once
 * when it never will (the client went away): a paused writer must always be resumed.
 */
export function whenDrained(res: ServerResponse, listener: () => void): void {
  if (res.destroyed || res.writableEnded || !res.writableNeedDrain) return listener();
  let called = false;
  const once = () => {
    if (called) return;
    called = true;
    res.off('drain', once);
    res.off('close', once);
    listener();
  };
  res.on('drain', once);
  res.on('close', once);
}
