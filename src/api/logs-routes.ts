import { InvalidParameterException, type LogQueryService } from '../logs/index.js';
import { LambdaServiceError, UnknownOperationException } from '../shared/index.js';
import { readJson, sendJson, sendJsonProtocolError } from './http-io.js';
import { onLogs } from './route-access.js';
import type { Router } from './router.js';

/** CloudWatch Logs' JSON protocol (awsJson1_1): the operation is named by this header, not the path. */
const TARGET_PREFIX = 'Logs_20140328.';
const CONTENT_TYPE = 'application/x-amz-json-1.1';
/** The read operations' requests are small; CloudWatch's own cap on PutLogEvents is 1 MB. */
const REQUEST_LIMIT = 1024 * 1024;

type Members = Record<string, unknown>;

/**
 * The CloudWatch Logs API on Lambda's port: `POST /` with `X-Amz-Target: Logs_20140328.<Op>`.
 * Errors take this protocol's shape, HTTP 400 and `{"__type", "message"}`, not Lambda's.
 */
export function logsRoutes(router: Router, logs: LogQueryService): void {
  // Each operation reads the caller's account's groups only (no account sees another's logs).
  const operations: Readonly<Record<string, (body: Members, account: string) => Promise<unknown>>> = {
    DescribeLogGroups: (body, account) =>
      logs.describeLogGroups({
        logGroupNamePrefix: string(body, 'logGroupNamePrefix'),
        limit: number(body, 'limit'),
        nextToken: string(body, 'nextToken'),
      }, account),
    DescribeLogStreams: (body, account) =>
      logs.describeLogStreams({
        ...group(body),
        logStreamNamePrefix: string(body, 'logStreamNamePrefix'),
        orderBy: string(body, 'orderBy'),
        descending: boolean(body, 'descending'),
        limit: number(body, 'limit'),
        nextToken: string(body, 'nextToken'),
      }, account),
    GetLogEvents: (body, account) =>
      logs.getLogEvents({
        ...group(body),
        logStreamName: string(body, 'logStreamName'),
        startTime: number(body, 'startTime'),
        endTime: number(body, 'endTime'),
        limit: number(body, 'limit'),
        startFromHead: boolean(body, 'startFromHead'),
        nextToken: string(body, 'nextToken'),
      }, account),
    // `interleaved` is accepted and ignored: results have always been interleaved since 2019.
    FilterLogEvents: (body, account) =>
      logs.filterLogEvents({
        ...group(body),
        logStreamNames: strings(body, 'logStreamNames'),
        logStreamNamePrefix: string(body, 'logStreamNamePrefix'),
        startTime: number(body, 'startTime'),
        endTime: number(body, 'endTime'),
        filterPattern: string(body, 'filterPattern'),
        limit: number(body, 'limit'),
        startFromHead: boolean(body, 'startFromHead'),
        nextToken: string(body, 'nextToken'),
      }, account),
  };

  router.on('POST', /^\/$/, onLogs(TARGET_PREFIX, CONTENT_TYPE), async ({ caller, req, res, requestId }) => {
    try {
      const target = req.headers['x-amz-target'];
      const name = typeof target === 'string' && target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : undefined;
      const operation = name !== undefined && Object.hasOwn(operations, name) ? operations[name] : undefined;
      if (!operation) {
        req.resume();
        throw new UnknownOperationException(`Unknown operation: ${String(target ?? 'POST /')}`);
      }
      const body = await readJson(req, REQUEST_LIMIT, name!);
      sendJson(res, 200, await operation(body, caller.accountId), requestId, { 'Content-Type': CONTENT_TYPE });
    } catch (err) {
      // Our own failures go on to the one error handler, which logs them.
      if (!(err instanceof LambdaServiceError)) throw err;
      sendJsonProtocolError(res, err, requestId, CONTENT_TYPE);
    }
  });
}

function group(body: Members) {
  return { logGroupName: string(body, 'logGroupName'), logGroupIdentifier: string(body, 'logGroupIdentifier') };
}

function string(body: Members, name: string): string | undefined {
  return member(body, name, 'a string', (value) => typeof value === 'string') as string | undefined;
}

function number(body: Members, name: string): number | undefined {
  return member(body, name, 'a number', (value) => typeof value === 'number') as number | undefined;
}

function boolean(body: Members, name: string): boolean | undefined {
  return member(body, name, 'a boolean', (value) => typeof value === 'boolean') as boolean | undefined;
}

function strings(body: Members, name: string): string[] | undefined {
  const isList = (value: unknown) => Array.isArray(value) && value.every((item) => typeof item === 'string');
  return member(body, name, 'a list of strings', isList) as string[] | undefined;
}

/** A member of the request, checked against the model's type; null counts as absent, as in the SDKs. */
function member(body: Members, name: string, type: string, is: (value: unknown) => boolean): unknown {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (!is(value)) throw new InvalidParameterException(`${name} must be ${type}.`);
  return value;
}
