// The s3: backend against a real s3rver process, through a fault-injecting HTTP proxy that answers
// 20% of requests with 500 InternalError, 503 SlowDown, a stall or a TCP reset. A broker with small
// segments uploads many of them while kafkajs producers write numbered records with acks=all.
// Checked: every segment row names an object that exists with the row's size, uploads catch up
// (no record stays only in the WAL), and every acknowledged record reads back, also after a
// restart with the WAL deleted (reads then go through the faulty proxy too).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { startS3rver } from '../helpers/s3rver.js';
import { startFaultProxy, seededRandom } from '../helpers/fault-proxy.js';
import { RawClient } from '../helpers/raw-client.js';
import { createTopic, producer, readAll } from '../handlers/data-path.js';
import { S3Store } from '../../src/s3/index.js';
import type { TopicRecord } from '../../src/metadata/types.js';

const PARTITIONS = 3;

async function until(what: string, cond: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Three writers send `total` numbered records in batches of 20; returns the ids acknowledged. */
async function produceNumbered(broker: TestBroker, topic: string, total: number): Promise<{ acked: Set<number>; failed: number }> {
  const p = await producer(broker, { idempotent: false });
  const acked = new Set<number>();
  let next = 0;
  let failed = 0;
  const writer = async () => {
    while (next < total) {
      const ids = Array.from({ length: 20 }, () => next++);
      try {
        await p.send({ topic, acks: -1, messages: ids.map((id) => ({ key: String(id), value: `id-${id}-${'s'.repeat(60)}` })) });
        for (const id of ids) acked.add(id);
      } catch {
        failed++;
      }
    }
  };
  await Promise.all([writer(), writer(), writer()]);
  await p.disconnect();
  return { acked, failed };
}

async function storedIds(broker: TestBroker, topic: string): Promise<Set<number>> {
  const raw = await RawClient.connect(broker.port);
  const ids = new Set<number>();
  try {
    for (let p = 0; p < PARTITIONS; p++) {
      for (const r of await readAll(raw, topic, p)) ids.add(Number(r.value!.toString().split('-')[1]));
    }
  } finally {
    raw.close();
  }
  return ids;
}

/** Whether every record at or below each partition's high watermark is in a committed segment. */
async function allUploaded(broker: TestBroker, topic: TopicRecord): Promise<boolean> {
  const { store, logs } = broker.agent.context;
  for (let p = 0; p < PARTITIONS; p++) {
    const log = await logs!.partition(topic, p);
    if ((await store.segments.nextOffset(topic.id, p)) < log.highWatermark()) return false;
  }
  return true;
}

test('s3: behind a proxy failing 20% of requests (500, 503 SlowDown, stalls, resets): no acked record lost, no row without its object, uploads complete', { timeout: 90_000 }, async (t) => {
  // Stalled requests are abandoned after 1 s instead of 60 s, then retried.
  const previousTimeout = process.env.STREAMHOUSE_S3_REQUEST_TIMEOUT_MS;
  process.env.STREAMHOUSE_S3_REQUEST_TIMEOUT_MS = '1000';
  const s3 = await startS3rver();
  const proxy = await startFaultProxy({ targetPort: s3.port, faultRate: 0.2, random: seededRandom(20260), faults: ['error500', 'slowDown503', 'stall', 'reset'] });
  const dataDir = mkdtempSync(join(tmpdir(), 'sh-s3faults-'));
  const direct = new S3Store({ bucket: s3.bucket, prefix: 'faulty', endpoint: s3.endpoint });
  const cfg = { dataDir, objects: `s3://${s3.bucket}/faulty`, s3Endpoint: proxy.endpoint };
  let broker: TestBroker | undefined;
  try {
    broker = await startTestBroker(cfg);
    const topic = await createTopic(broker, 'faulty', PARTITIONS, { 'segment.bytes': '3000', 'segment.ms': '400' });
    const { acked, failed } = await produceNumbered(broker, 'faulty', 4000);
    assert.ok(acked.size >= 3000, `only ${acked.size} of 4000 records were acknowledged`);

    await until('every acknowledged record to be in a committed segment', () => allUploaded(broker!, topic), 40_000);
    const faults = proxy.stats.error500 + proxy.stats.slowDown503 + proxy.stats.stall + proxy.stats.reset;
    t.diagnostic(`${acked.size} acked (${failed} sends failed); proxy ${JSON.stringify(proxy.stats)}`);
    assert.ok(faults >= 10, `the proxy injected only ${faults} faults; the test did not exercise retries`);

    // A row never points at a missing object: check each against s3rver directly, not the proxy.
    let rows = 0;
    for (let p = 0; p < PARTITIONS; p++) {
      const segs = await broker.agent.context.store.segments.listSegments(topic.id, p);
      assert.ok(segs.length >= 2, `partition ${p} has ${segs.length} segments; expected several uploads`);
      for (let i = 1; i < segs.length; i++) assert.equal(segs[i].baseOffset, segs[i - 1].lastOffset + 1n, 'segments are contiguous');
      for (const s of segs) {
        const head = await direct.head(s.objectKey);
        assert.ok(head, `segment row ${s.objectKey} has no object`);
        assert.equal(head.size, s.sizeBytes, `object ${s.objectKey} has the row's size`);
        rows++;
      }
    }
    t.diagnostic(`${rows} segment rows checked`);
    const stored = await storedIds(broker, 'faulty');
    assert.deepEqual([...acked].filter((id) => !stored.has(id)), [], 'acknowledged records missing before the restart');

    await broker.stop({ keepData: true });
    broker = undefined;
    rmSync(join(dataDir, 'wal'), { recursive: true, force: true });
    broker = await startTestBroker(cfg);
    const after = await storedIds(broker, 'faulty');
    const lost = [...acked].filter((id) => !after.has(id));
    assert.deepEqual(lost, [], `${lost.length} acknowledged records lost after a restart without the WAL`);
  } finally {
    await broker?.stop({ keepData: true }).catch(() => undefined);
    await direct.close();
    await proxy.close();
    // The s3rver child is unref'd; hold the loop open until its exit is seen.
    const hold = setInterval(() => undefined, 1000);
    await s3.stop();
    clearInterval(hold);
    rmSync(dataDir, { recursive: true, force: true });
    if (previousTimeout === undefined) delete process.env.STREAMHOUSE_S3_REQUEST_TIMEOUT_MS;
    else process.env.STREAMHOUSE_S3_REQUEST_TIMEOUT_MS = previousTimeout;
  }
});
