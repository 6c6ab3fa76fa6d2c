import { execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ip, ipAsync, PREFIX, POLL_MS, removeNamespaceSync, removeStaleLabs, SETTLE_LIMIT_MS } from './netns-cleanup.js';
import { NetnsHost, type LabSide } from './netns-host.js';

export { labNamespaces, removeStaleLabs } from './netns-cleanup.js';
export { NetnsHost, type ExecResult, type NetnsExecOptions, type NetnsSpawnOptions } from './netns-host.js';

/**
 * A lab of "machines" on one host for the fleet tests (issue 12): N network namespaces, each with
 * its own address on a private /24, joined by veth pairs to a Linux bridge that lives in a
 * namespace of its own. Nothing is added to the root namespace: no bridge, no veth, no route, so
 * the lab's traffic stays inside the lab (and each host's loopback is its own).
 *
 * Names: every namespace is `kindling-lab-<pid>-<random>-<role>`; the pid says whose lab it is, so
 * a later run removes labs whose owner died (kill -9) without touching a lab another live test
 * process (another worktree) is using. Interface names live inside the lab's namespaces, so they
 * are short and fixed (`br0`, `port<i>` beside the bridge, `eth0` in a host) and cannot collide.
 *
 * Processes run in a host through `nsenter --net`: only the network namespace changes (`ip netns
 * exec` also remounts /sys, which hides /sys/fs/cgroup from Kindling's sandboxes), and nsenter execs
 * the program in place, so a child's pid is the program's own pid.
 */

export interface NetnsLabOptions {
  /** How many hosts (named h0, h1, ...), or their names (letters, digits, `-`, `_`). */
  readonly hosts: number | readonly string[];
}

/** Why the lab cannot run on this machine (tests skip with it), or false. */
export function netnsUnavailable(): string | false {
  if (cachedReason !== undefined) return cachedReason;
  cachedReason = probe();
  return cachedReason;
}

let cachedReason: string | false | undefined;

function probe(): string | false {
  if (process.platform !== 'linux') return `network namespaces are Linux's (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'the network namespace lab needs root (ip netns add, veth pairs, a bridge)';
  for (const tool of ['ip', 'nsenter']) {
    try {
      execFileSync(tool, ['-V'], { stdio: 'ignore' });
    } catch {
      return `\`${tool}\` is not installed (${tool === 'ip' ? 'iproute2' : 'util-linux'})`;
    }
  }
  const name = `${PREFIX}${process.pid}-probe`;
  try {
    ip(['netns', 'add', name]);
    ip(['-n', name, 'link', 'add', 'br0', 'type', 'bridge']);
    ip(['-n', name, 'link', 'add', 'port0', 'type', 'veth', 'peer', 'name', 'port1']);
    ip(['-n', name, 'link', 'set', 'port0', 'master', 'br0']);
    return false;
  } catch (err) {
    return `cannot make a network namespace with a bridge and veth pair here: ${(err as Error).message.trim()}`;
  } finally {
    try {
      ip(['netns', 'del', name]);
    } catch {
      // It was never made.
    }
  }
}

/** A bridge and N hosts; `destroy()` when done (also done at process exit, and by a later run if this one is killed). */
export class NetnsLab implements LabSide {
  readonly id: string;
  readonly hosts: readonly NetnsHost[];
  /** The lab's /24, `10.213.X.0/24`. */
  readonly subnet: string;
  /** The namespace holding the bridge `br0`. */
  readonly bridgeNamespace: string;
  readonly #children = new Set<ChildProcess>();
  readonly #dirs: string[] = [];
  #destroyed = false;

  private constructor(names: readonly string[]) {
    this.id = `${process.pid}-${randomBytes(3).toString('hex')}`;
    const third = randomBytes(1)[0]!;
    this.subnet = `10.213.${third}.0/24`;
    this.bridgeNamespace = `${PREFIX}${this.id}-br`;
    this.hosts = names.map((name, i) => new NetnsHost(this, name, `${PREFIX}${this.id}-${i}`, `10.213.${third}.${10 + i}`, this.subnet, `port${i}`));
  }

  /** Builds the lab (after removing labs left by dead processes); fails with the reason if it cannot run here. */
  static async create(options: NetnsLabOptions): Promise<NetnsLab> {
    const why = netnsUnavailable();
    if (why) throw new Error(why);
    const names = typeof options.hosts === 'number' ? Array.from({ length: options.hosts }, (_, i) => `h${i}`) : [...options.hosts];
    if (names.length < 1 || names.length > 200) throw new Error(`a lab has 1 to 200 hosts, not ${names.length}`);
    for (const name of names) if (!/^[A-Za-z0-9_-]{1,32}$/.test(name)) throw new Error(`not a plain host name: ${name}`);
    if (new Set(names).size !== names.length) throw new Error(`host names repeat: ${names.join(', ')}`);
    removeStaleLabs();
    const lab = new NetnsLab(names);
    live.add(lab);
    registerExitHandlers();
    try {
      await lab.#build();
      return lab;
    } catch (err) {
      await lab.destroy();
      throw err;
    }
  }

