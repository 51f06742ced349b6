// DescribeConfigs, AlterConfigs and IncrementalAlterConfigs for topic and broker resources,
// through kafkajs and the raw client (IncrementalAlterConfigs, v3+ fields, bad inputs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs, { Kafka, logLevel, type Admin } from 'kafkajs';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';
import {
  AlterConfigsRequestMessage,
  AlterConfigsResponseMessage,
  DescribeConfigsRequestMessage,
  DescribeConfigsResponseMessage,
  IncrementalAlterConfigsRequestMessage,
  IncrementalAlterConfigsResponseMessage,
  createDescribeConfigsRequest,
  type DescribeConfigsResponse,
  type IncrementalAlterConfigsResponse,
} from '../../src/protocol/generated/index.js';
import type { DescribeConfigsResource } from '../../src/protocol/generated/DescribeConfigsRequest.js';
import type { AlterConfigsResource } from '../../src/protocol/generated/IncrementalAlterConfigsRequest.js';
import { ErrorCode } from '../../src/protocol/errors.js';

// kafkajs is CommonJS: its enums are only on the default export.
const { ConfigResourceTypes } = kafkajs;
const TOPIC = 2;
const BROKER = 4;
const BROKER_LOGGER = 8;
const SET = 0;
const DELETE = 1;
const APPEND = 2;
const SUBTRACT = 3;

let broker: TestBroker;
let admin: Admin;
before(async () => {
  broker = await startTestBroker({ profile: 'high-throughput', numPartitions: 3 });
  admin = new Kafka({ clientId: 'configs-test', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'cfg', configEntries: [{ name: 'retention.ms', value: '1000' }] }] });
});
after(async () => {
  await admin.disconnect();
  await broker.stop();
});

async function describeRaw(version: number, resources: DescribeConfigsResource[], opts: { synonyms?: boolean; docs?: boolean } = {}): Promise<DescribeConfigsResponse> {
  const raw = await RawClient.connect(broker.port);
  try {
    return await raw.request(DescribeConfigsRequestMessage, DescribeConfigsResponseMessage, version, {
      ...createDescribeConfigsRequest(),
      resources,
      includeSynonyms: opts.synonyms ?? false,
      includeDocumentation: opts.docs ?? false,
    });
  } finally {
    raw.close();
  }
}

async function incremental(resources: AlterConfigsResource[], validateOnly = false, version = 1): Promise<IncrementalAlterConfigsResponse> {
  const raw = await RawClient.connect(broker.port);
  try {
    return await raw.request(IncrementalAlterConfigsRequestMessage, IncrementalAlterConfigsResponseMessage, version, { resources, validateOnly });
  } finally {
    raw.close();
  }
}

const topicConfigs = async (name: string) => (await broker.agent.context.topics.get(name))!.configs;

test('kafkajs describeConfigs lists every topic config with Kafka names, overrides and defaults', async () => {
  const res = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'cfg' }] });
  const r = res.resources[0];
  assert.equal(r.errorCode, 0);
  const byName = new Map(r.configEntries.map((e) => [e.configName, e]));
  for (const name of [
    'retention.ms',
    'retention.bytes',
    'segment.bytes',
    'segment.ms',
    'cleanup.policy',
    'max.message.bytes',
    'message.timestamp.type',
    'compression.type',
    'min.insync.replicas',
    'durability.profile',
  ]) {
    assert.ok(byName.has(name), name);
  }
  assert.equal(byName.get('retention.ms')!.configValue, '1000');
  assert.equal(byName.get('retention.ms')!.isDefault, false);
  assert.equal(byName.get('retention.ms')!.configSource, 1); // DYNAMIC_TOPIC_CONFIG
  assert.equal(byName.get('retention.bytes')!.configValue, '-1');
  assert.equal(byName.get('retention.bytes')!.configSource, 5); // DEFAULT_CONFIG
  assert.equal(byName.get('cleanup.policy')!.configValue, 'delete');
  assert.equal(byName.get('max.message.bytes')!.configValue, '1048588');
  // The broker runs --profile high-throughput: its segment size is a static broker default.
  assert.equal(byName.get('segment.bytes')!.configValue, String(100 * 1024 * 1024));
  assert.equal(byName.get('segment.bytes')!.configSource, 4); // STATIC_BROKER_CONFIG
  assert.equal(byName.get('durability.profile')!.configValue, 'high-throughput');
});

