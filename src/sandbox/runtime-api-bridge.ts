import { API_BRIDGE_PORT_INSIDE } from './api-bridge.js';
import { shellQuote } from './shell-quote.js';

/**
 * The Runtime API inside a sandbox's own network namespace, where a runtime finds it on Lambda:
 * 127.0.0.1:9001. socat listens there and carries each connection to the environment's unix
 * socket, the one way out of the namespace. Used by the namespace and process drivers.
 */
export const RUNTIME_API_PORT_INSIDE = 9001;
export const RUNTIME_API_ADDRESS = `127.0.0.1:${RUNTIME_API_PORT_INSIDE}`;

/**
 * Where Kindling's own runtime clients (src/runtimes: Node.js, Python) find the environment's unix
 * socket, to skip the bridge: a socket straight to the server instead of TCP to socat and socat's
 * copy of every byte (docs/performance.md). The same endpoint the bridge reaches, as the same
 * uid, so it opens no other door. The runtimes take it out of their environment before the
 * handler loads; stock runtime clients ignore it and use AWS_LAMBDA_RUNTIME_API.
 */
export const RUNTIME_API_SOCKET_VARIABLE = '_KINDLING_RUNTIME_API_SOCKET';

/** The variables that point a runtime at its Runtime API: Lambda's, and Kindling's shortcut. */
export function runtimeApiVariables(address: string, socketInside: string): Record<string, string> {
  return { AWS_LAMBDA_RUNTIME_API: address, [RUNTIME_API_SOCKET_VARIABLE]: socketInside };
}

/**
 * Shell lines, run as the sandbox's uid inside its network namespace, that start the bridge and
 * wait until it listens — the kernel's own socket table says so, no guessing — so that the
 * runtime's first connection cannot be refused. Exit status 125 when socat dies first. With
 * `apiSocketPath`, a second socat bridges 127.0.0.1:9002 to Kindling's API (api-bridge.ts).
 *
 * The shell then becomes the runtime (exec): socat gets SIGKILL when that process ends (setpriv's
 * parent-death signal), so a bridge never outlives its runtime, even when the server that would
 * have swept it up was killed.
 */
export function bridgeLines(tools: { readonly socat: string; readonly setpriv: string }, socketPath: string, apiSocketPath?: string): string[] {
  const bridges: [number, string][] = [[RUNTIME_API_PORT_INSIDE, socketPath], ...(apiSocketPath === undefined ? [] : [[API_BRIDGE_PORT_INSIDE, apiSocketPath] as [number, string]])];
  return [
    `listening() { while read -r _ a _ s _; do [ "$a $s" = "0100007F:$1 0A" ] && return 0; done </proc/net/tcp; return 1; }`,
    ...bridges.flatMap(([port, socket]) => [
      `${tools.setpriv} --pdeathsig KILL ${tools.socat} TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork,nodelay UNIX-CONNECT:${shellQuote(socket)} &`,
      `until listening ${port.toString(16).toUpperCase().padStart(4, '0')}; do kill -0 $! 2>/dev/null || exit 125; done`,
    ]),
  ];
}
