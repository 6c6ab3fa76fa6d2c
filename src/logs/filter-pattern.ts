import { InvalidParameterException } from './log-errors.js';

/**
 * A CloudWatch Logs filter pattern for unstructured events, parsed:
 * - `ERROR` matches events that contain the term; terms are case-sensitive and match anywhere in
 *   the message. Terms with characters other than letters, digits and `_` must be quoted.
 * - `ERROR Exception`: every term must match.
 * - `"Task timed out"`: a quoted term is an exact phrase (`\"` and `\\` escape inside it).
 * - `?ERROR ?WARN`: any of the `?` terms must match (with plain terms too, those must all match).
 * - `-DEBUG`, `-"health check"`: the event must not contain the term.
 * - an empty pattern matches every event.
 *
 * Not supported, answered with InvalidParameterException: JSON patterns (`{ $.level = "ERROR" }`),
 * space-delimited patterns (`[ip, user, ...]`) and regular expressions (`%...%`).
 */
export interface FilterPattern {
  readonly required: readonly string[];
  readonly anyOf: readonly string[];
  readonly excluded: readonly string[];
  matches(message: string): boolean;
}

const UNSUPPORTED: Readonly<Record<string, string>> = {
  '{': 'JSON filter patterns ({ $.field = value }) are not supported by Kindling; use terms, "phrases", ?any and -exclude',
  '[': 'space-delimited filter patterns ([field, ...]) are not supported by Kindling; use terms, "phrases", ?any and -exclude',
  '%': 'regular expression filter patterns (%...%) are not supported by Kindling; use terms, "phrases", ?any and -exclude',
};

const BARE_TERM = /^[A-Za-z0-9_]+$/;

export function parseFilterPattern(pattern: string): FilterPattern {
  const text = pattern.trim();
  const unsupported = UNSUPPORTED[text.charAt(0)];
  if (unsupported) throw new InvalidParameterException(unsupported);

  const required: string[] = [];
  const anyOf: string[] = [];
  const excluded: string[] = [];
  let i = 0;
  while (i < text.length) {
    if (/\s/.test(text.charAt(i))) {
      i++;
      continue;
    }
    const sign = text.charAt(i);
    const list = sign === '?' ? anyOf : sign === '-' ? excluded : required;
    if (list !== required) i++;
    const [term, end] = text.charAt(i) === '"' ? readQuoted(text, i) : readBare(text, i);
    list.push(term);
    i = end;
  }
  return {
    required,
    anyOf,
    excluded,
    matches: (message) =>
      required.every((term) => message.includes(term)) &&
      (anyOf.length === 0 || anyOf.some((term) => message.includes(term))) &&
      !excluded.some((term) => message.includes(term)),
  };
}

/** The phrase between the quotes at `start`, and the index after the closing quote. */
function readQuoted(text: string, start: number): [string, number] {
  let term = '';
  for (let i = start + 1; i < text.length; i++) {
    const c = text.charAt(i);
    if (c === '"') {
      const after = text.charAt(i + 1);
      if (after !== '' && !/\s/.test(after)) throw new InvalidParameterException(`Invalid character(s) after the quoted term "${term}"`);
      if (term === '') throw new InvalidParameterException('Empty quoted term in the filter pattern');
      return [term, i + 1];
    }
    if (c === '\\' && i + 1 < text.length) {
      i++;
      term += text.charAt(i);
    } else {
      term += c;
    }
  }
  throw new InvalidParameterException(`Unterminated quoted term in the filter pattern: ${text.slice(start)}`);
}

function readBare(text: string, start: number): [string, number] {
  let end = start;
  while (end < text.length && !/\s/.test(text.charAt(end))) end++;
  const term = text.slice(start, end);
  if (!BARE_TERM.test(term)) {
    throw new InvalidParameterException(
      term === ''
        ? `A ${text.charAt(start - 1)} must be followed by a term in the filter pattern`
        : `Invalid character(s) in term '${term}': quote terms with characters other than letters, digits and _`,
    );
  }
  return [term, end];
}
