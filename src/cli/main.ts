#!/usr/bin/env node
import { ConfigError } from '../config/index.js';
import { serve } from './serve.js';

const USAGE = `Usage: kindling <command> [options]

Commands:
  serve [--host H] [--port P] [--data-dir D] [--region R] [--account-id A]
        [--idle-timeout S] [--max-lifetime S] [--shutdown-grace S] [--log-level L]
                                  run the platform (default 127.0.0.1:9000, data in ./.kindling)
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      await serve(rest);
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 1 : 0;
    default:
      process.stderr.write(`kindling: unknown command '${command}'\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError) process.stderr.write(`kindling: ${err.message}\n`);
    else process.stderr.write(`kindling: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
