import { lstatSync, readlinkSync } from 'node:fs';
import { API_ENDPOINT_INSIDE } from '../api-bridge.js';
import { gateLines } from '../egress/network-gate.js';
import { bridgeLines, RUNTIME_API_ADDRESS, runtimeApiVariables } from '../runtime-api-bridge.js';
import { LAMBDA_PATHS, LAMBDA_ULIMITS, type SandboxSpec } from '../sandbox.js';
/** Lambda runs functions as sbx_user1051, uid 993, gid 990. */
const UID_INSIDE = 993;
const GID_INSIDE = 990;
const RUN_DIR_INSIDE = '/run/kindling';
const SOCKET_INSIDE = `${RUN_DIR_INSIDE}/runtime-api.sock`;
const API_SOCKET_INSIDE = `${RUN_DIR_INSIDE}/api.sock`;
/** The descriptor on which the launch script waits for its network (network-gate.ts). */
export const GATE_FD = 5;
/** Where the outer stage shows a container image's root, for the inner stage to make it the runtime's `/`. */
const IMAGE_INSIDE = `${RUN_DIR_INSIDE}/image`;

/** The sandbox's /etc files (beside ld.so.cache). */
export const ETC_FILES = {
  passwd: `root:x:0:0:root:/root:/sbin/nologin\nsbx_user1051:x:${UID_INSIDE}:${GID_INSIDE}::/tmp:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n`,
  group: `root:x:0:\nsbx_user1051:x:${GID_INSIDE}:\nnogroup:x:65534:\n`,
  hosts: '127.0.0.1\tlocalhost\n::1\tlocalhost\n',
} as const;

export interface Tools {
  readonly bwrap: string;
  readonly setpriv: string;
  readonly socat: string;
}

export interface ViewInput {
  readonly spec: SandboxSpec;
  readonly tools: Tools;
  /** The host uid (and gid) the sandbox runs as. */
  readonly hostUid: number;
  /** The sandbox's private directory on the host: its etc files. */
  readonly runDir: string;
  /** The runtime command's file on the host, when it is outside the read-only runtime (/usr). */
  readonly extraCommand?: string;
  /** The API bridge's socket on the host (api-bridge.ts), when functions get AWS_ENDPOINT_URL. */
  readonly apiSocket?: string;
  /** The launch script waits on GATE_FD until the server has wired the sandbox's network. */
  readonly gate?: boolean;
}

/**
 * The arguments of the two bubblewrap stages.
 *
 * Outer (run as root): builds the view — new mount, PID, IPC, UTS, cgroup and network
 * namespaces (the network one has only a loopback: no route to the host or anywhere); read-only /usr, the function's code, layers and Kindling's runtime clients
 * at Lambda's paths; a /tmp of EphemeralStorage size; /proc, a minimal /dev and /etc — then drops
 * to the sandbox's host uid (setpriv: no capabilities, no_new_privs). Root is needed to bind the
 * code, which lies under the server's private data directory.
 *
 * Inner (run as that uid): a user namespace in which the runtime is uid 993 as on Lambda, with
 * further user namespaces disabled (they are the usual way to reach kernel code that wants
 * capabilities), and the function's environment, which never reaches a process running as root.
 *
 * A container image (spec.rootfs): the outer view keeps the host's /usr for the stages' own tools
 * but, instead of Kindling's paths, shows the image at /run/kindling/image; the inner stage makes
 * that the runtime's `/` (imageView), so only the runtime sees the image and nothing of the host.
 */
export function outerOptions(input: ViewInput, hostEntries: readonly string[]): string[] {
  const { spec, runDir } = input;
  const image = spec.rootfs !== undefined;
  return [
    '--unshare-ipc', '--unshare-pid', '--unshare-uts', '--unshare-cgroup', '--unshare-net',
    '--die-with-parent', '--new-session', '--hostname', 'localhost',
    '--ro-bind', '/usr', '/usr',
    ...hostEntries,
    '--proc', '/proc',
    '--dev', '/dev',
    '--perms', '1777', '--size', String(spec.ephemeralStorageMb * 1024 * 1024), '--tmpfs', '/tmp',
    '--perms', '0755', '--dir', '/var',
    // An image brings its own /var/task and everything else: Kindling's paths stay out of it.
    ...(image
      ? ['--perms', '0755', '--dir', RUN_DIR_INSIDE, '--ro-bind', spec.rootfs!, IMAGE_INSIDE]
      : [
          '--ro-bind', spec.codeDir, LAMBDA_PATHS.taskRoot,
          '--ro-bind', spec.runtimeDir, LAMBDA_PATHS.runtime,
          // Its mount point is an empty node_modules the build leaves in the runtime dir (read-only here).
          ...(spec.sdkDir === undefined ? [] : ['--ro-bind', spec.sdkDir, `${LAMBDA_PATHS.runtime}/node_modules`]),
          // Lambda's /opt exists with or without layers (empty without).
          ...(spec.optDir === undefined ? ['--perms', '0755', '--dir', LAMBDA_PATHS.opt] : ['--ro-bind', spec.optDir, LAMBDA_PATHS.opt]),
          ...(input.extraCommand === undefined ? [] : ['--ro-bind', input.extraCommand, spec.command]),
        ]),
    '--perms', '0755', '--dir', '/etc',
    '--ro-bind', `${runDir}/passwd`, '/etc/passwd',
    '--ro-bind', `${runDir}/group`, '/etc/group',
    '--ro-bind-try', '/etc/ld.so.cache', '/etc/ld.so.cache',
    '--ro-bind', `${runDir}/hosts`, '/etc/hosts',
    '--ro-bind', `${runDir}/resolv.conf`, '/etc/resolv.conf',
    // The environment's Runtime API socket: its directory on the host is root's and private, so
    // this bind is the only way to it. (An image's stage made RUN_DIR_INSIDE above.)
    ...(image ? [] : ['--perms', '0755', '--dir', RUN_DIR_INSIDE]),
    '--ro-bind', spec.runtimeApi.socketPath, SOCKET_INSIDE,
    ...(input.apiSocket === undefined ? [] : ['--ro-bind', input.apiSocket, API_SOCKET_INSIDE]),
    '--chdir', image ? '/' : LAMBDA_PATHS.taskRoot,
    '--remount-ro', '/',
  ];
}

