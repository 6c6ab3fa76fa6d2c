import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * AWS's Node.js runtime interface client, which test/aws-lambda-ric.test.ts runs unchanged as a
 * custom runtime. It is not a devDependency: its install builds curl and aws-lambda-cpp from source
 * (minutes), which every `npm install` of Kindling would pay for one test. It is installed once
 * into a cache instead, by that test or beforehand by `.ci/run` (so CI shows the build as a step
 * of its own), and reused.
 */
export const RIC_VERSION = '4.0.2';

/** `$KINDLING_TEST_CACHE/aws-lambda-ric-<version>`, or under ~/.cache/kindling-test. */
export function ricCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env['KINDLING_TEST_CACHE'] || join(homedir(), '.cache', 'kindling-test');
  return join(base, `aws-lambda-ric-${RIC_VERSION}`);
}

/** The package's directory in the cache (index.mjs and the built rapid-client.node). */
function packageDir(cache: string): string {
  return join(cache, 'node_modules', 'aws-lambda-ric');
}

function installed(cache: string): boolean {
  return existsSync(join(packageDir(cache), 'rapid-client.node'));
}

/**
 * The cached package's directory, installed first if it is not there. npm installs into a
 * directory beside the cache, renamed into place once complete: an install cut short is never
 * taken for a finished one. `verbose` shows npm's output as it goes (the CI step); otherwise it
 * is kept for the error.
 */
export async function installRic(options: { cache?: string; verbose?: boolean } = {}): Promise<string> {
  const cache = options.cache ?? ricCacheDir();
  if (installed(cache)) return packageDir(cache);
  const staging = `${cache}.installing-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  // Its install scripts are the point (they build the addon): allowed by name, as Kindling's own
  // package.json allows better-sqlite3's.
  writeFileSync(join(staging, 'package.json'), JSON.stringify({ private: true, allowScripts: { 'aws-lambda-ric': true } }));
  const args = ['install', '--prefix', staging, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', `aws-lambda-ric@${RIC_VERSION}`];
  try {
    await new Promise<void>((resolve, reject) => {
      const child = execFile('npm', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (err) {
          const output = stdout + stderr;
          // npm's first telling line ("request to ... failed, reason: connect ECONNREFUSED"), then all of it.
          const reason = /^npm error (?!code |syscall |errno )(.+)$/m.exec(output)?.[1] ?? err.message;
          reject(new Error(`npm install aws-lambda-ric@${RIC_VERSION} failed: ${reason}\n${output.slice(-4000)}`, { cause: err }));
        } else {
          resolve();
        }
      });
      if (options.verbose) {
        child.stdout?.pipe(process.stdout);
        child.stderr?.pipe(process.stderr);
      }
    });
    if (!installed(staging)) throw new Error(`npm installed aws-lambda-ric@${RIC_VERSION} without its native addon (rapid-client.node)`);
    mkdirSync(dirname(cache), { recursive: true });
    // Another run may have finished first: its copy is as good.
    if (!installed(cache)) {
      rmSync(cache, { recursive: true, force: true });
      renameSync(staging, cache);
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return packageDir(cache);
}

/**
 * For a test: the package's directory, or why it cannot be had. In CI (`CI` set) a failed install
 * throws, so the test fails loudly instead of skipping unseen.
 */
export async function ricForTest(env: NodeJS.ProcessEnv = process.env): Promise<{ dir: string } | { unavailable: string }> {
  try {
    return { dir: await installRic() };
  } catch (err) {
    if (env['CI']) throw err;
    return { unavailable: `could not install it into ${ricCacheDir(env)} (${(err as Error).message.split('\n')[0]})` };
  }
}

// `node dist/test/support/aws-lambda-ric.js`: the CI step that installs it before the tests run.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const started = Date.now();
  const dir = await installRic({ verbose: true });
  console.log(`aws-lambda-ric@${RIC_VERSION} is in ${dir} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
}
