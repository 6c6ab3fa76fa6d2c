import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { silentLogger, type Logger } from '../../shared/index.js';
import { RUNTIME_API_ADDRESS, runtimeApiVariables } from '../runtime-api-bridge.js';
import type { Sandbox, SandboxDriver, SandboxExit, SandboxSpec, SandboxStats } from '../sandbox.js';
import { findTool, spawned } from '../host-tools.js';
import { terminateThenKill } from '../shutdown.js';
import { UidPool } from '../uid-pool.js';
import { environmentScript, GATE_FD, isolatedCommand, type IsolationTools } from './isolation.js';
import { API_ENDPOINT_INSIDE, type ApiBridge } from '../api-bridge.js';
import type { EgressNetwork } from '../egress/egress-network.js';
import { openGate } from '../egress/network-gate.js';
import type { Socket } from 'node:net';
import { killAllOf } from './uid-processes.js';

/** Lambda's per-environment limits on file descriptors and processes (quotas page). */
const RLIMIT_NOFILE = 1024;
/** How long the processes a sandbox left behind may take to die once killed. */
const SWEEP_DEADLINE_MS = 2000;
const TOOL_DIRS = ['/usr/bin', '/usr/sbin', '/bin', '/sbin', '/usr/local/bin'];

export interface ProcessSandboxOptions {
  /** util-linux `prlimit`, for the rlimits when the server is not root. */
  readonly prlimit?: string;
  /** The server's data directory: hidden from functions when the server is root. */
  readonly dataDir?: string;
  /** Host uids, shared with the other drivers. */
  readonly uids?: UidPool;
  readonly logger?: Logger;
  /** Run as root: sandboxes get a route out (docs/network.md). */
  readonly egress?: EgressNetwork;
  /** Run as root: functions get AWS_ENDPOINT_URL through the API bridge. */
  readonly apiBridge?: ApiBridge;
}

/**
 * The `process` driver: the runtime is a host process with the host's paths. Fastest and weakest.
 *
 * Run as root (see isolation.ts), each environment gets a host uid of its own with no
 * capabilities and no_new_privs, a network namespace with only a loopback (its Runtime API
 * bridged in from the environment's unix socket), and a mount namespace in which the data
 * directory shows only its own code and layers. It still shares the host's processes view,
 * /tmp and the rest of the file system, as any unprivileged local user does.
 *
 * Run as any other user, there is nothing to drop to: the runtime runs as the server's user on
 * the host's network, and reaches its Runtime API on a loopback port that serves that uid only.
 */
export class ProcessSandboxDriver implements SandboxDriver {
  readonly name = 'process';
  readonly pathView = 'host' as const;
  readonly runsPrestarted = true;
  readonly #prlimit: string | undefined;
  readonly #dataDir: string | undefined;
  readonly #uids: UidPool;
  readonly #logger: Logger;
  readonly #root = process.getuid?.() === 0;
  readonly #egress: EgressNetwork | undefined;
  readonly #apiBridge: ApiBridge | undefined;
  #tools: IsolationTools | undefined;
  #probe: Promise<string | undefined> | undefined;

  constructor(options: ProcessSandboxOptions = {}) {
    this.#prlimit = options.prlimit;
    this.#dataDir = options.dataDir;
    this.#uids = options.uids ?? new UidPool();
    this.#logger = options.logger ?? silentLogger;
    this.#egress = this.#root ? options.egress : undefined;
    this.#apiBridge = this.#root ? options.apiBridge : undefined;
  }

