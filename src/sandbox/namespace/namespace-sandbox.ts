import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Sandbox, SandboxExit, SandboxStats } from '../sandbox.js';
import type { SandboxCgroup } from './cgroups.js';
import { terminateThenKill } from '../shutdown.js';

/** How long the cgroup may take to empty after the sandbox's bwrap exited (the kernel tears the PID namespace down). */
const EMPTY_DEADLINE_MS = 5000;
/** After a SIGKILL, how long bwrap gets to reap the namespace's init and exit before it is killed too. */
const REAP_GRACE_MS = 2000;

/**
 * One running namespace sandbox. `child` is the outer bwrap, the host-side parent of the PID
 * namespace; every process of the sandbox, bwrap included, is in `cgroup`, which is how they are
 * all found and signalled. Cleanup (cgroup, directories, uid) runs before `exited` settles.
 */
export class NamespaceSandbox implements Sandbox {
  readonly exited: Promise<SandboxExit>;
  readonly runtimeApiAddress: string;
  readonly apiEndpoint: string | undefined;
  readonly #child: ChildProcess;
  readonly #cgroup: SandboxCgroup;
  #exit: SandboxExit | undefined;
  /** bwrap has exited: what is left is cleanup, and signals could reach a recycled pid. */
  #ended = false;
  #killTimer: NodeJS.Timeout | undefined;
  readonly #capCpu: () => void;

  constructor(child: ChildProcess, cgroup: SandboxCgroup, runtimeApiAddress: string, cleanup: (emptied: boolean) => void, capCpu: () => void, apiEndpoint?: string) {
    this.#child = child;
    this.apiEndpoint = apiEndpoint;
    this.#capCpu = capCpu;
    this.#cgroup = cgroup;
    this.runtimeApiAddress = runtimeApiAddress;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#ended = true;
        if (this.#killTimer) clearTimeout(this.#killTimer);
        void this.#finish(code, signal, cleanup).then((exit) => {
          this.#exit = exit;
          resolve(exit);
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
    return terminateThenKill(this.exited, () => this.#terminate(), () => this.kill(), graceMs);
  }

  /**
   * SIGKILL to every process of the sandbox except the outer bwrap, which then reaps the PID
   * namespace's init (whose death takes the whole namespace with it) and exits with its status.
   * Killing bwrap first would leave that init to be reaped by whoever adopts it.
   */
  kill(): void {
    if (this.#ended || this.#killTimer) return;
    for (const pid of this.#cgroup.pids()) if (pid !== this.#child.pid) signal(pid, 'SIGKILL');
    this.#killTimer = setTimeout(() => this.#child.kill('SIGKILL'), REAP_GRACE_MS);
    this.#killTimer.unref();
  }

  /** Init is over: the CPU share and cap proportional to memory start now (Lambda lets Init burst). */
  initEnded(): void {
    if (!this.#ended) this.#capCpu();
  }

  stats(): SandboxStats {
    return { maxMemoryBytes: this.#cgroup.peakMemoryBytes() };
  }

  /**
   * Shutdown's SIGTERM goes to the runtime and whatever it started, not to bwrap's processes: the
   * outer one would take the namespace down at once (--die-with-parent), the others only relay.
   */
  #terminate(): void {
    if (this.#ended) return;
    for (const pid of this.#cgroup.pids()) {
      if (pid !== this.#child.pid && commandOf(pid) !== 'bwrap') signal(pid, 'SIGTERM');
    }
  }

  async #finish(code: number | null, exitSignal: NodeJS.Signals | null, cleanup: (emptied: boolean) => void): Promise<SandboxExit> {
    // No event tells a v1 cgroup is empty (short of a release agent): poll, killing stragglers.
    const deadline = Date.now() + EMPTY_DEADLINE_MS;
    let pids = this.#cgroup.pids();
    while (pids.length > 0 && Date.now() < deadline) {
      for (const pid of pids) signal(pid, 'SIGKILL');
      await sleep(5);
      pids = this.#cgroup.pids();
    }
    const outOfMemory = this.#cgroup.oomKilled();
    this.#cgroup.peakMemoryBytes();
    const emptied = pids.length === 0 && this.#cgroup.remove();
    cleanup(emptied);
    return { ...exitOf(code, exitSignal), ...(outOfMemory ? { outOfMemory } : {}) };
  }
}

const SIGNAL_NAMES = new Map(Object.entries(constants.signals).map(([name, number]) => [number, name as NodeJS.Signals]));

/** bwrap reports a command killed by signal N as exit status 128 + N, as shells do; turn it back into the signal. */
function exitOf(code: number | null, exitSignal: NodeJS.Signals | null): { code: number | null; signal: NodeJS.Signals | null } {
  if (exitSignal) return { code: null, signal: exitSignal };
  const name = code !== null && code > 128 ? SIGNAL_NAMES.get(code - 128) : undefined;
  return name ? { code: null, signal: name } : { code, signal: null };
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

function commandOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}
