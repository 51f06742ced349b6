// confluent-kafka (Python over librdkafka 2.x) against a started broker: produce and consume with
// zstd and lz4 (and the other codecs), checked in the stored batches; the idempotent producer;
// a consumer group; AdminClient topic creation with configs, and config describe/alter.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { confluentKafka, runConfluentKafka, INSTALL_CONFLUENT_KAFKA, type ConsumedMessage } from '../helpers/confluent-kafka.js';
import { MissingToolError, projectRoot, runProcess } from '../helpers/external-process.js';
import { RawClient } from '../helpers/raw-client.js';
import { batchHeaders, rawFetch } from '../handlers/data-path.js';
import { CompressionType, type CompressionName } from '../../src/protocol/records/batch.js';

let broker: TestBroker;
let raw: RawClient;
before(async () => {
  broker = await startTestBroker({ groupInitialRebalanceDelayMs: 0 });
  raw = await RawClient.connect(broker.port);
});
after(async () => {
  raw.close();
  await broker.stop();
});

async function storedBatches(topic: string, partition = 0) {
  const res = await rawFetch(raw, topic, partition, 0n, { partitionMaxBytes: 16 << 20 });
  const p = res.responses[0]!.partitions[0]!;
  assert.equal(p.errorCode, 0);
  return batchHeaders(p.records);
}

const summary = (m: ConsumedMessage) => [m.partition, m.offset, m.key, m.value, m.headers];

const CODECS: CompressionName[] = ['zstd', 'lz4', 'gzip', 'snappy'];

for (const codec of CODECS) {
  test(`confluent-kafka ${codec}: keys, NULL keys and values, headers round-trip; batches stored as ${codec}`, async () => {
    const topic = `ck-${codec}`;
    await broker.agent.context.topics.create({ name: topic, partitions: 2, configs: {} });
    const padding = 'p'.repeat(2000); // compressible, or librdkafka sends the batch plain
    const produced = await confluentKafka(broker.bootstrap, {
      op: 'produce',
      topic,
      config: { 'compression.type': codec, 'linger.ms': 20, acks: 'all' },
      messages: [
        { partition: 0, key: 'k1', value: `one ${padding}`, headers: { trace: 't-1', codec } },
        { partition: 0, key: null, value: `no key ${padding}` },
        { partition: 0, key: 'tomb', value: null },
        { partition: 1, key: 'k2', value: `two ${padding}`, headers: { empty: '' } },
      ],
    });
    assert.deepEqual(
      produced.delivered!.map((d) => [d.partition, d.offset, d.error]).sort(),
      [
        [0, 0, null],
        [0, 1, null],
        [0, 2, null],
        [1, 0, null],
      ],
    );
    const batches = await storedBatches(topic);
    assert.deepEqual(batches.map((b) => [b.compression, b.recordCount]), [[CompressionType[codec], 3]]);

    const consumed = await confluentKafka(broker.bootstrap, {
      op: 'consume',
      assign: [
        { topic, partition: 0, offset: 0 },
        { topic, partition: 1, offset: 0 },
      ],
      maxMessages: 4,
    });
    const got = consumed.messages!.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
    assert.deepEqual(got.map(summary), [
      [0, 0, 'k1', `one ${padding}`, { trace: 't-1', codec }],
      [0, 1, null, `no key ${padding}`, {}],
      [0, 2, 'tomb', null, {}],
      [1, 0, 'k2', `two ${padding}`, { empty: '' }],
    ]);
  });
}

test('confluent-kafka reads from an assigned offset and a group commits what it read', async () => {
  const topic = 'ck-group';
  await broker.agent.context.topics.create({ name: topic, partitions: 3, configs: {} });
  const messages = Array.from({ length: 30 }, (_, i) => ({ partition: i % 3, key: `k${i}`, value: `v${i}` }));
  await confluentKafka(broker.bootstrap, { op: 'produce', topic, config: { 'compression.type': 'zstd' }, messages });

  const fromFive = await confluentKafka(broker.bootstrap, { op: 'consume', assign: [{ topic, partition: 2, offset: 5 }], maxMessages: 5 });
  assert.deepEqual(fromFive.messages!.map((m) => [m.offset, m.key]), [5, 6, 7, 8, 9].map((o) => [o, `k${o * 3 + 2}`]));

  const run = await runConfluentKafka(broker.bootstrap, [
    { op: 'consume', topics: [topic], group: 'ck-g1', maxMessages: 30, config: { 'enable.auto.commit': true, 'auto.commit.interval.ms': 100 } },
    // The same group again: everything was committed on close, so nothing is left to read.
    { op: 'consume', topics: [topic], group: 'ck-g1', maxMessages: 1, timeoutS: 4 },
  ]);
  assert.equal(run.results[0]!.ok, true, JSON.stringify(run.results[0]).slice(0, 2000));
  assert.deepEqual(run.results[0]!.messages!.map((m) => m.value).sort(), messages.map((m) => m.value).sort());
  assert.deepEqual(run.results[1]!.messages, []);
});

