import { functionArn, scopedName, type Partition } from '../shared/index.js';
import type { QueuedEvent } from '../store/index.js';
import type { DispatchResult } from './dispatch.js';

export type DestinationTarget =
  | { readonly kind: 'function'; readonly name: string; readonly qualifier: string }
  | { readonly kind: 'queue'; readonly name: string };

const FUNCTION_TARGET = /^arn:aws[a-zA-Z-]*:lambda:([a-z0-9-]+):(\d{12}):function:([a-zA-Z0-9-_]+)(?::(\$LATEST|[a-zA-Z0-9-_]+))?$/;
const QUEUE_TARGET = /^arn:aws[a-zA-Z-]*:sqs:([a-z0-9-]+):(\d{12}):([a-zA-Z0-9-_]{1,80})$/;

/**
 * Destinations Kindling delivers to: a function (invoked in event mode) or a Kindling queue, named
 * the way Lambda users name an SQS queue (`arn:aws:sqs:<region>:<account>:<name>`), in `account`
 * (the source function's): another account's function or queue is no destination Kindling delivers
 * to. The target's name comes back as its key in that account (account-scope.ts).
 */
export function parseDestination(arn: string, where: Partition, account = where.accountId): DestinationTarget | undefined {
  const fn = FUNCTION_TARGET.exec(arn);
  if (fn && fn[1] === where.region && fn[2] === account) return { kind: 'function', name: scopedName(where.accountId, account, fn[3]!), qualifier: fn[4] ?? '$LATEST' };
  const queue = QUEUE_TARGET.exec(arn);
  if (queue && queue[1] === where.region && queue[2] === account) return { kind: 'queue', name: scopedName(where.accountId, account, queue[3]!) };
  return undefined;
}

export type DestinationCondition = 'Success' | 'RetriesExhausted' | 'EventAgeExceeded';

/** The invocation record Lambda sends to a destination (invocation-async, "Destinations"). */
export function destinationRecord(
  where: Partition,
  event: QueuedEvent,
  condition: DestinationCondition,
  attempts: number,
  last: DispatchResult | undefined,
  now: number,
): Buffer {
  const record: Record<string, unknown> = {
    version: '1.0',
    timestamp: new Date(now).toISOString(),
    requestContext: {
      requestId: event.requestId,
      functionArn: functionArn(where, event.functionName, event.qualifier),
      condition,
      approximateInvokeCount: Math.max(attempts, 1),
    },
    requestPayload: parseOrText(event.payload),
  };
  if (last?.payload !== undefined) {
    record['responseContext'] = {
      statusCode: 200,
      executedVersion: last.executedVersion ?? event.qualifier,
      ...(last.outcome === 'function-error' ? { functionError: 'Unhandled' } : {}),
    };
    record['responsePayload'] = parseOrText(last.payload);
  }
  return Buffer.from(JSON.stringify(record));
}

function parseOrText(payload: Buffer): unknown {
  const text = payload.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
