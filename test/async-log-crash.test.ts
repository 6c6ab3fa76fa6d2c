import { CreateFunctionCommand, InvokeCommand } from '@aws-sdk/client-lambda';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { zipFiles } from '../src/code/index.js';
import { crashServer, queuedEvents } from './support/crash.js';
import { clientFor, openTestStore, ROLE } from './support/kindling.js';
import { scratchDir, sharedFile } from './support/scratch.js';
import { spawnServe, type ServeProcess } from './support/serve-process.js';
import { eventually, eventuallyAsync, records } from './support/wait.js';

/** Logs a marker naming its request between two records: an `end` record means the marker was written. */
const MARKER = `
const fs = require('fs');
exports.handler = async (event, context) => {
  const line = (phase) => fs.appendFileSync(process.env.RECORD_FILE,
    JSON.stringify({ phase, id: context.awsRequestId, pid: process.pid }) + '\\n');
  line('start');
  console.log('marker ' + context.awsRequestId);
  line('end');
  return 'ok';
};
`;

interface Line {
  phase: 'start' | 'end';
  id: string;
  pid: number;
}

const ROUNDS = 6;
const EVENTS_PER_ROUND = 30;
/** Events that end in a round before the kill: the kill lands while others are still ending. */
const ENDS_BEFORE_KILL = 8;
/** Leases of 1 s: what a killed round held in flight runs again in the next round, not 30 s later. */
const SERVE_ARGS = ['--pollers', '4', '--poller-batch-size', '2', '--visibility-timeout', '1'];



/** Every message stored in the function's log group, read from the database the server left. */
async function storedMessages(dataDir: string): Promise<string[]> {
  const store = await openTestStore(dataDir);
  try {
    const group = '/aws/lambda/marker';
    const messages: string[] = [];
    for (const s of await store.logs.listStreams(group)) {
      messages.push(...(await store.logs.getEvents(group, s.logStreamName, { limit: 1_000_000 })).map((e) => e.message));
    }
    return messages;
  } finally {
    await store.close();
  }
}

describe('an event’s log is durable before the event is settled', () => {
  let work: string;
  before(() => {
    work = scratchDir('kindling-logcrash-');
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('kill -9 in a loop while events complete: every accepted event ran again or has its log stored', async () => {
    const dataDir = join(work, 'data');
    const record = sharedFile(join(work, 'record.jsonl'));
    const ends = () => records<Line>(record).filter((l) => l.phase === 'end').length;
    const accepted: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const serve = await spawnServe(['--data-dir', dataDir, ...SERVE_ARGS]);
      const lambda = clientFor(serve.url);
      try {
        if (round === 0) {
          await lambda.send(
            new CreateFunctionCommand({
              FunctionName: 'marker',
              Runtime: 'nodejs20.x',
              Handler: 'index.handler',
              Role: ROLE,
              Code: { ZipFile: await zipFiles({ 'index.js': MARKER }) },
              Environment: { Variables: { RECORD_FILE: record } },
            }),
          );
        }
        const before = ends();
        const sent = await Promise.all(
          Array.from({ length: EVENTS_PER_ROUND }, async () => {
            const out = await lambda.send(new InvokeCommand({ FunctionName: 'marker', InvocationType: 'Event', Payload: Buffer.from('{}') }));
            assert.equal(out.StatusCode, 202);
            return out.$metadata.requestId!;
          }),
        );
        accepted.push(...sent);
        await eventually(() => ends() - before >= ENDS_BEFORE_KILL, `events of round ${round} completed`);
      } finally {
        lambda.destroy();
        await crashServer(serve, record);
      }
    }

    // A last, clean run: whatever the crashes left queued runs now, and a clean stop writes its log.
    const serve = await spawnServe(['--data-dir', dataDir, ...SERVE_ARGS]);
    try {
      await eventuallyAsync(() => queuedEvents(serve.url, 'marker'), (n) => n === 0, 'the queue is empty', 30_000);
    } finally {
      serve.child.kill('SIGTERM');
      await serve.exited;
    }

    const logged = new Set((await storedMessages(dataDir)).flatMap((m) => /marker (\S+)$/.exec(m)?.[1] ?? []));
    const lost = accepted.filter((id) => !logged.has(id));
    assert.deepEqual(lost, [], `${lost.length} of ${accepted.length} accepted events were settled without their log`);
  });
});
