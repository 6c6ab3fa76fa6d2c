import { bareName, newRequestId, unscope, type Clock, type Logger, type Partition } from '../shared/index.js';
import type { DeadLetterInput, EventQueueTable, NewEvent, QueuedEvent } from '../store/index.js';
import { destinationRecord, parseDestination, type DestinationCondition } from './destinations.js';
import type { Dispatch, DispatchResult, EventSettings, SettingsFor } from './dispatch.js';
import { EventLeases, type LeasedBatch } from './event-leases.js';
import type { EventQueue } from './event-queue.js';
import type { QueueMetrics } from './queue-metrics.js';
import { decide, isExpired, type FailureCondition, type RetrySettings } from './retry-policy.js';
import { SettlementWriter } from './settlement-writer.js';

export interface PollerFleetOptions {
  /** How many pollers lease events side by side. */
  readonly pollers: number;
  /** Events one poller leases at a time (and runs side by side). */
  readonly batchSize: number;
  /**
   * How long a lease lasts unless renewed. Leases are renewed while their events run, so this is
   * how soon the events of a process that died are delivered again, not a limit on an invocation.
   */
  readonly visibilityTimeoutMs: number;
  readonly delayScale: number;
  /** Who holds leases: this process, unique to it. Each batch is leased as `<owner>/<n>`. */
  readonly owner: string;
}

export interface PollerFleetDeps {
  readonly table: EventQueueTable;
  readonly queue: EventQueue;
  readonly dispatch: Dispatch;
  readonly settingsFor: SettingsFor;
  readonly partition: Partition;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: QueueMetrics;
  /** Writes a line into the function's log (drops must be visible there). */
  readonly logLine: (functionName: string, message: string) => void;
  /** Commits every log line written so far: an event is settled only after its invocation's log. */
  readonly commitLogs: () => Promise<void>;
}

/** What a failed attempt left behind, kept with the event for its failure record. */
interface LastResponse {
  readonly outcome: DispatchResult['outcome'];
  readonly payload?: string;
  readonly executedVersion?: string;
}

/**
 * The poller fleet: leases events in batches and runs each through the invoke path it is handed,
 * then applies Lambda's retry policy, destinations and dead-letter queue. At least once: an event
 * leaves the queue only in the same transaction that records where it went.
 */
export class PollerFleet {
  readonly #deps: PollerFleetDeps;
  readonly #options: PollerFleetOptions;
  readonly #writer: SettlementWriter;
  readonly #leases: EventLeases;
  readonly #loops: Promise<void>[] = [];
  #wakers = new Set<() => void>();
  /** Counts wake-ups, so a poller that was busy with the store when one came does not go to sleep. */
  #wakeups = 0;
  #starting: Promise<void> | undefined;
  #running = false;
  #closing: Promise<void> | undefined;

