import { startKindling } from '../app.js';
import { loadConfig } from '../config/index.js';

/** `kindling serve`: runs the platform until SIGINT / SIGTERM, then stops cleanly. */
export async function serve(argv: readonly string[]): Promise<void> {
  const config = loadConfig(argv);
  const kindling = await startKindling(config);
  process.stdout.write(
    kindling.url
      ? `Kindling is serving the Lambda API on ${kindling.url} (data in ${config.dataDir})\n`
      : `Kindling node ${kindling.nodeId} (${config.roles.join(',')}) is running${kindling.fleetPort === undefined ? '' : `, serving the fleet on port ${kindling.fleetPort}`} (data in ${config.dataDir})\n`,
  );
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