test('confluent-kafka idempotent producer: one producer id, sequences per partition, lz4', async () => {
  const topic = 'ck-idempotent';
  await broker.agent.context.topics.create({ name: topic, partitions: 1, configs: {} });
  const messages = Array.from({ length: 20 }, (_, i) => ({ partition: 0, key: `k${i}`, value: `value-${i}-${'i'.repeat(200)}` }));
  const r = await confluentKafka(broker.bootstrap, {
    op: 'produce',
    topic,
    config: { 'enable.idempotence': true, 'compression.type': 'lz4', 'batch.num.messages': 5, 'linger.ms': 5 },
    messages,
  });
  assert.deepEqual(r.delivered!.map((d) => d.offset), messages.map((_, i) => i));
  const batches = await storedBatches(topic);
  assert.ok(batches.length >= 4, `${batches.length} batches`);
  const pid = batches[0]!.producerId;
  assert.ok(pid >= 0n, 'a producer id from InitProducerId');
  let next = 0;
  for (const b of batches) {
    assert.deepEqual([b.producerId, b.producerEpoch, b.baseSequence, b.compression], [pid, 0, next, CompressionType.lz4]);
    next += b.recordCount;
  }
  assert.equal(next, 20);
});

interface ConfigView {
  value: string | null;
  source: number;
  isDefault: boolean;
  isReadOnly: boolean;
  synonyms: number[];
}
type ConfigsResult = { ok: boolean; configs?: Record<string, ConfigView>; error?: { code: number; name: string; message: string } };

/** Runs test/clients/python/confluent_configs.py (AdminClient config calls) and returns one result per action. */
async function configAdmin(actions: object[]): Promise<ConfigsResult[]> {
  const python = process.env.STREAMHOUSE_PYTHON ?? 'python3';
  const r = await runProcess(python, [join(projectRoot(), 'test', 'clients', 'python', 'confluent_configs.py')], {
    timeoutMs: 60_000,
    input: JSON.stringify({ bootstrap: broker.bootstrap, actions }),
    missingHint: `confluent-kafka tests need Python 3. ${INSTALL_CONFLUENT_KAFKA}`,
  });
  if (r.code === 3) throw new MissingToolError(`${python} cannot import confluent_kafka. ${INSTALL_CONFLUENT_KAFKA}`);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  return (JSON.parse(r.stdout.trim().split('\n').pop()!) as { results: ConfigsResult[] }).results;
}

// librdkafka's ConfigSource values.
const DYNAMIC_TOPIC_CONFIG = 1;
const STATIC_BROKER_CONFIG = 4;
const DEFAULT_CONFIG = 5;

test('confluent-kafka AdminClient creates topics with configs and refuses bad ones', async () => {
  const created = await confluentKafka(broker.bootstrap, {
    op: 'createTopics',
    topics: [
      { name: 'ck-admin-a', partitions: 4, config: { 'retention.ms': '86400000', 'cleanup.policy': 'compact', 'max.message.bytes': '500000' } },
      { name: 'ck-admin-b', partitions: 1 },
    ],
  });
  assert.deepEqual(created.topics, { 'ck-admin-a': null, 'ck-admin-b': null });
  const a = await broker.agent.context.topics.get('ck-admin-a');
  assert.equal(a?.partitions, 4);
  assert.deepEqual(a?.configs, { 'retention.ms': '86400000', 'cleanup.policy': 'compact', 'max.message.bytes': '500000' });
  const md = await confluentKafka(broker.bootstrap, { op: 'metadata', topic: 'ck-admin-a' });
  assert.deepEqual(Object.keys((md.topics!['ck-admin-a'] as { partitions: object }).partitions).sort(), ['0', '1', '2', '3']);

  const bad = await runConfluentKafka(broker.bootstrap, [
    { op: 'createTopics', topics: [{ name: 'ck-admin-a' }] },
    { op: 'createTopics', topics: [{ name: 'ck-admin-c', config: { 'retention.ms': 'forever' } }] },
    { op: 'createTopics', topics: [{ name: 'ck-admin-d', config: { 'no.such.config': '1' } }] },
    { op: 'deleteTopics', topics: ['ck-admin-b'] },
    { op: 'deleteTopics', topics: ['ck-admin-b'] },
  ]);
  const err = (i: number, name: string) => (bad.results[i]!.topics![name] as { name: string; message: string } | null);
  assert.equal(err(0, 'ck-admin-a')?.name, 'TOPIC_ALREADY_EXISTS');
  assert.equal(err(1, 'ck-admin-c')?.name, 'INVALID_CONFIG');
  assert.match(err(1, 'ck-admin-c')!.message, /retention\.ms/);
  assert.equal(err(2, 'ck-admin-d')?.name, 'INVALID_CONFIG');
  assert.equal(err(3, 'ck-admin-b'), null);
  assert.equal(err(4, 'ck-admin-b')?.name, 'UNKNOWN_TOPIC_OR_PART');
  assert.equal(await broker.agent.context.topics.get('ck-admin-c'), undefined);
  assert.equal(await broker.agent.context.topics.get('ck-admin-b'), undefined);
});

