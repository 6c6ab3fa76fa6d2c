/**
 * Lambda's retry policy for asynchronous invocations (LAMBDA.md 1.7), as pure functions:
 * - function errors (and timeouts) are retried MaximumRetryAttempts times (0-2, default 2), about
 *   1 minute and then 2 minutes apart;
 * - throttles and the platform's own failures are retried with exponential backoff from 1 second
 *   up to 5 minutes;
 * - either way, never past MaximumEventAgeInSeconds (60-21600, default 6 hours).
 * `delayScale` multiplies every delay (`--retry-delay-scale`), so tests run the policy in milliseconds.
 */
export interface RetrySettings {
  readonly maximumRetryAttempts: number;
  readonly maximumEventAgeSeconds: number;
  readonly delayScale: number;
}

export const DEFAULT_RETRY_ATTEMPTS = 2;
export const DEFAULT_MAX_EVENT_AGE_SECONDS = 21_600;
const FUNCTION_ERROR_DELAY_MS = 60_000;
const BACKOFF_FIRST_MS = 1_000;
const BACKOFF_MAX_MS = 300_000;

export type AttemptOutcome = 'success' | 'function-error' | 'throttled' | 'system-error';

export type FailureCondition = 'RetriesExhausted' | 'EventAgeExceeded';

export type Decision =
  | { readonly action: 'succeed' }
  | { readonly action: 'retry'; readonly at: number; readonly attempts: number; readonly systemRetries: number }
  | { readonly action: 'fail'; readonly condition: FailureCondition; readonly attempts: number };

export interface EventProgress {
  readonly enqueuedAt: number;
  /** Function attempts so far, before this one. */
  readonly attempts: number;
  readonly systemRetries: number;
}

/** When the event stops being worth delivering. */
export function expiresAt(event: EventProgress, settings: RetrySettings): number {
  return event.enqueuedAt + settings.maximumEventAgeSeconds * 1000 * settings.delayScale;
}

export function isExpired(event: EventProgress, settings: RetrySettings, now: number): boolean {
  return now >= expiresAt(event, settings);
}

/** What to do after an attempt ended with `outcome` at `now`. */
export function decide(event: EventProgress, outcome: AttemptOutcome, settings: RetrySettings, now: number): Decision {
  if (outcome === 'success') return { action: 'succeed' };
  if (outcome === 'function-error') {
    const attempts = event.attempts + 1;
    if (attempts > settings.maximumRetryAttempts) return { action: 'fail', condition: 'RetriesExhausted', attempts };
    const at = now + FUNCTION_ERROR_DELAY_MS * attempts * settings.delayScale;
    return { action: 'retry', at: Math.min(at, expiresAt(event, settings)), attempts, systemRetries: event.systemRetries };
  }
  const delay = Math.min(BACKOFF_FIRST_MS * 2 ** event.systemRetries, BACKOFF_MAX_MS) * settings.delayScale;
  // Past the event's age the next lease finds it expired (EventAgeExceeded), as Lambda discards it then.
  const at = Math.min(now + delay, expiresAt(event, settings));
  return { action: 'retry', at, attempts: event.attempts, systemRetries: event.systemRetries + 1 };
}
