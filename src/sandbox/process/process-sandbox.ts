import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readSync } from 'node:fs';
import type { Sandbox, SandboxDriver, SandboxExit, SandboxSpec, SandboxStats } from '../sandbox.js';
import { terminateThenKill } from '../shutdown.js';

/** Lambda's per-environment limits on file descriptors and processes (quotas page). */
const RLIMIT_NOFILE = 1024;

/**
 * The `process` driver: the runtime is a child process with its own working directory, only the
 * variables it is given, and rlimits (through util-linux `prlimit`, which sets them and then execs
 * the runtime in the same process). Fastest and weakest: it trusts the code it runs.
 */
export class ProcessSandboxDriver implements SandboxDriver {
  readonly name = 'process';
  readonly pathView = 'host' as const;
  readonly #prlimit: string | undefined;

  constructor(options: { prlimit?: string } = {}) {
    this.#prlimit = options.prlimit;
  }

  async unavailable(): Promise<string | undefined> {
    return undefined;
  }

  async start(spec: SandboxSpec): Promise<Sandbox> {
    const [command, args] = this.#prlimit
      ? [this.#prlimit, [`--nofile=${RLIMIT_NOFILE}:${RLIMIT_NOFILE}`, '--core=0', '--', spec.command, ...spec.args]]
      : [spec.command, [...spec.args]];
    const child = spawn(command, args, {
      cwd: spec.codeDir,
      env: { ...spec.env, AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${spec.runtimeApiPort}` },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: Ctrl-C at the server's terminal must not kill runtimes mid-invoke
      // (serve finishes in-flight work first), and a kill reaches whatever the function spawned.
      // A runtime outliving a crashed server exits on its own: its Runtime API connection drops.
      detached: true,
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    return new ProcessSandbox(child, `127.0.0.1:${spec.runtimeApiPort}`);
  }
}

class ProcessSandbox implements Sandbox {
  readonly #child: ChildProcess;
  readonly exited: Promise<SandboxExit>;
  readonly runtimeApiAddress: string;
  #exit: SandboxExit | undefined;
  #maxMemoryBytes = 0;
  /** /proc/<pid>/status, opened once: stats() is read after every invocation. */
  #statusFd: number | undefined;
  readonly #statusBuffer = Buffer.allocUnsafe(4096);

  constructor(child: ChildProcess, runtimeApiAddress: string) {
    this.#child = child;
    this.runtimeApiAddress = runtimeApiAddress;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#exit = { code, signal };
        if (this.#statusFd !== undefined) closeSync(this.#statusFd);
        this.#statusFd = undefined;
        resolve(this.#exit);
      });
    });
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
  }

  #signal(signal: NodeJS.Signals): void {
    if (this.#exit || this.#child.pid === undefined) return;
    try {
      process.kill(-this.#child.pid, signal);
    } catch {
      this.#child.kill(signal);
    }
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
