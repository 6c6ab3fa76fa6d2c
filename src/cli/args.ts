import { parseArgs, type ParseArgsConfig } from 'node:util';

type ParsedResults<T extends ParseArgsConfig> = ReturnType<typeof parseArgs<T>>;

/** A mistake on the command line: `main` prints it with the command's usage and exits 2. */
export class UsageError extends Error {}

/** `--help` was given: `main` prints the command's usage and exits 0. */
export class HelpRequested extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;

/** The flags every client command takes (`endpoint`, `region`, `profile` are read by `loadClientConfig`). */
const COMMON_OPTIONS = {
  endpoint: { type: 'string' },
  region: { type: 'string' },
  profile: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Options;

/**
 * `parseArgs` in strict mode, with parse failures turned into UsageError and the positionals
 * counted, so a command only reads its values.
 */
export function parseCommand<const O extends Options>(argv: readonly string[], options: O, positionals: readonly string[]) {
  type Config = { args: string[]; options: typeof COMMON_OPTIONS & O; allowPositionals: true; strict: true };
  let parsed: ParsedResults<Config>;
  try {
    parsed = parseArgs<Config>({ args: [...argv], options: { ...COMMON_OPTIONS, ...options }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message, { cause: err });
  }
  if ((parsed.values as { help?: boolean }).help) throw new HelpRequested();
  if (parsed.positionals.length !== positionals.length) {
    const expected = positionals.length === 0 ? 'no arguments' : positionals.map((name) => `<${name}>`).join(' ');
    const got = parsed.positionals.length === 0 ? 'none' : `'${parsed.positionals.join(' ')}'`;
    throw new UsageError(`expected ${expected}, got ${got}`);
  }
  return parsed;
}

/**
 * A whole number flag, or undefined when not given. Lambda's ranges (Timeout 1-900, ...) are the
 * server's to check: the control plane holds those rules, and answers ValidationException.
 */
export function integerFlag(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isSafeInteger(value)) {
    throw new UsageError(`--${name} must be a whole number, got '${raw}'`);
  }
  return value;
}
