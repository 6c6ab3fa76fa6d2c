import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where a function finds Kindling's API inside its sandbox (AWS_ENDPOINT_URL), beside the Runtime API's 9001. */
export const API_BRIDGE_PORT_INSIDE = 9002;
export const API_ENDPOINT_INSIDE = `http://127.0.0.1:${API_BRIDGE_PORT_INSIDE}`;

/**
 * Kindling's Lambda API for functions, without a route to the host: a unix socket that carries
 * each connection, byte for byte, to the API's TCP port. A sandbox's socat listens on
 * 127.0.0.1:9002 inside its own network namespace and connects to this socket (bound into the
 * namespace sandbox, at its host path for the process one), so the egress rules stay closed to
 * the host. The bridge grants nothing: the API authenticates what comes through it like any
 * other request (SigV4 with the function's own credentials), and the bytes, Host header
 * included, arrive as the function signed them.
 *
 * The socket exists from open(), before the API listens (sandboxes bind it as they start);
 * until target() is given, connections are closed at once.
 */
export class ApiBridge {
  readonly socketPath: string;
  readonly #dir: string;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #target: { host: string; port: number } | undefined;
  #closed = false;

  private constructor(dir: string, server: Server) {
    this.#dir = dir;
    this.socketPath = join(dir, 'api.sock');
    this.#server = server;
  }

  static async open(): Promise<ApiBridge> {
    // Its own directory, 0755 with a 0666 socket: every sandbox uid connects, as any local user
    // may connect to the API's port; nobody can replace the socket.
    const dir = mkdtempSync(join(tmpdir(), 'kindling-api-'));
    chmodSync(dir, 0o755);
    const server = createServer();
    const bridge = new ApiBridge(dir, server);
    server.on('connection', (socket) => bridge.#relay(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(bridge.socketPath, () => resolve());
    });
    chmodSync(bridge.socketPath, 0o666);
    return bridge;
  }

  /** Where the API listens (its TCP port, this process's own); an unspecified host means loopback. */
  target(port: number, host: string): void {
    this.#target = { port, host: host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host };
  }

  #relay(socket: Socket): void {
    const target = this.#target;
    if (!target || this.#closed) {
      socket.destroy();
      return;
    }
    const upstream = createConnection(target);
    for (const end of [socket, upstream]) {
      this.#sockets.add(end);
      end.once('close', () => this.#sockets.delete(end));
      end.on('error', () => {
        socket.destroy();
        upstream.destroy();
      });
    }
    socket.pipe(upstream).pipe(socket);
  }

  /** Stops listening, cuts open connections and removes the socket's directory. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
