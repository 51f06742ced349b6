// Broker-side schema validation on the produce path, end to end: kafkajs produces to topics with
// confluent.value.schema.validation / confluent.key.schema.validation set, and the broker refuses
// records without a registered schema id with INVALID_RECORD and a message that says why.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Kafka, logLevel, CompressionTypes, type Producer } from 'kafkajs';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { BatchHeader } from '../../src/protocol/records/index.js';

const order = JSON.stringify({ type: 'record', name: 'Order', namespace: 'shop', fields: [{ name: 'id', type: 'long' }] });
const other = JSON.stringify({ type: 'record', name: 'Invoice', namespace: 'shop', fields: [{ name: 'n', type: 'int' }] });

let broker: TestBroker;
let registry: SchemaRegistry;
let producer: Producer;
let kafka: Kafka;

before(async () => {
  broker = await startTestBroker();
  registry = new SchemaRegistry({ host: `http://127.0.0.1:${broker.agent.registryPort}` });
  kafka = new Kafka({ clientId: 'validation', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [
      { topic: 'checked', configEntries: [{ name: 'confluent.value.schema.validation', value: 'true' }] },
      { topic: 'checked-keys', configEntries: [{ name: 'confluent.key.schema.validation', value: 'true' }] },
      { topic: 'by-record-name', configEntries: [{ name: 'confluent.value.schema.validation', value: 'true' }, { name: 'confluent.value.subject.name.strategy', value: 'RecordNameStrategy' }] },
      { topic: 'unchecked' },
    ],
  });
  await admin.disconnect();
  producer = kafka.producer({ retry: { retries: 0 } });
  await producer.connect();
});
after(async () => {
  await producer.disconnect();
  await broker.stop();
});

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    const e = err as Error & { type?: string };
    assert.equal(e.type, 'INVALID_RECORD', `expected INVALID_RECORD, got ${e.type}: ${e.message}`);
    return e.message;
  }
  assert.fail('the produce was accepted');
}

test('a value with a schema id registered under <topic>-value is accepted, compressed or not', async () => {
  const { id } = await registry.register({ type: SchemaType.AVRO, schema: order }, { subject: 'checked-value' });
  const value = await registry.encode(id, { id: 1 });
  await producer.send({ topic: 'checked', messages: [{ value }] });
  await producer.send({ topic: 'checked', compression: CompressionTypes.GZIP, messages: [{ value }, { value }] });
});

test('a plain value, an unknown id and an id of another subject are refused with the reason', async () => {
  await refusal(producer.send({ topic: 'checked', messages: [{ value: 'plain text' }] }));
  const { id: invoiceId } = await registry.register({ type: SchemaType.AVRO, schema: other }, { subject: 'invoices-value' });
  await refusal(producer.send({ topic: 'checked', messages: [{ value: await registry.encode(invoiceId, { n: 1 }) }] }));
  const fake = Buffer.from([0, 0, 0, 0x7f, 0x7f, 1]);
  await refusal(producer.send({ topic: 'checked', messages: [{ value: fake }] }));
  // Nothing of a refused batch was stored: only the three accepted records are in the log.
  const log = await broker.agent.context.logs!.partition((await broker.agent.context.topics.get('checked'))!, 0);
  assert.equal(log.highWatermark(), 3n);
});

test('key validation checks keys against <topic>-key and leaves values alone', async () => {
  const { id } = await registry.register({ type: SchemaType.AVRO, schema: order }, { subject: 'checked-keys-key' });
  await producer.send({ topic: 'checked-keys', messages: [{ key: await registry.encode(id, { id: 5 }), value: 'anything' }] });
  await refusal(producer.send({ topic: 'checked-keys', messages: [{ key: 'plain', value: 'anything' }] }));
});

test('RecordNameStrategy uses the record full name as the subject', async () => {
  const { id } = await registry.register({ type: SchemaType.AVRO, schema: order }, { subject: 'shop.Order' });
  await producer.send({ topic: 'by-record-name', messages: [{ value: await registry.encode(id, { id: 2 }) }] });
  const { id: wrong } = await registry.register({ type: SchemaType.AVRO, schema: other }, { subject: 'by-record-name-value' });
  await refusal(producer.send({ topic: 'by-record-name', messages: [{ value: await registry.encode(wrong, { n: 2 }) }] }));
});

test('topics without validation take anything', async () => {
  await producer.send({ topic: 'unchecked', messages: [{ value: 'plain' }] });
});

test('an idempotent producer pipelining to a validated topic keeps its sequence order in the log', async () => {
  const { id } = await registry.register({ type: SchemaType.AVRO, schema: order }, { subject: 'checked-value' });
  const withRetries = new Kafka({ clientId: 'validation-idem', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
  const p = withRetries.producer({ idempotent: true, maxInFlightRequests: 5 });
  await p.connect();
  const values = await Promise.all(Array.from({ length: 20 }, (_, i) => registry.encode(id, { id: 100 + i })));
  await Promise.all(values.map((value) => p.send({ topic: 'checked', messages: [{ value }] })));
  await p.disconnect();
  // The invariant is the log's: batches of one producer sit in offset order with rising sequences
  // (kafkajs may build concurrent sends in any order, so call order proves nothing).
  const topic = (await broker.agent.context.topics.get('checked'))!;
  const log = await broker.agent.context.logs!.partition(topic, 0);
  const data = await log.read(0n, { maxBytes: 1 << 20, minOneBatch: true, isolationLevel: 0 });
  const sequences: number[] = [];
  for (let at = 0; at + 61 <= data.records.length; at += 12 + data.records.readInt32BE(at + 8)) {
    const batch = new BatchHeader(data.records, at);
    if (batch.producerId >= 0n) sequences.push(batch.baseSequence);
  }
  assert.equal(sequences.length, 20);
  assert.deepEqual(sequences, [...Array(20).keys()]);
});
