import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A mistake on the command line: `main` prints it with the usage text and exits 2. */
export class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;

/** The flags every client command takes (read by `loadClientConfig`). */
export const CLIENT_OPTIONS = {
  endpoint: { type: 'string' },
  region: { type: 'string' },
} as const satisfies Options;

/**
 * `parseArgs` in strict mode, with parse failures turned into UsageError and the number of
 * positionals checked, so each command only reads its values.
 */
export function parseCommand<const O extends Options>(
  command: string,
  argv: readonly string[],
  options: O,
  positionals: readonly string[],
) {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: { ...CLIENT_OPTIONS, ...options }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(`${command}: ${(err as Error).message}`, { cause: err });
  }
  if (parsed.positionals.length !== positionals.length) {
    const expected = positionals.length === 0 ? 'no arguments' : positionals.map((name) => `<${name}>`).join(' ');
    throw new UsageError(`${command}: expected ${expected}, got ${parsed.positionals.length === 0 ? 'none' : parsed.positionals.join(' ')}`);
  }
  return parsed;
}

/** A whole number flag within Lambda's range, or undefined when not given. */
export function integerFlag(name: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got '${raw}'`);
  }
  return value;
}