  constructor(deps: PollerFleetDeps, options: PollerFleetOptions) {
    this.#deps = deps;
    this.#options = options;
    this.#writer = new SettlementWriter({
      table: deps.table,
      logger: deps.logger,
      commitLogs: deps.commitLogs,
      afterFlush: (more) => {
        if (more) this.#wake();
      },
    });
    this.#leases = new EventLeases(deps, options);
    deps.queue.on('available', () => this.#wake());
  }

  /**
   * Starts polling. Leases held by other processes are left alone: a live one renews them, and
   * those of a process that died expire on their own (`visibilityTimeoutMs`).
   */
  start(): Promise<void> {
    if (this.#running || this.#closing) return this.#starting ?? Promise.resolve();
    this.#running = true;
    this.#starting = this.#start();
    return this.#starting;
  }

  async #start(): Promise<void> {
    for (let i = 0; i < this.#options.pollers; i++) this.#loops.push(this.#poll());
  }

  /**
   * Stops leasing; events in flight finish (their leases renewed meanwhile) and their outcome is
   * written. Whatever is still leased then (outcomes the store refused) is released. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#running = false;
      this.#wake();
      await this.#starting?.catch(() => {});
      await Promise.all(this.#loops);
      await this.#writer.flush();
      await this.#leases.releaseAll();
    })();
    return this.#closing;
  }

  async #poll(): Promise<void> {
    while (this.#running) {
      const wakeups = this.#wakeups;
      let batch: LeasedBatch | undefined;
      try {
        batch = await this.#leases.take(this.#options.batchSize);
      } catch (err) {
        this.#deps.logger.error('could not lease events', { error: String(err) });
      }
      if (batch === undefined) {
        await this.#idle(wakeups);
        continue;
      }
      // Closed while the store answered: nothing has started, so another process may run them now.
      if (!this.#running) return this.#leases.release(batch);
      const written = await Promise.all(batch.events.map((event) => this.#attempt(event)));
      this.#leases.finish(batch, written.every(Boolean));
    }
  }

  /** Runs one event; true once its outcome is written. An unexpected failure leaves it to its lease's end. */
  async #attempt(event: QueuedEvent): Promise<boolean> {
    try {
      return await this.#process(event);
    } catch (err) {
      this.#deps.logger.error('could not handle a queued event; it runs again when its lease ends', { requestId: event.requestId, error: String(err) });
      return false;
    }
  }

  /** Waits for new events, the next retry coming due, or close. */
  #idle(wakeups: number): Promise<void> {
    // Woken while leasing (new events, close): look again at once.
    if (wakeups !== this.#wakeups || !this.#running) return Promise.resolve();
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      let finished = false;
      const done = () => {
        if (finished) return;
        finished = true;
        if (timer !== undefined) this.#deps.clock.clearTimeout(timer);
        this.#wakers.delete(done);
        resolve();
      };
      // Listening before asking the store, so a wake-up while it answers is not missed.
      this.#wakers.add(done);
      this.#deps.table.nextVisibleAt().then(
        (next) => {
          if (finished) return;
          const wait = next === undefined ? 1000 : Math.min(1000, Math.max(1, next - this.#deps.clock.now()));
          timer = this.#deps.clock.setTimeout(done, wait);
        },
        (err: unknown) => {
          if (finished) return;
          this.#deps.logger.error('could not read the queue', { error: String(err) });
          timer = this.#deps.clock.setTimeout(done, 1000);
        },
      );
    });
  }

  #wake(): void {
    this.#wakeups++;
    const wakers = this.#wakers;
    this.#wakers = new Set();
    for (const wake of wakers) wake();
  }

  /** True once the event's outcome (settled or retried) is written. */
  async #process(event: QueuedEvent): Promise<boolean> {
    const settings = this.#deps.settingsFor(event.functionName, event.qualifier);
    const retry: RetrySettings = {
      maximumRetryAttempts: settings.maximumRetryAttempts,
      maximumEventAgeSeconds: settings.maximumEventAgeSeconds,
      delayScale: this.#options.delayScale,
    };
    if (isExpired(event, retry, this.#deps.clock.now())) {
      return this.#fail(event, 'EventAgeExceeded', event.attempts, lastOf(event), settings);
    }
    let result: DispatchResult;
    try {
      result = await this.#deps.dispatch(event);
    } catch (err) {
      this.#deps.logger.error('event dispatch failed', { requestId: event.requestId, error: String(err) });
      result = { outcome: 'system-error', reason: String(err) };
    }
    if (result.outcome === 'function-gone') {
      return this.#settleFailed(event, event.attempts, settings, undefined, `the function ${event.functionName} no longer exists`, 'FunctionNotFound', true);
    }
    const decision = decide(event, result.outcome, retry, this.#deps.clock.now());
    if (decision.action === 'succeed') return this.#succeed(event, result, settings);
    if (decision.action === 'fail') return this.#fail(event, decision.condition, decision.attempts, result, settings);
    this.#deps.metrics.add(event.functionName, 'Retries');
    const ran = result.outcome === 'function-error';
    const last: LastResponse | undefined = ran
      ? { outcome: result.outcome, ...(result.payload ? { payload: result.payload.toString('utf8') } : {}), ...(result.executedVersion ? { executedVersion: result.executedVersion } : {}) }
      : undefined;
    return this.#writer.retry({
      event,
      visibleAt: decision.at,
      attempts: decision.attempts,
      systemRetries: decision.systemRetries,
      ...(last ? { lastResponse: JSON.stringify(last) } : event.lastResponse ? { lastResponse: event.lastResponse } : {}),
    });
  }

  async #succeed(event: QueuedEvent, result: DispatchResult, settings: EventSettings): Promise<boolean> {
    const enqueue: NewEvent[] = [];
    const deadLetters: DeadLetterInput[] = [];
    const delivered = settings.onSuccess !== undefined && this.#deliver(settings.onSuccess, event, 'Success', event.attempts + 1, result, enqueue, deadLetters);
    return this.#commit(event, enqueue, deadLetters, delivered);
  }

  #fail(event: QueuedEvent, condition: FailureCondition, attempts: number, last: DispatchResult | undefined, settings: EventSettings): Promise<boolean> {
    const reason =
      condition === 'EventAgeExceeded'
        ? `the event is older than MaximumEventAgeInSeconds (${settings.maximumEventAgeSeconds})`
        : `the function failed ${attempts} time${attempts === 1 ? '' : 's'} (MaximumRetryAttempts ${settings.maximumRetryAttempts})`;
    return this.#settleFailed(event, attempts, settings, last, reason, condition, false);
  }

  /** Sends a failed event to its failure destination and dead-letter queue, or records the drop. */
  async #settleFailed(
    event: QueuedEvent,
    attempts: number,
    settings: EventSettings,
    last: DispatchResult | undefined,
    reason: string,
    condition: string,
    functionGone: boolean,
  ): Promise<boolean> {
    const enqueue: NewEvent[] = [];
    const deadLetters: DeadLetterInput[] = [];
    const base = this.#letterBase(event, attempts, condition, reason);
    const delivered = !functionGone && settings.onFailure !== undefined && this.#deliver(settings.onFailure, event, condition as DestinationCondition, attempts, last, enqueue, deadLetters);
    if (!functionGone && settings.deadLetterTarget) {
      const target = parseDestination(settings.deadLetterTarget, this.#deps.partition, this.#accountOf(event));
      if (target?.kind === 'queue') {
        // Lambda's dead-letter queue receives the event's payload itself.
        deadLetters.push({ ...base, kind: 'dead-letter', queueName: target.name, body: event.payload });
      }
    }
    if (enqueue.length === 0 && deadLetters.length === 0) {
      deadLetters.push({ ...base, kind: 'dropped', body: event.payload });
      this.#deps.logLine(
        event.functionName,
        `Dropped event ${event.requestId} (${condition}): ${reason}; no failure destination or dead-letter queue is configured. ` +
          `It is kept in Kindling's dead-letter store: kindling dlq ls ${bareName(event.functionName)}`,
      );
    }
    return this.#commit(event, enqueue, deadLetters, delivered);
  }

  /** Settles the event, then counts what the commit made real: a metric never shows a record the store lacks. */
  async #commit(event: QueuedEvent, enqueue: NewEvent[], deadLetters: DeadLetterInput[], delivered: boolean): Promise<boolean> {
    if (!(await this.#writer.settle({ event, enqueue, deadLetters }))) return false;
    if (delivered) this.#deps.metrics.add(event.functionName, 'DestinationDeliveries');
    for (const letter of deadLetters) {
      if (letter.kind === 'dropped') this.#deps.metrics.add(event.functionName, 'AsyncEventsDropped');
      if (letter.kind === 'dead-letter') this.#deps.metrics.add(event.functionName, 'AsyncEventsDeadLettered');
    }
    return true;
  }

  /** The account the event's function belongs to: its destinations must be in it. */
  #accountOf(event: QueuedEvent): string {
    return unscope(this.#deps.partition.accountId, event.functionName).accountId;
  }

  #letterBase(event: QueuedEvent, attempts: number, condition: string, reason: string) {
    return {
      sourceFunction: event.functionName,
      qualifier: event.qualifier,
      requestId: event.requestId,
      requestPayload: event.payload,
      condition,
      reason,
      attempts,
      enqueuedAt: event.enqueuedAt,
      failedAt: this.#deps.clock.now(),
    };
  }

  /** Adds the destination record for `arn` to what the settlement writes; false when it cannot be delivered. */
  #deliver(
    arn: string,
    event: QueuedEvent,
    condition: DestinationCondition,
    attempts: number,
    last: DispatchResult | undefined,
    enqueue: NewEvent[],
    deadLetters: DeadLetterInput[],
  ): boolean {
    const target = parseDestination(arn, this.#deps.partition, this.#accountOf(event));
    const now = this.#deps.clock.now();
    const record = destinationRecord(this.#deps.partition, event, condition, attempts, last, now);
    if (target?.kind === 'function') {
      enqueue.push({ functionName: target.name, qualifier: target.qualifier, requestId: newRequestId(), payload: record, enqueuedAt: now });
    } else if (target?.kind === 'queue') {
      deadLetters.push({ ...this.#letterBase(event, attempts, condition, `destination ${condition}`), kind: 'destination', queueName: target.name, body: record });
    } else {
      this.#deps.logger.warn('destination cannot be delivered to', { arn });
      return false;
    }
    return true;
  }
}

function lastOf(event: QueuedEvent): DispatchResult | undefined {
  if (!event.lastResponse) return undefined;
  const last = JSON.parse(event.lastResponse) as LastResponse;
  return {
    outcome: last.outcome,
    ...(last.payload === undefined ? {} : { payload: Buffer.from(last.payload) }),
    ...(last.executedVersion === undefined ? {} : { executedVersion: last.executedVersion }),
  };
}
