// Metadata and ApiVersions through kafkajs, a real client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';
import { MetadataRequestMessage, MetadataResponseMessage, createMetadataRequest } from '../../src/protocol/generated/index.js';
import { ZERO_UUID } from '../../src/protocol/primitives.js';

let broker: TestBroker;
before(async () => {
  broker = await startTestBroker();
});
after(async () => {
  await broker.stop();
});

function admin() {
  return new Kafka({ clientId: 'metadata-test', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin();
}

test('kafkajs describeCluster sees one broker, its advertised address and the cluster id', async () => {
  const a = admin();
  await a.connect();
  const cluster = await a.describeCluster();
  assert.equal(cluster.brokers.length, 1);
  assert.deepEqual(cluster.brokers[0], { nodeId: 0, host: '127.0.0.1', port: broker.port });
  assert.equal(cluster.controller, 0);
  assert.equal(cluster.clusterId, broker.agent.context.cluster.clusterId);
  assert.match(cluster.clusterId, /^[A-Za-z0-9_-]{22}$/);
  await a.disconnect();
});

test('a Metadata request that allows it auto-creates a topic with num.partitions', async () => {
  const raw = await RawClient.connect(broker.port);
  const res = await raw.request(MetadataRequestMessage, MetadataResponseMessage, 12, {
    ...createMetadataRequest(),
    topics: [{ topicId: ZERO_UUID, name: 'auto-created' }],
    allowAutoTopicCreation: true,
  });
  raw.close();
  assert.equal(res.topics[0].errorCode, 0);
  assert.match(res.topics[0].topicId, /^[0-9a-f-]{36}$/);
  assert.notEqual(res.topics[0].topicId, ZERO_UUID);
  const a = admin();
  await a.connect();
  const md = await a.fetchTopicMetadata({ topics: ['auto-created'] });
  assert.equal(md.topics.length, 1);
  assert.equal(md.topics[0].name, 'auto-created');
  assert.equal(md.topics[0].partitions.length, 1);
  const p = md.topics[0].partitions[0];
  assert.equal(p.leader, 0);
  assert.deepEqual(p.replicas, [0]);
  assert.deepEqual(p.isr, [0]);
  assert.ok((await a.listTopics()).includes('auto-created'));
  await a.disconnect();
});

test('an invalid topic name is refused with INVALID_TOPIC_EXCEPTION', async () => {
  const a = admin();
  await a.connect();
  await assert.rejects(a.fetchTopicMetadata({ topics: ['bad/name'] }), (err: Error & { type?: string }) => {
    assert.equal(err.type, 'INVALID_TOPIC_EXCEPTION');
    return true;
  });
  await a.disconnect();
});

test('with auto-creation off an unknown topic answers UNKNOWN_TOPIC_OR_PARTITION', async () => {
  const off = await startTestBroker({ autoCreateTopics: false });
  const k = new Kafka({ clientId: 't', brokers: [off.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
  const a = k.admin();
  await a.connect();
  await assert.rejects(a.fetchTopicMetadata({ topics: ['nope'] }), (err: Error & { type?: string }) => {
    assert.equal(err.type, 'UNKNOWN_TOPIC_OR_PARTITION');
    return true;
  });
  assert.deepEqual(await a.listTopics(), []);
  await a.disconnect();
  await off.stop();
});

test('kafkajs admin (which disallows auto-creation) gets UNKNOWN_TOPIC_OR_PARTITION for a missing topic', async () => {
  const a = new Kafka({ clientId: 't', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
  await a.connect();
  await assert.rejects(a.fetchTopicMetadata({ topics: ['never-made'] }), (err: Error & { type?: string }) => {
    assert.equal(err.type, 'UNKNOWN_TOPIC_OR_PARTITION');
    return true;
  });
  assert.equal((await a.listTopics()).includes('never-made'), false);
  await a.disconnect();
});

test('topic ids are stable across a restart and the cluster id persists', async () => {
  const first = await startTestBroker();
  const a1 = new Kafka({ clientId: 't', brokers: [first.bootstrap], logLevel: logLevel.NOTHING }).admin();
  await a1.connect();
  await a1.createTopics({ topics: [{ topic: 'stable', numPartitions: 2 }] }).catch(() => undefined);
  await a1.disconnect();
  await first.agent.context.topics.getOrCreate('stable', 2);
  const id1 = (await first.agent.context.topics.get('stable'))!.id;
  const cluster1 = first.agent.context.cluster.clusterId;
  await first.stop({ keepData: true });
  const second = await startTestBroker({ dataDir: first.dataDir });
  assert.equal((await second.agent.context.topics.get('stable'))!.id, id1);
  assert.equal(second.agent.context.cluster.clusterId, cluster1);
  await second.stop();
});
