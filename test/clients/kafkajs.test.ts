// kafkajs 2.x against an in-process broker: the produce/consume path with every codec kafkajs
// can carry, headers, null keys and values, messages near max.message.bytes, and the admin
// client's topic, config, offset and group operations.
//
// kafkajs ships gzip only; snappy, lz4 and zstd are plug-ins (CompressionCodecs[type] is a
// factory returning { compress(encoder), decompress(buffer) }). The plug-ins registered here wrap
// the broker's own codec module, and the test checks that the batches the broker stored carry
// the codec the client asked for, so a plug-in silently falling back to 'none' fails.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import kafkajs, { Kafka, logLevel, CompressionTypes, type IHeaders, type Producer } from 'kafkajs';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';
import { rawFetch, batchHeaders } from '../handlers/data-path.js';
import { compress, decompress, type CompressionName } from '../../src/protocol/records/compression.js';
import { CompressionType } from '../../src/protocol/records/batch.js';

const DECOMPRESS_CAP = 64 << 20;

function plugin(codec: CompressionName) {
  return () => ({
    compress: (encoder: { buffer: Buffer }) => compress(codec, encoder.buffer),
    decompress: (buffer: Buffer) => decompress(codec, buffer, DECOMPRESS_CAP),
  });
}
// CompressionCodecs and ConfigResourceTypes are not named exports of the CommonJS module under ESM.
const { ConfigResourceTypes } = kafkajs;
const codecs = kafkajs.CompressionCodecs as Record<number, unknown>;
codecs[CompressionTypes.Snappy] = plugin('snappy');
codecs[CompressionTypes.LZ4] = plugin('lz4');
codecs[CompressionTypes.ZSTD] = plugin('zstd');

let broker: TestBroker;
let raw: RawClient;
let client: Kafka;
before(async () => {
  // No initial rebalance delay: every test joins a fresh group, and 3 s each adds up.
  broker = await startTestBroker({ groupInitialRebalanceDelayMs: 0 });
  raw = await RawClient.connect(broker.port);
  client = new Kafka({ clientId: 'kafkajs-matrix', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 5, initialRetryTime: 100 } });
});
after(async () => {
  raw.close();
  await broker.stop();
});

interface Seen {
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
  timestamp: string;
}

function headerStrings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) out[k] = Array.isArray(v) ? v.map(String).join(',') : String(v);
  return out;
}

/** Joins a fresh group on `topic` from the beginning and returns the first `count` records, in arrival order. */
async function consumeAll(topic: string, count: number, opts: { maxBytes?: number; timeoutMs?: number } = {}): Promise<Seen[]> {
  const consumer = client.consumer({
    groupId: `g-${topic}-${Date.now()}`,
    maxWaitTimeInMs: 100,
    sessionTimeout: 10_000,
    heartbeatInterval: 1000,
    ...(opts.maxBytes ? { maxBytes: opts.maxBytes, maxBytesPerPartition: opts.maxBytes } : {}),
  });
  const seen: Seen[] = [];
  let crashed: Error | undefined;
  consumer.on(consumer.events.CRASH, (e) => {
    crashed = e.payload.error;
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        seen.push({
          partition,
          offset: message.offset,
          key: message.key === null ? null : message.key.toString(),
          value: message.value,
          headers: headerStrings(message.headers),
          timestamp: message.timestamp,
        });
        if (seen.length >= count) done();
      },
    });
    const timeoutMs = opts.timeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      finished,
      new Promise<void>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`read ${seen.length} of ${count} records from ${topic} in ${timeoutMs} ms${crashed ? `; consumer crashed: ${crashed.message}` : ''}`)), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
  } finally {
    await consumer.disconnect();
  }
  return seen;
}

async function withProducer<T>(fn: (p: Producer) => Promise<T>, opts: Parameters<Kafka['producer']>[0] = {}): Promise<T> {
  const p = client.producer({ allowAutoTopicCreation: false, ...opts });
  await p.connect();
  try {
    return await fn(p);
  } finally {
    await p.disconnect();
  }
}

async function createTopics(...topics: { topic: string; numPartitions?: number; configEntries?: { name: string; value: string }[] }[]) {
  const admin = client.admin();
  await admin.connect();
  try {
    assert.equal(await admin.createTopics({ topics, waitForLeaders: true }), true);
  } finally {
    await admin.disconnect();
  }
}

