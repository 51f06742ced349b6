// Metadata and ApiVersions through librdkafka (kcat) and Kafka's own Java tool.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { kcatMetadata } from '../helpers/kcat.js';
import { kafkaTool, expectSuccess } from '../helpers/kafka-tools.js';

let broker: TestBroker;
before(async () => {
  broker = await startTestBroker();
  await broker.agent.context.topics.create({ name: 'three', partitions: 3 });
});
after(async () => {
  await broker.stop();
});

test('kcat -L lists the broker, the topic and each partition leader', async () => {
  const md = await kcatMetadata(broker.bootstrap);
  assert.deepEqual(md.brokers.map((b) => [b.id, b.name]), [[0, `127.0.0.1:${broker.port}`]]);
  const t = md.topics.find((x) => x.topic === 'three');
  assert.ok(t, 'topic listed');
  assert.deepEqual(t.partitions.map((p) => [p.partition, p.leader]), [[0, 0], [1, 0], [2, 0]]);
  assert.deepEqual(t.partitions[0].isrs.map((r) => r.id), [0]);
});

test('kcat -L -t for an unknown topic auto-creates it', async () => {
  const md = await kcatMetadata(broker.bootstrap, { topic: 'made-by-kcat' });
  const t = md.topics.find((x) => x.topic === 'made-by-kcat');
  assert.ok(t && !t.error, JSON.stringify(md.topics));
  assert.ok(await broker.agent.context.topics.get('made-by-kcat'));
});

test("Kafka's BrokerApiVersionsCommand reads the API list", async () => {
  const r = expectSuccess(await kafkaTool.BrokerApiVersionsCommand(['--bootstrap-server', broker.bootstrap], { timeoutMs: 60_000 }), 'kafka-broker-api-versions');
  assert.match(r.stdout, /Metadata\(3\): 0 to 12 \[usable: 12\]/);
  assert.match(r.stdout, /ApiVersions\(18\): 0 to 4 \[usable: 4\]/);
});
