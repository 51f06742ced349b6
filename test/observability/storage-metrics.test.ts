// The storage metrics reach /metrics from the layers that record them: WAL fsyncs and queue depth,
// segment uploads (a failed one, then a successful one) and block cache reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { startTestBroker } from '../helpers/broker.js';
import { BlockCache } from '../../src/log/block-cache.js';
import type { ObjectStore } from '../../src/s3/index.js';

async function scrape(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(res.status, 200);
  return res.text();
}

/** The value of a sample, or undefined when the line is absent. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(name + labels + ' '));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

async function waitForSample(port: number, name: string, labels: string, atLeast: number): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const body = await scrape(port);
    if ((sample(body, name, labels) ?? 0) >= atLeast) return body;
    if (Date.now() > deadline) assert.fail(`${name}${labels} stayed below ${atLeast}:\n${body.split('\n').filter((l) => l.startsWith('streamhouse_')).join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('WAL, segment upload and block cache metrics after produce, a failed upload and a fetch', async () => {
  const b = await startTestBroker();
  const kafka = new Kafka({ brokers: [b.bootstrap], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const producer = kafka.producer();
  const consumer = kafka.consumer({ groupId: 'storage-metrics' });
  const port = b.agent.httpPort;
  try {
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'm', numPartitions: 1, configEntries: [{ name: 'segment.bytes', value: '2048' }] }] });
    // A regular file where the object store wants the topics/ directory: every segment put fails.
    const blocker = join(b.dataDir, 'objects', 'topics');
    mkdirSync(join(b.dataDir, 'objects'), { recursive: true });
    rmSync(blocker, { recursive: true, force: true });
    writeFileSync(blocker, 'not a directory');

    await producer.connect();
    const values = Array.from({ length: 30 }, (_, i) => `record-${i}-${'x'.repeat(200)}`);
    await producer.send({ topic: 'm', acks: -1, messages: values.map((value) => ({ value })) });

    let body = await waitForSample(port, 'streamhouse_segment_uploads_total', '{outcome="error"}', 1);
    assert.equal(sample(body, 'streamhouse_segment_uploads_total', '{outcome="ok"}') ?? 0, 0);
    // The balanced profile fsyncs the WAL periodically (group commit), not per produce.
    body = await waitForSample(port, 'streamhouse_wal_fsync_duration_seconds_count', '', 1);
    assert.notEqual(sample(body, 'streamhouse_wal_queue_depth'), undefined, 'WAL queue depth not exported');

    rmSync(blocker);
    body = await waitForSample(port, 'streamhouse_segment_uploads_total', '{outcome="ok"}', 1);
    assert.ok((sample(body, 'streamhouse_segment_uploaded_bytes_total') ?? 0) > 2048 / 2);

    // The uploaded batches are read back from the segment through the block cache.
    await consumer.connect();
    await consumer.subscribe({ topic: 'm', fromBeginning: true });
    const seen: string[] = [];
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ message }) => {
            seen.push(message.value!.toString());
            if (seen.length === values.length) resolve();
          },
        })
        .catch(reject);
    });
    assert.deepEqual(seen, values);
    body = await scrape(port);
    const reads = (sample(body, 'streamhouse_block_cache_hits_total') ?? 0) + (sample(body, 'streamhouse_block_cache_misses_total') ?? 0);
    assert.ok(reads >= 1, 'no block cache read recorded');
  } finally {
    await consumer.disconnect().catch(() => {});
    await producer.disconnect().catch(() => {});
    await admin.disconnect().catch(() => {});
    await b.stop();
  }
});

test('the block cache reports each hit and each miss', async () => {
  const body = Buffer.alloc(4096, 7);
  const store = { getRange: async (_k: string, s: number, e: number) => body.subarray(s, e) } as unknown as ObjectStore;
  let hits = 0;
  let misses = 0;
  const cache = new BlockCache(store, { blockBytes: 1024, readAheadBlocks: 0, metrics: { cacheHit: () => hits++, cacheMiss: () => misses++ } });
  await cache.read('k', 0, 2048, body.length); // two blocks, both fetched
  await cache.read('k', 512, 1024, body.length); // block 0 again
  assert.deepEqual({ hits, misses }, { hits: 1, misses: 2 });
  assert.deepEqual({ hits: cache.hits, misses: cache.misses }, { hits, misses });
});

test('WAL queue depth counts appends waiting to be written and appends waiting for an fsync', async () => {
  const { WriteAheadLog } = await import('../../src/wal/wal.js');
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'wal-depth-'));
  // A long interval: nothing is fsynced unless asked.
  const wal = await WriteAheadLog.open({ dir, syncMode: 'interval', syncIntervalMs: 600_000 });
  try {
    const rec = (o: bigint) => ({ topicId: '00000000-0000-4000-8000-000000000001', partition: 0, baseOffset: o, lastOffset: o, leaderEpoch: 0, data: Buffer.alloc(64, 1) });
    const appends = [wal.append(rec(0n)), wal.append(rec(1n))];
    assert.equal(wal.pendingAppends(), 2, 'queued, not yet written');
    const positions = await Promise.all(appends);
    assert.equal(wal.pendingAppends(), 0, 'written; nobody waits for an fsync');
    const durable = positions.map((p) => wal.waitDurable(p));
    assert.equal(wal.pendingAppends(), 2, 'waiting for an fsync');
    await wal.sync();
    await Promise.all(durable);
    assert.equal(wal.pendingAppends(), 0);
  } finally {
    await wal.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
