import { startKindling } from '../app.js';
import { loadConfig } from '../config/index.js';

/** `kindling serve`: runs the platform until SIGINT / SIGTERM, then stops cleanly. */
export async function serve(argv: readonly string[]): Promise<void> {
  const config = loadConfig(argv);
  const kindling = await startKindling(config);
  process.stdout.write(`Kindling is serving the Lambda API on ${kindling.url} (data in ${config.dataDir})\n`);
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.stdout.write(`${signal}: finishing in-flight invocations and stopping\n`);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await kindling.close();
}
