import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** `spawn` options for a process in a host; it runs as `user` if given (nsenter sets it after entering). */
export type NetnsSpawnOptions = Omit<SpawnOptions, 'uid' | 'gid'> & { readonly user?: { readonly uid: number; readonly gid: number } };

export interface NetnsExecOptions extends NetnsSpawnOptions {
  /** Kills the program (SIGKILL) after this long: a bound for a probe expected to hang, not a measurement. */
  readonly timeoutMs?: number;
}

export interface ExecResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** What a host asks of its lab (NetnsLab, test/support/netns.ts). */
export interface LabSide {
  /** Kills the child at the lab's destroy() and at process exit. */
  track(child: ChildProcess): ChildProcess;
  /** A fresh directory removed at the lab's destroy(). */
  tempDir(prefix: string): string;
  /** Sets the bridge-side end of the host's veth up or down. */
  setPort(host: NetnsHost, state: 'up' | 'down'): Promise<void>;
}

/** One host of a lab: a network namespace with `eth0` at `address` on the lab's /24, and its own loopback. */
export class NetnsHost {
  readonly #lab: LabSide;

  constructor(
    lab: LabSide,
    /** The name the test gave it (or h<i>). */
    readonly name: string,
    /** The network namespace (`/run/netns/<namespace>`). */
    readonly namespace: string,
    /** Its IPv4 address on the lab's network. */
    readonly address: string,
    /** The lab's network, `10.213.X.0/24`. */
    readonly subnet: string,
    /** The bridge-side end of its veth pair, in the bridge's namespace. */
    readonly port: string,
  ) {
    this.#lab = lab;
  }

  /** `file args` as a command that runs it in this host (as `user` if given). */
  command(file: string, args: readonly string[], user?: { readonly uid: number; readonly gid: number }): { file: string; args: string[] } {
    const as = user ? ['-S', String(user.uid), '-G', String(user.gid)] : [];
    return { file: 'nsenter', args: [`--net=/run/netns/${this.namespace}`, ...as, '--', file, ...args] };
  }

  /** Starts a program in this host; it is SIGKILLed at the lab's destroy() and at process exit. `child.pid` is the program's. */
  spawn(file: string, args: readonly string[], options: NetnsSpawnOptions = {}): ChildProcess {
    const { user, ...rest } = options;
    const command = this.command(file, args, user);
    return this.#lab.track(spawn(command.file, command.args, rest));
  }

  /** Runs a program in this host to its end: its exit and output (never rejects on a non-zero exit). */
  exec(file: string, args: readonly string[], options: NetnsExecOptions = {}): Promise<ExecResult> {
    const { timeoutMs, ...rest } = options;
    const child = this.spawn(file, args, { ...rest, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout, stderr });
      });
    });
  }

  /** Like exec, and rejects with the program's output unless it exits 0. */
  async run(file: string, args: readonly string[], options: NetnsExecOptions = {}): Promise<string> {
    const result = await this.exec(file, args, options);
    if (result.code !== 0) {
      throw new Error(`${file} ${args.join(' ')} in ${this.name} ended with ${result.code ?? result.signal}:\n${result.stderr}${result.stdout}`);
    }
    return result.stdout;
  }

  /**
   * Runs a Node.js ES module (its source) in this host: how a test makes a client call from another
   * machine. The file sits in a temp directory, so it imports packages by absolute URL
   * (`import.meta.resolve('@aws-sdk/client-lambda')` in the test, passed through `env`).
   */
  async node(source: string, options: NetnsExecOptions = {}): Promise<ExecResult> {
    const file = join(this.#lab.tempDir('script-'), 'script.mjs');
    writeFileSync(file, source);
    return this.exec(process.execPath, [file], options);
  }

  /** A fresh directory, removed at the lab's destroy(). */
  tempDir(prefix: string): string {
    return this.#lab.tempDir(`${this.name}-${prefix}`);
  }

  /**
   * The machine vanishes from the network: its cable is pulled at the switch (the bridge-side end
   * of its veth goes down). Nothing answers for it, no RST, no ICMP from it; its processes live on
   * and its own packets go nowhere, as in a partition.
   */
  async disconnect(): Promise<void> {
    await this.#lab.setPort(this, 'down');
  }

  /** Plugs the cable back in; resolves once both ends of the link are up again. */
  async reconnect(): Promise<void> {
    await this.#lab.setPort(this, 'up');
  }
}
