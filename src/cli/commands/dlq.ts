import { parseCommand, UsageError } from '../args.js';
import { kindlingApi } from '../kindling-api.js';
import { formatTable } from '../table.js';
import type { Command } from './command.js';

interface Letter {
  Id: number;
  Kind: string;
  Queue?: string;
  RequestId: string;
  Condition: string;
  Reason: string;
  Attempts: number;
  FailedAt: string;
  Body?: string;
  RequestPayload?: string;
}

const base = (fn: string) => `/kindling/functions/${encodeURIComponent(fn)}/dead-letters`;

/**
 * `kindling dlq ls|show|redrive <function>`: the events of a function that failed for good (in a
 * dead-letter queue, a queue destination, or recorded as dropped), and sending them back through it.
 */
export const dlq: Command = {
  usage: ['dlq ls <function> [--endpoint URL] [--region R]', 'dlq show <function> <id>', 'dlq redrive <function> [--id N ...]'],
  summary: "list, inspect and redrive a function's failed events",
  async run(argv) {
    const [verb, ...rest] = argv;
    if (verb === 'ls') {
      const { values, positionals } = parseCommand(rest, {}, ['function']);
      const { DeadLetters } = await kindlingApi<{ DeadLetters: Letter[] }>(values, 'GET', base(positionals[0]!));
      process.stdout.write(
        formatTable([
          ['ID', 'KIND', 'QUEUE', 'CONDITION', 'ATTEMPTS', 'FAILED AT', 'REQUEST ID'],
          ...DeadLetters.map((l) => [String(l.Id), l.Kind, l.Queue ?? '-', l.Condition, String(l.Attempts), l.FailedAt, l.RequestId]),
        ]),
      );
      return 0;
    }
    if (verb === 'show') {
      const { values, positionals } = parseCommand(rest, {}, ['function', 'id']);
      const id = Number(positionals[1]);
      if (!Number.isInteger(id)) throw new UsageError(`<id> must be a dead-letter id (a whole number), got '${positionals[1]}'`);
      const letter = await kindlingApi<Letter>(values, 'GET', `${base(positionals[0]!)}/${id}`);
      process.stdout.write(`${JSON.stringify(letter, null, 2)}\n`);
      return 0;
    }
    if (verb === 'redrive') {
      const { values, positionals } = parseCommand(rest, { id: { type: 'string', multiple: true } }, ['function']);
      const ids = (values.id ?? []).map((raw) => {
        const id = Number(raw);
        if (!Number.isInteger(id)) throw new UsageError(`--id must be a dead-letter id (a whole number), got '${raw}'`);
        return id;
      });
      const { Redriven } = await kindlingApi<{ Redriven: { Id: number; RequestId: string }[] }>(values, 'POST', `${base(positionals[0]!)}/redrive`, ids.length ? { Ids: ids } : {});
      for (const r of Redriven) process.stdout.write(`Redrove ${r.Id} as request ${r.RequestId}\n`);
      process.stdout.write(`${Redriven.length} event${Redriven.length === 1 ? '' : 's'} sent back through ${positionals[0]}\n`);
      return 0;
    }
    throw new UsageError(verb === undefined ? 'expected ls, show or redrive' : `unknown dlq command '${verb}': expected ls, show or redrive`);
  },
};