/** Codec codes of every batch stored in a partition, from a raw Fetch of the whole log. */
async function storedCodecs(topic: string, partition: number): Promise<number[]> {
  const res = await rawFetch(raw, topic, partition, 0n, { partitionMaxBytes: 64 << 20 });
  const p = res.responses[0]!.partitions[0]!;
  assert.equal(p.errorCode, 0);
  return batchHeaders(p.records).map((h) => h.compression);
}

const CODECS = [
  { name: 'none', type: CompressionTypes.None },
  { name: 'gzip', type: CompressionTypes.GZIP },
  { name: 'snappy', type: CompressionTypes.Snappy },
  { name: 'lz4', type: CompressionTypes.LZ4 },
  { name: 'zstd', type: CompressionTypes.ZSTD },
] as const;

for (const codec of CODECS) {
  test(`kafkajs ${codec.name}: keys, null keys, null values, binary values and headers round-trip exactly`, async () => {
    const topic = `kjs-codec-${codec.name}`;
    await createTopics({ topic, numPartitions: 2 });
    const binary = randomBytes(3000);
    const text = 'streamhouse '.repeat(500); // compressible, so the codec really shrinks something
    const sent = await withProducer((p) =>
      p.send({
        topic,
        compression: codec.type,
        acks: -1,
        messages: [
          { partition: 0, key: 'k0', value: 'v0', headers: { trace: 'abc', 'content-type': 'text/plain' } },
          { partition: 0, key: null, value: 'no key' },
          { partition: 0, key: 'tombstone', value: null },
          { partition: 0, key: 'bin', value: binary, headers: { empty: '' } },
          { partition: 0, key: 'text', value: text, timestamp: '1700000000123' },
          { partition: 1, key: 'other', value: 'partition one' },
        ],
      }),
    );
    const byPartition = Object.fromEntries(sent.map((r) => [r.partition, r]));
    assert.equal(byPartition[0]!.errorCode, 0);
    assert.equal(byPartition[0]!.baseOffset, '0');
    assert.equal(byPartition[1]!.baseOffset, '0');
    // A second batch appends after the first.
    const second = await withProducer((p) => p.send({ topic, compression: codec.type, messages: [{ partition: 0, key: 'k-last', value: 'last' }] }));
    assert.equal(second[0]!.baseOffset, '5');

    assert.deepEqual(await storedCodecs(topic, 0), [CompressionType[codec.name], CompressionType[codec.name]]);

    const got = await consumeAll(topic, 7);
    const p0 = got.filter((m) => m.partition === 0);
    const p1 = got.filter((m) => m.partition === 1);
    assert.deepEqual(
      p0.map((m) => [m.offset, m.key, m.value === null ? null : m.value.length]),
      [
        ['0', 'k0', 2],
        ['1', null, 6],
        ['2', 'tombstone', null],
        ['3', 'bin', 3000],
        ['4', 'text', text.length],
        ['5', 'k-last', 4],
      ],
    );
    assert.equal(p0[0]!.value!.toString(), 'v0');
    assert.deepEqual(p0[0]!.headers, { trace: 'abc', 'content-type': 'text/plain' });
    assert.equal(p0[1]!.value!.toString(), 'no key');
    assert.deepEqual(p0[1]!.headers, {});
    assert.ok(p0[3]!.value!.equals(binary), 'binary value differs');
    assert.deepEqual(p0[3]!.headers, { empty: '' });
    assert.equal(p0[4]!.value!.toString(), text);
    assert.equal(p0[4]!.timestamp, '1700000000123');
    assert.deepEqual(p1.map((m) => [m.offset, m.key, m.value!.toString()]), [['0', 'other', 'partition one']]);
  });
}

