import { execFile } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { KindlingError, type Logger } from '../../shared/index.js';
import { findTool } from '../host-tools.js';
import { GUARD_CHAIN, INTERFACE_PREFIX, rulesScript, tableName, tableOwner } from './egress-rules.js';

const run = promisify(execFile);
const TOOL_DIRS = ['/usr/sbin', '/usr/bin', '/sbin', '/bin'];
const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward';
/**
 * The sandbox's next hop: an address nothing owns, reached without ARP (a permanent neighbour
 * entry with the host end's MAC), as Calico does. Link-local, so never a destination (denied).
 */
const GATEWAY = '169.254.1.1';
/** Slots tried before giving up on an address (each one a host route that already exists). */
const ADDRESS_TRIES = 64;

export interface EgressOptions {
  /** The operator's `--egress-deny` CIDRs. */
  readonly deny: readonly string[];
  readonly logger: Logger;
}

interface Tools {
  readonly ip: string;
  readonly nft: string;
  readonly nsenter: string;
}

/**
 * Outbound network for sandboxes (docs/network.md): one nftables table per server, a veth pair
 * and a NAT'ed route out per sandbox. `attach` wires a sandbox's network namespace (given by a
 * process in it); the wiring goes away with the namespace, so a sandbox that dies leaves nothing.
 * The table is removed by close(), and one a crashed server left is removed by the next server to
 * start — until then it keeps dropping what it dropped: a crash leaves the host closed, not open.
 */
export class EgressNetwork {
  readonly #tools: Tools;
  readonly #tag: string;
  readonly #table: string;
  readonly #guard: boolean;
  readonly #logger: Logger;
  #next = 0;
  #slot = randomInt(0, 256 * 254);
  #closed = false;

  private constructor(tools: Tools, tag: string, guard: boolean, logger: Logger) {
    this.#tools = tools;
    this.#tag = tag;
    this.#table = tableName(process.pid, tag);
    this.#guard = guard;
    this.#logger = logger;
  }

