import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { LAMBDA_PATHS, type Sandbox, type SandboxDriver, type SandboxSpec } from '../sandbox.js';
import { findTool, spawned } from '../host-tools.js';
import { detectCgroups, limitsFor, type CgroupTree, type SandboxCgroup } from './cgroups.js';
import { NamespaceSandbox } from './namespace-sandbox.js';
import { RUNTIME_API_ADDRESS } from '../runtime-api-bridge.js';
import { commandLine, ETC_FILES, GATE_FD, hostRootEntries, innerOptions, nulSeparated, outerOptions, type Tools } from './sandbox-view.js';
import { UidPool } from '../uid-pool.js';
import { API_ENDPOINT_INSIDE, type ApiBridge } from '../api-bridge.js';
import type { EgressNetwork } from '../egress/egress-network.js';
import { inOtherNetns, openGate } from '../egress/network-gate.js';
import { sandboxResolvConf } from '../egress/resolver.js';
import { silentLogger, type Logger } from '../../shared/index.js';
import type { Socket } from 'node:net';

const CGROUP_PREFIX = 'kindling-';
const RUN_DIR_PREFIX = 'kindling-ns-';
/** A sandbox's cgroup is populated within milliseconds of being made: an empty one this old is left over. */
const STALE_MS = 60_000;

/** Where the tools are looked for: under /usr, so that the sandbox's read-only /usr has them too. */
const TOOL_DIRS = ['/usr/bin', '/usr/local/bin', '/usr/sbin'];

/**
 * The `namespace` driver: bubblewrap and cgroups (see sandbox-view.ts for the view and the two
 * bwrap stages, docs/sandboxes.md for what it isolates). Needs root: it binds code from the
 * server's private data directory and makes cgroups.
 */
export class NamespaceSandboxDriver implements SandboxDriver {
  readonly name = 'namespace';
  readonly pathView = 'lambda' as const;
  readonly runsPrestarted = true;
  /** An image's root is the inner stage's `/` (sandbox-view.ts). */
  readonly runsImages = true;
  readonly #uids: UidPool;
  readonly #egress: EgressNetwork | undefined;
  readonly #apiBridge: ApiBridge | undefined;
  readonly #logger: Logger;
  #probe: Promise<string | undefined> | undefined;
  #setup: Setup | undefined;

  /** `egress`: sandboxes get a route out (docs/network.md); `apiBridge`: and AWS_ENDPOINT_URL. */
  constructor(options: { uids?: UidPool; egress?: EgressNetwork; apiBridge?: ApiBridge; logger?: Logger } = {}) {
    this.#uids = options.uids ?? new UidPool();
    this.#egress = options.egress;
    this.#apiBridge = options.apiBridge;
    this.#logger = options.logger ?? silentLogger;
  }

  get network(): 'egress' | 'none' {
    return this.#egress ? 'egress' : 'none';
  }

  unavailable(): Promise<string | undefined> {
    this.#probe ??= this.#check();
    return this.#probe;
  }

