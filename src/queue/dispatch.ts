import type { QueuedEvent } from '../store/index.js';
import type { AttemptOutcome } from './retry-policy.js';

/** What one attempt at an event came to, as the invoke path reports it. */
export interface DispatchResult {
  readonly outcome: AttemptOutcome | 'function-gone';
  /** The function's response or error payload, when it ran. */
  readonly payload?: Buffer;
  readonly executedVersion?: string;
  /** A short reason for throttles, system errors and a deleted function. */
  readonly reason?: string;
}

/**
 * How the poller fleet runs an event: through the same path as a synchronous invoke. Handed in by
 * the composition root, so `queue/` never imports `invoke/`.
 */
export type Dispatch = (event: QueuedEvent) => Promise<DispatchResult>;

/** Per function and qualifier: the retry settings, destinations and dead-letter target in force. */
export interface EventSettings {
  readonly maximumRetryAttempts: number;
  readonly maximumEventAgeSeconds: number;
  readonly onSuccess?: string;
  readonly onFailure?: string;
  readonly deadLetterTarget?: string;
}

export type SettingsFor = (functionName: string, qualifier: string) => EventSettings;
