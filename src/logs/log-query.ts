import type { LogGroupInfo, LogStreamInfo, LogTables } from '../store/index.js';
import { bareName, inScope, ResourceNotFoundException, scopedName, unscope, type Partition } from '../shared/index.js';
import { scanEvents } from './event-scan.js';
import { parseFilterPattern } from './filter-pattern.js';
import { InvalidParameterException } from './log-errors.js';
import { decodeName, decodeStreamCursor, encodeName, encodeStreamCursor, EventToken } from './paging-token.js';

/** The request members of CloudWatch Logs' read operations, as the AWS SDK model names them. */
export interface GroupSelector {
  logGroupName?: string;
  /** A group name or its ARN (with or without the trailing `:*`). */
  logGroupIdentifier?: string;
}

export interface DescribeLogGroupsInput {
  logGroupNamePrefix?: string;
  limit?: number;
  nextToken?: string;
}

export interface DescribeLogStreamsInput extends GroupSelector {
  logStreamNamePrefix?: string;
  orderBy?: string;
  descending?: boolean;
  limit?: number;
  nextToken?: string;
}

export interface GetLogEventsInput extends GroupSelector {
  logStreamName?: string;
  startTime?: number;
  endTime?: number;
  limit?: number;
  startFromHead?: boolean;
  nextToken?: string;
}

export interface FilterLogEventsInput extends GroupSelector {
  logStreamNames?: string[];
  logStreamNamePrefix?: string;
  startTime?: number;
  endTime?: number;
  filterPattern?: string;
  limit?: number;
  startFromHead?: boolean;
  nextToken?: string;
}

/**
 * Events FilterLogEvents examines per call. CloudWatch too stops searching after a while and
 * answers with what it found (possibly nothing) and a nextToken; clients page on.
 */
const FILTER_SCAN_BUDGET = 50_000;

/**
 * The read side of the CloudWatch Logs API over the log store: groups, streams, GetLogEvents and
 * FilterLogEvents with their paging, answered in the API's own shapes.
 */
export class LogQueryService {
  readonly #logs: LogTables;
  readonly #partition: Partition;

  constructor(deps: { logs: LogTables; partition: Partition }) {
    this.#logs = deps.logs;
    this.#partition = deps.partition;
  }

  /** The groups of `account` (the default account's unless given): no account sees another's. */
  async describeLogGroups(input: DescribeLogGroupsInput, account = this.#partition.accountId) {
    const limit = checkLimit(input.limit, 50);
    const groups = await this.#groupsOf(account, input.logGroupNamePrefix ?? '', input.nextToken === undefined ? undefined : decodeName(input.nextToken), limit + 1);
    const page = groups.slice(0, limit);
    const last = page[page.length - 1];
    return {
      logGroups: page.map((group) => this.#groupShape(group)),
      ...(groups.length > limit && last ? { nextToken: encodeName(last.logGroupName) } : {}),
    };
  }

  async describeLogStreams(input: DescribeLogStreamsInput, account = this.#partition.accountId) {
    const group = await this.#group(input, account);
    const orderBy = input.orderBy ?? 'LogStreamName';
    if (orderBy !== 'LogStreamName' && orderBy !== 'LastEventTime') {
      throw new InvalidParameterException(`orderBy must be LogStreamName or LastEventTime, got '${orderBy}'.`);
    }
    if (orderBy === 'LastEventTime' && input.logStreamNamePrefix !== undefined) {
      throw new InvalidParameterException('Cannot order by LastEventTime with a logStreamNamePrefix.');
    }
    const limit = checkLimit(input.limit, 50);
    const streams = await this.#logs.queryStreams(group.logGroupName, {
      orderBy,
      descending: input.descending ?? false,
      ...(input.logStreamNamePrefix === undefined ? {} : { prefix: input.logStreamNamePrefix }),
      ...(input.nextToken === undefined ? {} : { after: decodeStreamCursor(input.nextToken) }),
      limit: limit + 1,
    });
    const page = streams.slice(0, limit);
    const last = page[page.length - 1];
    return {
      logStreams: page.map((stream) => this.#streamShape(group.logGroupName, stream)),
      ...(streams.length > limit && last
        ? { nextToken: encodeStreamCursor({ name: last.logStreamName, lastEventTime: last.lastEventTimestamp ?? 0 }) }
        : {}),
    };
  }

