import { randomBytes, randomUUID } from 'node:crypto';

export function newRequestId(): string {
  return randomUUID();
}

export function newRevisionId(): string {
  return randomUUID();
}

/** Lambda names a log stream `YYYY/MM/DD/[version]<32 hex digits>`, one per execution environment. */
export function newLogStreamName(version: string, now: Date): string {
  const day = now.toISOString().slice(0, 10).replaceAll('-', '/');
  return `${day}/[${version}]${randomBytes(16).toString('hex')}`;
}

export function newEnvironmentId(): string {
  return randomBytes(6).toString('hex');
}