test('confluent-kafka AdminClient describes and alters topic configs (incremental and whole-set)', async () => {
  const topic = 'ck-configs';
  await confluentKafka(broker.bootstrap, { op: 'createTopics', topics: [{ name: topic, config: { 'retention.ms': '1000000' } }] });
  const [described, setResult, validateOnly, afterSet, deleted, afterDelete, badValue, whole, afterWhole, brokerCfg] = await configAdmin([
    { op: 'describe', type: 'topic', name: topic },
    { op: 'incrementalAlter', type: 'topic', name: topic, set: { 'segment.ms': '3600000', 'cleanup.policy': 'delete,compact' } },
    { op: 'incrementalAlter', type: 'topic', name: topic, set: { 'segment.ms': '1' }, validateOnly: true },
    { op: 'describe', type: 'topic', name: topic },
    { op: 'incrementalAlter', type: 'topic', name: topic, delete: ['retention.ms'] },
    { op: 'describe', type: 'topic', name: topic },
    { op: 'incrementalAlter', type: 'topic', name: topic, set: { 'segment.ms': 'soon' } },
    { op: 'alter', type: 'topic', name: topic, configs: { 'max.message.bytes': '123456' } },
    { op: 'describe', type: 'topic', name: topic },
    { op: 'describe', type: 'broker', name: '0' },
  ]);
  const c = (r: ConfigsResult | undefined, name: string) => {
    assert.ok(r?.ok, JSON.stringify(r?.error));
    const v = r!.configs![name];
    assert.ok(v, `${name} described`);
    return [v.value, v.source, v.isDefault];
  };
  assert.deepEqual(c(described, 'retention.ms'), ['1000000', DYNAMIC_TOPIC_CONFIG, false]);
  assert.equal(c(described, 'segment.ms')[2], true);
  assert.ok(setResult!.ok && validateOnly!.ok && deleted!.ok && whole!.ok, JSON.stringify([setResult, validateOnly, deleted, whole]));
  assert.deepEqual(c(afterSet, 'segment.ms'), ['3600000', DYNAMIC_TOPIC_CONFIG, false], 'validateOnly changed nothing');
  assert.deepEqual(c(afterSet, 'cleanup.policy'), ['delete,compact', DYNAMIC_TOPIC_CONFIG, false]);
  assert.deepEqual(c(afterDelete, 'retention.ms'), ['604800000', DEFAULT_CONFIG, true]);
  assert.deepEqual(c(afterDelete, 'segment.ms'), ['3600000', DYNAMIC_TOPIC_CONFIG, false]);
  assert.equal(badValue!.ok, false);
  assert.equal(badValue!.error!.name, 'INVALID_CONFIG');
  assert.match(badValue!.error!.message, /segment\.ms/);
  // AlterConfigs replaces the whole set: the incremental overrides are gone.
  assert.deepEqual(c(afterWhole, 'max.message.bytes'), ['123456', DYNAMIC_TOPIC_CONFIG, false]);
  assert.equal(c(afterWhole, 'segment.ms')[2], true);
  assert.equal(c(afterWhole, 'cleanup.policy')[2], true);
  assert.deepEqual(await broker.agent.context.topics.get(topic).then((t) => t?.configs), { 'max.message.bytes': '123456' });
  // The broker's own settings are described read-only.
  const brokerEntries = brokerCfg!.configs!;
  assert.ok(brokerCfg!.ok && Object.keys(brokerEntries).length > 0);
  assert.ok(Object.values(brokerEntries).every((e) => e.isReadOnly), 'broker configs are read-only');
  assert.ok(Object.values(brokerEntries).some((e) => e.source === STATIC_BROKER_CONFIG || e.source === DEFAULT_CONFIG));
});
