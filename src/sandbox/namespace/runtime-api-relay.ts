import { chmodSync } from 'node:fs';
import net from 'node:net';

/**
 * The host end of the bridge to a sandbox's Runtime API: a unix socket, bound into the sandbox,
 * whose connections are relayed to the environment's Runtime API on 127.0.0.1:<port>. The sandbox
 * has its own network namespace, so this socket is its only way out, and it leads to that one port.
 */
export class RuntimeApiRelay {
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();

  private constructor(server: net.Server) {
    this.#server = server;
  }

  /** `onFirstRequest`: the runtime's first bytes to its Runtime API (its first /next: Init is over). */
  static async open(socketPath: string, port: number, onFirstRequest: () => void): Promise<RuntimeApiRelay> {
    const server = net.createServer();
    const relay = new RuntimeApiRelay(server);
    server.on('connection', (inbound) => {
      inbound.once('data', onFirstRequest);
      relay.#relay(inbound, port);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // The sandbox's user is not the server's: it needs write permission to connect. The socket's
    // directory is private to the server, so only the sandbox it is bound into can reach it.
    chmodSync(socketPath, 0o666);
    return relay;
  }

  #relay(inbound: net.Socket, port: number): void {
    const outbound = net.connect({ host: '127.0.0.1', port, noDelay: true });
    inbound.setNoDelay(true);
    this.#sockets.add(inbound).add(outbound);
    const done = () => {
      inbound.destroy();
      outbound.destroy();
      this.#sockets.delete(inbound);
      this.#sockets.delete(outbound);
    };
    inbound.on('error', done).on('close', done);
    outbound.on('error', done).on('close', done);
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  }

  close(): void {
    this.#server.close();
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
  }
}
