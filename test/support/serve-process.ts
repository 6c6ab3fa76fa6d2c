import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { testStoreFor } from './kindling.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface ServeProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Settles with the exit code when the server process ends. */
  readonly exited: Promise<number | null>;
}

/** `kindling serve` as its own process (for signals and kill -9), on port 0; resolves once it listens. */
export async function spawnServe(args: readonly string[]): Promise<ServeProcess> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--log-level', 'warn', '--sandbox', 'process', ...(await storeArgs(args)), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    let seen = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const match = /on (http:\/\/\S+)/.exec(seen);
      if (match) resolve(match[1]!);
    });
    void exited.then((code) => reject(new Error(`kindling serve exited early with ${code}`)));
  });
  return { url, child, exited };
}

/** On the PostgreSQL pass: `--store` with the data directory's own database (the same one again after a restart). */
async function storeArgs(args: readonly string[]): Promise<string[]> {
  const at = args.indexOf('--data-dir');
  if (at < 0 || args.includes('--store')) return [];
  const store = await testStoreFor(args[at + 1]!);
  return store === undefined ? [] : ['--store', store];
}