test('configurationKeys filters and includeSynonyms lists the override, the broker setting and the default', async () => {
  const res = await admin.describeConfigs({
    includeSynonyms: true,
    resources: [{ type: ConfigResourceTypes.TOPIC, name: 'cfg', configNames: ['retention.ms', 'segment.bytes'] }],
  });
  const entries = res.resources[0].configEntries;
  assert.deepEqual(entries.map((e) => e.configName).sort(), ['retention.ms', 'segment.bytes']);
  const retention = entries.find((e) => e.configName === 'retention.ms')!;
  assert.deepEqual(
    retention.configSynonyms.map((s) => [s.configName, s.configValue, s.configSource]),
    [
      ['retention.ms', '1000', 1],
      ['log.retention.ms', '604800000', 5],
    ],
  );
  const segment = entries.find((e) => e.configName === 'segment.bytes')!;
  assert.deepEqual(
    segment.configSynonyms.map((s) => [s.configName, s.configValue, s.configSource]),
    [
      ['log.segment.bytes', String(100 * 1024 * 1024), 4],
      ['log.segment.bytes', String(10 * 1024 * 1024), 5],
    ],
  );
});

test("kafkajs describeConfigs for the broker reports its settings under Kafka's names, read-only", async () => {
  const res = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.BROKER, name: '0' }] });
  const r = res.resources[0];
  assert.equal(r.errorCode, 0);
  const byName = new Map(r.configEntries.map((e) => [e.configName, e]));
  assert.equal(byName.get('num.partitions')!.configValue, '3');
  assert.equal(byName.get('num.partitions')!.configSource, 4); // set on the command line
  assert.equal(byName.get('auto.create.topics.enable')!.configValue, 'true');
  assert.equal(byName.get('auto.create.topics.enable')!.configSource, 5);
  assert.equal(byName.get('broker.id')!.configValue, '0');
  assert.equal(byName.get('socket.request.max.bytes')!.configValue, '104857600');
  assert.equal(byName.get('connections.max.idle.ms')!.configValue, '600000');
  assert.equal(byName.get('default.replication.factor')!.configValue, '1');
  assert.equal(byName.get('log.retention.ms')!.configValue, '604800000');
  assert.equal(byName.get('log.segment.bytes')!.configValue, String(100 * 1024 * 1024));
  assert.equal(byName.get('message.max.bytes')!.configValue, '1048588');
  assert.equal(byName.get('min.insync.replicas')!.configValue, '1');
  assert.equal(byName.get('durability.profile')!.configValue, 'high-throughput');
  assert.equal(byName.get('advertised.listeners')!.configValue, `PLAINTEXT://127.0.0.1:${broker.port}`);
  assert.equal(byName.get('log.dirs')!.configValue, broker.dataDir);
  assert.ok(r.configEntries.every((e) => e.readOnly), 'broker settings are static');
});

test('DescribeConfigs v4 reports config types and documentation when asked', async () => {
  const res = await describeRaw(4, [{ resourceType: TOPIC, resourceName: 'cfg', configurationKeys: ['retention.ms', 'cleanup.policy', 'compression.type', 'preallocate', 'min.cleanable.dirty.ratio', 'max.message.bytes'] }], { docs: true });
  const types = Object.fromEntries(res.results[0].configs.map((c) => [c.name, c.configType]));
  assert.deepEqual(types, { 'cleanup.policy': 7, 'compression.type': 2, 'max.message.bytes': 3, 'min.cleanable.dirty.ratio': 6, preallocate: 1, 'retention.ms': 5 });
  assert.ok(res.results[0].configs.every((c) => typeof c.documentation === 'string' && c.documentation.length > 10));
  const noDocs = await describeRaw(4, [{ resourceType: TOPIC, resourceName: 'cfg', configurationKeys: ['retention.ms'] }]);
  assert.equal(noDocs.results[0].configs[0].documentation, null);
});

