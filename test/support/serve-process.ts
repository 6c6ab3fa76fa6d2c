import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { testStoreFor } from './kindling.js';

/** What `kindling serve` prints once it listens; the group is its URL. */
export const LISTENING = /on (http:\/\/\S+)/;

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface ServeProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Settles with the exit code when the server process ends. */
  readonly exited: Promise<number | null>;
}

/** `kindling serve` as its own process (for signals and kill -9), on port 0; resolves once it listens. */
export async function spawnServe(args: readonly string[]): Promise<ServeProcess> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--url-port', '0', '--log-level', 'warn', '--sandbox', 'process', ...(await storeArgs(args)), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await listeningUrl(child.stdout!, exited);
  return { url, child, exited };
}

/**
 * The URL `kindling serve` prints once it listens ("... serving the Lambda API on http://host:port
 * ..."), read from its stdout; rejects if the process exits first (`describe` adds to the message).
 * `pattern`'s first group is the URL.
 */
export function listeningUrl(stdout: Readable, exited: Promise<unknown>, describe: () => string = () => '', pattern = LISTENING): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let seen = '';
    stdout.on('data', (chunk: Buffer | string) => {
      seen += chunk.toString();
      const match = pattern.exec(seen);
      if (match) resolve(match[1]!);
    });
    void exited.then((code) => reject(new Error(`kindling serve exited early with ${code}${describe()}`)));
  });
}

/** On the PostgreSQL pass: `--store` with the data directory's own database (the same one again after a restart). */
async function storeArgs(args: readonly string[]): Promise<string[]> {
  const at = args.indexOf('--data-dir');
  if (at < 0 || args.includes('--store')) return [];
  const store = await testStoreFor(args[at + 1]!);
  return store === undefined ? [] : ['--store', store];
}