test('kafkajs: messages near max.message.bytes go through in every codec, one byte of batch over is refused', async () => {
  const limit = 1_000_000;
  const topic = 'kjs-large';
  await createTopics({ topic, configEntries: [{ name: 'max.message.bytes', value: String(limit) }] });
  // Incompressible values, so the compressed batch is as large as the plain one.
  const values = CODECS.map(() => randomBytes(limit - 1000));
  await withProducer(async (p) => {
    for (const [i, codec] of CODECS.entries()) {
      const [r] = await p.send({ topic, compression: codec.type, messages: [{ key: codec.name, value: values[i]! }] });
      assert.equal(r!.baseOffset, String(i));
    }
    await assert.rejects(
      p.send({ topic, messages: [{ key: 'too-big', value: randomBytes(limit + 1) }] }),
      (err: Error & { type?: string }) => err.type === 'MESSAGE_TOO_LARGE' || /too large|MESSAGE_TOO_LARGE/i.test(err.message),
    );
  });
  assert.deepEqual(await storedCodecs(topic, 0), CODECS.map((c) => CompressionType[c.name]));
  // A fetch size that fits one record at a time still makes progress (KIP-74).
  const got = await consumeAll(topic, CODECS.length, { maxBytes: 64 * 1024, timeoutMs: 60_000 });
  assert.deepEqual(got.map((m) => [m.offset, m.key]), CODECS.map((c, i) => [String(i), c.name]));
  got.forEach((m, i) => assert.ok(m.value!.equals(values[i]!), `record ${i} (${CODECS[i]!.name}) differs`));
});

test('kafkajs admin: create, describe, alter configs, grow and delete a topic', async () => {
  const admin = client.admin();
  await admin.connect();
  try {
    const topic = 'kjs-admin';
    assert.equal(
      await admin.createTopics({
        topics: [{ topic, numPartitions: 2, replicationFactor: 1, configEntries: [{ name: 'retention.ms', value: '3600000' }, { name: 'cleanup.policy', value: 'delete' }] }],
      }),
      true,
    );
    assert.ok((await admin.listTopics()).includes(topic));
    const md = await admin.fetchTopicMetadata({ topics: [topic] });
    assert.equal(md.topics[0]!.name, topic);
    assert.deepEqual(md.topics[0]!.partitions.map((p) => p.partitionId).sort(), [0, 1]);
    const brokerId = (await admin.describeCluster()).brokers[0]!.nodeId;
    for (const p of md.topics[0]!.partitions) {
      assert.equal(p.leader, brokerId);
      assert.deepEqual(p.replicas, [brokerId]);
      assert.deepEqual(p.isr, [brokerId]);
    }

    const describe = async () => {
      const res = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['retention.ms', 'cleanup.policy', 'max.message.bytes'] }] });
      assert.equal(res.resources[0]!.errorCode, 0);
      return Object.fromEntries(res.resources[0]!.configEntries.map((e) => [e.configName, { value: e.configValue, isDefault: e.isDefault }]));
    };
    const before = await describe();
    assert.deepEqual(before['retention.ms'], { value: '3600000', isDefault: false });
    assert.deepEqual(before['cleanup.policy'], { value: 'delete', isDefault: false });
    assert.equal(before['max.message.bytes']!.isDefault, true);

    // AlterConfigs (non-incremental) replaces the whole override set.
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: 'max.message.bytes', value: '2000000' }] }] });
    const altered = await describe();
    assert.deepEqual(altered['max.message.bytes'], { value: '2000000', isDefault: false });
    assert.equal(altered['retention.ms']!.isDefault, true, 'retention.ms override should be gone');
    assert.equal(altered['cleanup.policy']!.isDefault, true);

    await admin.createPartitions({ topicPartitions: [{ topic, count: 5 }] });
    assert.equal((await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions.length, 5);
    const offsets = await admin.fetchTopicOffsets(topic);
    assert.deepEqual(offsets.map((o) => [o.partition, o.low, o.high]).sort((a, b) => Number(a[0]) - Number(b[0])), [0, 1, 2, 3, 4].map((p) => [p, '0', '0']));

    assert.equal(await admin.createTopics({ topics: [{ topic }] }), false, 'creating an existing topic reports false');
    await admin.deleteTopics({ topics: [topic], timeout: 5000 });
    assert.ok(!(await admin.listTopics()).includes(topic));
    await assert.rejects(admin.deleteTopics({ topics: [topic], timeout: 5000 }), /does not host this topic-partition|UNKNOWN_TOPIC_OR_PARTITION/);
  } finally {
    await admin.disconnect();
  }
});

