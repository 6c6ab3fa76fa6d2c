/**
 * How a resource's account is kept in the names Kindling already keys everything by (functions,
 * layers, log groups; docs/accounts.md). A resource of the configured default account (`home`,
 * `--account-id`) is keyed by its bare name, as before accounts existed; another account's by
 * `<account>:<name>`. Lambda's function and layer names and CloudWatch's log group names never
 * contain a colon, so a key is never ambiguous. Only this file knows the format.
 */

/** The key of `name` in `account`'s scope. */
export function scopedName(home: string, account: string, name: string): string {
  return account === home ? name : `${account}:${name}`;
}

/** A key's account (`home` when it is a bare name) and bare name. */
export function unscope(home: string, key: string): { readonly accountId: string; readonly name: string } {
  const colon = key.indexOf(':');
  return colon === -1 ? { accountId: home, name: key } : { accountId: key.slice(0, colon), name: key.slice(colon + 1) };
}

/** The bare name of a key: what Lambda's answers call the resource. */
export function bareName(key: string): string {
  const colon = key.indexOf(':');
  return colon === -1 ? key : key.slice(colon + 1);
}

/** Whether a key is in `account`'s scope: how listings show an account only its own resources. */
export function inScope(home: string, account: string, key: string): boolean {
  return unscope(home, key).accountId === account;
}

/**
 * `name` in the same account as the resource keyed `owner`: a function's log group, in the
 * function's account (no home account needed, so the worker can use it too).
 */
export function besideKey(owner: string, name: string): string {
  const colon = owner.indexOf(':');
  return colon === -1 ? name : `${owner.slice(0, colon + 1)}${name}`;
}

/** The account part of a key as it is written (`''` for the default account's): a per-account tally's key. */
export function scopePrefix(key: string): string {
  const colon = key.indexOf(':');
  return colon === -1 ? '' : key.slice(0, colon + 1);
}

/** The key of a function's default log group, `/aws/lambda/<name>`, in the function's account. */
export function functionLogGroupKey(functionKey: string): string {
  return besideKey(functionKey, `/aws/lambda/${bareName(functionKey)}`);
}
