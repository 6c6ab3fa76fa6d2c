import {
  CloudWatchLogsClient,
  DescribeLogGroupsCommand,
  DescribeLogStreamsCommand,
  FilterLogEventsCommand,
  GetLogEventsCommand,
  InvalidParameterException,
  paginateGetLogEvents,
  ResourceNotFoundException,
  type FilteredLogEvent,
  type FilterLogEventsCommandInput,
  type LogStream,
} from '@aws-sdk/client-cloudwatch-logs';
import { CreateFunctionCommand, InvokeCommand } from '@aws-sdk/client-lambda';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseSince } from '../src/cli/commands/logs.js';
import { zipFiles } from '../src/code/index.js';
import { LogQueryService, RESPONSE_BYTES } from '../src/logs/index.js';
import { SqliteStore } from '../src/store/index.js';
import { ROLE, startTestServer, type TestServer } from './support/kindling.js';

const AWS = '/usr/bin/aws';
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const CHATTY = '/aws/lambda/chatty';
const SOLO = '/aws/lambda/solo';
const LINES = ['alpha ready', 'ERROR kaboom happened', 'WARN disk nearly full', 'user said hello world', 'hello there world'];
const HANDLER = `exports.handler = async (e) => {
  for (const line of e.lines || []) console.log(line);
  if (e.ms) await new Promise((resolve) => setTimeout(resolve, e.ms));
  return 'ok';
};
`;
const STREAM_NAME = /^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/;

/** Collects a child's stdout; `until` resolves once it contains a text, fails at exit or the deadline. */
function watch(child: ChildProcess) {
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    exited,
    output: () => out,
    until(text: string, timeoutMs: number): Promise<void> {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!out.includes(text)) return;
          done();
          resolve();
        };
        const fail = (why: string) => {
          done();
          reject(new Error(`${why} before '${text}' appeared.\nstdout:\n${out}\nstderr:\n${err}`));
        };
        const timer = setTimeout(() => fail(`${timeoutMs} ms passed`), timeoutMs);
        const onExit = () => fail('the process exited');
        const done = () => {
          clearTimeout(timer);
          child.stdout?.off('data', check);
          child.off('exit', onExit);
        };
        child.stdout?.on('data', check);
        child.once('exit', onExit);
        check();
      });
    },
  };
}

