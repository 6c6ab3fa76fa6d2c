#!/usr/bin/env node
import { LambdaServiceException } from '@aws-sdk/client-lambda';
import { ConfigError } from '../config/index.js';
import { HelpRequested, UsageError } from './args.js';
import { EndpointUnreachable } from './client.js';
import { synopsis, type Command } from './commands/command.js';
import { cluster } from './commands/cluster.js';
import { deploy } from './commands/deploy.js';
import { dlq } from './commands/dlq.js';
import { invoke } from './commands/invoke.js';
import { keys } from './commands/keys.js';
import { logs } from './commands/logs.js';
import { ls } from './commands/ls.js';
import { rm } from './commands/rm.js';
import { roles } from './commands/roles.js';
import { serve } from './serve.js';
import { KindlingApiError } from './kindling-api.js';
import { kindlingVersion } from './version.js';
import { FunctionNotReady } from './wait.js';

/** The client commands: thin clients of the HTTP API (KINDLING_ENDPOINT, default http://127.0.0.1:9000). */
const COMMANDS: Readonly<Record<string, Command>> = { deploy, invoke, ls, rm, logs, dlq, cluster, keys, roles };

const USAGE = `Usage: kindling <command> [options]

Commands:
  serve [options]
                                  run the platform (default 127.0.0.1:9000, data in ./.kindling);
                                  kindling serve --help lists its options
${Object.values(COMMANDS)
  .map((command) => `${synopsis(command, '  ')}${' '.repeat(34)}${command.summary}\n`)
  .join('')}  version                         print Kindling's version (also --version, -v)

The client commands talk to --endpoint (or KINDLING_ENDPOINT, default http://127.0.0.1:9000).
`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  switch (name) {
    case 'serve':
      try {
        await serve(rest);
      } catch (err) {
        // A bad flag is a usage error (2), as for every other command; a store that cannot be used is not.
        if (err instanceof ConfigError) {
          process.stderr.write(`kindling serve: ${err.message}\n`);
          return 2;
        }
        throw err;
      }
      return 0;
    case 'version':
    case '--version':
    case '-v':
      process.stdout.write(`${kindlingVersion()}\n`);
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return name === undefined ? 1 : 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    process.stderr.write(`kindling: unknown command '${name}'\n\n${USAGE}`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    const usage = synopsis(command, 'Usage: kindling ');
    if (err instanceof HelpRequested) {
      process.stdout.write(usage);
      return 0;
    }
    // A bad --endpoint or --region is a mistake on the command line too.
    if (err instanceof UsageError || err instanceof ConfigError) {
      process.stderr.write(`kindling ${name}: ${err.message}\n\n${usage}`);
      return 2;
    }
    throw err;
  }
}

/**
 * `kindling: <ErrorName>: <message>` for what a user can act on: Lambda's error name for service
 * errors, the reason code for a function that did not settle, the code of a socket or file error.
 * Anything else is a bug, printed with its stack.
 */
function report(err: unknown): string {
  if (err instanceof ConfigError) return `kindling: ${err.message}\n`;
  const expected =
    err instanceof LambdaServiceException ||
    err instanceof EndpointUnreachable ||
    err instanceof FunctionNotReady ||
    err instanceof KindlingApiError ||
    (err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string');
  if (expected) return `kindling: ${err.name}: ${err.message}\n`;
  return `kindling: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(report(err));
    process.exitCode = 1;
  },
);
