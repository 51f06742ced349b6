// The real Confluent client library for Node (@kafkajs/confluent-schema-registry 3.x) against a
// StreamHouse agent: register, encode and decode in all three formats, and a produce/consume
// round trip through the broker with kafkajs.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';

const avroSchema = JSON.stringify({
  type: 'record',
  name: 'Order',
  namespace: 'shop',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'item', type: 'string' },
    { name: 'qty', type: 'int', default: 1 },
  ],
});
const jsonSchema = JSON.stringify({
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'Order',
  type: 'object',
  properties: { id: { type: 'integer' }, item: { type: 'string' } },
  required: ['id', 'item'],
});
const protoSchema = `syntax = "proto3";
package shop;
message Order {
  int64 id = 1;
  string item = 2;
}`;

describe('@kafkajs/confluent-schema-registry against StreamHouse', () => {
  let broker: TestBroker;
  let registry: SchemaRegistry;
  before(async () => {
    broker = await startTestBroker();
    registry = new SchemaRegistry({ host: `http://127.0.0.1:${broker.agent.registryPort}` });
  });
  after(() => broker.stop());

  it('registers, encodes and decodes Avro, JSON Schema and Protobuf', async () => {
    const cases = [
      { subject: 'orders-avro-value', schema: { type: SchemaType.AVRO, schema: avroSchema }, value: { id: 7, item: 'tea', qty: 2 } },
      { subject: 'orders-json-value', schema: { type: SchemaType.JSON, schema: jsonSchema }, value: { id: 7, item: 'tea' } },
      { subject: 'orders-proto-value', schema: { type: SchemaType.PROTOBUF, schema: protoSchema }, value: { id: 7, item: 'tea' } },
    ];
    const ids = new Set<number>();
    for (const c of cases) {
      const { id } = await registry.register(c.schema as never, { subject: c.subject });
      ids.add(id);
      assert.equal((await registry.register(c.schema as never, { subject: c.subject })).id, id, 'idempotent');
      assert.equal(await registry.getLatestSchemaId(c.subject), id);
      const encoded = await registry.encode(id, c.value);
      assert.equal(encoded[0], 0);
      assert.equal(encoded.readInt32BE(1), id);
      const decoded = await registry.decode(encoded);
      assert.deepEqual(JSON.parse(JSON.stringify(decoded)), JSON.parse(JSON.stringify(c.value.id !== undefined && c.subject.includes('proto') ? { id: '7', item: 'tea' } : c.value)));
    }
    assert.equal(ids.size, 3);
    // A fresh client (empty cache) resolves ids over GET /schemas/ids/{id}.
    const fresh = new SchemaRegistry({ host: `http://127.0.0.1:${broker.agent.registryPort}` });
    const encoded = await registry.encode([...ids][0]!, { id: 1, item: 'x', qty: 3 });
    assert.deepEqual({ ...(await fresh.decode(encoded)) }, { id: 1, item: 'x', qty: 3 });
  });

  it('applies compatibility set through the client and refuses an incompatible schema', async () => {
    const subject = 'compat-value';
    const v1 = JSON.stringify({ type: 'record', name: 'C', fields: [{ name: 'a', type: 'int' }] });
    const bad = JSON.stringify({ type: 'record', name: 'C', fields: [{ name: 'a', type: 'int' }, { name: 'b', type: 'string' }] });
    await registry.register({ type: SchemaType.AVRO, schema: v1 }, { subject, compatibility: 'FULL' as never });
    await assert.rejects(registry.register({ type: SchemaType.AVRO, schema: bad }, { subject, compatibility: 'FULL' as never }), /incompatible/);
  });

  it('carries encoded values through the broker: produce with kafkajs, consume and decode', async () => {
    const { id } = await registry.register({ type: SchemaType.AVRO, schema: avroSchema }, { subject: 'orders-value' });
    const kafka = new Kafka({ clientId: 'sr-test', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 1 }] });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    const orders = [1, 2, 3].map((n) => ({ id: n, item: `item-${n}`, qty: n * 10 }));
    await producer.send({ topic: 'orders', messages: await Promise.all(orders.map(async (o) => ({ key: String(o.id), value: await registry.encode(id, o) }))) });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: 'sr-test-group' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'orders', fromBeginning: true });
    const got: unknown[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for records')), 20_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          got.push({ ...(await registry.decode(message.value!)) });
          if (got.length === orders.length) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    await consumer.disconnect();
    assert.deepEqual(got, orders);
  });
});