  async start(spec: SandboxSpec): Promise<Sandbox> {
    const setup = this.#prepare();
    // Named after the environment (random) and made with mkdir, which never follows a planted link.
    const runDir = join(tmpdir(), `${RUN_DIR_PREFIX}${spec.id}`);
    mkdirSync(runDir, { mode: 0o700 });
    let hostUid: number | undefined;
    let cgroup: SandboxCgroup | undefined;
    let cleaned = false;
    const cleanup = (emptied: boolean) => {
      if (cleaned) return;
      cleaned = true;
      if (cgroup) emptied = cgroup.remove() && emptied;
      rmSync(runDir, { recursive: true, force: true });
      // A uid whose processes might outlive the sandbox is never handed out again.
      if (emptied && hostUid !== undefined) this.#uids.release(hostUid);
    };
    try {
      hostUid = this.#uids.take();
      for (const [name, text] of Object.entries({ ...ETC_FILES, 'resolv.conf': setup.resolvConf })) writeFileSync(join(runDir, name), text);
      const created = setup.cgroups.create(`${CGROUP_PREFIX}${spec.id}`, limitsFor(spec.memoryMb));
      cgroup = created;
      // Init runs at a default process's CPU weight, uncapped; the share proportional to memory
      // and the hard cap start when Init is over (Sandbox.initEnded), the way Lambda lets Init
      // burst: at 128 MB the cap is 7% of a CPU, which would stretch the runtime's own start-up
      // many times over.
      const capCpu = () => {
        try {
          created.capCpu();
        } catch {
          // the sandbox is already gone
        }
      };
      const egress = spec.network === 'none' ? undefined : this.#egress;
      const input = {
        spec, tools: setup.tools, hostUid, runDir, gate: egress !== undefined,
        ...(this.#apiBridge ? { apiSocket: this.#apiBridge.socketPath } : {}),
        ...(spec.rootfs === undefined ? outsideUsr(spec.command) : {}),
      };
      const stdio = [...setup.stdio];
      if (spec.stdin) stdio[0] = 'pipe';
      // The gate is a socket pair (Node's pipes are): the script speaks first, the server answers.
      if (egress) stdio[GATE_FD] = 'pipe';
      // bwrap reads its arguments from fd 3 before it does anything else: it waits there while
      // it is moved into the cgroups, so the runtime and all it starts are inside from their birth.
      const child = spawn(setup.tools.bwrap, commandLine(input), {
        env: {},
        stdio,
        // Its own process group: Ctrl-C at the server's terminal must not kill runtimes mid-invoke.
        detached: true,
      });
      await spawned(child);
      const sandbox = new NamespaceSandbox(child, cgroup, RUNTIME_API_ADDRESS, cleanup, capCpu, this.#apiBridge ? API_ENDPOINT_INSIDE : undefined);
      try {
        cgroup.join(child.pid!);
      } catch (err) {
        child.kill('SIGKILL');
        await sandbox.exited;
        throw err;
      }
      // A bwrap that fails early closes these unread; its exit status and stderr tell why.
      for (const [fd, args] of [[3, outerOptions(input, setup.hostEntries)], [4, innerOptions(input)]] as const) {
        (child.stdio[fd] as Writable).on('error', () => undefined).end(nulSeparated(args));
      }
      if (egress) openGate((child.stdio as unknown as Socket[])[GATE_FD]!, egress, () => inOtherNetns(created.pids()), this.#logger);
      return sandbox;
    } catch (err) {
      cleanup(false);
      throw err;
    }
  }

  #prepare(): Setup {
    if (this.#setup) return this.#setup;
    const cgroups = detectCgroups();
    // What servers that died without cleaning up left behind (their sandboxes died with them).
    for (const name of cgroups.sweep(CGROUP_PREFIX, STALE_MS)) {
      rmSync(join(tmpdir(), `${RUN_DIR_PREFIX}${name.slice(CGROUP_PREFIX.length)}`), { recursive: true, force: true });
    }
    this.#setup = {
      tools: { bwrap: findTool('bwrap', TOOL_DIRS), setpriv: findTool('setpriv', TOOL_DIRS), socat: findTool('socat', TOOL_DIRS) },
      cgroups,
      hostEntries: hostRootEntries(),
      resolvConf: sandboxResolvConf(),
      stdio: stdioFor(inheritedFds()),
    };
    return this.#setup;
  }

  /** Starts a real sandbox running `/bin/sh -c 'exit 0'` with every namespace and limit. */
  async #check(): Promise<string | undefined> {
    if (process.getuid?.() !== 0) return 'it needs root (to bind the code directory into the sandbox and to make cgroups)';
    let dir: string | undefined;
    try {
      this.#prepare();
      dir = mkdtempSync(join(tmpdir(), 'kindling-probe-code-'));
      chmodSync(dir, 0o755);
      // Something to bind where the Runtime API socket goes; the trial never calls it.
      const socketPath = join(dir, 'runtime-api.sock');
      writeFileSync(socketPath, '');
      const unused = () => {
        throw new Error('the trial sandbox has no Runtime API');
      };
      const sandbox = await this.start({
        id: `probe-${process.pid}-${Date.now().toString(36)}`,
        functionName: 'probe',
        command: '/bin/sh',
        args: ['-c', 'exit 0'],
        codeDir: dir,
        runtimeDir: dir,
        env: {},
        memoryMb: 128,
        ephemeralStorageMb: 1,
        runtimeApi: { socketPath, grant: unused, loopbackPort: unused },
        network: 'none',
      });
      let output = '';
      sandbox.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      sandbox.stdout.resume();
      const exit = await sandbox.exited;
      if (exit.code !== 0) return `a trial sandbox failed (exit ${exit.code ?? exit.signal}): ${output.trim()}`;
      return undefined;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    } finally {
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  }
}

interface Setup {
  readonly tools: Tools;
  readonly cgroups: CgroupTree;
  readonly hostEntries: string[];
  /** The host's name servers a sandbox can reach (resolver.ts). */
  readonly resolvConf: string;
  readonly stdio: Extract<StdioOptions, unknown[]>;
}

/**
 * stdin ignored (a pipe when SandboxSpec.stdin asks); stdout, stderr and the two argument channels (fds 3, 4) piped. Descriptors the
 * server inherited without close-on-exec (from whatever started it) would otherwise pass through
 * bwrap into every sandbox: they are pointed at /dev/null in the child.
 */
function stdioFor(inherited: readonly number[]): Extract<StdioOptions, unknown[]> {
  const stdio: Extract<StdioOptions, unknown[]> = ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'];
  if (inherited.length === 0) return stdio;
  const devNull = openSync('/dev/null', 'r');
  for (const fd of inherited) {
    while (stdio.length < fd) stdio.push('ignore');
    stdio[fd] = devNull;
  }
  return stdio;
}

/** The server's open descriptors above 4 without close-on-exec (O_CLOEXEC is 02000000 in fdinfo's octal flags). */
function inheritedFds(): number[] {
  return readdirSync('/proc/self/fd')
    .map(Number)
    .filter((fd) => {
      if (fd <= 4) return false;
      try {
        const flags = /^flags:\s+([0-7]+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1];
        return flags !== undefined && (parseInt(flags, 8) & 0o2000000) === 0;
      } catch {
        return false;
      }
    });
}

/** A runtime command outside the sandbox's /usr (node installed under /root, say) is bound in at its own path. */
function outsideUsr(command: string): { extraCommand?: string } {
  if (!command.startsWith('/') || Object.values(LAMBDA_PATHS).some((path) => command.startsWith(`${path}/`))) return {};
  const real = realpathSync(command);
  return real.startsWith('/usr/') ? {} : { extraCommand: real };
}


