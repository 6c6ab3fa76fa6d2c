import { realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, relative } from 'node:path';
import { bridgeLines } from '../runtime-api-bridge.js';
import { gateLines } from '../egress/network-gate.js';
import { shellQuote } from '../shell-quote.js';
import { LAMBDA_ULIMITS, type SandboxSpec } from '../sandbox.js';


/** Absolute paths of the host tools the isolated process sandbox uses (never looked up in a function's PATH). */
export interface IsolationTools {
  readonly unshare: string;
  readonly setpriv: string;
  readonly socat: string;
  readonly ip: string;
  readonly mount: string;
  readonly umount: string;
  readonly mkdir: string;
  readonly cat: string;
}

export interface IsolationInput {
  readonly spec: SandboxSpec;
  readonly tools: IsolationTools;
  readonly uid: number;
  /** The server's data directory, hidden from the sandbox (undefined: a driver made without one, in tests). */
  readonly dataDir: string | undefined;
  /** An empty directory private to the server (0700), used while the mounts are made. */
  readonly stage: string;
  /** The root stage waits on GATE_FD until the server has wired the sandbox's network (network-gate.ts). */
  readonly gate?: boolean;
  /** The API bridge's socket (api-bridge.ts), when functions get AWS_ENDPOINT_URL. */
  readonly apiSocket?: string;
}

/** The descriptor on which the root stage waits for its network. */
export const GATE_FD = 4;

/**
 * The command line of a process sandbox when the server is root, run with an empty environment
 * (nothing a function chose, PATH or LD_PRELOAD, ever reaches a process running as root):
 *
 * 1. `unshare` gives it its own network namespace (a loopback, brought up here, and, with egress,
 *    the route out the server wires while the script waits: never a route to the host) and mount
 *    namespace (private propagation).
 * 2. As root in those, the data directory is covered by an empty tmpfs into which only this
 *    function's code and layers are bound back, read-only, at their own paths: the database,
 *    other functions' code and the rest stay out of its view whatever their modes.
 * 3. `setpriv` drops to the environment's own uid and gid, no supplementary groups, no
 *    capabilities (bounding set emptied), no_new_privs.
 * 4. As that uid: the rlimits, the Runtime API bridge (socat on 127.0.0.1:9001 to the unix
 *    socket), then the function's variables, read from fd 3 (never on a command line), and the
 *    runtime itself in the same process.
 */
export function isolatedCommand(input: IsolationInput): { command: string; args: string[] } {
  const { spec, tools, uid } = input;
  const user = [
    // RLIMIT_NPROC counts the processes of the environment's own uid: Lambda's 1,024 per environment.
    LAMBDA_ULIMITS,
    ...bridgeLines(tools, spec.runtimeApi.socketPath, input.apiSocket),
    `eval "$(${tools.cat} <&3)"; exec 3<&-`,
    'exec "$@"',
  ].join('\n');
  return {
    command: tools.unshare,
    args: [
      '--net', '--mount', '--propagation', 'private', '--',
      '/bin/sh', '-c', rootScript(input), 'kindling-root',
      tools.setpriv, `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs', '--',
      '/bin/sh', '-c', user, 'kindling-init', spec.command, ...spec.args,
    ],
  };
}

function rootScript(input: IsolationInput): string {
  const { spec, tools, dataDir, stage } = input;
  const q = shellQuote;
  const lines = ['set -e', `${tools.ip} link set lo up`, ...(input.gate ? [gateLines.announce(GATE_FD)] : [])];
  const run = [...(input.gate ? gateLines.await(GATE_FD) : []), 'exec "$@"'];
  if (dataDir === undefined) return [...lines, ...run].join('\n');
  const needed = [spec.codeDir, spec.optDir, spec.runtimeDir, spec.sdkDir, commandDir(spec.command)].filter((dir): dir is string => dir !== undefined);
  coverPlan(dataDir, needed).forEach(({ cover, keep }, i) => {
    const held = `${stage}/${i}`;
    lines.push(`${tools.mkdir} ${q(held)}`, `${tools.mount} --bind ${q(cover)} ${q(held)}`);
    lines.push(`${tools.mount} -t tmpfs -o mode=0755,size=64k,nosuid,nodev kindling-hidden ${q(cover)}`);
    for (const dir of keep) {
      const inside = relative(cover, dir);
      lines.push(`${tools.mkdir} -p ${q(dir)}`, `${tools.mount} --bind -o ro ${q(inside === '' ? held : `${held}/${inside}`)} ${q(dir)}`);
    }
    lines.push(`${tools.umount} -l ${q(held)}`);
  });
  // The working directory was entered before a tmpfs covered it: enter the bound code instead.
  lines.push(`cd ${q(spec.codeDir)}`, ...run);
  return lines.join('\n');
}

/**
 * What the root stage covers with an empty tmpfs, and binds back read-only: the data directory is
 * always covered (the database, other functions' code), from its topmost ancestor that others
 * cannot traverse (a 0700 home or temporary directory: the sandbox's uid could not reach its own
 * code through it); so is any such ancestor of the other paths the runtime needs (the runtime
 * clients, the interpreter). Only the needed paths come back into view, through 0755 directories.
 */
export function coverPlan(dataDir: string, needed: readonly string[]): { cover: string; keep: string[] }[] {
  const covers = new Set<string>([closedAncestor(dataDir) ?? dataDir]);
  for (const dir of needed) {
    const closed = closedAncestor(dir);
    if (closed !== undefined) covers.add(closed);
  }
  // A cover inside another is already hidden (and rebuilt) by the outer one.
  const outermost = [...covers].filter((cover) => ![...covers].some((other) => other !== cover && within(other, cover)));
  const kept = [...new Set(needed)].filter((dir) => !needed.some((other) => other !== dir && within(other, dir)));
  return outermost.map((cover) => ({ cover, keep: kept.filter((dir) => within(cover, dir)) }));
}

/** The topmost directory on the way to `path` (itself included) that others may not traverse. */
function closedAncestor(path: string): string | undefined {
  let current = '';
  for (const part of path.split('/').filter((p) => p !== '')) {
    current += `/${part}`;
    try {
      const stat = statSync(current);
      if (stat.isDirectory() && (stat.mode & 0o001) === 0) return current;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function within(outer: string, path: string): boolean {
  const inside = relative(outer, path);
  return inside === '' || (!inside.startsWith('..') && !isAbsolute(inside));
}

/** The directory of an absolute command (the interpreter), where it really is. */
function commandDir(command: string): string | undefined {
  if (!isAbsolute(command)) return undefined;
  try {
    return dirname(realpathSync(command));
  } catch {
    return undefined;
  }
}

/** The function's variables as shell assignments, for the user stage to read from fd 3. */
export function environmentScript(env: Readonly<Record<string, string>>): Buffer {
  const lines = Object.entries(env)
    .filter(([name]) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    .map(([name, value]) => `export ${name}=${shellQuote(value)}`);
  return Buffer.from(lines.join('\n') + '\n');
}
