/**
 * Cold start of a container-image function (`PackageType: Image`, an OCI layout on disk) in the
 * namespace sandbox: the first invoke after CreateFunction, over a bare HTTP client.
 */
import { CreateFunctionCommand, LambdaClient, waitUntilFunctionActiveV2 } from '@aws-sdk/client-lambda';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APP_LAYER, BASH_LAYER, buildImage, HOST_ARCHITECTURE, SETTINGS, writeOciLayout } from '../test/support/oci-images.js';
import { ROLE, startServer, summary } from './support.js';

const FUNCTIONS = 8;

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'kindling-bench-image-'));
  const server = await startServer(join(work, 'data'), 'namespace');
  const lambda = new LambdaClient({ endpoint: server.url, region: 'us-east-1', credentials: { accessKeyId: 'b', secretAccessKey: 'b' }, maxAttempts: 1 });
  try {
    const layout = join(work, 'layout');
    writeOciLayout(layout, await buildImage([BASH_LAYER, APP_LAYER], SETTINGS), 'v1');
    const cold: number[] = [];
    for (let i = 0; i < FUNCTIONS; i++) {
      const name = `image-${i}`;
      await lambda.send(
        new CreateFunctionCommand({ FunctionName: name, PackageType: 'Image', Role: ROLE, Code: { ImageUri: `oci:${layout}:v1` }, Architectures: [HOST_ARCHITECTURE] }),
      );
      await waitUntilFunctionActiveV2({ client: lambda, maxWaitTime: 60 }, { FunctionName: name });
      const t = performance.now();
      const res = await fetch(`${server.url}/2015-03-31/functions/${name}/invocations`, { method: 'POST', body: '{}' });
      await res.arrayBuffer();
      if (res.status !== 200 || res.headers.get('x-amz-function-error')) throw new Error(`invoke failed: ${res.status}`);
      cold.push(performance.now() - t);
    }
    console.log(`image function cold start (namespace):   ${summary(cold)}`);
  } finally {
    lambda.destroy();
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
