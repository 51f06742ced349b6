// Broker-side schema validation over real record batches (compressed too) and a real registry.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildBatch } from '../../src/protocol/records/build.js';
import { openMetadataStore, type MetadataStore } from '../../src/metadata/index.js';
import { SchemaRegistry } from '../../src/registry/index.js';
import { formatOf } from '../../src/registry/formats/index.js';
import { schemaValidationSettings, validateBatchSchemas } from '../../src/registry/validation.js';
import { validateTopicConfig } from '../../src/log/topic-config.js';

const frame = (id: number, payload: Buffer) => {
  const b = Buffer.alloc(5 + payload.length);
  b.writeInt32BE(id, 1);
  payload.copy(b, 5);
  return b;
};
const LIMIT = 1 << 20;
const user = JSON.stringify({ type: 'record', name: 'User', namespace: 'ex', fields: [{ name: 'name', type: 'string' }] });
const avroBytes = (name: string) => (formatOf('AVRO').parse(user, [], false) as any).type.toBuffer({ name }) as Buffer;

describe('broker-side schema validation', () => {
  let store: MetadataStore;
  let registry: SchemaRegistry;
  let userId: number;
  let keyId: number;
  let jsonId: number;
  let protoId: number;
  before(async () => {
    store = await openMetadataStore('sqlite::memory:');
    registry = new SchemaRegistry(store.schemas);
    userId = (await registry.register('t-value', { schema: user, schemaType: 'AVRO', references: [] }, false)).id;
    await registry.register('ex.User', { schema: user, schemaType: 'AVRO', references: [] }, false);
    await registry.register('t-ex.User', { schema: user, schemaType: 'AVRO', references: [] }, false);
    keyId = (await registry.register('t-key', { schema: '"string"', schemaType: 'AVRO', references: [] }, false)).id;
    jsonId = (await registry.register('j-value', { schema: '{"type":"object","required":["n"],"properties":{"n":{"type":"number"}}}', schemaType: 'JSON', references: [] }, false)).id;
    protoId = (await registry.register('p-value', { schema: 'syntax = "proto3"; message P { int32 n = 1; }', schemaType: 'PROTOBUF', references: [] }, false)).id;
  });
  after(() => store.close());

  const batch = (values: (Buffer | null)[], keys: (Buffer | null)[] = [], compression: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd' = 'none') =>
    buildBatch({ records: values.map((value, i) => ({ key: keys[i] ?? null, value, timestamp: 1700000000000n + BigInt(i) })), compression } as never);

  it('is off unless the topic turns it on, and reads Confluent class names', () => {
    assert.equal(schemaValidationSettings({}), null);
    assert.deepEqual(schemaValidationSettings({ 'confluent.value.schema.validation': 'true', 'confluent.value.subject.name.strategy': 'io.confluent.kafka.serializers.subject.RecordNameStrategy' }), {
      key: null,
      value: { strategy: 'RecordNameStrategy', full: false },
    });
    assert.equal(validateTopicConfig('confluent.value.subject.name.strategy', 'TopicRecordNameStrategy'), null);
    assert.notEqual(validateTopicConfig('confluent.value.subject.name.strategy', 'Nope'), null);
    assert.equal(validateTopicConfig('confluent.value.schema.validation.full', 'true'), null);
  });

  for (const compression of ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const) {
    it(`TopicNameStrategy on values, ${compression} batch: magic byte and registered id required`, async () => {
      const cfg = { 'confluent.value.schema.validation': 'true' };
      const good = await batch([frame(userId, avroBytes('a')), null], [], compression);
      assert.deepEqual(await validateBatchSchemas('t', cfg, good, registry, LIMIT), []);
      const bad = await batch([frame(userId, avroBytes('a')), Buffer.from('{"plain":"json"}'), frame(keyId, Buffer.from([2, 0x61])), frame(999, Buffer.alloc(1))], [], compression);
      const errors = await validateBatchSchemas('t', cfg, bad, registry, LIMIT);
      assert.deepEqual(errors.map((e) => e.batchIndex), [1, 2, 3]);
      assert.match(errors[0]!.message, /no schema id.*0x7b.*magic byte 0/);
      assert.match(errors[1]!.message, new RegExp(`schema id ${keyId}.*not registered under subject 't-value'`));
      assert.match(errors[2]!.message, /schema id 999/);
    });
  }

  it('validates keys under <topic>-key', async () => {
    const cfg = { 'confluent.key.schema.validation': 'true' };
    const keyBytes = frame(keyId, Buffer.from([2, 0x6b]));
    assert.deepEqual(await validateBatchSchemas('t', cfg, await batch([Buffer.from('x')], [keyBytes]), registry, LIMIT), []);
    const errors = await validateBatchSchemas('t', cfg, await batch([Buffer.from('x')], [frame(userId, avroBytes('a'))]), registry, LIMIT);
    assert.match(errors[0]!.message, /key carries schema id .* not registered under subject 't-key'/);
  });

  it('RecordNameStrategy and TopicRecordNameStrategy name the subject from the record', async () => {
    const value = frame(userId, avroBytes('a'));
    for (const strategy of ['RecordNameStrategy', 'TopicRecordNameStrategy']) {
      const cfg = { 'confluent.value.schema.validation': 'true', 'confluent.value.subject.name.strategy': strategy };
      assert.deepEqual(await validateBatchSchemas('t', cfg, await batch([value]), registry, LIMIT), [], strategy);
      const other = await validateBatchSchemas('other', cfg, await batch([value]), registry, LIMIT);
      assert.equal(other.length, strategy === 'RecordNameStrategy' ? 0 : 1, strategy);
    }
    const cfg = { 'confluent.value.schema.validation': 'true', 'confluent.value.subject.name.strategy': 'RecordNameStrategy' };
    const errors = await validateBatchSchemas('t', cfg, await batch([frame(keyId, Buffer.from([0]))]), registry, LIMIT);
    assert.match(errors[0]!.message, /no record name/);
  });

  it('full validation decodes Avro, JSON and Protobuf payloads', async () => {
    const full = (topic: string) => ({ 'confluent.value.schema.validation': 'true', 'confluent.value.schema.validation.full': 'true' });
    assert.deepEqual(await validateBatchSchemas('t', full('t'), await batch([frame(userId, avroBytes('ok'))]), registry, LIMIT), []);
    const avroErr = await validateBatchSchemas('t', full('t'), await batch([frame(userId, Buffer.from([0x7f]))]), registry, LIMIT);
    assert.match(avroErr[0]!.message, /does not match schema .*Avro/);
    const idOnly = { 'confluent.value.schema.validation': 'true' };
    assert.deepEqual(await validateBatchSchemas('t', idOnly, await batch([frame(userId, Buffer.from([0x7f]))]), registry, LIMIT), [], 'id-only does not decode');
    assert.deepEqual(await validateBatchSchemas('j', full('j'), await batch([frame(jsonId, Buffer.from('{"n":1}'))]), registry, LIMIT), []);
    const jsonErr = await validateBatchSchemas('j', full('j'), await batch([frame(jsonId, Buffer.from('{"n":"x"}'))], [], 'gzip'), registry, LIMIT);
    assert.match(jsonErr[0]!.message, /JSON schema/);
    const p = Buffer.from([0x08, 0x05]); // n = 5
    assert.deepEqual(await validateBatchSchemas('p', full('p'), await batch([frame(protoId, Buffer.concat([Buffer.from([0]), p])), frame(protoId, p)]), registry, LIMIT), []);
    const protoErr = await validateBatchSchemas('p', full('p'), await batch([frame(protoId, Buffer.from([0, 0x0a, 0x09, 0x01]))]), registry, LIMIT);
    assert.match(protoErr[0]!.message, /Protobuf/);
  });

  it('stops accepting an id once its version is deleted', async () => {
    const id = (await registry.register('d-value', { schema: '"long"', schemaType: 'AVRO', references: [] }, false)).id;
    const cfg = { 'confluent.value.schema.validation': 'true' };
    const b = await batch([frame(id, Buffer.from([2]))]);
    assert.deepEqual(await validateBatchSchemas('d', cfg, b, registry, LIMIT), []);
    await registry.deleteSubject('d-value', false);
    assert.equal((await validateBatchSchemas('d', cfg, b, registry, LIMIT)).length, 1);
  });
});
