// Exactly-once with the Java producer and librdkafka: Kafka's VerifiableProducer (idempotent by
// default, acks=all) through a proxy that swallows produce responses after the write, and a
// librdkafka (confluent-kafka) transactional producer committing and aborting.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { expectSuccess, kafkaTool } from '../helpers/kafka-tools.js';
import { runConfluentKafka } from '../helpers/confluent-kafka.js';
import { startDroppingProxy, type DroppingProxy } from './response-dropping-proxy.js';

let broker: TestBroker;
let proxy: DroppingProxy;
let kafka: Kafka;
before(async () => {
  proxy = await startDroppingProxy();
  broker = await startTestBroker({ advertisedPort: proxy.port });
  proxy.setTarget(broker.port);
  kafka = new Kafka({ clientId: 'eos-clients', brokers: [`127.0.0.1:${proxy.port}`], logLevel: logLevel.NOTHING });
});
after(async () => {
  await broker.stop();
  await proxy.close();
});

async function createTopic(topic: string, numPartitions: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions }] });
  await admin.disconnect();
}

async function readAll(topic: string, expected: number, readUncommitted: boolean): Promise<string[]> {
  proxy.setDropRule(() => false);
  const seen: string[] = [];
  const consumer = kafka.consumer({ groupId: `read-${topic}-${readUncommitted}`, readUncommitted });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
  const deadline = Date.now() + 30_000;
  while (seen.length < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 1000));
  await consumer.disconnect();
  return seen;
}

test('Java idempotent producer (VerifiableProducer) with lost produce responses: no duplicates, nothing lost', { timeout: 180_000 }, async () => {
  const N = 3000;
  await createTopic('java-lost-acks', 3);
  proxy.setDropRule((n) => n % 7 === 0);
  // A short request timeout is not needed: the proxy cuts the connection, which the client notices at once.
  const config = join(mkdtempSync(join(tmpdir(), 'eos-vp-')), 'producer.properties');
  writeFileSync(config, 'enable.idempotence=true\nretries=2147483647\nlinger.ms=5\ndelivery.timeout.ms=120000\nretry.backoff.ms=20\n');
  const r = await kafkaTool.VerifiableProducer(
    ['--bootstrap-server', `127.0.0.1:${proxy.port}`, '--topic', 'java-lost-acks', '--max-messages', String(N), '--throughput', '3000', '--acks', '-1', '--producer.config', config],
    { timeoutMs: 150_000 },
  );
  expectSuccess(r, 'VerifiableProducer');
  const dropped = proxy.dropped;
  proxy.setDropRule(() => false);
  const acked = r.stdout.split('\n').filter((l) => l.includes('"producer_send_success"')).length;
  assert.equal(acked, N, `every record acknowledged\n${r.stdout.split('\n').filter((l) => !l.includes('send_success')).join('\n').slice(-3000)}`);
  assert.ok(dropped > 0, 'some produce responses were dropped');
  const seen = await readAll('java-lost-acks', N, true);
  assert.equal(new Set(seen).size, seen.length, 'no duplicates');
  assert.equal(seen.length, N);
});

test('librdkafka transactional producer: committed transactions visible once, aborted ones never', { timeout: 120_000 }, async () => {
  await createTopic('rdk-txn', 2);
  proxy.setDropRule(() => false);
  const msgs = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => ({ value: `${prefix}-${i}`, partition: i % 2 }));
  const run = await runConfluentKafka(`127.0.0.1:${proxy.port}`, [
    { op: 'produce', topic: 'rdk-txn', transactionalId: 'rdk-1', messages: msgs('commit-a', 20) },
    { op: 'produce', topic: 'rdk-txn', transactionalId: 'rdk-1', messages: msgs('abort-b', 20), abort: true },
    { op: 'produce', topic: 'rdk-txn', transactionalId: 'rdk-2', messages: msgs('commit-c', 20) },
    { op: 'consume', assign: [{ topic: 'rdk-txn', partition: 0, offset: 0 }, { topic: 'rdk-txn', partition: 1, offset: 0 }], maxMessages: 40, timeoutS: 20, config: { 'isolation.level': 'read_committed' } },
  ]);
  for (const r of run.results.slice(0, 3)) assert.equal(r.ok, true, JSON.stringify(r.error));
  const consumed = run.results[3]!.messages!.map((m) => m.value!);
  assert.deepEqual([...consumed].sort(), [...msgs('commit-a', 20), ...msgs('commit-c', 20)].map((m) => m.value).sort());
});