  /** Why egress cannot be given on this machine, or undefined. */
  static unavailable(): string | undefined {
    if (process.getuid?.() !== 0) return 'it needs root (veth pairs and nftables)';
    try {
      toolsHere();
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  }

  /** Sweeps what dead servers left, turns forwarding on, and installs this server's table. */
  static async open(options: EgressOptions): Promise<EgressNetwork> {
    const tools = toolsHere();
    const before = await kindlingTables(tools);
    // Forwarding was off before any Kindling turned it on when it is off now, or when a table of
    // a Kindling that turned it on (live or dead) says so.
    const guard = readFileSync(IP_FORWARD, 'utf8').trim() === '0' || before.some((table) => table.guard);
    for (const table of before) {
      const owner = tableOwner(table.name);
      if (owner !== undefined && !alive(owner)) await deleteTable(tools, table.name);
    }
    let tag = randomBytes(2).toString('hex');
    while (before.some((table) => table.name.endsWith(`-${tag}`))) tag = randomBytes(2).toString('hex');
    const network = new EgressNetwork(tools, tag, guard, options.logger);
    await nftScript(tools, rulesScript({ table: network.#table, tag, deny: options.deny, guard }));
    if (guard) writeFileSync(IP_FORWARD, '1');
    return network;
  }

  /** Gives the network namespace of `pid` a route out: a veth pair (`eth0` inside), an address of its own, a default route through the host's end. */
  async attach(pid: number): Promise<void> {
    if (this.#closed) throw new KindlingError('ERR_SANDBOX_UNAVAILABLE', 'egress is closed');
    const { ip, nsenter } = this.#tools;
    const name = `${INTERFACE_PREFIX}${this.#tag}${(this.#next++).toString(16).padStart(6, '0')}`;
    // A MAC chosen here (locally administered) rather than read back: /sys shows the namespace of
    // whoever mounted it, not necessarily the server's (a server started with nsenter --net).
    const mac = ['02', ...randomBytes(5).toString('hex').match(/../g)!].join(':');
    // Two processes per sandbox, one on each side (spawning is the cost, docs/network.md).
    const address = await this.#wireHostSide(name, mac, pid);
    // IPv6 on the host's end would give it a link-local address the sandbox could talk to.
    writeFileSync(`/proc/sys/net/ipv6/conf/${name}/disable_ipv6`, '1');
    const inside = [
      `addr add ${address}/32 dev eth0`,
      'link set eth0 up',
      `neigh add ${GATEWAY} lladdr ${mac} dev eth0 nud permanent`,
      `route add default via ${GATEWAY} dev eth0 onlink`,
    ];
    await runWithInput(nsenter, [`--net=/proc/${pid}/ns/net`, ip, '-batch', '-'], inside.join('\n') + '\n');
  }

  /**
   * The pair, the host's end up, and an address of the sandbox's own: a host route to it that no
   * other sandbox has (`ip route add` refuses a duplicate, which makes it the allocator across
   * servers). Returns the address.
   */
  async #wireHostSide(name: string, mac: string, pid: number): Promise<string> {
    const { ip } = this.#tools;
    let address = this.#nextAddress();
    const batch = [`link add ${name} address ${mac} type veth peer name eth0 netns ${pid}`, `link set ${name} up`, `route add ${address}/32 dev ${name}`];
    try {
      await runWithInput(ip, ['-batch', '-'], batch.join('\n') + '\n');
      return address;
    } catch (err) {
      if (!/File exists/.test(String((err as Error).message)) || !/-:3/.test(String((err as Error).message))) throw err;
    }
    for (let i = 1; i < ADDRESS_TRIES; i++) {
      address = this.#nextAddress();
      try {
        await run(ip, ['route', 'add', `${address}/32`, 'dev', name]);
        return address;
      } catch (err) {
        if (!/File exists/.test(String((err as { stderr?: string }).stderr))) throw err;
      }
    }
    throw new KindlingError('ERR_SANDBOX_UNAVAILABLE', `no free sandbox address after ${ADDRESS_TRIES} tries`);
  }

  #nextAddress(): string {
    // 10.250.X.1 to 10.250.X.254: no .0 or .255, which some stacks treat as broadcast.
    const slot = this.#slot++ % (256 * 254);
    return `10.250.${Math.floor(slot / 254)}.${(slot % 254) + 1}`;
  }

  /**
   * Removes this server's table (its sandboxes are gone by now; one still running loses its way
   * out). Forwarding is turned off again when Kindling turned it on and no other server's table
   * is left. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await deleteTable(this.#tools, this.#table);
      if (this.#guard && (await kindlingTables(this.#tools)).length === 0) writeFileSync(IP_FORWARD, '0');
    } catch (err) {
      this.#logger.warn(`egress: could not remove nftables table ${this.#table}: ${(err as Error).message}`);
    }
  }
}

function toolsHere(): Tools {
  return { ip: findTool('ip', TOOL_DIRS), nft: findTool('nft', TOOL_DIRS), nsenter: findTool('nsenter', TOOL_DIRS) };
}

/** Every Kindling table on the host, and whether it carries the forwarding guard. */
async function kindlingTables(tools: Tools): Promise<{ name: string; guard: boolean }[]> {
  const { stdout } = await run(tools.nft, ['list', 'chains', 'inet']);
  const tables = new Map<string, boolean>();
  let current: string | undefined;
  for (const line of stdout.split('\n')) {
    const table = /^table inet (kindling-\S+) \{/.exec(line)?.[1];
    if (table) {
      current = table;
      tables.set(table, false);
    } else if (/^table /.test(line)) current = undefined;
    else if (current && new RegExp(`^\\s*chain ${GUARD_CHAIN} \\{`).test(line)) tables.set(current, true);
  }
  return [...tables].map(([name, guard]) => ({ name, guard }));
}

async function deleteTable(tools: Tools, name: string): Promise<void> {
  try {
    await run(tools.nft, ['delete', 'table', 'inet', name]);
  } catch (err) {
    if (!/No such file or directory/.test(String((err as { stderr?: string }).stderr))) throw err;
  }
}

function nftScript(tools: Tools, script: string): Promise<void> {
  return runWithInput(tools.nft, ['-f', '-'], script);
}

function runWithInput(command: string, args: string[], input: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, (err, _stdout, stderr) => {
      if (err) reject(new KindlingError('ERR_SANDBOX_UNAVAILABLE', `${command} ${args.join(' ')}: ${stderr.trim() || err.message}`, { cause: err }));
      else resolve();
    });
    child.stdin?.end(input);
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
