// The S3 store behind a proxy that injects 500s, 503 SlowDown, stalls and connection resets.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { RequestOutcome } from '../../src/s3/object-store.js';
import { S3Store } from '../../src/s3/s3-store.js';
import { seededRandom, startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { startS3rver, type S3rverHandle } from '../helpers/s3rver.js';

let s3: S3rverHandle;
before(async () => {
  s3 = await startS3rver();
});
after(async () => {
  await s3.stop();
});

describe('S3Store through a faulty network', () => {
  it('50 puts and gets at a 20% fault rate all succeed with the right content, in bounded time', async () => {
    const proxy = await startFaultProxy({ targetPort: s3.port, faultRate: 0.2, random: seededRandom(42) });
    const outcomes: Record<RequestOutcome, number> = { ok: 0, retry: 0, error: 0 };
    const store = new S3Store({
      bucket: s3.bucket,
      endpoint: proxy.endpoint,
      prefix: 'faults',
      maxAttempts: 12,
      baseDelayMs: 10,
      maxDelayMs: 200,
      // A stalled request is abandoned after 400 ms of silence and retried.
      socketTimeoutMs: 400,
      requestTimeoutMs: 2_000,
      onRequest: (_op, outcome) => outcomes[outcome]++,
    });
    const started = Date.now();
    try {
      const bodies = Array.from({ length: 50 }, (_, i) => randomBytes(1000 + i * 37));
      await Promise.all(bodies.map((b, i) => store.put(`obj/${i}`, b)));
      const got = await Promise.all(bodies.map((_, i) => store.get(`obj/${i}`)));
      got.forEach((g, i) => assert.ok(g.equals(bodies[i]!), `object ${i} content`));
      const ranges = await Promise.all(bodies.map((_, i) => store.getRange(`obj/${i}`, 100, 200)));
      ranges.forEach((r, i) => assert.ok(r.equals(bodies[i]!.subarray(100, 200)), `object ${i} range`));
    } finally {
      await store.close();
      await proxy.close();
    }
    const elapsed = Date.now() - started;
    assert.ok(elapsed < 30_000, `took ${elapsed} ms`);
    // The proxy really injected every kind of fault, and the store retried through them.
    for (const kind of ['error500', 'slowDown503', 'stall', 'reset'] as const) {
      assert.ok(proxy.stats[kind] > 0, `proxy injected ${kind}: ${JSON.stringify(proxy.stats)}`);
    }
    assert.equal(outcomes.error, 0);
    assert.equal(outcomes.ok, 150);
    assert.ok(outcomes.retry > 0, `retries reported: ${JSON.stringify(outcomes)}`);
  });

  it('a server that never answers fails the request after the timeout instead of hanging', async () => {
    const proxy: FaultProxy = await startFaultProxy({ targetPort: s3.port, faultRate: 1, faults: ['stall'] });
    const store = new S3Store({
      bucket: s3.bucket,
      endpoint: proxy.endpoint,
      maxAttempts: 2,
      baseDelayMs: 10,
      socketTimeoutMs: 300,
      requestTimeoutMs: 1_000,
    });
    const started = Date.now();
    try {
      await assert.rejects(store.put('k', Buffer.from('v')), (err: Error) => {
        assert.equal(err.name, 'TimeoutError');
        assert.match(err.message, /gave up after 2 attempts/);
        return true;
      });
      assert.equal(proxy.stats.stall, 2);
    } finally {
      await store.close();
      await proxy.close();
    }
    assert.ok(Date.now() - started < 5_000);
  });

  it('does not retry an error that a retry cannot fix', async () => {
    const proxy = await startFaultProxy({ targetPort: s3.port, faultRate: 0 });
    const store = new S3Store({ bucket: 'missing-bucket', endpoint: proxy.endpoint, maxAttempts: 5 });
    try {
      await assert.rejects(store.put('k', Buffer.from('v')), /bucket/i);
      assert.equal(proxy.stats.forwarded, 1);
    } finally {
      await store.close();
      await proxy.close();
    }
  });

  it('a multipart upload survives faults on its parts', async () => {
    const proxy = await startFaultProxy({
      targetPort: s3.port,
      faultRate: 0.3,
      faults: ['error500', 'reset', 'slowDown503'],
      random: seededRandom(7),
    });
    const store = new S3Store({
      bucket: s3.bucket,
      endpoint: proxy.endpoint,
      prefix: 'mp-faults',
      multipartThresholdBytes: 5 * 1024 * 1024,
      partSizeBytes: 5 * 1024 * 1024,
      maxAttempts: 12,
      baseDelayMs: 10,
      maxDelayMs: 200,
    });
    try {
      const body = randomBytes(16 * 1024 * 1024);
      await store.put('big', body);
      assert.ok((await store.get('big')).equals(body));
    } finally {
      await store.close();
      await proxy.close();
    }
    assert.ok(proxy.stats.error500 + proxy.stats.reset + proxy.stats.slowDown503 > 0);
  });
});