describe('the CloudWatch Logs API', () => {
  let server: TestServer;
  let logs: CloudWatchLogsClient;

  const invoke = async (name: string, payload: unknown) => {
    const out = await server.lambda.send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from(JSON.stringify(payload)) }));
    assert.equal(out.FunctionError, undefined);
  };
  /** Invokes, then writes the sink's pending lines to the store (it would within 50 ms anyway). */
  const logged = async (name: string, payload: unknown) => {
    await invoke(name, payload);
    await server.kindling.logs.flush();
  };
  const filterAll = async (input: FilterLogEventsCommandInput) => {
    const events: FilteredLogEvent[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const page = await logs.send(new FilterLogEventsCommand({ ...input, ...(nextToken ? { nextToken } : {}) }));
      events.push(...(page.events ?? []));
      nextToken = page.nextToken;
      assert.ok(++pages < 1000, 'paging ends');
    } while (nextToken);
    return { events, pages };
  };
  const streamsOf = async (group: string) => (await logs.send(new DescribeLogStreamsCommand({ logGroupName: group }))).logStreams ?? [];
  const ends = (suffix: string) => (event: { message?: string }) => event.message?.endsWith(`\tINFO\t${suffix}`) ?? false;

  before(async () => {
    server = await startTestServer({ idleTimeoutMs: 60_000 });
    for (const name of ['chatty', 'solo', 'quiet']) {
      await server.lambda.send(
        new CreateFunctionCommand({
          FunctionName: name,
          Runtime: 'nodejs20.x',
          Handler: 'index.handler',
          Role: ROLE,
          Code: { ZipFile: await zipFiles({ 'index.js': HANDLER }) },
        }),
      );
    }
    await logged('chatty', { lines: LINES });
    // Two at once: the second needs an environment of its own, so a second log stream.
    await Promise.all([invoke('chatty', { lines: ['concurrent one'], ms: 300 }), invoke('chatty', { lines: ['concurrent two'], ms: 300 })]);
    for (let i = 0; i < 3; i++) await invoke('solo', { lines: [`solo ${i}`] });
    await server.kindling.logs.flush();
    logs = new CloudWatchLogsClient({
      endpoint: server.kindling.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
  });
  after(async () => {
    logs.destroy();
    await server.close();
  });

  describe('through the AWS SDK', () => {
    it('DescribeLogGroups lists the functions’ groups by prefix, a page at a time', async () => {
      const out = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/aws/lambda/ch' }));
      assert.equal(out.nextToken, undefined);
      assert.equal(out.logGroups?.length, 1);
      const group = out.logGroups[0]!;
      assert.equal(group.logGroupName, CHATTY);
      assert.equal(group.arn, `arn:aws:logs:us-east-1:000000000000:log-group:${CHATTY}:*`);
      assert.equal(group.logGroupArn, `arn:aws:logs:us-east-1:000000000000:log-group:${CHATTY}`);
      assert.equal(group.metricFilterCount, 0);
      assert.equal(group.logGroupClass, 'STANDARD');
      assert.ok((group.storedBytes ?? 0) > LINES.join('').length);
      assert.ok(Math.abs((group.creationTime ?? 0) - Date.now()) < 60_000);

      const names: string[] = [];
      let nextToken: string | undefined;
      do {
        const page = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/aws/lambda/', limit: 1, ...(nextToken ? { nextToken } : {}) }));
        assert.equal(page.logGroups?.length, 1);
        names.push(page.logGroups[0]!.logGroupName!);
        nextToken = page.nextToken;
      } while (nextToken);
      // `quiet` was never invoked: no group.
      assert.deepEqual(names, [CHATTY, SOLO]);

      await assert.rejects(logs.send(new DescribeLogGroupsCommand({ limit: 51 })), InvalidParameterException);
    });

    it('DescribeLogStreams: a stream per environment, Lambda’s names, ordered and paged', async () => {
      const streams = await streamsOf(CHATTY);
      assert.ok(streams.length >= 2, `two environments, two streams: ${JSON.stringify(streams)}`);
      for (const stream of streams) {
        assert.match(stream.logStreamName!, STREAM_NAME);
        assert.equal(stream.arn, `arn:aws:logs:us-east-1:000000000000:log-group:${CHATTY}:log-stream:${stream.logStreamName}`);
        assert.ok(stream.firstEventTimestamp! <= stream.lastEventTimestamp!);
        assert.ok(stream.lastIngestionTime! >= stream.lastEventTimestamp!);
        assert.ok(stream.creationTime! <= stream.firstEventTimestamp!);
        assert.ok(stream.storedBytes! > 0);
        assert.equal(typeof stream.uploadSequenceToken, 'string');
      }
      const names = streams.map((s) => s.logStreamName!);
      assert.deepEqual(names, [...names].sort());

      const paged: string[] = [];
      let nextToken: string | undefined;
      do {
        const page = await logs.send(new DescribeLogStreamsCommand({ logGroupName: CHATTY, limit: 1, ...(nextToken ? { nextToken } : {}) }));
        paged.push(...(page.logStreams ?? []).map((s) => s.logStreamName!));
        nextToken = page.nextToken;
      } while (nextToken);
      assert.deepEqual(paged, names);

      const byName = await logs.send(new DescribeLogStreamsCommand({ logGroupName: CHATTY, descending: true }));
      assert.deepEqual(byName.logStreams?.map((s) => s.logStreamName), [...names].reverse());
      const byTime = await logs.send(new DescribeLogStreamsCommand({ logGroupName: CHATTY, orderBy: 'LastEventTime', descending: true }));
      const times = (byTime.logStreams ?? []).map((s) => s.lastEventTimestamp!);
      assert.equal(times.length, names.length);
      assert.deepEqual(times, [...times].sort((a, b) => b - a));

      const byArn = await logs.send(new DescribeLogStreamsCommand({ logGroupIdentifier: `arn:aws:logs:us-east-1:000000000000:log-group:${CHATTY}` }));
      assert.deepEqual(byArn.logStreams?.map((s) => s.logStreamName), names);
      const byPrefix = await logs.send(new DescribeLogStreamsCommand({ logGroupName: CHATTY, logStreamNamePrefix: names[1] }));
      assert.deepEqual(byPrefix.logStreams?.map((s) => s.logStreamName), [names[1]]);

      await assert.rejects(
        logs.send(new DescribeLogStreamsCommand({ logGroupName: CHATTY, orderBy: 'LastEventTime', logStreamNamePrefix: '2' })),
        InvalidParameterException,
      );
      await assert.rejects(logs.send(new DescribeLogStreamsCommand({ logGroupName: '/aws/lambda/quiet' })), ResourceNotFoundException);
    });

    it('GetLogEvents pages forward from the head until the token repeats, each event once', async () => {
      const streams = await streamsOf(SOLO);
      assert.equal(streams.length, 1, 'sequential invokes reuse one environment');
      const stream = streams[0]!.logStreamName!;
      const stored = (await server.kindling.store.logs.getEvents(SOLO, stream)).map((e) => e.message);

      const seen: string[] = [];
      let token: string | undefined;
      let pages = 0;
      for (;;) {
        const page = await logs.send(
          new GetLogEventsCommand({ logGroupName: SOLO, logStreamName: stream, startFromHead: true, limit: 2, ...(token ? { nextToken: token } : {}) }),
        );
        assert.ok((page.events?.length ?? 0) <= 2);
        seen.push(...(page.events ?? []).map((e) => e.message!));
        assert.match(page.nextForwardToken!, /^f\//);
        assert.match(page.nextBackwardToken!, /^b\//);
        if (page.nextForwardToken === token) break;
        token = page.nextForwardToken;
        assert.ok(++pages < 100, 'the forward token settles at the end');
      }
      assert.deepEqual(seen, stored);
      assert.equal(seen.filter((m) => m.startsWith('START RequestId: ')).length, 3);
      assert.equal(seen.filter((m) => m.startsWith('END RequestId: ')).length, 3);
      assert.equal(seen.filter((m) => m.startsWith('REPORT RequestId: ')).length, 3);
      for (let i = 0; i < 3; i++) assert.equal(seen.filter((m) => m.endsWith(`\tINFO\tsolo ${i}`)).length, 1);

      // So does the SDK's own paginator, told to stop on a repeated token (as it must be for GetLogEvents).
      const viaPaginator: string[] = [];
      let paginated = 0;
      for await (const page of paginateGetLogEvents({ client: logs, pageSize: 3, stopOnSameToken: true }, { logGroupName: SOLO, logStreamName: stream, startFromHead: true })) {
        viaPaginator.push(...(page.events ?? []).map((e) => e.message!));
        assert.ok(++paginated < 100, 'the paginator stops');
      }
      assert.deepEqual(viaPaginator, stored);

      // The token at the end still points there when new events arrive: it reads just those.
      await logged('solo', { lines: ['solo late'] });
      const fresh = await logs.send(new GetLogEventsCommand({ logGroupName: SOLO, logStreamName: stream, startFromHead: true, nextToken: token }));
      const messages = (fresh.events ?? []).map((e) => e.message!);
      assert.equal(messages.length, 4, messages.join('\n'));
      assert.match(messages[0]!, /^START RequestId: /);
      assert.match(messages[1]!, /\tINFO\tsolo late$/);
      assert.match(messages[2]!, /^END RequestId: /);
      assert.match(messages[3]!, /^REPORT RequestId: /);
    });

    it('GetLogEvents without a token reads the newest events, and backward tokens page back', async () => {
      const stream = (await streamsOf(SOLO))[0]!.logStreamName!;
      const stored = (await server.kindling.store.logs.getEvents(SOLO, stream));
      const tail = await logs.send(new GetLogEventsCommand({ logGroupName: SOLO, logStreamName: stream, limit: 2 }));
      assert.deepEqual(
        tail.events?.map((e) => e.message),
        stored.slice(-2).map((e) => e.message),
      );

      let collected = tail.events?.map((e) => e.message!) ?? [];
      let token = tail.nextBackwardToken!;
      for (let pages = 0; ; pages++) {
        assert.ok(pages < 100, 'the backward token settles at the start');
        const page = await logs.send(new GetLogEventsCommand({ logGroupName: SOLO, logStreamName: stream, limit: 3, nextToken: token }));
        collected = [...(page.events ?? []).map((e) => e.message!), ...collected];
        if (page.nextBackwardToken === token) break;
        token = page.nextBackwardToken!;
      }
      assert.deepEqual(collected, stored.map((e) => e.message));

      // startTime is inclusive, endTime exclusive (GetLogEvents' rule).
      const first = stored[0]!.timestamp;
      const last = stored[stored.length - 1]!.timestamp;
      const ranged = await logs.send(new GetLogEventsCommand({ logGroupName: SOLO, logStreamName: stream, startFromHead: true, startTime: first, endTime: last }));
      assert.deepEqual(
        ranged.events?.map((e) => e.message),
        stored.filter((e) => e.timestamp >= first && e.timestamp < last).map((e) => e.message),
      );
      assert.ok((ranged.events?.length ?? 0) < stored.length);

      await assert.rejects(logs.send(new GetLogEventsCommand({ logGroupName: SOLO, logStreamName: 'no/such/stream' })), ResourceNotFoundException);
      await assert.rejects(logs.send(new GetLogEventsCommand({ logGroupName: SOLO, logStreamName: stream, nextToken: 'x/abc' })), InvalidParameterException);
      await assert.rejects(logs.send(new GetLogEventsCommand({ logGroupName: SOLO, logStreamName: stream, limit: 10_001 })), InvalidParameterException);
    });

    it('FilterLogEvents matches terms, phrases, any-of and exclusions', async () => {
      const messages = async (filterPattern: string) =>
        (await filterAll({ logGroupName: CHATTY, filterPattern })).events.map((e) => e.message!.split('\t').pop());
      assert.deepEqual(await messages('kaboom'), ['ERROR kaboom happened']);
      assert.deepEqual(await messages('ERROR'), ['ERROR kaboom happened']);
      assert.deepEqual(await messages('"hello world"'), ['user said hello world']);
      assert.deepEqual(await messages('hello world'), ['user said hello world', 'hello there world']);
      assert.deepEqual(await messages('?kaboom ?disk'), ['ERROR kaboom happened', 'WARN disk nearly full']);
      assert.deepEqual(await messages('world -there'), ['user said hello world']);
      assert.equal((await messages('"RequestId: "')).length, 9, 'START, END and REPORT of three invocations');

      const { events } = await filterAll({ logGroupName: CHATTY, filterPattern: 'kaboom' });
      const event = events[0]!;
      assert.match(event.logStreamName!, STREAM_NAME);
      assert.match(event.eventId!, /^\d+$/);
      assert.ok(event.ingestionTime! >= event.timestamp!);

      await assert.rejects(logs.send(new FilterLogEventsCommand({ logGroupName: CHATTY, filterPattern: '{ $.level = "ERROR" }' })), {
        name: 'InvalidParameterException',
        message: /JSON filter patterns/,
      });
    });

    it('FilterLogEvents narrows by time range and by streams', async () => {
      const all = (await filterAll({ logGroupName: CHATTY })).events;
      assert.equal(all.length, 3 * 3 + LINES.length + 2, 'START, END, REPORT of three invocations and their lines');
      const timestamps = all.map((e) => e.timestamp!);
      assert.deepEqual(timestamps, [...timestamps].sort((a, b) => a - b), 'oldest first, across streams');

      const start = all[2]!.timestamp!;
      const end = all[all.length - 3]!.timestamp!;
      const ranged = (await filterAll({ logGroupName: CHATTY, startTime: start, endTime: end })).events;
      assert.deepEqual(
        ranged.map((e) => e.eventId),
        all.filter((e) => e.timestamp! >= start && e.timestamp! <= end).map((e) => e.eventId),
      );
      assert.ok(ranged.length < all.length);

      const streams: LogStream[] = await streamsOf(CHATTY);
      const chosen = all.find(ends('concurrent two'))!.logStreamName!;
      assert.ok(streams.some((s) => s.logStreamName === chosen));
      const fromOne = (await filterAll({ logGroupName: CHATTY, logStreamNames: [chosen] })).events;
      assert.deepEqual(
        fromOne.map((e) => e.eventId),
        all.filter((e) => e.logStreamName === chosen).map((e) => e.eventId),
      );
      assert.ok(fromOne.length < all.length);
      assert.ok(!fromOne.some(ends('concurrent one')), 'the other invocation ran in the other environment');
      const byPrefix = (await filterAll({ logGroupName: CHATTY, logStreamNamePrefix: chosen })).events;
      assert.deepEqual(byPrefix.map((e) => e.eventId), fromOne.map((e) => e.eventId));
      assert.deepEqual((await filterAll({ logGroupName: CHATTY, logStreamNames: ['2020/01/01/[$LATEST]none'] })).events, []);

      await assert.rejects(
        logs.send(new FilterLogEventsCommand({ logGroupName: CHATTY, logStreamNames: [chosen], logStreamNamePrefix: '2' })),
        InvalidParameterException,
      );
    });

    it('FilterLogEvents pages with limit 2 through every event exactly once', async () => {
      const all = (await filterAll({ logGroupName: CHATTY })).events;
      const paged = await filterAll({ logGroupName: CHATTY, limit: 2 });
      assert.deepEqual(paged.events.map((e) => e.eventId), all.map((e) => e.eventId));
      assert.equal(paged.pages, Math.ceil(all.length / 2));

      // Newest first with startFromHead false, the direction kept by the token.
      const backwards = await filterAll({ logGroupName: CHATTY, limit: 3, startFromHead: false });
      assert.deepEqual(backwards.events.map((e) => e.eventId), all.map((e) => e.eventId).reverse());

      const byArn = await filterAll({ logGroupIdentifier: `arn:aws:logs:us-east-1:000000000000:log-group:${CHATTY}:*`, limit: 5 });
      assert.deepEqual(byArn.events.map((e) => e.eventId), all.map((e) => e.eventId));
    });

    it('FilterLogEvents tokens stay right while new events arrive', async () => {
      const before = (await filterAll({ logGroupName: SOLO })).events;
      const first = await logs.send(new FilterLogEventsCommand({ logGroupName: SOLO, limit: 2 }));
      assert.ok(first.nextToken);
      await logged('solo', { lines: ['solo after the token'] });
      const rest = await filterAll({ logGroupName: SOLO, limit: 2, nextToken: first.nextToken });
      const ids = [...(first.events ?? []), ...rest.events].map((e) => e.eventId);
      assert.equal(new Set(ids).size, ids.length, 'no event twice');
      assert.deepEqual(ids.slice(0, before.length), before.map((e) => e.eventId));
      const added = [...(first.events ?? []), ...rest.events].slice(before.length);
      assert.equal(added.length, 4);
      assert.ok(added.some(ends('solo after the token')));
    });

    it('answers errors in the awsJson1_1 shape', async () => {
      const missing = await logs.send(new FilterLogEventsCommand({ logGroupName: '/aws/lambda/quiet' })).catch((err: unknown) => err);
      assert.ok(missing instanceof ResourceNotFoundException);
      assert.equal(missing.message, 'The specified log group does not exist.');
      assert.equal(missing.$metadata.httpStatusCode, 400);
      await assert.rejects(logs.send(new FilterLogEventsCommand({ logGroupName: CHATTY, nextToken: 'not a token' })), InvalidParameterException);
      await assert.rejects(logs.send(new FilterLogEventsCommand({ logGroupName: CHATTY, limit: 0 })), InvalidParameterException);
      await assert.rejects(
        logs.send(new FilterLogEventsCommand({ logGroupName: CHATTY, logGroupIdentifier: CHATTY })),
        InvalidParameterException,
      );
      await assert.rejects(
        logs.send(new FilterLogEventsCommand({ logGroupIdentifier: `arn:aws:logs:eu-west-1:000000000000:log-group:${CHATTY}` })),
        ResourceNotFoundException,
      );

      const unknown = await fetch(server.kindling.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'Logs_20140328.PutLogEvents' },
        body: '{}',
      });
      assert.equal(unknown.status, 400);
      assert.equal(unknown.headers.get('content-type'), 'application/x-amz-json-1.1');
      assert.equal(((await unknown.json()) as { __type: string }).__type, 'UnknownOperationException');
      const badType = await fetch(server.kindling.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'Logs_20140328.FilterLogEvents' },
        body: JSON.stringify({ logGroupName: CHATTY, limit: 'ten' }),
      });
      assert.equal(badType.status, 400);
      assert.deepEqual(await badType.json(), { __type: 'InvalidParameterException', message: 'limit must be a number.' });
    });
  });

  describe('aws logs tail (AWS CLI v2)', { skip: existsSync(AWS) ? false : `${AWS} is not installed (Debian package awscli)` }, () => {
    let home: string;
    const env = () => ({
      PATH: process.env['PATH'] ?? '',
      HOME: home,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_PAGER: '',
      // The CLI prints through Python's stdout, block-buffered on a pipe.
      PYTHONUNBUFFERED: '1',
    });
    before(() => {
      home = mkdtempSync(join(tmpdir(), 'kindling-awslogs-'));
    });
    after(() => rmSync(home, { recursive: true, force: true }));

    it('--since 1h prints the function’s lines with their streams', async () => {
      const { stdout } = await promisify(execFile)(AWS, ['--endpoint-url', server.kindling.url, 'logs', 'tail', CHATTY, '--since', '1h'], { env: env() });
      for (const line of LINES) assert.match(stdout, new RegExp(`^\\S+ \\d{4}/\\d{2}/\\d{2}/\\[\\$LATEST\\][0-9a-f]{32} \\S+\\t\\S+\\tINFO\\t${line}$`, 'm'));
      assert.equal(stdout.match(/ START RequestId: /g)?.length, 3);
    });

    it('--follow shows a line logged after it started', async () => {
      const child = spawn(AWS, ['--endpoint-url', server.kindling.url, 'logs', 'tail', CHATTY, '--since', '1h', '--follow'], { env: env() });
      const out = watch(child);
      try {
        await out.until('ERROR kaboom happened', 30_000);
        await logged('chatty', { lines: ['followed by the aws cli'] });
        // The CLI polls every 5 seconds.
        await out.until('followed by the aws cli', 30_000);
      } finally {
        child.kill('SIGINT');
        await out.exited;
      }
      assert.equal(out.output().split('followed by the aws cli').length, 2, 'printed once');
    });
  });

  describe('kindling logs', () => {
    const kindling = (args: readonly string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(process.execPath, [CLI, ...args, '--endpoint', server.kindling.url], { env: {}, encoding: 'utf8' }, (err, stdout, stderr) => {
          resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr });
        });
      });

    it('prints the function’s events as <time> <stream> <message>', async () => {
      const run = await kindling(['logs', 'chatty']);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stderr, '');
      const lines = run.stdout.split('\n');
      assert.equal(lines.pop(), '');
      const all = (await filterAll({ logGroupName: CHATTY, startTime: Date.now() - 600_000 })).events;
      assert.equal(lines.length, all.length);
      lines.forEach((line, i) => {
        const event = all[i]!;
        assert.equal(line, `${new Date(event.timestamp!).toISOString()} ${event.logStreamName} ${event.message}`);
      });
      for (const text of LINES) assert.ok(lines.some((line) => line.endsWith(`\tINFO\t${text}`)), text);
    });

    it('--filter narrows by a filter pattern, --since sets the start', async () => {
      const kaboom = await kindling(['logs', 'chatty', '--filter', 'kaboom']);
      assert.equal(kaboom.code, 0, kaboom.stderr);
      assert.match(kaboom.stdout, /^\S+Z \S+ \S+\t\S+\tINFO\tERROR kaboom happened\n$/);
      const phrase = await kindling(['logs', 'chatty', '--filter', '"hello world"', '--since', '1h']);
      assert.equal(phrase.stdout.trimEnd().split('\n').length, 1);
      assert.match(phrase.stdout, /user said hello world/);
      const future = await kindling(['logs', 'chatty', '--since', new Date(Date.now() + 3_600_000).toISOString()]);
      assert.equal(future.code, 0, future.stderr);
      assert.equal(future.stdout, '');
    });

    it('exits 1 naming ResourceNotFoundException for a function without logs, 2 for a bad --since', async () => {
      const missing = await kindling(['logs', 'quiet']);
      assert.equal(missing.code, 1);
      assert.equal(missing.stderr, 'kindling: ResourceNotFoundException: The specified log group does not exist.\n');
      const bad = await kindling(['logs', 'chatty', '--since', 'yesterday']);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--since must be like 10m/);
    });

    it('--follow shows a line logged after it started, and stops on SIGINT', async () => {
      const child = spawn(process.execPath, [CLI, 'logs', 'chatty', '--follow', '--endpoint', server.kindling.url], { env: {} });
      const out = watch(child);
      try {
        await out.until('ERROR kaboom happened', 10_000);
        await logged('chatty', { lines: ['followed by kindling'] });
        // It polls every second.
        await out.until('followed by kindling', 10_000);
      } finally {
        child.kill('SIGINT');
      }
      assert.equal(await out.exited, 0);
      assert.equal(out.output().split('followed by kindling').length, 2, 'printed once');
      assert.equal(out.output().split('ERROR kaboom happened').length, 2, 'earlier lines not printed again');
    });
  });
});

