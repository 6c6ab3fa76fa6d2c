import { existsSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { join } from 'node:path';
import type { NetnsHost } from './netns.js';
import { eventually } from './wait.js';

/**
 * A door from the test process (root namespace, loopback) to `target` (`address:port` on the lab's
 * network), through `host`: socat in the host listens on a unix socket (the file system is shared
 * across network namespaces) and connects on; a loopback listener here carries each connection to
 * that socket. Traffic stays on loopback and inside the lab, and the test's AWS SDK clients talk to
 * the lab's api nodes as if from `host`.
 */
export async function labForward(host: NetnsHost, target: string): Promise<{ url: string; close(): Promise<void> }> {
  const path = join(host.tempDir('kindling-fwd-'), 'door.sock');
  const socat = host.spawn('socat', [`UNIX-LISTEN:${path},fork`, `TCP:${target}`], { stdio: 'ignore' });
  await eventually(() => existsSync(path), `socat listens on ${path}`);
  const open = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(path);
    open.add(client).add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      socat.kill('SIGKILL');
    },
  };
}
