import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { NetnsHost } from './netns.js';
import { listeningUrl } from './serve-process.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
/** What a failure message shows of a node's output: its last lines matter. */
const OUTPUT_LIMIT = 256 * 1024;

export interface NodeExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface ClusterNodeOptions {
  /** Its data directory; a fresh one in the lab's temp space (removed at the lab's destroy) if not given. */
  readonly dataDir?: string;
  /** Extra environment (KINDLING_* settings) over this process's own. */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * What the node prints on stdout once it is ready, its first group the URL it serves on:
   * `kindling serve`'s "... on http://host:port" unless a role says so differently.
   */
  readonly ready?: RegExp;
}

/**
 * One Kindling node of the fleet lab: `node dist/src/cli/main.js serve <args>` in a lab host, as its
 * own process (so a test can kill -9 exactly that node), with its own data directory. The args are
 * the test's (`--role`, `--store`, `--host`, `--port`, ...); only `--data-dir` is added when absent.
 * The lab SIGKILLs it at destroy() if the test has not stopped it.
 */
export class ClusterNode {
  readonly host: NetnsHost;
  readonly dataDir: string;
  /** The node's own process id (nsenter execs node in place). */
  readonly pid: number;
  /** What it printed when it started listening, e.g. `http://10.213.7.11:9000`. */
  readonly url: string;
  /** Settles when the process ends, with its code or signal. */
  readonly exited: Promise<NodeExit>;
  readonly #child: ChildProcess;
  readonly #output: { text: string };

  private constructor(host: NetnsHost, dataDir: string, child: ChildProcess, url: string, exited: Promise<NodeExit>, output: { text: string }) {
    this.host = host;
    this.dataDir = dataDir;
    this.pid = child.pid!;
    this.url = url;
    this.exited = exited;
    this.#child = child;
    this.#output = output;
  }

  /** Starts the node; resolves once it says it listens, rejects with its output if it exits first. */
  static async start(host: NetnsHost, args: readonly string[], options: ClusterNodeOptions = {}): Promise<ClusterNode> {
    const dataDir = args.includes('--data-dir') ? args[args.indexOf('--data-dir') + 1]! : (options.dataDir ?? host.tempDir('node-'));
    const all = args.includes('--data-dir') ? [...args] : [...args, '--data-dir', dataDir];
    // Several api nodes may share a host: function URLs on a free port each, unless the test picks one.
    if (!args.includes('--url-port')) all.push('--url-port', '0');
    const child = host.spawn(process.execPath, [CLI, 'serve', ...all], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
    });
    const output = { text: '' };
    const keep = (chunk: Buffer) => {
      output.text = (output.text + chunk.toString()).slice(-OUTPUT_LIMIT);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const exited = new Promise<NodeExit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    const url = await listeningUrl(
      child.stdout!,
      exited.then((e) => e.code ?? e.signal),
      () => ` (in ${host.name}: serve ${all.join(' ')}):\n${output.text}`,
      options.ready,
    );
    return new ClusterNode(host, dataDir, child, url, exited, output);
  }

  /** Its stdout and stderr so far (the tail), for a failure message. */
  get output(): string {
    return this.#output.text;
  }

  /** Sends a signal to exactly this node's process: SIGKILL is a machine's process dying mid-work. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.#child.kill(signal);
  }

  /** SIGTERM (Kindling finishes in-flight work and stops) and its exit; SIGKILL if it is still there after `graceMs`. */
  async stop(graceMs = 30_000): Promise<NodeExit> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGTERM');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}