  /**
   * One stream's events, oldest first within a page. Without a token it reads from the head
   * (startFromHead) or, as CloudWatch does by default, the newest events. `f/` tokens page
   * forward, `b/` backward; a page with nothing new hands back the token it was given, which is
   * how the SDK paginator and the AWS CLI know they have reached the end.
   */
  async getLogEvents(input: GetLogEventsInput, account = this.#partition.accountId) {
    const group = await this.#group(input, account);
    if (!input.logStreamName) throw new InvalidParameterException('logStreamName is required.');
    if (!(await this.#logs.getStream(group.logGroupName, input.logStreamName))) {
      throw new ResourceNotFoundException('The specified log stream does not exist.');
    }
    const limit = checkLimit(input.limit, 10_000);
    const token = input.nextToken === undefined ? undefined : EventToken.parse(input.nextToken);
    const descending = token ? token.direction === 'b' : input.startFromHead !== true;
    const { events } = await scanEvents(
      this.#logs,
      {
        group: group.logGroupName,
        streams: [input.logStreamName],
        ...(input.startTime === undefined ? {} : { startTime: input.startTime }),
        // GetLogEvents' endTime is exclusive (FilterLogEvents' is not).
        ...(input.endTime === undefined ? {} : { endTime: input.endTime - 1 }),
        ...(token ? { from: token.position } : {}),
        descending,
        limit,
      },
      () => true,
      limit,
    );
    if (descending) events.reverse();
    const first = events[0];
    const last = events[events.length - 1];
    let forward: EventToken;
    let backward: EventToken;
    if (first && last) {
      forward = new EventToken('f', last);
      backward = new EventToken('b', first);
    } else if (token) {
      // Nothing beyond the token: both mark its place, and the one given comes back unchanged.
      forward = token.direction === 'f' ? token : token.turned();
      backward = token.direction === 'b' ? token : token.turned();
    } else {
      forward = EventToken.head;
      backward = EventToken.tail;
    }
    return {
      events: events.map((event) => ({ timestamp: event.timestamp, message: event.message, ingestionTime: event.ingestionTime })),
      nextForwardToken: forward.toString(),
      nextBackwardToken: backward.toString(),
    };
  }

  /**
   * Events of a group (or of some of its streams) that match a filter pattern, across streams in
   * time order (newest first with startFromHead false). `nextToken` comes only while the search
   * has not reached the end of the events.
   */
  async filterLogEvents(input: FilterLogEventsInput, account = this.#partition.accountId) {
    const group = await this.#group(input, account);
    const limit = checkLimit(input.limit, 10_000);
    const pattern = parseFilterPattern(input.filterPattern ?? '');
    const streams = await this.#selectStreams(group.logGroupName, input);
    // The token carries the direction of the first request, as on CloudWatch.
    const token = input.nextToken === undefined ? undefined : EventToken.parse(input.nextToken);
    const direction = token?.direction ?? (input.startFromHead === false ? 'b' : 'f');
    const query = {
      group: group.logGroupName,
      ...(streams === undefined ? {} : { streams }),
      ...(input.startTime === undefined ? {} : { startTime: input.startTime }),
      ...(input.endTime === undefined ? {} : { endTime: input.endTime }),
      ...(token ? { from: token.position } : {}),
      descending: direction === 'b',
      limit,
    };
    const { events, resume } =
      streams?.length === 0 ? { events: [] } : await scanEvents(this.#logs, query, (event) => pattern.matches(event.message), FILTER_SCAN_BUDGET);
    return {
      events: events.map((event) => ({
        logStreamName: event.stream,
        timestamp: event.timestamp,
        message: event.message,
        ingestionTime: event.ingestionTime,
        eventId: String(event.id),
      })),
      // Deprecated: CloudWatch has answered it with an empty list since May 2020.
      searchedLogStreams: [],
      ...(resume ? { nextToken: new EventToken(direction, resume).toString() } : {}),
    };
  }

  /** The streams FilterLogEvents searches: those named (that exist), by prefix, or all (undefined). */
  async #selectStreams(group: string, input: FilterLogEventsInput): Promise<string[] | undefined> {
    if (input.logStreamNames !== undefined && input.logStreamNamePrefix !== undefined) {
      throw new InvalidParameterException('logStreamNames and logStreamNamePrefix cannot both be specified.');
    }
    if (input.logStreamNames !== undefined) {
      if (input.logStreamNames.length < 1 || input.logStreamNames.length > 100) {
        throw new InvalidParameterException('logStreamNames must name between 1 and 100 log streams.');
      }
      const found: string[] = [];
      for (const name of input.logStreamNames) if ((await this.#logs.getStream(group, name)) !== undefined) found.push(name);
      return found;
    }
    if (input.logStreamNamePrefix === undefined) return undefined;
    const streams = await this.#logs.queryStreams(group, {
      prefix: input.logStreamNamePrefix,
      orderBy: 'LogStreamName',
      descending: false,
      limit: Number.MAX_SAFE_INTEGER,
    });
    return streams.map((stream) => stream.logStreamName);
  }

  /**
   * Up to `limit` of the account's groups named `prefix...`, after the key `after`, by name. Groups
   * are keyed by account (account-scope.ts): another account's share a prefix with its own, the
   * default account's are the keys without one, so the store's pages are filtered to the account.
   */
  async #groupsOf(account: string, prefix: string, after: string | undefined, limit: number): Promise<LogGroupInfo[]> {
    const home = this.#partition.accountId;
    const keyPrefix = scopedName(home, account, prefix);
    const found: LogGroupInfo[] = [];
    let from = after;
    for (;;) {
      const batch = await this.#logs.queryGroups({ prefix: keyPrefix, ...(from === undefined ? {} : { after: from }), limit });
      for (const group of batch) if (inScope(home, account, group.logGroupName) && found.length < limit) found.push(group);
      if (found.length >= limit || batch.length < limit) return found;
      from = batch[batch.length - 1]!.logGroupName;
    }
  }