test('DescribeConfigs v0 reports isDefault', async () => {
  const res = await describeRaw(0, [{ resourceType: TOPIC, resourceName: 'cfg', configurationKeys: ['retention.ms', 'retention.bytes'] }]);
  const byName = new Map(res.results[0].configs.map((c) => [c.name, c]));
  assert.equal(byName.get('retention.ms')!.isDefault, false);
  assert.equal(byName.get('retention.bytes')!.isDefault, true);
});

test('DescribeConfigs errors: unknown topic, invalid name, another broker, unsupported type', async () => {
  const res = await describeRaw(4, [
    { resourceType: TOPIC, resourceName: 'no-such-topic', configurationKeys: null },
    { resourceType: TOPIC, resourceName: 'bad name', configurationKeys: null },
    { resourceType: BROKER, resourceName: '5', configurationKeys: null },
    { resourceType: 3, resourceName: 'some-group', configurationKeys: null },
    { resourceType: BROKER, resourceName: '', configurationKeys: null },
    { resourceType: BROKER_LOGGER, resourceName: '0', configurationKeys: null },
  ]);
  const [unknown, invalid, other, group, clusterDefault, logger] = res.results;
  assert.equal(unknown.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  assert.equal(invalid.errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION);
  assert.equal(other.errorCode, ErrorCode.INVALID_REQUEST);
  assert.match(other.errorMessage!, /this broker is 0/);
  assert.equal(group.errorCode, ErrorCode.INVALID_REQUEST);
  assert.match(group.errorMessage!, /unsupported config resource type 3/);
  // "" is the cluster-wide dynamic defaults, as in Kafka: there are none.
  assert.equal(clusterDefault.errorCode, ErrorCode.NONE);
  assert.deepEqual(clusterDefault.configs, []);
  assert.equal(logger.errorCode, ErrorCode.NONE);
  assert.deepEqual(logger.configs.map((c) => [c.name, c.value]), [['root', 'INFO']]);
});

test('kafkajs alterConfigs replaces the whole override set of a topic', async () => {
  await admin.createTopics({ topics: [{ topic: 'replace-me', configEntries: [{ name: 'retention.ms', value: '5000' }] }] });
  await admin.alterConfigs({
    validateOnly: false,
    resources: [{ type: ConfigResourceTypes.TOPIC, name: 'replace-me', configEntries: [{ name: 'cleanup.policy', value: 'compact' }, { name: 'durability.profile', value: 'ultra-safe' }] }],
  });
  assert.deepEqual(await topicConfigs('replace-me'), { 'cleanup.policy': 'compact', 'durability.profile': 'ultra-safe' });
  const res = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'replace-me', configNames: ['retention.ms', 'segment.bytes'] }] });
  const byName = new Map(res.resources[0].configEntries.map((e) => [e.configName, e.configValue]));
  assert.equal(byName.get('retention.ms'), '604800000', 'a config left out returns to its default');
  assert.equal(byName.get('segment.bytes'), String(1024 * 1024), 'the default follows the topic profile');
});

