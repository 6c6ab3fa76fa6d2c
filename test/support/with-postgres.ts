import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PostgresCluster, postgresUnavailable } from './postgres.js';

/**
 * `npm run test:postgres`: the whole suite again with PostgreSQL as the store. Starts one throwaway
 * cluster, runs `node --test` (every test file, or the files given as arguments) with
 * KINDLING_TEST_STORE naming it (each test server then gets a database of its own), stops the
 * cluster and exits with the tests' status.
 */
async function main(files: string[]): Promise<number> {
  const why = postgresUnavailable();
  if (why) {
    console.error(`kindling: the PostgreSQL pass cannot run: ${why}`);
    // On CI PostgreSQL is installed (.ci/run): its absence there is a failure, not a skip.
    return process.env['CI'] ? 1 : 0;
  }
  const cluster = await PostgresCluster.start();
  console.log(`# PostgreSQL pass: test cluster at ${cluster.baseUrl} (${cluster.dir})`);
  try {
    const child = spawn(process.execPath, ['--test', '--test-concurrency=1', ...(files.length > 0 ? files : [testDir()])], {
      stdio: 'inherit',
      env: { ...process.env, KINDLING_TEST_STORE: cluster.baseUrl },
    });
    const stop = (signal: NodeJS.Signals) => child.kill(signal);
    process.on('SIGINT', stop).on('SIGTERM', stop);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (c, s) => resolve([c, s])));
    return code ?? (signal ? 1 : 0);
  } finally {
    await cluster.stop();
  }
}

/** dist/test, beside this file's folder. */
function testDir(): string {
  return fileURLToPath(new URL('..', import.meta.url));
}

// `node --test dist/test/` runs every file under it, this one too: there it is a module, not the runner.
if (process.env['NODE_TEST_CONTEXT'] === undefined && process.argv[1] === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error('kindling: the PostgreSQL pass failed to start:', err);
      process.exit(1);
    },
  );
}
