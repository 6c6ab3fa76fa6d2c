import { LambdaClient } from '@aws-sdk/client-lambda';
import { loadClientConfig, type ClientConfig, type ClientFlags, type StaticCredentials } from '../config/index.js';

/**
 * Builds an AWS SDK client for Kindling: one attempt, so a failure is reported, not retried. The
 * SDK warns on every Node < 22 (its 2027 releases will need it) while it builds its runtime config;
 * in a CLI that would be printed on every command, into the user's stderr.
 */
export function createSdkClient<T>(
  Client: new (options: {
    endpoint: string;
    region: string;
    credentials?: StaticCredentials;
    profile?: string;
    maxAttempts: number;
  }) => T,
  config: ClientConfig,
): T {
  const emitWarning = process.emitWarning;
  process.emitWarning = () => {};
  try {
    // 'chain': the SDK's own credentials chain (environment, the profile's files, SSO...), as `aws` reads them.
    const credentials =
      config.credentials === 'chain'
        ? config.profile === undefined
          ? {}
          : { profile: config.profile }
        : // A copy: the SDK marks what it is given, and the config is frozen.
          { credentials: { ...config.credentials } };
    return new Client({ endpoint: config.endpoint, region: config.region, ...credentials, maxAttempts: 1 });
  } finally {
    process.emitWarning = emitWarning;
  }
}

export function createLambdaClient(config: ClientConfig): LambdaClient {
  return createSdkClient(LambdaClient, config);
}

/** Builds the client from the command's flags, runs `use`, and always releases the client's sockets. */
export async function withLambda<T>(
  flags: ClientFlags,
  use: (lambda: LambdaClient, config: ClientConfig) => Promise<T>,
): Promise<T> {
  const config = loadClientConfig(flags);
  const lambda = createLambdaClient(config);
  try {
    return await use(lambda, config);
  } catch (err) {
    throw unreachable(err, config.endpoint) ?? err;
  } finally {
    lambda.destroy();
  }
}

/** Raised when the server cannot be reached at all; `name` is the socket error's code. */
export class EndpointUnreachable extends Error {}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ETIMEDOUT']);

export function unreachable(err: unknown, endpoint: string): EndpointUnreachable | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !CONNECTION_CODES.has(code)) return undefined;
  const wrapped = new EndpointUnreachable(`cannot reach Kindling at ${endpoint} (${(err as Error).message})`, { cause: err });
  wrapped.name = code;
  return wrapped;
}
