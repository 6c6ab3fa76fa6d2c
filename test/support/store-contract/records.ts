import assert from 'node:assert/strict';
import { KindlingError } from '../../../src/shared/index.js';
import type { ChangeFeed, DeadLetterInput, FunctionRecord, NewEvent, NewLayerVersion, StoreChange } from '../../../src/store/index.js';

/** A function record with only the required fields: absent optional fields must stay absent. */
export function fn(name: string, overrides: Partial<FunctionRecord> = {}): FunctionRecord {
  return {
    name,
    runtime: 'nodejs20.x',
    handler: 'index.handler',
    role: 'arn:aws:iam::000000000000:role/lambda-role',
    description: '',
    timeout: 3,
    memorySize: 128,
    environment: {},
    architectures: ['x86_64'],
    ephemeralStorage: 512,
    packageType: 'Zip',
    codeSha256: 'n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=',
    codeKey: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
    codeSize: 300,
    lastModified: 1_700_000_000_000,
    revisionId: 'rev-1',
    state: 'Active',
    lastUpdateStatus: 'Successful',
    version: '$LATEST',
    tags: {},
    ...overrides,
  };
}

/** A record with every optional field set, nested values included. */
export function fullFn(name: string): FunctionRecord {
  return fn(name, {
    description: 'everything set: ünïcode ✓',
    environment: { A: '1', EMPTY: '', QUOTE: `"it's"` },
    architectures: ['arm64'],
    stateReason: 'reason',
    stateReasonCode: 'Idle',
    lastUpdateStatusReason: 'why',
    lastUpdateStatusReasonCode: 'InternalError',
    deadLetterTarget: 'arn:aws:sqs:us-east-1:000000000000:dlq',
    layers: [{ arn: 'arn:aws:lambda:us-east-1:000000000000:layer:l:1', codeKey: 'ab'.repeat(32), codeSize: 10 }],
    unzippedSize: 12345,
    lastPublishedVersion: 7,
    tags: { team: 'kindling' },
    environmentGiven: true,
    loggingConfig: { logFormat: 'JSON', applicationLogLevel: 'INFO', systemLogLevel: 'WARN', logGroup: '/custom/group' },
    imageUri: 'localhost:5000/img:latest',
    resolvedImageUri: 'localhost:5000/img@sha256:' + 'cd'.repeat(32),
    imageConfig: { entryPoint: ['/bin/sh', '-c'], command: ['run'], workingDirectory: '/work' },
    imageDefaults: { command: ['default'], environment: { PATH: '/usr/bin' } },
  });
}

export function version(name: string, n: number, overrides: Partial<FunctionRecord> = {}): FunctionRecord {
  return fn(name, { version: String(n), revisionId: `rev-v${n}`, ...overrides });
}

export function newEvent(functionName: string, n: number, enqueuedAt = 1_000): NewEvent {
  return { functionName, qualifier: '$LATEST', requestId: `req-${functionName}-${n}`, payload: Buffer.from(JSON.stringify({ n })), enqueuedAt };
}

export function letter(sourceFunction: string, n: number, overrides: Partial<DeadLetterInput> = {}): DeadLetterInput {
  return {
    kind: 'dead-letter',
    queueName: 'dlq',
    sourceFunction,
    qualifier: '$LATEST',
    requestId: `dead-${n}`,
    body: Buffer.from(`body ${n}`),
    requestPayload: Buffer.from(JSON.stringify({ n })),
    condition: 'RetriesExhausted',
    reason: 'Unhandled',
    attempts: 3,
    enqueuedAt: 1_000 + n,
    failedAt: 2_000 + n,
    ...overrides,
  };
}

export function layer(layerName: string, overrides: Partial<NewLayerVersion> = {}): NewLayerVersion {
  return {
    layerName,
    description: 'a layer',
    codeSha256: 'n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=',
    codeKey: 'ef'.repeat(32),
    codeSize: 100,
    unzippedSize: 200,
    createdDate: 1_700_000_000_000,
    ...overrides,
  };
}

/** Asserts `work` fails with a KindlingError of `code`. */
export async function rejectsWithCode(work: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(work, (err: unknown) => {
    assert.ok(err instanceof KindlingError, `a KindlingError, not ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  });
}

/** Collects the changes a feed announces; `next` awaits one that matches (the feed is an event, not polled). */
export class ChangeLog {
  readonly changes: StoreChange[] = [];
  resyncs = 0;
  readonly #waiting = new Set<{ match: (c: StoreChange) => boolean; resolve: (c: StoreChange) => void }>();
  readonly unsubscribe: () => void;

  constructor(feed: ChangeFeed) {
    this.unsubscribe = feed.subscribe({
      change: (change) => {
        this.changes.push(change);
        for (const waiter of this.#waiting) {
          if (waiter.match(change)) {
            this.#waiting.delete(waiter);
            waiter.resolve(change);
          }
        }
      },
      resync: () => {
        this.resyncs++;
      },
    });
  }

  /** The first change (seen already, or to come within `limitMs`) that matches. */
  async next(match: (c: StoreChange) => boolean, what: string, limitMs = 1_000): Promise<StoreChange> {
    const seen = this.changes.find(match);
    if (seen) return seen;
    let timer: NodeJS.Timeout | undefined;
    let waiter: { match: (c: StoreChange) => boolean; resolve: (c: StoreChange) => void } | undefined;
    try {
      return await new Promise<StoreChange>((resolve, reject) => {
        waiter = { match, resolve };
        this.#waiting.add(waiter);
        timer = setTimeout(() => reject(new Error(`no change ${what} announced within ${limitMs} ms (saw ${JSON.stringify(this.changes)})`)), limitMs);
      });
    } finally {
      clearTimeout(timer);
      if (waiter) this.#waiting.delete(waiter);
    }
  }
}

export function byName<T extends { name: string }>(list: readonly T[]): T[] {
  return [...list].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
