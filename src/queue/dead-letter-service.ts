import { KeyedLock, newRequestId, ResourceNotFoundException, type Clock } from '../shared/index.js';
import type { DeadLetter, DeadLetterTable, NewEvent } from '../store/index.js';
import type { EventQueue } from './event-queue.js';

/** Kindling's dead-letter store, per source function: list, inspect, and send back through it. */
export class DeadLetterService {
  readonly #table: DeadLetterTable;
  readonly #queue: EventQueue;
  readonly #clock: Clock;
  /** One redrive per function at a time: two at once would both read, then both send, the same letters. */
  readonly #redrives = new KeyedLock();

  constructor(deps: { table: DeadLetterTable; queue: EventQueue; clock: Clock }) {
    this.#table = deps.table;
    this.#queue = deps.queue;
    this.#clock = deps.clock;
  }

  list(functionName: string, options: { limit?: number; afterId?: number } = {}): Promise<DeadLetter[]> {
    return this.#table.list(functionName, options);
  }

  async get(functionName: string, id: number): Promise<DeadLetter> {
    const letter = await this.#table.get(id);
    if (!letter || letter.sourceFunction !== functionName) {
      throw new ResourceNotFoundException(`Dead letter ${id} of function ${functionName} not found`);
    }
    return letter;
  }

  /**
   * Sends the chosen dead letters (all of the function's when `ids` is empty) back through the
   * function as new event invocations, removing them in the same transaction.
   */
  redrive(functionName: string, ids: readonly number[]): Promise<{ redriven: { id: number; requestId: string }[] }> {
    return this.#redrives.run(functionName, () => this.#redrive(functionName, ids));
  }

  async #redrive(functionName: string, ids: readonly number[]): Promise<{ redriven: { id: number; requestId: string }[] }> {
    const letters: DeadLetter[] = [];
    if (ids.length === 0) letters.push(...(await this.#table.list(functionName, { limit: 10_000 })));
    else for (const id of ids) letters.push(await this.get(functionName, id));
    const now = this.#clock.now();
    const events: NewEvent[] = letters.map((letter) => ({
      functionName,
      qualifier: letter.qualifier,
      requestId: newRequestId(),
      payload: letter.requestPayload,
      enqueuedAt: now,
    }));
    await this.#table.redrive(letters, events);
    this.#queue.emit('available');
    return { redriven: letters.map((letter, i) => ({ id: letter.id, requestId: events[i]!.requestId })) };
  }

  countDropped(functionName: string): Promise<number> {
    return this.#table.countDropped(functionName);
  }
}
