import { paginateListFunctions, type FunctionConfiguration } from '@aws-sdk/client-lambda';
import { parseCommand } from '../args.js';
import { withLambda } from '../client.js';
import { formatTable } from '../table.js';
import type { Command } from './command.js';

/** `kindling ls`: every function, one line each, following NextMarker through all pages. */
export const ls: Command = {
  usage: ['ls [--endpoint URL] [--region R]'],
  summary: 'list functions',
  async run(argv) {
    const { values } = parseCommand(argv, {}, []);
    const functions = await withLambda(values, async (lambda) => {
      const all: FunctionConfiguration[] = [];
      for await (const page of paginateListFunctions({ client: lambda }, {})) all.push(...(page.Functions ?? []));
      return all;
    });
    process.stdout.write(formatFunctions(functions));
    return 0;
  },
};

/** The listing as aligned columns under a header (the header alone when there are none). */
export function formatFunctions(functions: readonly FunctionConfiguration[]): string {
  const rows = [
    ['NAME', 'RUNTIME', 'MEMORY', 'TIMEOUT', 'LAST MODIFIED'],
    ...functions.map((fn) => [
      fn.FunctionName ?? '',
      fn.Runtime ?? '-',
      fn.MemorySize === undefined ? '-' : `${fn.MemorySize} MB`,
      fn.Timeout === undefined ? '-' : `${fn.Timeout} s`,
      fn.LastModified ?? '-',
    ]),
  ];
  return formatTable(rows);
}
