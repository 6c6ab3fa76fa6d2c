import type { Readable } from 'node:stream';

/** What an execution environment asks a sandbox driver to run. */
export interface SandboxSpec {
  /** Short id of the environment, for names and logs. */
  readonly id: string;
  /** The runtime's entry: an absolute path to an executable (node, a bootstrap). */
  readonly command: string;
  readonly args: readonly string[];
  /** The function's unpacked code; the sandbox shows it as the task root. */
  readonly codeDir: string;
  /** Variables the runtime sees; nothing of the host's environment leaks in beyond these. */
  readonly env: Readonly<Record<string, string>>;
  readonly memoryMb: number;
  /** Host port of the environment's Runtime API. */
  readonly runtimeApiPort: number;
}

export interface SandboxExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface SandboxStats {
  /** Peak resident memory of the sandbox so far. */
  readonly maxMemoryBytes: number;
}

/** One running sandbox: a runtime process (or VM) and its output. */
export interface Sandbox {
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Settles when the sandbox is gone, whoever ended it. */
  readonly exited: Promise<SandboxExit>;
  /** How the runtime reaches its Runtime API from inside (AWS_LAMBDA_RUNTIME_API). */
  readonly runtimeApiAddress: string;
  /** Shutdown: SIGTERM, up to `graceMs` to exit, then SIGKILL. Idempotent. */
  stop(graceMs: number): Promise<SandboxExit>;
  /** Immediate SIGKILL (timeouts, crashes). */
  kill(): void;
  stats(): SandboxStats;
}

export interface SandboxDriver {
  readonly name: string;
  start(spec: SandboxSpec): Promise<Sandbox>;
}