describe('LogQueryService limits', () => {
  let store: SqliteStore;
  let service: LogQueryService;
  const T0 = 1_700_000_000_000;
  before(() => {
    store = new SqliteStore(':memory:');
    service = new LogQueryService({ logs: store.logs, partition: { region: 'us-east-1', accountId: '000000000000' } });
  });
  after(() => store.close());

  it('FilterLogEvents stops after examining 50,000 events, with a nextToken, and pages on to the end', async () => {
    const events = Array.from({ length: 60_000 }, (_, i) => ({ timestamp: T0 + i, message: `line ${i}` }));
    await store.logs.append([{ group: 'many', stream: 's', events }], T0 + 60_000);
    const first = await service.filterLogEvents({ logGroupName: 'many', filterPattern: '"line 59999"' });
    assert.deepEqual(first.events, []);
    assert.ok(first.nextToken, 'an empty page that says to go on');
    const second = await service.filterLogEvents({ logGroupName: 'many', filterPattern: '"line 59999"', nextToken: first.nextToken });
    assert.deepEqual(second.events.map((e) => e.message), ['line 59999']);
    assert.equal(second.nextToken, undefined);
  });

  it('a response holds at most 1 MB of events, whatever the limit', async () => {
    const big = 200 * 1024;
    const events = Array.from({ length: 6 }, (_, i) => ({ timestamp: T0 + i, message: `${i}`.padEnd(big, 'x') }));
    await store.logs.append([{ group: 'big', stream: 's', events }], T0 + 10);
    const fits = Math.floor(RESPONSE_BYTES / (big + 26));
    assert.equal(fits, 5);

    const first = await service.filterLogEvents({ logGroupName: 'big' });
    assert.deepEqual(first.events.map((e) => e.message[0]), ['0', '1', '2', '3', '4']);
    const second = await service.filterLogEvents({ logGroupName: 'big', nextToken: first.nextToken });
    assert.deepEqual(second.events.map((e) => e.message[0]), ['5']);
    assert.equal(second.nextToken, undefined);

    const head = await service.getLogEvents({ logGroupName: 'big', logStreamName: 's', startFromHead: true });
    assert.equal(head.events.length, fits);
    const rest = await service.getLogEvents({ logGroupName: 'big', logStreamName: 's', nextToken: head.nextForwardToken });
    assert.deepEqual(rest.events.map((e) => e.message[0]), ['5']);
    // Newest first when reading back from the end: the 1 MB are the latest events.
    const tail = await service.getLogEvents({ logGroupName: 'big', logStreamName: 's' });
    assert.deepEqual(tail.events.map((e) => e.message[0]), ['1', '2', '3', '4', '5']);
  });
});

describe('kindling logs --since', () => {
  const now = Date.parse('2024-05-01T12:00:00Z');
  it('takes a number and a unit back from now', () => {
    assert.equal(parseSince('30s', now), now - 30_000);
    assert.equal(parseSince('10m', now), now - 600_000);
    assert.equal(parseSince('1h', now), now - 3_600_000);
    assert.equal(parseSince('2d', now), now - 2 * 86_400_000);
    assert.equal(parseSince('1w', now), now - 7 * 86_400_000);
  });

  it('takes an ISO 8601 time', () => {
    assert.equal(parseSince('2024-04-30T08:30:00Z', now), Date.parse('2024-04-30T08:30:00Z'));
    assert.equal(parseSince('2024-04-30T08:30:00.250+02:00', now), Date.parse('2024-04-30T06:30:00.250Z'));
  });

  it('refuses anything else', () => {
    for (const bad of ['', '10', 'm', '5h30m', '1y', 'yesterday', '2024-13-45']) assert.throws(() => parseSince(bad, now), /--since must be/);
  });
});
