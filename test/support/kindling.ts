import { LambdaClient } from '@aws-sdk/client-lambda';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKindling, type Kindling } from '../../src/app.js';
import type { Store } from '../../src/store/index.js';
import { loadConfig, type KindlingConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/shared/index.js';

export const ROLE = 'arn:aws:iam::000000000000:role/lambda-role';

export interface TestServer {
  kindling: Kindling;
  lambda: LambdaClient;
  dataDir: string;
  close(): Promise<void>;
}

/** The real server on port 0 with a fresh data directory, and a real AWS SDK client for it. */
export async function startTestServer(
  overrides: Partial<KindlingConfig> = {},
  dataDir?: string,
  options: { openStore?: (path: string) => Store } = {},
): Promise<TestServer> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'kindling-test-'));
  // Functional tests run in the process sandbox (their functions write to the test's files);
  // the sandbox suites ask for namespace or microvm themselves.
  const config = loadConfig([], {}, { port: 0, dataDir: dir, sandbox: 'process', ...overrides });
  const kindling = await startKindling(config, {
    logger: createLogger(process.env['KINDLING_TEST_LOG'] ? 'debug' : 'error'),
    ...(options.openStore ? { openStore: options.openStore } : {}),
  });
  const lambda = clientFor(kindling.url);
  return {
    kindling,
    lambda,
    dataDir: dir,
    close: async () => {
      lambda.destroy();
      await kindling.close();
      if (!dataDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function clientFor(url: string): LambdaClient {
  return new LambdaClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
}

export function json(payload: Uint8Array | undefined): unknown {
  return payload === undefined ? undefined : JSON.parse(Buffer.from(payload).toString('utf8'));
}