  /** Kills every process in the lab, removes its namespaces (and with them the bridge and veths) and temp dirs. Idempotent. */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    live.delete(this);
    for (const child of this.#children) child.kill('SIGKILL');
    await Promise.all([...this.#children].map((child) => exitOf(child)));
    this.#teardownSync();
  }

  /** For the process-exit handler: no waiting on events, only synchronous calls. */
  destroySync(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    live.delete(this);
    for (const child of this.#children) child.kill('SIGKILL');
    this.#teardownSync();
  }

  get destroyed(): boolean {
    return this.#destroyed;
  }

  /** Every namespace of the lab, bridge first. */
  get namespaces(): string[] {
    return [this.bridgeNamespace, ...this.hosts.map((h) => h.namespace)];
  }

  /** @internal: a child started in one of the hosts. */
  track(child: ChildProcess): ChildProcess {
    if (this.#destroyed) {
      child.kill('SIGKILL');
      throw new Error('the lab is destroyed');
    }
    this.#children.add(child);
    child.once('exit', () => this.#children.delete(child));
    return child;
  }

  /** @internal */
  tempDir(prefix: string): string {
    const dir = mkdtempSync(join(tmpdir(), `kindling-lab-${prefix}`));
    this.#dirs.push(dir);
    return dir;
  }

  /** @internal */
  async setPort(host: NetnsHost, state: 'up' | 'down'): Promise<void> {
    await ipAsync(['-n', this.bridgeNamespace, 'link', 'set', host.port, state]);
    if (state === 'down') return;
    // The host's end gets its carrier back a moment later; the bridge (no STP) forwards at once.
    const deadline = Date.now() + SETTLE_LIMIT_MS;
    for (;;) {
      const [bridgeSide, hostSide] = await Promise.all([
        ipAsync(['-n', this.bridgeNamespace, '-o', 'link', 'show', 'dev', host.port]),
        ipAsync(['-n', host.namespace, '-o', 'link', 'show', 'dev', 'eth0']),
      ]);
      if (/state UP/.test(bridgeSide) && /state UP/.test(hostSide)) return;
      if (Date.now() > deadline) throw new Error(`the link of ${host.name} did not come back up:\n${bridgeSide}${hostSide}`);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  async #build(): Promise<void> {
    const br = this.bridgeNamespace;
    await ipAsync(['netns', 'add', br]);
    await ipAsync(['-n', br, 'link', 'set', 'lo', 'up']);
    // No STP: a port forwards as soon as it is up (a reconnect is immediate, as a cable is).
    await ipAsync(['-n', br, 'link', 'add', 'br0', 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0']);
    await ipAsync(['-n', br, 'link', 'set', 'br0', 'up']);
    for (const host of this.hosts) {
      const ns = host.namespace;
      await ipAsync(['netns', 'add', ns]);
      // Both ends are made where they live: the pair never appears in the root namespace.
      await ipAsync(['-n', br, 'link', 'add', host.port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      await ipAsync(['-n', br, 'link', 'set', host.port, 'master', 'br0', 'up']);
      await ipAsync(['-n', ns, 'addr', 'add', `${host.address}/24`, 'dev', 'eth0']);
      await ipAsync(['-n', ns, 'link', 'set', 'eth0', 'up']);
      await ipAsync(['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    for (const host of this.hosts) await this.setPort(host, 'up');
  }

  #teardownSync(): void {
    for (const ns of this.namespaces) removeNamespaceSync(ns);
    for (const dir of this.#dirs) rmSync(dir, { recursive: true, force: true });
  }
}

/** Labs of this process not yet destroyed, for the exit handler. */
const live = new Set<NetnsLab>();
let handlersRegistered = false;

/**
 * At exit (a failed test, an uncaught error, SIGINT/SIGTERM/SIGHUP) no lab is left behind. A
 * SIGKILLed test process leaves its lab to the next create(), which removes it (removeStaleLabs).
 */
function registerExitHandlers(): void {
  if (handlersRegistered) return;
  handlersRegistered = true;
  const destroyAll = () => {
    for (const lab of [...live]) lab.destroySync();
  };
  process.on('exit', destroyAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      destroyAll();
      // Only ours: the signal's default (the process ends) would not happen with a listener installed.
      if (process.listenerCount(signal) === 1) {
        process.off(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
}

function exitOf(child: ChildProcess): Promise<void> {
  // A child that never started (no pid) never exits either.
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}
