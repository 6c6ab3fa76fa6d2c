import { DeleteFunctionCommand } from '@aws-sdk/client-lambda';
import { parseCommand } from '../args.js';
import { withLambda } from '../client.js';
import type { Command } from './command.js';

/** `kindling rm <name>`: deletes a function (and, like Lambda, all its versions and aliases). */
export const rm: Command = {
  usage: ['rm <name> [--endpoint URL] [--region R]'],
  summary: 'delete a function',
  async run(argv) {
    const { values, positionals } = parseCommand(argv, {}, ['name']);
    const [name] = positionals as [string];
    await withLambda(values, (lambda) => lambda.send(new DeleteFunctionCommand({ FunctionName: name })));
    process.stdout.write(`Deleted ${name}\n`);
    return 0;
  },
};
