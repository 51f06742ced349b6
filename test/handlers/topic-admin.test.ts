// CreateTopics, DeleteTopics and CreatePartitions through kafkajs's admin client and, for the
// versions and inputs kafkajs does not send, through the raw wire client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';
import {
  CreatePartitionsRequestMessage,
  CreatePartitionsResponseMessage,
  CreateTopicsRequestMessage,
  CreateTopicsResponseMessage,
  DeleteTopicsRequestMessage,
  DeleteTopicsResponseMessage,
  createCreatePartitionsRequest,
  createCreateTopicsRequest,
  createDeleteTopicsRequest,
  type CreateTopicsResponse,
} from '../../src/protocol/generated/index.js';
import type { CreatableTopic } from '../../src/protocol/generated/CreateTopicsRequest.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ZERO_UUID } from '../../src/protocol/primitives.js';

let broker: TestBroker;
let admin: Admin;
before(async () => {
  broker = await startTestBroker({ numPartitions: 2 });
  admin = new Kafka({ clientId: 'topic-admin-test', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
});
after(async () => {
  await admin.disconnect();
  await broker.stop();
});

function topic(name: string, extra: Partial<CreatableTopic> = {}): CreatableTopic {
  return { name, numPartitions: -1, replicationFactor: -1, assignments: [], configs: [], ...extra };
}

async function createRaw(version: number, topics: CreatableTopic[], validateOnly = false): Promise<CreateTopicsResponse> {
  const raw = await RawClient.connect(broker.port);
  try {
    return await raw.request(CreateTopicsRequestMessage, CreateTopicsResponseMessage, version, {
      ...createCreateTopicsRequest(),
      topics,
      validateOnly,
    });
  } finally {
    raw.close();
  }
}

async function kafkajsErrorTypes(p: Promise<unknown>): Promise<string[]> {
  try {
    await p;
  } catch (err) {
    const e = err as { errors?: { type: string }[]; type?: string };
    return e.errors ? e.errors.map((x) => x.type) : [e.type ?? String(err)];
  }
  assert.fail('expected the admin call to fail');
}

test('kafkajs createTopics creates a topic with its partitions, replication factor and configs', async () => {
  const created = await admin.createTopics({
    topics: [{ topic: 'orders', numPartitions: 3, replicationFactor: 1, configEntries: [{ name: 'retention.ms', value: '3600000' }] }],
  });
  assert.equal(created, true);
  const md = await admin.fetchTopicMetadata({ topics: ['orders'] });
  assert.equal(md.topics[0].partitions.length, 3);
  const t = await broker.agent.context.topics.get('orders');
  assert.deepEqual(t?.configs, { 'retention.ms': '3600000' });
  // A second create of the same name: kafkajs maps TOPIC_ALREADY_EXISTS to false.
  assert.equal(await admin.createTopics({ topics: [{ topic: 'orders' }] }), false);
});

test('kafkajs createTopics with validateOnly checks the topic but creates nothing', async () => {
  // waitForLeaders would ask Metadata for a topic that validateOnly never created.
  await admin.createTopics({ validateOnly: true, waitForLeaders: false, topics: [{ topic: 'validated-only', numPartitions: 4 }] });
  assert.equal(await broker.agent.context.topics.get('validated-only'), undefined);
  const types = await kafkajsErrorTypes(
    admin.createTopics({ validateOnly: true, waitForLeaders: false, topics: [{ topic: 'validated-bad', configEntries: [{ name: 'retention.ms', value: 'soon' }] }] }),
  );
  assert.deepEqual(types, ['INVALID_CONFIG']);
});

test('numPartitions and replicationFactor -1 take num.partitions and default.replication.factor (v5+ reports them)', async () => {
  const res = await createRaw(5, [topic('defaults-topic')]);
  const r = res.topics[0];
  assert.equal(r.errorCode, ErrorCode.NONE);
  assert.equal(r.errorMessage, null);
  assert.equal(r.numPartitions, 2);
  assert.equal(r.replicationFactor, 1);
  assert.equal((await broker.agent.context.topics.get('defaults-topic'))?.partitions, 2);
});

test('replication factors 1 to 3 are accepted and reported; 0 and 4 are INVALID_REPLICATION_FACTOR', async () => {
  const res = await createRaw(5, [
    topic('rf-three', { numPartitions: 1, replicationFactor: 3 }),
    topic('rf-zero', { numPartitions: 1, replicationFactor: 0 }),
    topic('rf-four', { numPartitions: 1, replicationFactor: 4 }),
  ]);
  const byName = new Map(res.topics.map((t) => [t.name, t]));
  assert.equal(byName.get('rf-three')!.errorCode, ErrorCode.NONE);
  assert.equal(byName.get('rf-three')!.replicationFactor, 3);
  for (const name of ['rf-zero', 'rf-four']) {
    assert.equal(byName.get(name)!.errorCode, ErrorCode.INVALID_REPLICATION_FACTOR);
    assert.match(byName.get(name)!.errorMessage!, /-1 \(the default\) or 1 to 3/);
    assert.equal(await broker.agent.context.topics.get(name), undefined);
  }
  const types = await kafkajsErrorTypes(admin.createTopics({ topics: [{ topic: 'rf-five', replicationFactor: 5 }] }));
  assert.deepEqual(types, ['INVALID_REPLICATION_FACTOR']);
});

test('CreateTopics v7 returns the topic id, the partition count and every effective config', async () => {
  const res = await createRaw(7, [topic('with-id', { numPartitions: 2, configs: [{ name: 'cleanup.policy', value: 'compact' }] })]);
  const r = res.topics[0];
  assert.equal(r.errorCode, ErrorCode.NONE);
  const stored = await broker.agent.context.topics.get('with-id');
  assert.equal(r.topicId, stored!.id);
  assert.notEqual(r.topicId, ZERO_UUID);
  const configs = new Map((r.configs ?? []).map((c) => [c.name, c]));
  assert.equal(configs.get('cleanup.policy')?.value, 'compact');
  assert.equal(configs.get('cleanup.policy')?.configSource, 1); // DYNAMIC_TOPIC_CONFIG
  assert.equal(configs.get('retention.ms')?.value, '604800000');
  assert.equal(configs.get('retention.ms')?.configSource, 5); // DEFAULT_CONFIG
  assert.equal(configs.get('durability.profile')?.value, 'balanced');
  assert.equal(configs.get('retention.ms')?.readOnly, false);
  assert.equal(configs.get('retention.ms')?.isSensitive, false);
});

test('CreateTopics validateOnly at v7 reports the plan with the zero topic id', async () => {
  const res = await createRaw(7, [topic('plan-only', { numPartitions: 5 })], true);
  assert.equal(res.topics[0].errorCode, ErrorCode.NONE);
  assert.equal(res.topics[0].numPartitions, 5);
  assert.equal(res.topics[0].topicId, ZERO_UUID);
  assert.equal(await broker.agent.context.topics.get('plan-only'), undefined);
});

test('CreateTopics refuses each bad input class with its code and a message', async () => {
  const res = await createRaw(5, [
    topic('bad/name', { numPartitions: 1 }),
    topic('zero-partitions', { numPartitions: 0 }),
    topic('unknown-config', { configs: [{ name: 'retention.hours', value: '1' }] }),
    topic('bad-value', { configs: [{ name: 'message.timestamp.type', value: 'WallClock' }] }),
    topic('null-value', { configs: [{ name: 'retention.ms', value: null }] }),
    topic('bad-profile', { configs: [{ name: 'durability.profile', value: 'reckless' }] }),
    topic('orders', { numPartitions: 1 }),
  ]);
  const byName = new Map(res.topics.map((t) => [t.name, t]));
  const expect = (name: string, code: number, message: RegExp) => {
    const r = byName.get(name)!;
    assert.equal(r.errorCode, code, `${name}: ${r.errorMessage}`);
    assert.match(r.errorMessage ?? '', message, name);
    assert.equal(r.numPartitions, -1);
  };
  expect('bad/name', ErrorCode.INVALID_TOPIC_EXCEPTION, /characters other than/);
  expect('zero-partitions', ErrorCode.INVALID_PARTITIONS, /at least 1/);
  expect('unknown-config', ErrorCode.INVALID_CONFIG, /unknown topic config 'retention.hours'.*retention\.ms/);
  expect('bad-value', ErrorCode.INVALID_CONFIG, /message.timestamp.type accepts CreateTime, LogAppendTime/);
  expect('null-value', ErrorCode.INVALID_CONFIG, /null value/);
  expect('bad-profile', ErrorCode.INVALID_CONFIG, /durability.profile accepts ultra-safe, balanced/);
  expect('orders', ErrorCode.TOPIC_ALREADY_EXISTS, /already exists/);
  for (const name of ['zero-partitions', 'unknown-config', 'bad-value', 'null-value', 'bad-profile']) {
    assert.equal(await broker.agent.context.topics.get(name), undefined, name);
  }
});

test('CreateTopics v0 answers errors without a message field and still refuses', async () => {
  const res = await createRaw(0, [topic('v0-bad', { numPartitions: 1, replicationFactor: 9 })]);
  assert.equal(res.topics[0].errorCode, ErrorCode.INVALID_REPLICATION_FACTOR);
});

test('a topic named twice in one CreateTopics is INVALID_REQUEST, answered once', async () => {
  const res = await createRaw(5, [topic('twice', { numPartitions: 1 }), topic('twice', { numPartitions: 2 })]);
  assert.equal(res.topics.length, 1);
  assert.equal(res.topics[0].errorCode, ErrorCode.INVALID_REQUEST);
  assert.equal(await broker.agent.context.topics.get('twice'), undefined);
});

test("names that differ only in '.' and '_' collide", async () => {
  await admin.createTopics({ topics: [{ topic: 'metrics.cpu' }] });
  const res = await createRaw(5, [topic('metrics_cpu')]);
  assert.equal(res.topics[0].errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION);
  assert.match(res.topics[0].errorMessage!, /collides with existing topic 'metrics.cpu'/);
});

test('manual assignments are accepted when they name this broker, refused otherwise', async () => {
  const res = await createRaw(5, [
    topic('assigned', { assignments: [{ partitionIndex: 1, brokerIds: [0] }, { partitionIndex: 0, brokerIds: [0] }] }),
    topic('assigned-elsewhere', { assignments: [{ partitionIndex: 0, brokerIds: [7] }] }),
    topic('assigned-twice', { assignments: [{ partitionIndex: 0, brokerIds: [0, 0] }] }),
    topic('assigned-gap', { assignments: [{ partitionIndex: 1, brokerIds: [0] }] }),
    topic('assigned-and-count', { numPartitions: 1, assignments: [{ partitionIndex: 0, brokerIds: [0] }] }),
  ]);
  const byName = new Map(res.topics.map((t) => [t.name, t]));
  assert.equal(byName.get('assigned')!.errorCode, ErrorCode.NONE);
  assert.equal(byName.get('assigned')!.numPartitions, 2);
  assert.equal(byName.get('assigned')!.replicationFactor, 1);
  assert.equal((await broker.agent.context.topics.get('assigned'))?.partitions, 2);
  assert.equal(byName.get('assigned-elsewhere')!.errorCode, ErrorCode.INVALID_REPLICA_ASSIGNMENT);
  assert.match(byName.get('assigned-elsewhere')!.errorMessage!, /broker 7, which does not exist/);
  assert.equal(byName.get('assigned-twice')!.errorCode, ErrorCode.INVALID_REPLICA_ASSIGNMENT);
  assert.equal(byName.get('assigned-gap')!.errorCode, ErrorCode.INVALID_REPLICA_ASSIGNMENT);
  assert.equal(byName.get('assigned-and-count')!.errorCode, ErrorCode.INVALID_REQUEST);
});

test('kafkajs deleteTopics removes the topic; deleting it again is UNKNOWN_TOPIC_OR_PARTITION', async () => {
  await admin.createTopics({ topics: [{ topic: 'short-lived' }] });
  await admin.deleteTopics({ topics: ['short-lived'] });
  assert.equal(await broker.agent.context.topics.get('short-lived'), undefined);
  assert.ok(!(await admin.listTopics()).includes('short-lived'));
  const raw = await RawClient.connect(broker.port);
  const res = await raw.request(DeleteTopicsRequestMessage, DeleteTopicsResponseMessage, 5, {
    ...createDeleteTopicsRequest(),
    topicNames: ['short-lived'],
    timeoutMs: 1000,
  });
  raw.close();
  assert.equal(res.responses[0].errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  assert.match(res.responses[0].errorMessage!, /does not exist/);
});

test('DeleteTopics v6 deletes by topic id and answers UNKNOWN_TOPIC_ID for an unknown id', async () => {
  await admin.createTopics({ topics: [{ topic: 'by-id' }] });
  const id = (await broker.agent.context.topics.get('by-id'))!.id;
  const unknownId = '00000000-0000-4000-8000-000000000001';
  const raw = await RawClient.connect(broker.port);
  const res = await raw.request(DeleteTopicsRequestMessage, DeleteTopicsResponseMessage, 6, {
    ...createDeleteTopicsRequest(),
    topics: [
      { name: null, topicId: id },
      { name: null, topicId: unknownId },
      { name: 'no-such-topic', topicId: ZERO_UUID },
      { name: 'orders', topicId: id },
    ],
    timeoutMs: 1000,
  });
  raw.close();
  assert.equal(res.responses.length, 4);
  assert.deepEqual(
    { name: res.responses[0].name, topicId: res.responses[0].topicId, errorCode: res.responses[0].errorCode },
    { name: 'by-id', topicId: id, errorCode: ErrorCode.NONE },
  );
  assert.equal(res.responses[1].errorCode, ErrorCode.UNKNOWN_TOPIC_ID);
  assert.equal(res.responses[1].topicId, unknownId);
  assert.equal(res.responses[2].errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  assert.equal(res.responses[3].errorCode, ErrorCode.INVALID_REQUEST); // name and id together
  assert.equal(await broker.agent.context.topics.getById(id), undefined);
  assert.ok(await broker.agent.context.topics.get('orders'), 'a refused entry deletes nothing');
});

test('a recreated topic gets a new id', async () => {
  await admin.createTopics({ topics: [{ topic: 'phoenix' }] });
  const first = (await broker.agent.context.topics.get('phoenix'))!.id;
  await admin.deleteTopics({ topics: ['phoenix'] });
  await admin.createTopics({ topics: [{ topic: 'phoenix' }] });
  const second = (await broker.agent.context.topics.get('phoenix'))!.id;
  assert.notEqual(first, second);
});

test('kafkajs createPartitions grows a topic; validateOnly changes nothing', async () => {
  await admin.createTopics({ topics: [{ topic: 'growing', numPartitions: 1 }] });
  await admin.createPartitions({ validateOnly: true, topicPartitions: [{ topic: 'growing', count: 3 }] });
  assert.equal((await broker.agent.context.topics.get('growing'))?.partitions, 1);
  await admin.createPartitions({ topicPartitions: [{ topic: 'growing', count: 3 }] });
  const md = await admin.fetchTopicMetadata({ topics: ['growing'] });
  assert.equal(md.topics[0].partitions.length, 3);
});

test('CreatePartitions refuses shrinking, equal counts, bad assignments and unknown topics', async () => {
  await admin.createTopics({ topics: [{ topic: 'fixed', numPartitions: 2 }] });
  const raw = await RawClient.connect(broker.port);
  const res = await raw.request(CreatePartitionsRequestMessage, CreatePartitionsResponseMessage, 3, {
    ...createCreatePartitionsRequest(),
    topics: [
      { name: 'fixed', count: 2, assignments: null },
      { name: 'growing', count: 1, assignments: null },
      { name: 'orders', count: 5, assignments: [{ brokerIds: [0] }] },
      { name: 'with-id', count: 3, assignments: [{ brokerIds: [3] }] },
      { name: 'missing-topic', count: 3, assignments: null },
    ],
    timeoutMs: 1000,
    validateOnly: false,
  });
  raw.close();
  const byName = new Map(res.results.map((r) => [r.name, r]));
  assert.equal(byName.get('fixed')!.errorCode, ErrorCode.INVALID_PARTITIONS);
  assert.match(byName.get('fixed')!.errorMessage!, /already has 2 partition/);
  assert.equal(byName.get('growing')!.errorCode, ErrorCode.INVALID_PARTITIONS);
  assert.match(byName.get('growing')!.errorMessage!, /can only be added/);
  assert.equal(byName.get('orders')!.errorCode, ErrorCode.INVALID_REPLICA_ASSIGNMENT);
  assert.match(byName.get('orders')!.errorMessage!, /2 partition\(s\) would be added, but 1 assignment/);
  assert.equal(byName.get('with-id')!.errorCode, ErrorCode.INVALID_REPLICA_ASSIGNMENT);
  assert.equal(byName.get('missing-topic')!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  assert.equal((await broker.agent.context.topics.get('orders'))?.partitions, 3);
  assert.equal((await broker.agent.context.topics.get('with-id'))?.partitions, 2);
});

test('CreatePartitions accepts assignments to this broker', async () => {
  const raw = await RawClient.connect(broker.port);
  const res = await raw.request(CreatePartitionsRequestMessage, CreatePartitionsResponseMessage, 0, {
    ...createCreatePartitionsRequest(),
    topics: [{ name: 'with-id', count: 4, assignments: [{ brokerIds: [0] }, { brokerIds: [0] }] }],
    timeoutMs: 1000,
    validateOnly: false,
  });
  raw.close();
  assert.equal(res.results[0].errorCode, ErrorCode.NONE);
  assert.equal((await broker.agent.context.topics.get('with-id'))?.partitions, 4);
});
