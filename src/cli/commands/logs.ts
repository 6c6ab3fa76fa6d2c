import {
  CloudWatchLogsClient,
  CloudWatchLogsServiceException,
  FilterLogEventsCommand,
  type FilteredLogEvent,
  type FilterLogEventsCommandInput,
} from '@aws-sdk/client-cloudwatch-logs';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadClientConfig, type ClientConfig } from '../../config/index.js';
import { parseCommand, UsageError } from '../args.js';
import { createSdkClient, unreachable } from '../client.js';
import type { Command } from './command.js';

const OPTIONS = {
  follow: { type: 'boolean', short: 'f' },
  since: { type: 'string' },
  filter: { type: 'string' },
} as const;

/** `aws logs tail` starts ten minutes back by default; so do we. */
const DEFAULT_SINCE = '10m';
const POLL_MS = 1000;
/**
 * Each poll asks again from a little before the newest event seen (and skips events already
 * printed): a batch of lines stored late, with older timestamps than another stream's, is still shown.
 */
const FOLLOW_OVERLAP_MS = 5000;

/**
 * `kindling logs <function>`: the function's log events from the CloudWatch Logs API
 * (FilterLogEvents on `/aws/lambda/<function>`), one line each, as `aws logs tail` prints them.
 */
export const logs: Command = {
  usage: ['logs <function> [--follow] [--since 10m|1h|30s|ISO time] [--filter PATTERN]', '[--endpoint URL] [--region R]'],
  summary: "print a function's logs",
  async run(argv) {
    const { values, positionals } = parseCommand(argv, OPTIONS, ['function']);
    const [name] = positionals as [string];
    const request: FilterLogEventsCommandInput = {
      logGroupName: `/aws/lambda/${name}`,
      startTime: parseSince(values.since ?? DEFAULT_SINCE, Date.now()),
      ...(values.filter === undefined ? {} : { filterPattern: values.filter }),
    };
    const config = loadClientConfig(values);
    const client = createLogsClient(config);
    const stop = new AbortController();
    const onSigint = () => stop.abort();
    process.on('SIGINT', onSigint);
    try {
      if (values.follow) await follow(client, request, stop.signal);
      else await printPages(client, request, stop.signal, new Map());
      return 0;
    } catch (err) {
      if (stop.signal.aborted) return 0;
      if (err instanceof CloudWatchLogsServiceException) {
        process.stderr.write(`kindling: ${err.name}: ${err.message}\n`);
        return 1;
      }
      throw unreachable(err, config.endpoint) ?? err;
    } finally {
      process.off('SIGINT', onSigint);
      client.destroy();
    }
  },
};

/** Polls every second until SIGINT, printing each event once. */
async function follow(client: CloudWatchLogsClient, request: FilterLogEventsCommandInput, signal: AbortSignal): Promise<void> {
  const printed = new Map<string, number>();
  const from = request.startTime ?? 0;
  for (;;) {
    const newest = await printPages(client, request, signal, printed);
    const startTime = Math.max(from, newest - FOLLOW_OVERLAP_MS);
    for (const [id, timestamp] of printed) if (timestamp < startTime) printed.delete(id);
    request = { ...request, startTime };
    await sleep(POLL_MS, undefined, { signal });
  }
}

/**
 * Prints every page of the request's events not printed before; returns the newest timestamp
 * printed so far (or the request's startTime).
 */
async function printPages(
  client: CloudWatchLogsClient,
  request: FilterLogEventsCommandInput,
  signal: AbortSignal,
  printed: Map<string, number>,
): Promise<number> {
  let newest = request.startTime ?? 0;
  let nextToken: string | undefined;
  do {
    const page = await client.send(new FilterLogEventsCommand({ ...request, ...(nextToken ? { nextToken } : {}) }), { abortSignal: signal });
    let out = '';
    for (const event of page.events ?? []) {
      const id = event.eventId ?? `${event.logStreamName}/${event.timestamp}/${event.message}`;
      if (printed.has(id)) continue;
      printed.set(id, event.timestamp ?? 0);
      newest = Math.max(newest, event.timestamp ?? 0);
      out += formatEvent(event);
    }
    if (out) process.stdout.write(out);
    nextToken = page.nextToken;
  } while (nextToken);
  for (const timestamp of printed.values()) newest = Math.max(newest, timestamp);
  return newest;
}

/** `<ISO time> <stream> <message>`, the detailed format of `aws logs tail`. */
export function formatEvent(event: FilteredLogEvent): string {
  const message = (event.message ?? '').replace(/\n+$/, '');
  return `${new Date(event.timestamp ?? 0).toISOString()} ${event.logStreamName ?? '-'} ${message}\n`;
}

const UNITS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `--since`: a number and one unit (s, m, h, d, w) back from now, or an ISO 8601 time; as `aws logs tail`. */
export function parseSince(value: string, now: number): number {
  const relative = /^(\d+)([smhdw])$/.exec(value);
  if (relative) return now - Number(relative[1]) * UNITS[relative[2]!]!;
  const time = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(time)) throw new UsageError(`--since must be like 10m, 1h, 30s or an ISO time (2024-05-01T12:00:00Z), got '${value}'`);
  return time;
}

function createLogsClient(config: ClientConfig): CloudWatchLogsClient {
  return createSdkClient(CloudWatchLogsClient, config);
}
