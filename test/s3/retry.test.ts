import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelayMs, isRetryableS3Error, withRetry, type RetryPolicy } from '../../src/s3/retry.js';

const policy: RetryPolicy = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000 };
const s3Error = (name: string, status: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

describe('backoffDelayMs (full jitter)', () => {
  it('draws from [0, base * 2^(retry-1)] capped at maxDelay', () => {
    const top = () => 0.999999;
    assert.equal(backoffDelayMs(1, policy, top), 99);
    assert.equal(backoffDelayMs(2, policy, top), 199);
    assert.equal(backoffDelayMs(3, policy, top), 399);
    assert.equal(backoffDelayMs(5, policy, top), 999);
    assert.equal(backoffDelayMs(60, policy, top), 999);
    assert.equal(backoffDelayMs(3, policy, () => 0), 0);
    assert.equal(backoffDelayMs(3, policy, () => 0.5), 200);
  });
});

describe('isRetryableS3Error', () => {
  it('retries 5xx, 429, SlowDown, throttling, timeouts and socket resets', () => {
    assert.ok(isRetryableS3Error(s3Error('InternalError', 500)));
    assert.ok(isRetryableS3Error(s3Error('SlowDown', 503)));
    assert.ok(isRetryableS3Error(s3Error('Unknown', 502)));
    assert.ok(isRetryableS3Error(s3Error('TooManyRequests', 429)));
    assert.ok(isRetryableS3Error(s3Error('RequestTimeout', 400)));
    assert.ok(isRetryableS3Error(Object.assign(new Error('idle'), { name: 'TimeoutError' })));
    assert.ok(isRetryableS3Error(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })));
    assert.ok(isRetryableS3Error(new Error('wrapped', { cause: Object.assign(new Error('x'), { code: 'EPIPE' }) })));
  });

  it('does not retry client errors, missing keys or aborts', () => {
    assert.ok(!isRetryableS3Error(s3Error('NoSuchKey', 404)));
    assert.ok(!isRetryableS3Error(s3Error('AccessDenied', 403)));
    assert.ok(!isRetryableS3Error(s3Error('NoSuchBucket', 404)));
    assert.ok(!isRetryableS3Error(Object.assign(new Error('stop'), { name: 'AbortError' })));
    assert.ok(!isRetryableS3Error(new TypeError('bug')));
    assert.ok(!isRetryableS3Error(undefined));
  });
});

describe('withRetry', () => {
  it('retries until success, sleeping the backoff between attempts, and reports every attempt', async () => {
    const sleeps: number[] = [];
    const events: string[] = [];
    let calls = 0;
    const v = await withRetry(
      'put',
      policy,
      { sleep: async (ms) => void sleeps.push(ms), random: () => 0.5, onRequest: (op, o) => events.push(`${op}:${o}`) },
      async (n) => {
        calls++;
        assert.equal(n, calls);
        if (n < 3) throw s3Error('SlowDown', 503);
        return 'done';
      },
    );
    assert.equal(v, 'done');
    assert.deepEqual(sleeps, [50, 100]);
    assert.deepEqual(events, ['put:retry', 'put:retry', 'put:ok']);
  });

  it('gives up after maxAttempts with the last error, saying how many attempts it made', async () => {
    const events: string[] = [];
    let calls = 0;
    await assert.rejects(
      withRetry('get', policy, { sleep: async () => {}, onRequest: (_op, o) => events.push(o) }, async () => {
        calls++;
        throw s3Error('InternalError', 500);
      }),
      /gave up after 4 attempts/,
    );
    assert.equal(calls, 4);
    assert.deepEqual(events, ['retry', 'retry', 'retry', 'error']);
  });

  it('fails at once on a non-retryable error, and reports an answer error as ok', async () => {
    let calls = 0;
    const events: string[] = [];
    const hooks = {
      sleep: async () => {},
      onRequest: (_op: string, o: string) => events.push(o),
      isAnswer: (e: unknown) => (e as Error).name === 'NoSuchKey',
    };
    await assert.rejects(withRetry('get', policy, hooks, async () => { calls++; throw s3Error('AccessDenied', 403); }), /AccessDenied/);
    await assert.rejects(withRetry('get', policy, hooks, async () => { calls++; throw s3Error('NoSuchKey', 404); }), /NoSuchKey/);
    assert.equal(calls, 2);
    assert.deepEqual(events, ['error', 'ok']);
  });
});