test('kafkajs admin: offsets by time, delete records, and a group\'s committed offsets set, fetched, reset and deleted', async () => {
  const topic = 'kjs-offsets';
  await createTopics({ topic, numPartitions: 1 });
  const t0 = 1_700_000_000_000;
  await withProducer((p) =>
    p.send({ topic, messages: Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `v${i}`, timestamp: String(t0 + i * 1000) })) }),
  );
  const admin = client.admin();
  await admin.connect();
  try {
    assert.deepEqual(await admin.fetchTopicOffsetsByTimestamp(topic, t0 + 3500), [{ partition: 0, offset: '4' }]);
    assert.deepEqual(await admin.fetchTopicOffsetsByTimestamp(topic, t0), [{ partition: 0, offset: '0' }]);
    // Past the last timestamp: the log end offset (kafkajs maps "no such offset" to the high watermark).
    assert.deepEqual(await admin.fetchTopicOffsetsByTimestamp(topic, t0 + 60_000), [{ partition: 0, offset: '10' }]);

    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '3' }] });
    const [o] = await admin.fetchTopicOffsets(topic);
    assert.deepEqual([o!.low, o!.high, o!.offset], ['3', '10', '10']);

    // A group that never ran: offsets are set, read back, reset and deleted through the admin API.
    const groupId = 'kjs-admin-group';
    await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '7' }] });
    assert.deepEqual(await admin.fetchOffsets({ groupId, topics: [topic] }), [{ topic, partitions: [{ partition: 0, offset: '7', metadata: null }] }]);
    // kafkajs commits the sentinel -2 (earliest) as the offset, as Kafka stores it; the consumer resolves it.
    await admin.resetOffsets({ groupId, topic, earliest: true });
    assert.equal((await admin.fetchOffsets({ groupId, topics: [topic] }))[0]!.partitions[0]!.offset, '-2');

    // A consumer of the group starts at the log start offset (records 0-2 were deleted).
    const consumer = client.consumer({ groupId, maxWaitTimeInMs: 100 });
    await consumer.connect();
    const offsets: string[] = [];
    try {
      // kafkajs treats a negative committed offset as none and falls back to fromBeginning.
      await consumer.subscribe({ topic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`consumer read only ${offsets.join(',')}`)), 30_000);
        void consumer.run({
          eachMessage: async ({ message }) => {
            offsets.push(message.offset);
            if (offsets.length === 7) {
              clearTimeout(timer);
              resolve();
            }
          },
        });
      });
      const groups = await admin.listGroups();
      assert.ok(groups.groups.some((g) => g.groupId === groupId && g.protocolType === 'consumer'));
      const described = await admin.describeGroups([groupId]);
      assert.equal(described.groups[0]!.state, 'Stable');
      assert.equal(described.groups[0]!.members.length, 1);
    } finally {
      await consumer.disconnect();
    }
    assert.deepEqual(offsets, ['3', '4', '5', '6', '7', '8', '9']);
    assert.equal((await admin.fetchOffsets({ groupId, topics: [topic] }))[0]!.partitions[0]!.offset, '10');
    await admin.deleteGroups([groupId]);
    assert.equal((await admin.fetchOffsets({ groupId, topics: [topic] }))[0]!.partitions[0]!.offset, '-1');
  } finally {
    await admin.disconnect();
  }
});

test('kafkajs idempotent producer: sequences from InitProducerId, every record stored once', async () => {
  const topic = 'kjs-idempotent';
  await createTopics({ topic, numPartitions: 1 });
  await withProducer(
    async (p) => {
      for (let i = 0; i < 3; i++) {
        const [r] = await p.send({ topic, acks: -1, compression: CompressionTypes.ZSTD, messages: [{ key: `a${i}`, value: `x${i}` }, { key: `b${i}`, value: `y${i}` }] });
        assert.equal(r!.baseOffset, String(i * 2));
      }
    },
    { idempotent: true, maxInFlightRequests: 1 },
  );
  const res = await rawFetch(raw, topic, 0, 0n);
  const headers = batchHeaders(res.responses[0]!.partitions[0]!.records);
  assert.deepEqual(headers.map((h) => h.baseSequence), [0, 2, 4]);
  assert.ok(headers.every((h) => h.producerId >= 0n && h.producerId === headers[0]!.producerId && h.producerEpoch === 0));
  const got = await consumeAll(topic, 6);
  assert.deepEqual(got.map((m) => `${m.offset}:${m.key}=${m.value}`), ['0:a0=x0', '1:b0=y0', '2:a1=x1', '3:b1=y1', '4:a2=x2', '5:b2=y2']);
});
