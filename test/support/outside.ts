import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { ipAsync, PREFIX, removeNamespaceSync, removeStaleLabs } from './netns-cleanup.js';

/**
 * "The outside" for the egress tests: a network namespace joined to the host by a veth pair
 * (`ko<hex>` on the host, 198.18.N.1/24; `eth0` inside, 198.18.N.2, from the benchmarking range
 * RFC 2544 sets aside), with an HTTP server on its own address that answers `outside <path>`.
 * The host routes to it as to any network it is attached to; sandboxes reach it only through
 * their NAT. Named like the fleet lab's namespaces (`kindling-lab-<pid>-...`), so a run killed
 * with -9 leaves it to the next one's removeStaleLabs; deleting the namespace takes the veth too.
 */
export class Outside {
  readonly namespace: string;
  readonly hostAddress: string;
  readonly address: string;
  readonly port = 80;
  readonly #hostLink: string;
  #server: ChildProcess | undefined;
  #closed = false;

  private constructor() {
    const id = randomBytes(2).toString('hex');
    const third = 1 + (randomBytes(1)[0]! % 250);
    this.namespace = `${PREFIX}${process.pid}-${id}-outside`;
    this.#hostLink = `ko${id}`;
    this.hostAddress = `198.18.${third}.1`;
    this.address = `198.18.${third}.2`;
  }

  get url(): string {
    return `http://${this.address}:${this.port}`;
  }

  static async create(): Promise<Outside> {
    removeStaleLabs();
    const outside = new Outside();
    try {
      await outside.#build();
      return outside;
    } catch (err) {
      await outside.close();
      throw err;
    }
  }

  async #build(): Promise<void> {
    const ns = this.namespace;
    await ipAsync(['netns', 'add', ns]);
    await ipAsync(['link', 'add', this.#hostLink, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    await ipAsync(['addr', 'add', `${this.hostAddress}/24`, 'dev', this.#hostLink]);
    await ipAsync(['link', 'set', this.#hostLink, 'up']);
    await ipAsync(['-n', ns, 'addr', 'add', `${this.address}/24`, 'dev', 'eth0']);
    await ipAsync(['-n', ns, 'link', 'set', 'eth0', 'up']);
    await ipAsync(['-n', ns, 'link', 'set', 'lo', 'up']);
    const server = `require('node:http').createServer((q, s) => s.end('outside ' + q.url)).listen(${this.port}, '${this.address}', () => console.log('ready'))`;
    this.#server = spawn('nsenter', [`--net=/run/netns/${ns}`, process.execPath, '-e', server], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [line] = (await Promise.race([once(this.#server.stdout!, 'data'), once(this.#server, 'exit')])) as [Buffer | number];
    if (!Buffer.isBuffer(line)) throw new Error('the outside server exited before it listened');
  }

  /** Stops the server and removes the namespace (and with it the veth pair). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const server = this.#server;
    if (server && server.exitCode === null && server.signalCode === null) {
      server.kill('SIGKILL');
      await once(server, 'exit');
    }
    removeNamespaceSync(this.namespace);
  }
}