test('AlterConfigs validateOnly and bad values change nothing and say why', async () => {
  await admin.createTopics({ topics: [{ topic: 'guarded', configEntries: [{ name: 'retention.ms', value: '7000' }] }] });
  await admin.alterConfigs({
    validateOnly: true,
    resources: [{ type: ConfigResourceTypes.TOPIC, name: 'guarded', configEntries: [{ name: 'retention.ms', value: '1' }] }],
  });
  assert.deepEqual(await topicConfigs('guarded'), { 'retention.ms': '7000' });

  const raw = await RawClient.connect(broker.port);
  const res = await raw.request(AlterConfigsRequestMessage, AlterConfigsResponseMessage, 2, {
    validateOnly: false,
    resources: [
      { resourceType: TOPIC, resourceName: 'guarded', configs: [{ name: 'retention.ms', value: '1' }, { name: 'segment.bytes', value: 'big' }] },
      { resourceType: TOPIC, resourceName: 'no-such-topic', configs: [] },
      { resourceType: BROKER, resourceName: '0', configs: [{ name: 'num.partitions', value: '9' }] },
      { resourceType: BROKER, resourceName: '0', configs: [] },
      { resourceType: TOPIC, resourceName: 'cfg', configs: [{ name: 'retention.ms', value: null }] },
    ],
  });
  raw.close();
  assert.equal(res.responses.length, 4, 'the repeated broker resource is answered once');
  const [guarded, missing, brokerRes, nullValue] = res.responses;
  assert.equal(guarded.errorCode, ErrorCode.INVALID_CONFIG);
  assert.match(guarded.errorMessage!, /segment.bytes must be an integer, got 'big'/);
  assert.deepEqual(await topicConfigs('guarded'), { 'retention.ms': '7000' });
  assert.equal(missing.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  assert.equal(brokerRes.errorCode, ErrorCode.INVALID_REQUEST);
  assert.match(brokerRes.errorMessage!, /more than once/);
  assert.equal(nullValue.errorCode, ErrorCode.INVALID_REQUEST);
  assert.deepEqual(await topicConfigs('cfg'), { 'retention.ms': '1000' });
});

test('AlterConfigs on a broker setting answers INVALID_CONFIG: broker settings are static', async () => {
  const raw = await RawClient.connect(broker.port);
  const res = await raw.request(AlterConfigsRequestMessage, AlterConfigsResponseMessage, 0, {
    validateOnly: false,
    resources: [{ resourceType: BROKER, resourceName: '', configs: [{ name: 'log.retention.ms', value: '1' }, { name: 'bogus.setting', value: 'x' }] }],
  });
  raw.close();
  assert.equal(res.responses[0].errorCode, ErrorCode.INVALID_CONFIG);
  assert.match(res.responses[0].errorMessage!, /Cannot update these configs dynamically: log.retention.ms/);
  assert.match(res.responses[0].errorMessage!, /unknown broker config\(s\): bogus.setting/);
});

test('IncrementalAlterConfigs SET and DELETE change single configs and keep the others', async () => {
  await admin.createTopics({ topics: [{ topic: 'inc', configEntries: [{ name: 'retention.ms', value: '9000' }, { name: 'max.message.bytes', value: '2000000' }] }] });
  const res = await incremental([
    {
      resourceType: TOPIC,
      resourceName: 'inc',
      configs: [
        { name: 'retention.bytes', configOperation: SET, value: '1073741824' },
        { name: 'max.message.bytes', configOperation: DELETE, value: null },
        { name: 'message.timestamp.type', configOperation: SET, value: 'LogAppendTime' },
      ],
    },
  ]);
  assert.equal(res.responses[0].errorCode, ErrorCode.NONE, res.responses[0].errorMessage ?? '');
  assert.deepEqual(await topicConfigs('inc'), { 'retention.ms': '9000', 'retention.bytes': '1073741824', 'message.timestamp.type': 'LogAppendTime' });
});

test('IncrementalAlterConfigs APPEND and SUBTRACT edit list configs starting from the default', async () => {
  await admin.createTopics({ topics: [{ topic: 'lists' }] });
  let res = await incremental([{ resourceType: TOPIC, resourceName: 'lists', configs: [{ name: 'cleanup.policy', configOperation: APPEND, value: 'compact' }] }]);
  assert.equal(res.responses[0].errorCode, ErrorCode.NONE);
  assert.equal((await topicConfigs('lists'))['cleanup.policy'], 'delete,compact');
  res = await incremental([{ resourceType: TOPIC, resourceName: 'lists', configs: [{ name: 'cleanup.policy', configOperation: SUBTRACT, value: 'delete' }] }], false, 0);
  assert.equal(res.responses[0].errorCode, ErrorCode.NONE);
  assert.equal((await topicConfigs('lists'))['cleanup.policy'], 'compact');
  res = await incremental([{ resourceType: TOPIC, resourceName: 'lists', configs: [{ name: 'retention.ms', configOperation: APPEND, value: '5' }] }]);
  assert.equal(res.responses[0].errorCode, ErrorCode.INVALID_CONFIG);
  assert.match(res.responses[0].errorMessage!, /APPEND is only for list configs/);
});

test('IncrementalAlterConfigs refuses every bad input class and changes nothing', async () => {
  await admin.createTopics({ topics: [{ topic: 'strict', configEntries: [{ name: 'retention.ms', value: '4000' }] }] });
  const cases: [AlterConfigsResource['configs'], number, RegExp][] = [
    [[{ name: 'retention.hours', configOperation: SET, value: '1' }], ErrorCode.INVALID_CONFIG, /unknown topic config 'retention.hours'; topic configs are .*retention.ms/],
    [[{ name: 'compression.type', configOperation: SET, value: 'brotli' }], ErrorCode.INVALID_CONFIG, /compression.type accepts producer, uncompressed, gzip, snappy, lz4, zstd; got 'brotli'/],
    [[{ name: 'min.insync.replicas', configOperation: SET, value: '0' }], ErrorCode.INVALID_CONFIG, /min.insync.replicas must be at least 1/],
    [[{ name: 'retention.ms', configOperation: SET, value: '-5' }], ErrorCode.INVALID_CONFIG, /retention.ms must be at least -1/],
    [[{ name: 'segment.ms', configOperation: SET, value: '12abc' }], ErrorCode.INVALID_CONFIG, /segment.ms must be an integer/],
    [[{ name: 'durability.profile', configOperation: SET, value: 'yolo' }], ErrorCode.INVALID_CONFIG, /durability.profile accepts ultra-safe, balanced, high-throughput, glacier/],
    [[{ name: 'retention.ms', configOperation: SET, value: null }], ErrorCode.INVALID_REQUEST, /needs a value/],
    [[{ name: 'retention.ms', configOperation: 9, value: '1' }], ErrorCode.INVALID_REQUEST, /unknown config operation 9/],
    [
      [
        { name: 'retention.ms', configOperation: SET, value: '1' },
        { name: 'retention.ms', configOperation: DELETE, value: null },
      ],
      ErrorCode.INVALID_REQUEST,
      /given more than once/,
    ],
    [
      [
        { name: 'retention.bytes', configOperation: SET, value: '10' },
        { name: 'cleanup.policy', configOperation: SET, value: 'archive' },
      ],
      ErrorCode.INVALID_CONFIG,
      /cleanup.policy accepts delete, compact/,
    ],
  ];
  for (const [configs, code, message] of cases) {
    const res = await incremental([{ resourceType: TOPIC, resourceName: 'strict', configs }]);
    assert.equal(res.responses[0].errorCode, code, JSON.stringify(configs));
    assert.match(res.responses[0].errorMessage!, message);
  }
  assert.deepEqual(await topicConfigs('strict'), { 'retention.ms': '4000' });
});

test('IncrementalAlterConfigs validateOnly changes nothing; broker and logger changes are refused', async () => {
  const res = await incremental(
    [
      { resourceType: TOPIC, resourceName: 'strict', configs: [{ name: 'retention.ms', configOperation: SET, value: '1' }] },
      { resourceType: BROKER, resourceName: '0', configs: [{ name: 'num.partitions', configOperation: SET, value: '12' }] },
      { resourceType: BROKER_LOGGER, resourceName: '0', configs: [{ name: 'root', configOperation: SET, value: 'DEBUG' }] },
      { resourceType: BROKER, resourceName: '3', configs: [] },
    ],
    true,
  );
  assert.equal(res.responses[0].errorCode, ErrorCode.NONE);
  assert.deepEqual(await topicConfigs('strict'), { 'retention.ms': '4000' });
  assert.equal(res.responses[1].errorCode, ErrorCode.INVALID_CONFIG);
  assert.match(res.responses[1].errorMessage!, /Cannot update these configs dynamically: num.partitions/);
  assert.equal(res.responses[2].errorCode, ErrorCode.INVALID_CONFIG);
  assert.match(res.responses[2].errorMessage!, /--log-level/);
  assert.equal(res.responses[3].errorCode, ErrorCode.INVALID_REQUEST);
});

test('a changed config shows up in DescribeConfigs at once', async () => {
  await incremental([{ resourceType: TOPIC, resourceName: 'cfg', configs: [{ name: 'compression.type', configOperation: SET, value: 'zstd' }] }]);
  const res = await describeRaw(4, [{ resourceType: TOPIC, resourceName: 'cfg', configurationKeys: ['compression.type'] }]);
  assert.deepEqual(
    res.results[0].configs.map((c) => [c.name, c.value, c.configSource]),
    [['compression.type', 'zstd', 1]],
  );
});
