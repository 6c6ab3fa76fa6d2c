import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { LookupFunction } from 'node:net';
import { join } from 'node:path';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { Agent } from 'undici';

export interface Profile {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region?: string;
}

/** One profile of an AWS credentials file, read as the AWS CLI reads it. */
export function readProfile(file: string, name = 'default'): Profile {
  let section: string | undefined;
  const values: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const header = /^\[(.+)\]$/.exec(line.trim());
    if (header) section = header[1];
    const pair = /^([\w]+)\s*=\s*(.*)$/.exec(line.trim());
    if (pair && section === name) values[pair[1]!] = pair[2]!;
  }
  if (!values['aws_access_key_id'] || !values['aws_secret_access_key']) throw new Error(`no profile ${name} in ${file}`);
  return {
    accessKeyId: values['aws_access_key_id'],
    secretAccessKey: values['aws_secret_access_key'],
    ...(values['region'] ? { region: values['region'] } : {}),
  };
}

/** The administrator key a server under `--auth sigv4` wrote at its first start. */
export function adminProfile(dataDir: string): Profile {
  return readProfile(join(dataDir, 'credentials'));
}

/** A Lambda client signing with `credentials` (one attempt: an auth error is the answer, not retried). */
export function signedLambda(url: string, credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }, extra: { systemClockOffset?: number } = {}): LambdaClient {
  return new LambdaClient({ endpoint: url, region: 'us-east-1', credentials, maxAttempts: 1, ...extra });
}

/** A request signed by the SDK's signer, sent with fetch (for Kindling's own routes and tampering). */
export async function signedFetch(url: string, key: Profile, method: string, path: string, body?: string, service = 'lambda', tamper?: (headers: Record<string, string>) => string | undefined): Promise<Response> {
  const target = new URL(path, url);
  const signer = new SignatureV4({ credentials: key, region: 'us-east-1', service, sha256: Sha256 });
  const signed = await signer.sign({
    method,
    protocol: 'http:',
    hostname: target.hostname,
    port: Number(target.port),
    path: target.pathname,
    query: Object.fromEntries(target.searchParams),
    headers: { host: target.host, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body }),
  });
  const { host: _host, ...headers } = signed.headers;
  const sent = tamper ? tamper(headers) : body;
  return localFetch(target, { method, headers, ...(sent === undefined ? {} : { body: sent }) });
}


/** Creates a key through the keys API, signed by `admin`. */
export async function createKey(url: string, admin: Profile, body: Record<string, unknown>): Promise<Profile & { AccessKeyId: string }> {
  const res = await signedFetch(url, admin, 'POST', '/kindling/keys', JSON.stringify(body), 'kindling');
  assert.equal(res.status, 201, await res.clone().text());
  const created = (await res.json()) as { AccessKeyId: string; SecretAccessKey: string };
  return { AccessKeyId: created.AccessKeyId, accessKeyId: created.AccessKeyId, secretAccessKey: created.SecretAccessKey };
}

/**
 * Resolves every host to loopback, as curl and browsers resolve `*.localhost` (function URLs'
 * hosts); glibc does not, and tests send traffic only to loopback anyway.
 */
const LOOPBACK = new Agent({
  connect: {
    lookup: ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
      if (options.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
      else callback(null, '127.0.0.1', 4);
    }) as unknown as LookupFunction,
  },
});

/** Node's fetch, with `*.localhost` (function URLs) reaching loopback. */
export function localFetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { ...init, dispatcher: LOOPBACK } as RequestInit);
}
