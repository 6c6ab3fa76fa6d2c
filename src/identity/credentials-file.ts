import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface CredentialsProfile {
  readonly name: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region?: string;
}

/**
 * Writes one profile into an AWS credentials file (INI, as `aws configure` writes it), replacing a
 * profile of that name and keeping the others; the file is written whole (a rename) and left 0600,
 * as it holds secrets.
 */
export function writeCredentialsProfile(path: string, profile: CredentialsProfile): void {
  const existing = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const kept: string[] = [];
  let skipping = false;
  for (const line of existing.split('\n')) {
    const section = /^\s*\[([^\]]+)\]\s*$/.exec(line);
    if (section) skipping = section[1]!.trim() === profile.name;
    if (!skipping) kept.push(line);
  }
  const before = kept.join('\n').trim();
  const block = [
    `[${profile.name}]`,
    `aws_access_key_id = ${profile.accessKeyId}`,
    `aws_secret_access_key = ${profile.secretAccessKey}`,
    ...(profile.region ? [`region = ${profile.region}`] : []),
  ].join('\n');
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${before === '' ? '' : `${before}\n\n`}${block}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}