  /** Not root: the host's network, as the server's own user (docs/network.md says what that allows). */
  get network(): 'egress' | 'none' | 'host' {
    if (!this.#root) return 'host';
    return this.#egress ? 'egress' : 'none';
  }

  unavailable(): Promise<string | undefined> {
    this.#probe ??= this.#check();
    return this.#probe;
  }

  async #check(): Promise<string | undefined> {
    if (!this.#root) {
      this.#logger.warn(
        `sandbox process: the server is not root, so process sandboxes run functions as the server's own user (uid ${process.getuid?.()}) on the host's network; only their Runtime API is kept from other users`,
      );
      return undefined;
    }
    try {
      const find = (name: string) => findTool(name, TOOL_DIRS);
      this.#tools = {
        unshare: find('unshare'), setpriv: find('setpriv'), socat: find('socat'), ip: find('ip'),
        mount: find('mount'), umount: find('umount'), mkdir: find('mkdir'), cat: find('cat'),
      };
    } catch (err) {
      return `run as root, it drops each function to a uid of its own in namespaces of its own: ${(err as Error).message}`;
    }
    const trial = spawn(this.#tools.unshare, ['--net', '--mount', '--', this.#tools.ip, 'link', 'set', 'lo', 'up'], { env: {}, stdio: 'ignore' });
    const code = await new Promise<number | null>((resolve) => {
      trial.once('error', () => resolve(null));
      trial.once('exit', (status) => resolve(status));
    });
    return code === 0 ? undefined : 'run as root, it needs new network and mount namespaces (unshare --net --mount), and this host refused them';
  }

  async start(spec: SandboxSpec): Promise<Sandbox> {
    if (!this.#root) return this.#startAsServerUser(spec);
    const tools = this.#tools;
    if (!tools) throw new Error(`the process sandbox is not available: ${(await this.unavailable()) ?? 'not probed'}`);
    const uid = this.#uids.take();
    // Where the data directory is held while the mounts are made; private to the server.
    const stage = mkdtempSync(join(tmpdir(), 'kindling-proc-'));
    const release = (emptied: boolean) => {
      rmSync(stage, { recursive: true, force: true });
      // A uid whose processes might outlive the sandbox is never handed out again.
      if (emptied) this.#uids.release(uid);
    };
    try {
      spec.runtimeApi.grant(uid);
      const egress = spec.network === 'none' ? undefined : this.#egress;
      const apiSocket = this.#apiBridge?.socketPath;
      const { command, args } = isolatedCommand({ spec, tools, uid, dataDir: this.#dataDir, stage, gate: egress !== undefined, ...(apiSocket ? { apiSocket } : {}) });
      const child = spawn(command, args, {
        cwd: spec.codeDir,
        env: {},
        // fd 4, with egress: the gate, a socket pair (Node's pipes are) the root stage speaks on first.
        stdio: [spec.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe', 'pipe', ...(egress ? ['pipe' as const] : [])],
        // Its own process group: Ctrl-C at the server's terminal must not kill runtimes mid-invoke.
        detached: true,
      });
      await spawned(child);
      // The function's own AWS_ENDPOINT_URL, if it set one, wins (Lambda sets none).
      const endpoint: Record<string, string> = apiSocket ? { AWS_ENDPOINT_URL: API_ENDPOINT_INSIDE } : {};
      (child.stdio[3] as Writable).on('error', () => undefined).end(environmentScript({ ...endpoint, ...spec.env, ...runtimeApiVariables(RUNTIME_API_ADDRESS, spec.runtimeApi.socketPath) }));
      // unshare execs the root stage in place: the child itself is in the new network namespace.
      if (egress) openGate((child.stdio as unknown as Socket[])[GATE_FD]!, egress, () => child.pid, this.#logger);
      return new ProcessSandbox(child, RUNTIME_API_ADDRESS, uid, release, apiSocket ? API_ENDPOINT_INSIDE : undefined);
    } catch (err) {
      release(killAllOf(uid));
      throw err;
    }
  }

  /** Not root: the server's own user, the host's network, a loopback port that serves that user only. */
  async #startAsServerUser(spec: SandboxSpec): Promise<Sandbox> {
    const address = `127.0.0.1:${await spec.runtimeApi.loopbackPort(process.getuid?.() ?? -1)}`;
    const [command, args] = this.#prlimit
      ? [this.#prlimit, [`--nofile=${RLIMIT_NOFILE}:${RLIMIT_NOFILE}`, '--core=0', '--', spec.command, ...spec.args]]
      : [spec.command, [...spec.args]];
    const child = spawn(command, args, {
      cwd: spec.codeDir,
      env: { ...spec.env, ...runtimeApiVariables(address, spec.runtimeApi.socketPath) },
      stdio: [spec.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      // Its own process group: Ctrl-C at the server's terminal must not kill runtimes mid-invoke
      // (serve finishes in-flight work first), and a kill reaches whatever the function spawned.
      // A runtime outliving a crashed server exits on its own: its Runtime API connection drops.
      detached: true,
    });
    await spawned(child);
    return new ProcessSandbox(child, address, undefined, () => undefined);
  }
}

class ProcessSandbox implements Sandbox {
  readonly #child: ChildProcess;
  readonly exited: Promise<SandboxExit>;
  readonly runtimeApiAddress: string;
  readonly apiEndpoint: string | undefined;
  /** The sandbox's own host uid (run as root): every process of it belongs to this sandbox. */
  readonly #uid: number | undefined;
  #exit: SandboxExit | undefined;
  #maxMemoryBytes = 0;
  /** /proc/<pid>/status, opened once: stats() is read after every invocation. */
  #statusFd: number | undefined;
  readonly #statusBuffer = Buffer.allocUnsafe(4096);

  constructor(child: ChildProcess, runtimeApiAddress: string, uid: number | undefined, release: (emptied: boolean) => void, apiEndpoint?: string) {
    this.#child = child;
    this.apiEndpoint = apiEndpoint;
    this.#uid = uid;
    this.runtimeApiAddress = runtimeApiAddress;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        if (this.#statusFd !== undefined) closeSync(this.#statusFd);
        this.#statusFd = undefined;
        void this.#sweep().then((emptied) => {
          release(emptied);
          this.#exit = { code, signal };
          resolve(this.#exit);
        });
      });
    });
  }

  get stdin() {
    return this.#child.stdin ?? undefined;
  }

  get stdout() {
    return this.#child.stdout!;
  }

  get stderr() {
    return this.#child.stderr!;
  }

  async stop(graceMs: number): Promise<SandboxExit> {
    if (this.#exit) return this.#exit;
    return terminateThenKill(this.exited, () => this.#signal('SIGTERM'), () => this.kill(), graceMs);
  }

  kill(): void {
    this.#signal('SIGKILL');
    if (this.#uid !== undefined && !this.#exit) killAllOf(this.#uid);
  }

  #signal(signal: NodeJS.Signals): void {
    if (this.#exit || this.#child.pid === undefined) return;
    try {
      process.kill(-this.#child.pid, signal);
    } catch {
      this.#child.kill(signal);
    }
  }

  /**
   * Once the runtime is gone, so is everything else of the sandbox: its bridge, and whatever it
   * started, in its process group or not (a uid of its own finds them all). True when none is left.
   */
  async #sweep(): Promise<boolean> {
    if (this.#uid === undefined) return true;
    const deadline = Date.now() + SWEEP_DEADLINE_MS;
    while (!killAllOf(this.#uid)) {
      if (Date.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return true;
  }

  stats(): SandboxStats {
    // VmHWM is the peak resident set size: Lambda's "Max Memory Used".
    if (!this.#exit && this.#child.pid !== undefined) {
      try {
        this.#statusFd ??= openSync(`/proc/${this.#child.pid}/status`, 'r');
        const length = readSync(this.#statusFd, this.#statusBuffer, 0, this.#statusBuffer.length, 0);
        const status = this.#statusBuffer.toString('latin1', 0, length);
        const match = /VmHWM:\s+(\d+) kB/.exec(status);
        if (match) this.#maxMemoryBytes = Math.max(this.#maxMemoryBytes, Number(match[1]) * 1024);
      } catch {
        // the process is gone; the last reading stands
      }
    }
    return { maxMemoryBytes: this.#maxMemoryBytes };
  }
}


