import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { LAMBDA_PATHS, type Sandbox, type SandboxDriver, type SandboxSpec } from '../sandbox.js';
import { detectCgroups, limitsFor, type CgroupTree, type SandboxCgroup } from './cgroups.js';
import { NamespaceSandbox } from './namespace-sandbox.js';
import { RuntimeApiRelay } from './runtime-api-relay.js';
import { ETC_FILES, hostRootEntries, innerArgs, nulSeparated, outerArgs, RUNTIME_API_PORT_INSIDE, type Tools } from './sandbox-view.js';
import { UidPool } from './uid-pool.js';

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
  readonly #uids = new UidPool();
  #probe: Promise<string | undefined> | undefined;
  #setup: { tools: Tools; cgroups: CgroupTree; hostEntries: string[] } | undefined;

  unavailable(): Promise<string | undefined> {
    this.#probe ??= this.#check();
    return this.#probe;
  }

  async start(spec: SandboxSpec): Promise<Sandbox> {
    const setup = this.#prepare();
    const hostUid = this.#uids.take();
    const runDir = mkdtempSync(join(tmpdir(), 'kindling-ns-'));
    let relay: RuntimeApiRelay | undefined;
    let cgroup: SandboxCgroup | undefined;
    const cleanup = (emptied: boolean) => {
      relay?.close();
      if (cgroup) emptied = cgroup.remove() && emptied;
      rmSync(runDir, { recursive: true, force: true });
      // A uid whose processes might outlive the sandbox is never handed out again.
      if (emptied) this.#uids.release(hostUid);
    };
    try {
      for (const [name, text] of Object.entries(ETC_FILES)) writeFileSync(join(runDir, name), text);
      if (spec.network === 'none') relay = await RuntimeApiRelay.open(join(runDir, 'api.sock'), spec.runtimeApiPort);
      cgroup = setup.cgroups.create(`kindling-${spec.id}`, limitsFor(spec.memoryMb));
      const input = { spec, tools: setup.tools, hostUid, runDir, ...outsideUsr(spec.command) };
      // bwrap reads its arguments from fd 3 before it does anything else: it waits there while
      // it is moved into the cgroups, so the runtime and all it starts are inside from their birth.
      const child = spawn(setup.tools.bwrap, ['--args', '3'], {
        env: {},
        stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
        // Its own process group: Ctrl-C at the server's terminal must not kill runtimes mid-invoke.
        detached: true,
      });
      await spawned(child);
      const sandbox = new NamespaceSandbox(child, cgroup, runtimeApiAddress(spec), cleanup);
      try {
        cgroup.join(child.pid!);
      } catch (err) {
        child.kill('SIGKILL');
        await sandbox.exited;
        throw err;
      }
      (child.stdio[3] as Writable).end(nulSeparated(outerArgs(input, setup.hostEntries)));
      (child.stdio[4] as Writable).end(nulSeparated(innerArgs(input)));
      return sandbox;
    } catch (err) {
      cleanup(false);
      throw err;
    }
  }

  #prepare(): { tools: Tools; cgroups: CgroupTree; hostEntries: string[] } {
    this.#setup ??= { tools: { bwrap: tool('bwrap'), setpriv: tool('setpriv'), socat: tool('socat') }, cgroups: detectCgroups(), hostEntries: hostRootEntries() };
    return this.#setup;
  }

  /** Starts a real sandbox running `/bin/sh -c 'exit 0'` with every namespace and limit. */
  async #check(): Promise<string | undefined> {
    if (process.getuid?.() !== 0) return 'it needs root (to bind the code directory into the sandbox and to make cgroups)';
    let dir: string | undefined;
    try {
      this.#prepare();
      dir = mkdtempSync(join(tmpdir(), 'kindling-ns-probe-'));
      const sandbox = await this.start({
        id: 'probe',
        functionName: 'probe',
        command: '/bin/sh',
        args: ['-c', 'exit 0'],
        codeDir: dir,
        runtimeDir: dir,
        env: {},
        memoryMb: 128,
        ephemeralStorageMb: 1,
        network: 'none',
        runtimeApiPort: 9,
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

function runtimeApiAddress(spec: SandboxSpec): string {
  return spec.network === 'egress' ? `127.0.0.1:${spec.runtimeApiPort}` : `127.0.0.1:${RUNTIME_API_PORT_INSIDE}`;
}

/** A runtime command outside the sandbox's /usr (node installed under /root, say) is bound in at its own path. */
function outsideUsr(command: string): { extraCommand?: string } {
  if (!command.startsWith('/') || Object.values(LAMBDA_PATHS).some((path) => command.startsWith(`${path}/`))) return {};
  const real = realpathSync(command);
  return real.startsWith('/usr/') ? {} : { extraCommand: real };
}

function tool(name: string): string {
  for (const dir of TOOL_DIRS) {
    try {
      accessSync(`${dir}/${name}`, constants.X_OK);
      return `${dir}/${name}`;
    } catch {
      // look further
    }
  }
  throw new Error(`${name} is not installed (looked in ${TOOL_DIRS.join(', ')})`);
}

function spawned(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
}
