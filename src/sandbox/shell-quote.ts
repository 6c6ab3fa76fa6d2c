/** A word for /bin/sh, whatever it holds (single quotes; a quote inside becomes '\\''). */
export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
