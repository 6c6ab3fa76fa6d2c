import { CloudWatchLogsClient, DescribeLogStreamsCommand, FilterLogEventsCommand, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateFunctionCommand, InvokeCommand } from '@aws-sdk/client-lambda';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { zipFiles } from '../src/code/index.js';
import { MAX_PHASE_LOG_BYTES } from '../src/logs/index.js';
import { clientFor, ROLE } from './support/kindling.js';
import { spawnServe, type ServeProcess } from './support/serve-process.js';
import { eventuallyAsync } from './support/wait.js';

const MiB = 1024 * 1024;
const FLOOD_BYTES = 200 * MiB;
/**
 * How much the server may grow while a function floods its stdout. What Kindling holds is small by
 * design: the log sink's budget (1 MiB) and, per stream, one pipe read and one partial line. What
 * the resident size shows on top is garbage the collector has not taken yet: Node allocates a
 * fresh 64 KiB buffer for every pipe read, and V8 collects them only after tens of MiB (a bare
 * read-and-discard loop over the same flood grows by ~33 MiB). Measured: 46-63 MiB with the budget;
 * 86-118 MiB before it, when up to 5,000 events or 50 ms of output were held.
 */
const GROWTH_BOUND = 80 * MiB;

/** 200 MiB of 256 KiB lines written straight to fd 1 (blocking on a full pipe, as console.log does). */
const FLOODER = `
const fs = require('fs');
exports.handler = async (event) => {
  const chunk = Buffer.from(('x'.repeat(256 * 1024 - 1) + '\\n').repeat(4));
  for (let i = 0; i < event.mib; i++) {
    let offset = 0;
    while (offset < chunk.length) {
      try { offset += fs.writeSync(1, chunk, offset); } catch (err) { if (err.code !== 'EAGAIN') throw err; }
    }
  }
  return 'flooded';
};
`;

/** The server process's resident memory, and its peak since the last reset (VmHWM), in bytes. */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)![1]) * 1024;
  return { rss: kib('VmRSS'), peak: kib('VmHWM') };
}

describe('a function flooding its stdout', () => {
  let work: string;
  let serve: ServeProcess;
  let logs: CloudWatchLogsClient;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'kindling-flood-'));
    serve = await spawnServe(['--data-dir', join(work, 'data')]);
    logs = new CloudWatchLogsClient({ endpoint: serve.url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
  });
  after(async () => {
    logs.destroy();
    serve.child.kill('SIGTERM');
    await serve.exited;
    rmSync(work, { recursive: true, force: true });
  });

  it('200 MB to stdout: the invoke completes, the overflow is reported, the server stays within a small buffer', async () => {
    const lambda = clientFor(serve.url);
    try {
      await lambda.send(
        new CreateFunctionCommand({
          FunctionName: 'flooder',
          Runtime: 'nodejs20.x',
          Handler: 'index.handler',
          Role: ROLE,
          Timeout: 300,
          Code: { ZipFile: await zipFiles({ 'index.js': FLOODER }) },
        }),
      );
      // A small invoke first: the environment and the server's own working set are in place.
      await lambda.send(new InvokeCommand({ FunctionName: 'flooder', Payload: Buffer.from(JSON.stringify({ mib: 1 })) }));
      const pid = serve.child.pid!;
      const baseline = memoryOf(pid).rss;
      // Resets VmHWM to the current RSS (proc(5), clear_refs "5"): the peak measured is the flood's.
      writeFileSync(`/proc/${pid}/clear_refs`, '5');

      const out = await lambda.send(new InvokeCommand({ FunctionName: 'flooder', Payload: Buffer.from(JSON.stringify({ mib: FLOOD_BYTES / MiB })) }));
      assert.equal(out.FunctionError, undefined);
      assert.equal(Buffer.from(out.Payload!).toString(), '"flooded"');
      const growth = memoryOf(pid).peak - baseline;
      process.stdout.write(`# server memory: ${(baseline / MiB).toFixed(1)} MiB before the flood, peak growth ${(growth / MiB).toFixed(1)} MiB\n`);
      assert.ok(growth < GROWTH_BOUND, `the server grew by ${(growth / MiB).toFixed(1)} MiB during the flood (bound ${GROWTH_BOUND / MiB} MiB)`);

      // The overflow is reported in the function's log group, in the invocation's own stream.
      const group = '/aws/lambda/flooder';
      const requestId = out.$metadata.requestId!;
      // The sink writes within 50 ms of the answer (a synchronous invoke does not wait for it).
      const dropped = await eventuallyAsync(
        () => logs.send(new FilterLogEventsCommand({ logGroupName: group, filterPattern: `LOGS_DROPPED "${requestId}"` })),
        (page) => (page.events?.length ?? 0) > 0,
        'the dropped output is reported',
      );
      assert.equal(dropped.events?.length, 1, 'one line reports the dropped output');
      const figure = /Dropped Bytes: (\d+)/.exec(dropped.events![0]!.message!);
      assert.equal(Number(figure?.[1]), FLOOD_BYTES - MAX_PHASE_LOG_BYTES, 'every byte past the limit is counted');

      // What was kept is the limit's worth of the function's lines, all of it read before END.
      const stream = (await logs.send(new DescribeLogStreamsCommand({ logGroupName: group }))).logStreams![0]!;
      const tail = await logs.send(new GetLogEventsCommand({ logGroupName: group, logStreamName: stream.logStreamName!, limit: 3 }));
      assert.deepEqual(
        tail.events!.map((e) => e.message!.split('\t')[0]!.split(' ')[0]),
        ['LOGS_DROPPED', 'END', 'REPORT'],
        'no output of the invocation lands after its END line',
      );
      const kept = await logs.send(new FilterLogEventsCommand({ logGroupName: group, filterPattern: 'xxxxxxxx', limit: 10_000 }));
      assert.ok((kept.events?.length ?? 0) > 0, 'the output up to the limit is stored');
    } finally {
      lambda.destroy();
    }
  });
});
