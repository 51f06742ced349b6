// Segment roll and upload, reads from segments, recovery: after a restart with the WAL deleted
// (everything from object storage), from the WAL alone (nothing uploaded), and on the s3: backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';
import { startS3rver, useS3rverCredentials } from '../helpers/s3rver.js';
import { createTopic, producer, readAll } from '../handlers/data-path.js';
import { openMetadataStore } from '../../src/metadata/index.js';
import { FileStore } from '../../src/s3/index.js';
import { PartitionLogManager, openWal } from '../../src/log/log-manager.js';
import { PROFILES } from '../../src/log/topic-config.js';
import { silentLogger } from '../../src/observability/logger.js';
import { buildBatchSync } from '../../src/protocol/records/index.js';
import { S3Store } from '../../src/s3/index.js';

async function until(what: string, cond: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function produceNumbered(broker: TestBroker, topic: string, from: number, count: number, perSend = 10): Promise<void> {
  const p = await producer(broker);
  for (let i = from; i < from + count; i += perSend) {
    await p.send({ topic, acks: -1, messages: Array.from({ length: Math.min(perSend, from + count - i) }, (_, j) => ({ key: `k${i + j}`, value: `value-${i + j}-${'x'.repeat(80)}` })) });
  }
  await p.disconnect();
}

async function readValues(broker: TestBroker, topic: string): Promise<string[]> {
  const raw = await RawClient.connect(broker.port);
  try {
    const recs = await readAll(raw, topic, 0);
    recs.forEach((r, i) => assert.equal(r.offset, BigInt(i), 'offsets are dense from 0'));
    return recs.map((r) => r.value!.toString().split('-')[1]);
  } finally {
    raw.close();
  }
}

const numbers = (n: number) => Array.from({ length: n }, (_, i) => String(i));

test('small segment.bytes rolls segments to objects; reads span segments and tail; a restart with the WAL deleted reads everything back', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sh-seg-'));
  try {
    let broker = await startTestBroker({ dataDir });
    const topic = await createTopic(broker, 'seg', 1, { 'segment.bytes': '4096' });
    await produceNumbered(broker, 'seg', 0, 200);
    const store = broker.agent.context.store;
    await until('segments to commit', async () => (await store.segments.listSegments(topic.id, 0)).length >= 3);
    const segs = await store.segments.listSegments(topic.id, 0);
    for (let i = 1; i < segs.length; i++) assert.equal(segs[i].baseOffset, segs[i - 1].lastOffset + 1n, 'segments are contiguous');
    // Every row names an object that exists (more rolls may land meanwhile; those are checked too).
    const objectDir = join(dataDir, 'objects', 'topics', topic.id, '0');
    const files = new Set(readdirSync(objectDir));
    for (const s of segs) assert.ok(files.has(s.objectKey.split('/').pop()!), `${s.objectKey} exists`);
    assert.deepEqual(await readValues(broker, 'seg'), numbers(200));

    await broker.stop({ keepData: true }); // graceful: uploads the rest of the tail
    rmSync(join(dataDir, 'wal'), { recursive: true, force: true });
    broker = await startTestBroker({ dataDir });
    assert.deepEqual(await readValues(broker, 'seg'), numbers(200));
    await produceNumbered(broker, 'seg', 200, 20);
    assert.deepEqual(await readValues(broker, 'seg'), numbers(220));
    await broker.stop({ keepData: true });
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('segment.ms uploads a small tail once it is old enough', async () => {
  const broker = await startTestBroker();
  try {
    const topic = await createTopic(broker, 'seg-ms', 1, { 'segment.ms': '300' });
    await produceNumbered(broker, 'seg-ms', 0, 5);
    await until('the aged tail to upload', async () => (await broker.agent.context.store.segments.listSegments(topic.id, 0)).length === 1, 5000);
    const [seg] = await broker.agent.context.store.segments.listSegments(topic.id, 0);
    assert.equal(seg.baseOffset, 0n);
    assert.equal(seg.lastOffset, 4n);
    assert.deepEqual(await readValues(broker, 'seg-ms'), numbers(5));
  } finally {
    await broker.stop();
  }
});

test('the WAL alone rebuilds a tail that was never uploaded', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sh-walrec-'));
  try {
    const log = silentLogger();
    const store = await openMetadataStore(`sqlite:${join(dir, 'meta.sqlite')}`);
    const objects = await FileStore.open(join(dir, 'objects'));
    const topic = await store.topics.createTopic({ name: 't', id: '0b7e1c9a-4a6f-4e0b-8c57-2f1d3e4a5b6c', partitions: 2, configs: {} });
    let wal = await openWal(join(dir, 'wal'), PROFILES.balanced, log);
    let logs = new PartitionLogManager({ store, objects, wal, brokerProfile: PROFILES.balanced, log, orphanCheckMs: 0 });
    await logs.recover();
    const p1 = await logs.partition(topic, 1);
    for (let i = 0; i < 5; i++) await p1.append(buildBatchSync({ records: [{ value: `r${i}a` }, { value: `r${i}b` }] }), { acks: -1, produceVersion: 9, transactionalId: null }).durable;
    assert.equal(p1.highWatermark(), 10n);
    // A crash: the WAL is closed (as the OS would keep it) but the tail is never uploaded.
    await wal.close();
    assert.equal(existsSync(join(dir, 'objects', 'topics')), false);

    wal = await openWal(join(dir, 'wal'), PROFILES.balanced, log);
    logs = new PartitionLogManager({ store, objects, wal, brokerProfile: PROFILES.balanced, log, orphanCheckMs: 0 });
    await logs.recover();
    const again = logs.getOpen(topic.id, 1);
    assert.ok(again, 'recovery opened the partition the WAL holds records of');
    assert.equal(again.highWatermark(), 10n);
    const got = await again.read(0n, { maxBytes: 1 << 20, minOneBatch: true, isolationLevel: 0 });
    assert.ok(got.records.length > 0);
    const r = await again.append(buildBatchSync({ records: [{ value: 'next' }] }), { acks: -1, produceVersion: 9, transactionalId: null }).durable;
    assert.equal(r.baseOffset, 10n, 'offsets continue after the recovered tail');
    await logs.close(); // uploads the tail: afterwards the WAL holds nothing needed
    const segs = await store.segments.listSegments(topic.id, 1);
    assert.equal(segs[segs.length - 1].lastOffset, 10n);
    await objects.close();
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the s3: backend (s3rver) stores segments and serves them after a restart without the WAL', async () => {
  useS3rverCredentials();
  const s3 = await startS3rver();
  const dataDir = mkdtempSync(join(tmpdir(), 'sh-s3-'));
  try {
    const cfg = { dataDir, objects: `s3://${s3.bucket}/cluster-a`, s3Endpoint: s3.endpoint };
    let broker = await startTestBroker(cfg);
    const topic = await createTopic(broker, 's3-seg', 1, { 'segment.bytes': '4096' });
    await produceNumbered(broker, 's3-seg', 0, 100);
    await until('segments on S3', async () => (await broker.agent.context.store.segments.listSegments(topic.id, 0)).length >= 2);
    await broker.stop({ keepData: true });
    const direct = new S3Store({ bucket: s3.bucket, prefix: 'cluster-a', endpoint: s3.endpoint });
    const keys: string[] = [];
    for await (const o of direct.list(`topics/${topic.id}/0/`)) keys.push(o.key);
    const rows = await (async () => {
      const st = await openMetadataStore(`sqlite:${join(dataDir, 'meta.sqlite')}`);
      const r = await st.segments.listSegments(topic.id, 0);
      await st.close();
      return r;
    })();
    assert.deepEqual(keys.sort(), rows.map((r) => r.objectKey).sort());
    await direct.close();

    rmSync(join(dataDir, 'wal'), { recursive: true, force: true });
    broker = await startTestBroker(cfg);
    assert.deepEqual(await readValues(broker, 's3-seg'), numbers(100));
    await broker.stop({ keepData: true });
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
    await s3.stop();
  }
});
