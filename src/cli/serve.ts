import { parseArgs } from 'node:util';
import { startKindling } from '../app.js';
import { loadConfig, SERVE_OPTIONS } from '../config/index.js';
import { serveUsage } from './serve-usage.js';
import { startLine } from './start-line.js';
import { kindlingVersion } from './version.js';

/** `--help` / `--version` among serve's flags (a flag's value is not taken for one: `--host --help`). */
function infoRequested(argv: readonly string[]): 'help' | 'version' | undefined {
  const options = { ...SERVE_OPTIONS, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'v' } } as const;
  const { values } = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true });
  return values.help === true ? 'help' : values.version === true ? 'version' : undefined;
}

/** `kindling serve`: runs the platform until SIGINT / SIGTERM, then stops cleanly. */
export async function serve(argv: readonly string[]): Promise<void> {
  const info = infoRequested(argv);
  if (info) {
    process.stdout.write(info === 'help' ? serveUsage() : `${kindlingVersion()}\n`);
    return;
  }
  const config = loadConfig(argv);
  const kindling = await startKindling(config);
  process.stdout.write(startLine(config, kindling));
  // A worker whose lease ended has drained and stopped: exit 0 for the supervisor to start a fresh one.
  const leaseEnded = kindling.ended.then(() => 'lease' as const);
  const outcome = await Promise.race([leaseEnded, new Promise<'signal'>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.stdout.write(`${signal}: finishing in-flight invocations and stopping\n`);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve('signal');
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  })]);
  if (outcome === 'lease') process.stdout.write('The worker lease ended: drained and stopped\n');
  await kindling.close();
}