/** The inner stage's options; the function's environment goes here, never on a command line. */
export function innerOptions(input: ViewInput): string[] {
  const { spec } = input;
  // An image's `/` has no /run/kindling: its runtime uses the bridge.
  // The function's own AWS_ENDPOINT_URL, if it set one, wins (Lambda sets none).
  const env = { ...(input.apiSocket === undefined ? {} : { AWS_ENDPOINT_URL: API_ENDPOINT_INSIDE }), ...spec.env, ...(spec.rootfs === undefined ? runtimeApiVariables(RUNTIME_API_ADDRESS, SOCKET_INSIDE) : { AWS_LAMBDA_RUNTIME_API: RUNTIME_API_ADDRESS }) };
  return [
    '--unshare-user', '--uid', String(UID_INSIDE), '--gid', String(GID_INSIDE), '--disable-userns',
    ...(spec.rootfs === undefined ? ['--dev-bind', '/', '/'] : imageView(spec)),
    '--chdir', spec.workingDir ?? LAMBDA_PATHS.taskRoot,
    ...Object.entries(env).flatMap(([name, value]) => ['--setenv', name, value]),
  ];
}

/**
 * A container image's view (inner stage): the image read-only as `/`, with the outer stage's /proc
 * (the sandbox's PID namespace; a fresh procfs needs a PID namespace this user namespace owns),
 * /dev and EphemeralStorage /tmp, and the sandbox's passwd, group and hosts over the image's
 * Nothing else of
 * the host: its /usr, /lib* and the tools of the outer stage stay outside.
 */
function imageView(spec: SandboxSpec): string[] {
  return [
    '--ro-bind', IMAGE_INSIDE, '/',
    '--bind', '/proc', '/proc',
    '--dev-bind', '/dev', '/dev',
    '--bind', '/tmp', '/tmp',
    '--ro-bind', '/etc/passwd', '/etc/passwd',
    '--ro-bind', '/etc/group', '/etc/group',
    '--ro-bind', '/etc/hosts', '/etc/hosts',
  ];
}

/**
 * The outer bwrap's command line after its options (which it reads from fd 3): drop to the
 * sandbox's uid, run the launch script with the host's tools, then the inner bwrap (options from
 * fd 4, which it closes once read) and in it the runtime. bwrap takes only options through --args,
 * so the commands are here, with nothing secret in them.
 */
export function commandLine(input: ViewInput): string[] {
  const { spec, tools, hostUid } = input;
  return [
    '--args', '3', '--',
    tools.setpriv, `--reuid=${hostUid}`, `--regid=${hostUid}`, '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs', '--',
    '/bin/sh', '-c', launchScript(input), 'kindling-init',
    tools.bwrap, '--args', '4', '--', spec.command, ...spec.args,
  ];
}

/**
 * The first thing that runs as the sandbox's uid, in the outer stage's view (host tools, none of
 * the function's environment): closes the descriptor the outer bwrap's arguments came through,
 * sets Lambda's rlimits, waits for its network when it has one (network-gate.ts), starts the Runtime API bridge (and the API's) (socat, 127.0.0.1:9001 to the unix
 * socket) and waits until it listens, before it becomes the inner bwrap, which shares its
 * network namespace.
 */
function launchScript(input: ViewInput): string {
  const apiSocket = input.apiSocket === undefined ? undefined : API_SOCKET_INSIDE;
  return [
    `exec 3<&-; ${LAMBDA_ULIMITS}`,
    ...(input.gate ? [gateLines.announce(GATE_FD)] : []),
    ...bridgeLines(input.tools, SOCKET_INSIDE, apiSocket),
    ...(input.gate ? gateLines.await(GATE_FD) : []),
    'exec "$@"',
  ].join('\n');
}

/** How /bin, /lib and friends look on the host: symlinks into /usr are recreated, directories bound read-only. */
export function hostRootEntries(): string[] {
  const args: string[] = [];
  for (const name of ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32']) {
    const path = `/${name}`;
    try {
      const stat = lstatSync(path);
      if (stat.isSymbolicLink()) args.push('--symlink', readlinkSync(path), path);
      else if (stat.isDirectory()) args.push('--ro-bind', path, path);
    } catch {
      // not on this host
    }
  }
  return args;
}

/** bwrap --args: NUL-separated. */
export function nulSeparated(args: readonly string[]): Buffer {
  return Buffer.from(args.map((arg) => `${arg}\0`).join(''));
}
