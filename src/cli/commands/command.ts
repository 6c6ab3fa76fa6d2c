/** One `kindling` client command; `main` dispatches to it and prints its usage. */
export interface Command {
  /** The synopsis after `kindling `, e.g. `rm <name>`, then lines of further flags. */
  readonly usage: readonly string[];
  readonly summary: string;
  /** Runs with the arguments after the command name; resolves to the exit code. */
  run(argv: readonly string[]): Promise<number>;
}

/** The synopsis with its continuation lines aligned after `<prefix><command> `. */
export function synopsis(command: Command, prefix: string): string {
  const [first = '', ...more] = command.usage;
  const indent = ' '.repeat(prefix.length + first.indexOf(' ') + 1);
  return [prefix + first, ...more.map((line) => indent + line)].join('\n') + '\n';
}
