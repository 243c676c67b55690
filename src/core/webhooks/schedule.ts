// When a failed delivery is tried again: immediately, then 5 s, 5 min, 30 min, 2 h, 5 h and
// 10 h steps, about three days in all, each step ±10 % jitter; never sooner than Retry-After.

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** Delay before attempt n+2 after attempt n+1 failed (the first attempt is immediate). */
export const RETRY_DELAYS_MS = [5 * SECOND, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR, 10 * HOUR, 10 * HOUR, 10 * HOUR, 10 * HOUR] as const;

export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;
const LONGEST_STEP_MS = Math.max(...RETRY_DELAYS_MS);

/**
 * Milliseconds until the next attempt after `attempts` failed ones, or null when the window is
 * over. `scale` shrinks the schedule (tests, benchmarks); Retry-After is honoured as sent, up to
 * the longest step.
 */
export function nextRetryDelayMs(attempts: number, options: { scale?: number; retryAfterMs?: number | null; random?: () => number } = {}): number | null {
  const step = RETRY_DELAYS_MS[attempts - 1];
  if (step === undefined) return null;
  const jitter = 0.9 + 0.2 * (options.random ?? Math.random)();
  const scheduled = Math.round(step * (options.scale ?? 1) * jitter);
  return Math.max(scheduled, Math.min(options.retryAfterMs ?? 0, LONGEST_STEP_MS));
}

/** Retry-After as delay-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | undefined | null, now = Date.now()): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * SECOND;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}
