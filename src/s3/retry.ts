// Retries for object-store requests: exponential backoff with full jitter (delay drawn uniformly
// from [0, min(maxDelay, base * 2^(attempt-1))]), which spreads a burst of clients hitting a
// throttled prefix instead of having them retry in lock-step.
//
// Why our own loop rather than only the SDK's retry strategy: the SDK's retry ends when the response
// headers arrive, so a connection reset or stall while the body of a GetObject streams in would
// surface as a failure; here one attempt covers the request *and* reading its body. It also lets
// every attempt be reported to the metrics hook. The SDK client is therefore built with
// maxAttempts: 1 so the two layers do not multiply.

import type { OnRequest } from './object-store.js';

export interface RetryPolicy {
  /** Total attempts, including the first. */
  maxAttempts: number;
  /** Upper bound of the first retry's delay; doubles on every further retry. */
  baseDelayMs: number;
  /** Cap on the exponential bound. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 8, baseDelayMs: 100, maxDelayMs: 10_000 };

/** Full-jitter delay before retry number `retry` (1 for the first retry). */
export function backoffDelayMs(retry: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const bound = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(retry - 1, 30));
  return Math.floor(random() * bound);
}

// Error names S3 and S3-compatible servers use for "try again later".
const RETRYABLE_NAMES = new Set([
  'SlowDown',
  'InternalError',
  'ServiceUnavailable',
  'RequestTimeout',
  'RequestTimeoutException',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'BandwidthLimitExceeded',
  'PriorRequestNotComplete',
  'TimeoutError',
]);

// Socket-level failures: the request may or may not have reached the server, and every object-store
// operation is idempotent (whole-object puts, unique segment keys), so repeating it is safe.
const RETRYABLE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
  'ERR_S3_SHORT_READ',
]);

interface ErrorLike {
  name?: string;
  code?: string;
  cause?: unknown;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
}

/** True for 5xx, 429, throttling and timeout error names, and socket resets/timeouts. */
export function isRetryableS3Error(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 4; depth++) {
    const x = e as ErrorLike;
    if (x.name === 'AbortError') return false;
    const status = x.$metadata?.httpStatusCode;
    if (status !== undefined && (status >= 500 || status === 429)) return true;
    if (x.$retryable) return true;
    if (x.name && RETRYABLE_NAMES.has(x.name)) return true;
    if (x.code && RETRYABLE_CODES.has(x.code)) return true;
    e = x.cause;
  }
  return false;
}

export interface RetryHooks {
  onRequest?: OnRequest;
  isRetryable?: (err: unknown) => boolean;
  /** Errors that are a valid answer (e.g. "no such key"): reported as 'ok', never retried. */
  isAnswer?: (err: unknown) => boolean;
  /** Test seam. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `attempt` until it succeeds, fails with a non-retryable error, or attempts run out. */
export async function withRetry<T>(
  op: string,
  policy: RetryPolicy,
  hooks: RetryHooks,
  attempt: (attemptNumber: number) => Promise<T>,
): Promise<T> {
  const isRetryable = hooks.isRetryable ?? isRetryableS3Error;
  const wait = hooks.sleep ?? sleep;
  for (let n = 1; ; n++) {
    const t0 = performance.now();
    try {
      const value = await attempt(n);
      hooks.onRequest?.(op, 'ok', (performance.now() - t0) / 1000);
      return value;
    } catch (err) {
      const seconds = (performance.now() - t0) / 1000;
      if (hooks.isAnswer?.(err)) {
        hooks.onRequest?.(op, 'ok', seconds);
        throw err;
      }
      if (n >= policy.maxAttempts || !isRetryable(err)) {
        hooks.onRequest?.(op, 'error', seconds);
        if (n > 1 && err instanceof Error) err.message += ` (object store ${op}: gave up after ${n} attempts)`;
        throw err;
      }
      hooks.onRequest?.(op, 'retry', seconds);
      await wait(backoffDelayMs(n, policy, hooks.random));
    }
  }
}