  /** The group a request names, by logGroupName or logGroupIdentifier (a name or an ARN), in the caller's account. */
  async #group(input: GroupSelector, account: string): Promise<LogGroupInfo> {
    if (input.logGroupName !== undefined && input.logGroupIdentifier !== undefined) {
      throw new InvalidParameterException('LogGroup name and LogGroup ARN are mutually exclusive parameters.');
    }
    const given = input.logGroupName ?? input.logGroupIdentifier;
    if (!given) throw new InvalidParameterException('Either logGroupName or logGroupIdentifier must be specified.');
    const name = input.logGroupIdentifier === undefined ? given : this.#nameFromIdentifier(given, account);
    // A colon is in no group's name (CloudWatch's pattern): only in another account's key.
    const group = name === undefined || name.includes(':') ? undefined : await this.#logs.getGroup(scopedName(this.#partition.accountId, account, name));
    if (!group) throw new ResourceNotFoundException('The specified log group does not exist.');
    return group;
  }

  /** A name stays a name; the ARN of a group in another region or account names none the caller may read. */
  #nameFromIdentifier(identifier: string, caller: string): string | undefined {
    const arn = /^arn:aws[a-zA-Z-]*:logs:([^:]*):([^:]*):log-group:(.+?)(?::\*)?$/.exec(identifier);
    if (!arn) return identifier.startsWith('arn:') ? undefined : identifier;
    const [, region, account, name] = arn;
    return region === this.#partition.region && account === caller ? name : undefined;
  }

  /** The ARN of the group keyed `key`, in its account. */
  #groupArn(key: string): string {
    const { accountId, name } = unscope(this.#partition.accountId, key);
    return `arn:aws:logs:${this.#partition.region}:${accountId}:log-group:${name}`;
  }

  #groupShape(group: LogGroupInfo) {
    const logGroupArn = this.#groupArn(group.logGroupName);
    return {
      logGroupName: bareName(group.logGroupName),
      creationTime: group.creationTime,
      metricFilterCount: 0,
      arn: `${logGroupArn}:*`,
      logGroupArn,
      storedBytes: group.storedBytes,
      logGroupClass: 'STANDARD',
    };
  }

  #streamShape(group: string, stream: LogStreamInfo) {
    return {
      ...stream,
      // Belongs to PutLogEvents (not offered here); it changes with every write, as it does there.
      uploadSequenceToken: String(stream.lastIngestionTime ?? stream.creationTime),
      arn: `${this.#groupArn(group)}:log-stream:${stream.logStreamName}`,
    };
  }
}

/** Limits as CloudWatch sets them: from 1 to the maximum, which is also the default. */
function checkLimit(limit: number | undefined, max: number): number {
  if (limit === undefined) return max;
  if (!Number.isInteger(limit) || limit < 1 || limit > max) {
    throw new InvalidParameterException(
      `1 validation error detected: Value '${limit}' at 'limit' failed to satisfy constraint: Member must have value between 1 and ${max}`,
    );
  }
  return limit;
}
