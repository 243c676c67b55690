import { SourceAuthError, SourceError } from '../errors.js';

// The one HTTP retry helper for sources: 429 and 5xx are retried with exponential
// backoff and jitter, honouring Retry-After; 401/403 mean the owner must reconnect.

export interface RetryPolicy {
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Until the response headers arrive; a body may then stream for as long as it needs. */
  headersTimeoutMs: number;
}

export interface HttpClient {
  fetch(url: string, init?: RequestInit & { source?: string }): Promise<Response>;
}

export const defaultRetryPolicy: RetryPolicy = { retries: 6, baseDelayMs: 500, maxDelayMs: 60_000, headersTimeoutMs: 60_000 };

export function createHttpClient(options: { policy?: Partial<RetryPolicy>; signal?: AbortSignal; onRetry?: (info: { url: string; status: number | string; attempt: number; delayMs: number }) => void } = {}): HttpClient {
  const policy = { ...defaultRetryPolicy, ...options.policy };
  return {
    async fetch(url, init = {}) {
      const source = init.source ?? new URL(url).host;
      for (let attempt = 0; ; attempt++) {
        let response: Response | undefined;
        let failure: string | undefined;
        const timeout = new AbortController();
        const timer = setTimeout(() => timeout.abort(new Error(`no response within ${policy.headersTimeoutMs / 1000} s`)), policy.headersTimeoutMs);
        try {
          const signals = [timeout.signal, init.signal ?? options.signal].filter((signal): signal is AbortSignal => Boolean(signal));
          response = await fetch(url, { ...init, signal: AbortSignal.any(signals) });
        } catch (error) {
          if (options.signal?.aborted) throw error;
          failure = timeout.signal.aborted ? String(timeout.signal.reason?.message ?? 'timed out') : error instanceof Error ? error.message : String(error);
        } finally {
          clearTimeout(timer);
        }
        if (response && (response.status === 401 || response.status === 403)) {
          throw new SourceAuthError(`${source} rejected the credentials (HTTP ${response.status}): reconnect the connection with valid credentials.`, { status: response.status });
        }
        const retryable = !response || response.status === 429 || response.status >= 500;
        if (response && !retryable) {
          if (response.ok) return response;
          throw new SourceError(`${source} answered HTTP ${response.status} for ${redactUrl(url)}.`, { status: response.status, body: (await response.text()).slice(0, 500) });
        }
        if (attempt >= policy.retries) {
          throw new SourceError(`${source} kept failing after ${attempt + 1} attempts (${response ? `HTTP ${response.status}` : failure}).`, { status: response?.status });
        }
        const delayMs = retryDelayMs(attempt, response?.headers.get('retry-after') ?? null, policy);
        // Not awaited: a body someone else tees (an interceptor, a tracer) may never settle.
        void response?.body?.cancel().catch(() => {});
        options.onRetry?.({ url: redactUrl(url), status: response?.status ?? failure ?? 'error', attempt: attempt + 1, delayMs });
        await sleep(delayMs, options.signal);
      }
    },
  };
}

/** Retry-After (seconds or HTTP date) wins when present; otherwise half the exponential cap plus a random share of the other half. */
export function retryDelayMs(attempt: number, retryAfter: string | null, policy: RetryPolicy, random = Math.random): number {
  if (retryAfter) {
    const seconds = Number(retryAfter);
    const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(retryAfter) - Date.now();
    if (Number.isFinite(ms) && ms >= 0) return Math.min(ms, policy.maxDelayMs);
  }
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.round(cap / 2 + random() * (cap / 2));
}

function redactUrl(url: string): string {
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  parsed.search = parsed.search ? '?…' : '';
  return parsed.toString();
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}
