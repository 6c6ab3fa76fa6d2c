import type { Readable, Writable } from 'node:stream';

/**
 * How paths look inside a sandbox. `host`: as on the host (the process driver). `lambda`: as in
 * Lambda's execution environment, the code at /var/task, layers at /opt, the runtime client at
 * /var/runtime (the namespace and microVM drivers mount them there).
 */
export type PathView = 'host' | 'lambda';

export const LAMBDA_PATHS = { taskRoot: '/var/task', opt: '/opt', runtime: '/var/runtime' } as const;

/**
 * Lambda's per-environment limits (quotas page): 1,024 file descriptors, 1,024 processes and
 * threads, no core files; as a line of sh (dash names the process limit -p, busybox and bash -u).
 */
export const LAMBDA_ULIMITS = 'ulimit -n 1024; { ulimit -u 1024 || ulimit -p 1024; } 2>/dev/null; ulimit -c 0';

/** What an execution environment asks a sandbox driver to run. */
export interface SandboxSpec {
  /** Short id of the environment, for names and logs. */
  readonly id: string;
  readonly functionName: string;
  /** The runtime's entry, as a path seen inside the sandbox (see PathView). */
  readonly command: string;
  readonly args: readonly string[];
  /** The function's unpacked code on the host; shown read-only as the task root. */
  readonly codeDir: string;
  /** The function's layers, merged in order, on the host; shown read-only at /opt. */
  readonly optDir?: string;
  /** Kindling's runtime clients on the host (dist/src/runtimes); shown read-only at /var/runtime. */
  readonly runtimeDir: string;
  /**
   * The AWS SDK for JavaScript on the host (Kindling's own node_modules), shown read-only at
   * /var/runtime/node_modules: Lambda's Node.js runtimes include the SDK there.
   */
  readonly sdkDir?: string;
  /** Variables the runtime sees; nothing of the host's environment leaks in beyond these. */
  readonly env: Readonly<Record<string, string>>;
  readonly memoryMb: number;
  /** The size of the private /tmp (EphemeralStorage). */
  readonly ephemeralStorageMb: number;
  /**
   * The environment's Runtime API (and Extensions API), reachable by this sandbox and nothing else.
   * A sandbox has no other way out: no route to any address of the host.
   */
  readonly runtimeApi: RuntimeApiAccess;
  /**
   * PackageType Image: the image's unpacked root file system on the host (the same tree as
   * codeDir). A driver shows it read-only as the sandbox's `/`, with its own /proc, /dev and /tmp,
   * instead of the host's /usr and Kindling's paths — or refuses to start. See docs/images.md.
   */
  readonly rootfs?: string;
  /** The runtime's working directory inside the sandbox; the task root when not given. */
  readonly workingDir?: string;
  /**
   * The runtime's stdin is a pipe from the host (Sandbox.stdin) instead of nothing: a pre-started
   * runtime reads the function it is given there (worker/prestart-pool.ts).
   */
  readonly stdin?: boolean;
  /**
   * `none`: no route out, even where the server gives sandboxes egress (the function's
   * `kindling:network=none` tag; set by SandboxSelection, docs/network.md).
   */
  readonly network?: 'none';
}

/**
 * How a driver connects its sandbox to the environment's Runtime API. The API listens on a unix
 * socket in a directory of its own that only the server's user may enter (0700): no TCP port,
 * so no other local user, and no other sandbox, can poll its `/next` or answer for it.
 */
export interface RuntimeApiAccess {
  /** The socket on the host; a driver binds it into the sandbox or bridges to it. */
  readonly socketPath: string;
  /**
   * Gives the socket's directory to `uid` (its owner, still 0700), for a bridge that runs as the
   * sandbox's own uid: processes of that uid (and root) may connect, other users still cannot.
   */
  grant(uid: number): void;
  /**
   * A loopback TCP port that serves only connections made by processes of `uid` (the kernel's
   * socket table is checked once per connection; others are closed before a byte is read). For
   * a sandbox that shares the host's network and cannot be handed the socket.
   */
  loopbackPort(uid: number): Promise<number>;
}

export interface SandboxExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The kernel killed it for going over its memory limit (Runtime.OutOfMemory). */
  readonly outOfMemory?: boolean;
}

export interface SandboxStats {
  /** Peak memory of the sandbox so far (Lambda's "Max Memory Used"). */
  readonly maxMemoryBytes: number;
}

/** One running sandbox: a runtime process (or VM) and its output. */
export interface Sandbox {
  /** The runtime's stdin, when SandboxSpec.stdin asked for it. */
  readonly stdin?: Writable | undefined;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Settles when the sandbox is gone, whoever ended it. */
  readonly exited: Promise<SandboxExit>;
  /** How the runtime reaches its Runtime API from inside (AWS_LAMBDA_RUNTIME_API). */
  readonly runtimeApiAddress: string;
  /**
   * Kindling's Lambda API as the function reaches it from inside (AWS_ENDPOINT_URL), through the
   * API bridge (api-bridge.ts); undefined where the sandbox has none.
   */
  readonly apiEndpoint?: string | undefined;
  /** Shutdown: SIGTERM, up to `graceMs` to exit, then SIGKILL. Idempotent. */
  stop(graceMs: number): Promise<SandboxExit>;
  /** Immediate SIGKILL (timeouts, crashes). */
  kill(): void;
  stats(): SandboxStats;
  /**
   * The environment's Init is over (the runtime asked for work). The namespace driver starts its
   * CPU cap here: Lambda lets Init burst.
   */
  initEnded?(): void;
}

export interface SandboxDriver {
  readonly name: string;
  readonly pathView: PathView;
  /** It shows SandboxSpec.rootfs as the sandbox's `/`, so container images run in it (docs/images.md). */
  readonly runsImages?: boolean;
  /**
   * Kindling's own runtime clients may be started in it ahead of demand and handed their function
   * later through stdin (SandboxSpec.stdin; worker/prestart-pool.ts).
   */
  readonly runsPrestarted?: boolean;
  /** A longer Init limit than Lambda's 10 s, when the driver needs one (an emulated VM boots slowly). */
  readonly initTimeoutMs?: number | undefined;
  /**
   * The network its sandboxes get (docs/network.md): `egress`, a NAT'ed route to the outside and
   * never to the host; `none`, a loopback only; `host`, the host's own (the process driver when the
   * server is not root). Sandboxes of two networks are never interchangeable (the pre-start pool).
   */
  readonly network: 'egress' | 'none' | 'host';
  /** Why this driver cannot run on this machine, or undefined when it can. Probed once. */
  unavailable(): Promise<string | undefined>;
  start(spec: SandboxSpec): Promise<Sandbox>;
}
