import { InvokeCommand } from '@aws-sdk/client-lambda';
import { readFile } from 'node:fs/promises';
import { parseCommand, UsageError } from '../args.js';
import { withLambda } from '../client.js';
import type { Command } from './command.js';

const OPTIONS = {
  payload: { type: 'string' },
  tail: { type: 'boolean' },
  qualifier: { type: 'string' },
} as const;

/**
 * `kindling invoke <name>`: a synchronous invoke. The response payload goes to stdout, the log tail
 * (`--tail`) to stderr; a function error exits 1, as the invoke did not succeed.
 */
export const invoke: Command = {
  usage: ['invoke <name> [--payload JSON | --payload @file] [--tail] [--qualifier Q]', '[--endpoint URL] [--region R]'],
  summary: 'invoke a function and print its response',
  async run(argv) {
    const { values, positionals } = parseCommand(argv, OPTIONS, ['name']);
    const [name] = positionals as [string];
    const payload = await readPayload(values.payload);

    const out = await withLambda(values, (lambda) =>
      lambda.send(
        new InvokeCommand({
          FunctionName: name,
          Payload: payload,
          ...(values.tail ? { LogType: 'Tail' as const } : {}),
          ...(values.qualifier === undefined ? {} : { Qualifier: values.qualifier }),
        }),
      ),
    );
    // Lambda returns the last 4 KB of the invocation's log, base64-encoded.
    if (out.LogResult) process.stderr.write(withNewline(Buffer.from(out.LogResult, 'base64')));
    if (out.Payload && out.Payload.length > 0) process.stdout.write(withNewline(Buffer.from(out.Payload)));
    if (out.FunctionError) {
      process.stderr.write(`kindling: function error (${out.FunctionError})${describeFailure(out.Payload)}\n`);
      return 1;
    }
    return 0;
  },
};

/** The payload as given, or read from the file after '@'; Lambda takes JSON, so it is checked here. */
async function readPayload(raw: string | undefined): Promise<Buffer | undefined> {
  if (raw === undefined) return undefined;
  let payload: Buffer;
  if (raw.startsWith('@')) {
    const path = raw.slice(1);
    try {
      payload = await readFile(path);
    } catch (err) {
      throw new UsageError(`--payload: cannot read '${path}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
        cause: err,
      });
    }
  } else {
    payload = Buffer.from(raw);
  }
  try {
    JSON.parse(payload.toString('utf8'));
  } catch (err) {
    throw new UsageError(`--payload is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  return payload;
}

/** `: <errorType>: <errorMessage>` from Lambda's error payload, for a stderr that stdout does not hide. */
function describeFailure(payload: Uint8Array | undefined): string {
  if (!payload) return '';
  try {
    const body = JSON.parse(Buffer.from(payload).toString('utf8')) as { errorType?: unknown; errorMessage?: unknown };
    if (typeof body.errorType !== 'string') return '';
    return `: ${body.errorType}${typeof body.errorMessage === 'string' ? `: ${body.errorMessage}` : ''}`;
  } catch {
    return '';
  }
}

function withNewline(bytes: Buffer): Buffer {
  return bytes.length > 0 && bytes[bytes.length - 1] !== 0x0a ? Buffer.concat([bytes, Buffer.from('\n')]) : bytes;
}
