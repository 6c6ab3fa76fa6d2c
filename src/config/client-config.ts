import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, DEFAULTS } from './config.js';

/** What the `kindling` client commands (deploy, invoke, ls, rm) need to reach a server. */
export interface ClientConfig {
  readonly endpoint: string;
  readonly region: string;
  /** The account of the default execution role `deploy` gives new functions. */
  readonly accountId: string;
  /**
   * What requests are signed with: the AWS_* keys when given; else, when a profile is named
   * (`--profile`, AWS_PROFILE) or an AWS credentials file exists, the SDK's own credentials chain
   * (`profile`); else `test`/`test`, which a server under `--auth none` takes as any other.
   */
  readonly credentials: StaticCredentials | 'chain';
  /** The profile the chain reads (AWS_PROFILE or `--profile`); undefined: `default`. */
  readonly profile?: string;
}

export interface StaticCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** The flags every client command accepts, as parsed by the command. */
export interface ClientFlags {
  readonly endpoint?: string | undefined;
  readonly region?: string | undefined;
  readonly profile?: string | undefined;
}

export const CLIENT_DEFAULTS = {
  endpoint: `http://${DEFAULTS.host}:${DEFAULTS.port}`,
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
} as const;

/** Reads flags > KINDLING_* (and AWS_* credentials) environment > defaults, validated and frozen. */
export function loadClientConfig(flags: ClientFlags = {}, env: NodeJS.ProcessEnv = process.env): ClientConfig {
  const endpoint = flags.endpoint ?? env['KINDLING_ENDPOINT'] ?? CLIENT_DEFAULTS.endpoint;
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch (err) {
    throw new ConfigError(`--endpoint must be a URL like ${CLIENT_DEFAULTS.endpoint}, got '${endpoint}'`, { cause: err });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`--endpoint must be an http:// or https:// URL, got '${endpoint}'`);
  }

  const region = flags.region ?? env['KINDLING_REGION'] ?? DEFAULTS.region;
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) throw new ConfigError(`--region must look like us-east-1, got '${region}'`);
  const accountId = env['KINDLING_ACCOUNT_ID'] ?? DEFAULTS.accountId;
  if (!/^\d{12}$/.test(accountId)) throw new ConfigError(`KINDLING_ACCOUNT_ID must be 12 digits, got '${accountId}'`);

  const accessKeyId = env['AWS_ACCESS_KEY_ID'] || undefined;
  const secretAccessKey = env['AWS_SECRET_ACCESS_KEY'] || undefined;
  const sessionToken = env['AWS_SESSION_TOKEN'] || undefined;
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    throw new ConfigError('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be given together');
  }
  const profile = flags.profile ?? (env['AWS_PROFILE'] || undefined);
  const home = env['HOME'];
  const credentialsFile = env['AWS_SHARED_CREDENTIALS_FILE'] || (home ? join(home, '.aws', 'credentials') : undefined);
  const credentials =
    accessKeyId !== undefined && secretAccessKey !== undefined && flags.profile === undefined
      ? Object.freeze({ accessKeyId, secretAccessKey, ...(sessionToken === undefined ? {} : { sessionToken }) })
      : profile !== undefined || (credentialsFile !== undefined && existsSync(credentialsFile))
        ? 'chain'
        : CLIENT_DEFAULTS.credentials;

  // The SDK appends the operation path to the endpoint; a trailing slash would double it.
  return Object.freeze({ endpoint: endpoint.replace(/\/+$/, ''), region, accountId, credentials, ...(profile === undefined ? {} : { profile }) });
}
