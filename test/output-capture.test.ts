import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { LineSplitter, LogSink, MAX_EVENT_BYTES, OutputCapture, SINK_BUDGET_BYTES } from '../src/logs/index.js';
import { createLogger, systemClock } from '../src/shared/index.js';
import { SqliteStore } from '../src/store/index.js';

function split(chunks: Buffer[]): string[] {
  const lines: string[] = [];
  const splitter = new LineSplitter((line) => lines.push(line));
  for (const chunk of chunks) splitter.push(chunk);
  splitter.end();
  return lines;
}

describe('LineSplitter', () => {
  it('keeps a character that arrives in two reads whole', () => {
    const bytes = Buffer.from('héllo €uro\n');
    const cut = bytes.indexOf(0xe2) + 1; // inside the euro sign's three bytes
    assert.deepEqual(split([bytes.subarray(0, cut), bytes.subarray(cut)]), ['héllo €uro']);
  });

  it('cuts a long line at CloudWatch’s limit in bytes, on a character boundary', () => {
    const line = 'é'.repeat(MAX_EVENT_BYTES); // two bytes each: two events' worth and more
    const events = split([Buffer.from(line + '\n')]);
    assert.ok(events.every((e) => Buffer.byteLength(e) <= MAX_EVENT_BYTES), 'no event past the limit');
    assert.equal(events.join(''), line, 'nothing lost or broken at the cuts');
    assert.equal(events.length, 2);
  });

  it('turns a runtime’s \\r back into newlines inside one event', () => {
    assert.deepEqual(split([Buffer.from('one\rtwo\nthree')]), ['one\ntwo', 'three']);
  });
});

describe('OutputCapture', () => {
  let dir: string;
  let store: SqliteStore;
  let sink: LogSink;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kindling-capture-'));
    store = new SqliteStore(join(dir, 'kindling.db'));
    sink = new LogSink({ store, clock: systemClock, logger: createLogger('error') });
  });
  after(async () => {
    await sink.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores a phase’s output up to its limit and reports the bytes past it', async () => {
    const lines: string[] = [];
    const capture = new OutputCapture({ sink, onLine: (line) => lines.push(line), limitBytes: 10 });
    const stdout = new PassThrough();
    capture.attach(stdout);
    capture.enter({ kind: 'invoke', requestId: 'r-1' });
    stdout.write('12345\n67890abcdef\n');
    await capture.caughtUp();
    capture.enter({ kind: 'idle' });
    assert.deepEqual(lines, ['12345', '6789', 'LOGS_DROPPED RequestId: r-1\tPhase: invoke\tDropped Bytes: 8\tLimit: 10 bytes\t']);
  });

  it('counts Init’s output and the output between invocations against limits of their own', async () => {
    const lines: string[] = [];
    const capture = new OutputCapture({ sink, onLine: (line) => lines.push(line), limitBytes: 4 });
    const stderr = new PassThrough();
    capture.attach(stderr);
    stderr.write('init chatter\n');
    await capture.caughtUp();
    capture.enter({ kind: 'idle' });
    stderr.write('background\n');
    await capture.caughtUp();
    capture.enter({ kind: 'invoke', requestId: 'r-2' });
    assert.deepEqual(lines, [
      'init',
      'LOGS_DROPPED Phase: init\tDropped Bytes: 9\tLimit: 4 bytes\t',
      'back',
      'LOGS_DROPPED Phase: idle\tDropped Bytes: 7\tLimit: 4 bytes\t',
    ]);
  });

  it('stops reading a pipe while the sink is over its budget, and reads on once it is written', async () => {
    const capture = new OutputCapture({ sink, onLine: (line) => sink.write('/aws/lambda/flood', 's', Date.now(), line) });
    const stdout = new PassThrough({ highWaterMark: 64 * 1024 });
    capture.attach(stdout);
    const line = Buffer.from('x'.repeat(64 * 1024 - 1) + '\n');
    // Written until the stream itself pushes back: the capture paused it once the sink was full.
    let written = 0;
    while (written < 16 * SINK_BUDGET_BYTES && stdout.write(line)) written += line.length;
    assert.ok(sink.full, 'the sink is over its budget');
    assert.ok(written < SINK_BUDGET_BYTES + 4 * line.length, `the pipe pushed back after ${written} bytes`);
    await capture.caughtUp();
    assert.ok(!sink.full, 'caught up: the sink was written and the stream read on');
    assert.ok((await store.logs.getEvents('/aws/lambda/flood', 's')).length > 0);
  });
});
