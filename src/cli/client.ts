import { LambdaClient } from '@aws-sdk/client-lambda';
import { loadClientConfig, type ClientConfig, type ClientFlags } from '../config/index.js';

/** The SDK client the commands share: one attempt, so a failure is reported, not retried. */
export function createLambdaClient(config: ClientConfig): LambdaClient {
  // The SDK warns on every Node < 22 (its 2027 releases will need it) while it builds its runtime
  // config; in a CLI that would be printed on every command, into the user's stderr.
  const emitWarning = process.emitWarning;
  process.emitWarning = () => {};
  try {
    return new LambdaClient({
      endpoint: config.endpoint,
      region: config.region,
      // A copy: the SDK marks the credentials it is given, and the config is frozen.
      credentials: { ...config.credentials },
      maxAttempts: 1,
    });
  } finally {
    process.emitWarning = emitWarning;
  }
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
