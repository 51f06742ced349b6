// DescribeCluster and DescribeLogDirs over the wire, plus DescribeLogDirs with a stand-in log
// layer (partition sizes) and DeleteTopics dropping the topic's logs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';
import {
  DescribeClusterRequestMessage,
  DescribeClusterResponseMessage,
  DescribeLogDirsRequestMessage,
  DescribeLogDirsResponseMessage,
  createDeleteTopicsRequest,
} from '../../src/protocol/generated/index.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { CLUSTER_OPERATIONS } from '../../src/handlers/03-metadata.js';
import { describeLogDirsHandler } from '../../src/handlers/35-describe-log-dirs.js';
import { deleteTopicsHandler } from '../../src/handlers/20-delete-topics.js';
import type { BrokerContext } from '../../src/handlers/context.js';
import type { RequestContext } from '../../src/handlers/types.js';
import type { LogManager, PartitionLogView } from '../../src/log/types.js';
import type { TopicRecord } from '../../src/metadata/types.js';
import { silentLogger } from '../../src/observability/logger.js';
import type { ApiMessageDescriptor } from '../../src/protocol/generated/runtime.js';

let broker: TestBroker;
before(async () => {
  broker = await startTestBroker();
  const admin = new Kafka({ clientId: 'cluster-test', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'dirs-a', numPartitions: 2 }, { topic: 'dirs-b', numPartitions: 1 }] });
  await admin.disconnect();
});
after(async () => {
  await broker.stop();
});

async function rawRequest<Req, Res>(req: ApiMessageDescriptor<Req>, res: ApiMessageDescriptor<Res>, version: number, body: Req): Promise<Res> {
  const raw = await RawClient.connect(broker.port);
  try {
    return await raw.request(req, res, version, body);
  } finally {
    raw.close();
  }
}

function requestContext(apiKey: number, apiVersion: number): RequestContext {
  return { apiKey, apiVersion, correlationId: 1, clientId: 'test', clientHost: '127.0.0.1', signal: new AbortController().signal, log: silentLogger() };
}

test('DescribeCluster v0 and v1 list this broker, the controller and the cluster id', async () => {
  for (const version of [0, 1]) {
    const res = await rawRequest(
      DescribeClusterRequestMessage,
      DescribeClusterResponseMessage,
      version,
      { includeClusterAuthorizedOperations: true, endpointType: 1 },
    );
    assert.equal(res.errorCode, ErrorCode.NONE);
    assert.equal(res.clusterId, broker.agent.context.cluster.clusterId);
    assert.equal(res.controllerId, 0);
    assert.deepEqual(res.brokers.map((x) => ({ brokerId: x.brokerId, host: x.host, port: x.port, rack: x.rack })), [
      { brokerId: 0, host: '127.0.0.1', port: broker.port, rack: null },
    ]);
    assert.equal(res.clusterAuthorizedOperations, CLUSTER_OPERATIONS);
    if (version === 1) assert.equal(res.endpointType, 1);
  }
});

test('DescribeCluster without authorized operations, and asked for controllers', async () => {
  const plain = await rawRequest(DescribeClusterRequestMessage, DescribeClusterResponseMessage, 1, {
    includeClusterAuthorizedOperations: false,
    endpointType: 1,
  });
  assert.equal(plain.clusterAuthorizedOperations, -2147483648);
  const controllers = await rawRequest(DescribeClusterRequestMessage, DescribeClusterResponseMessage, 1, {
    includeClusterAuthorizedOperations: false,
    endpointType: 2,
  });
  assert.equal(controllers.errorCode, ErrorCode.MISMATCHED_ENDPOINT_TYPE);
  assert.equal(controllers.brokers.length, 0);
  const odd = await rawRequest(DescribeClusterRequestMessage, DescribeClusterResponseMessage, 1, {
    includeClusterAuthorizedOperations: false,
    endpointType: 7,
  });
  assert.equal(odd.errorCode, ErrorCode.UNSUPPORTED_ENDPOINT_TYPE);
});

test('DescribeLogDirs v4 reports the data directory, every partition and the disk space', async () => {
  const res = await rawRequest(DescribeLogDirsRequestMessage, DescribeLogDirsResponseMessage, 4, { topics: null });
  assert.equal(res.errorCode, ErrorCode.NONE);
  assert.equal(res.results.length, 1);
  const dir = res.results[0];
  assert.equal(dir.errorCode, ErrorCode.NONE);
  assert.equal(dir.logDir, broker.dataDir);
  assert.ok(dir.totalBytes > 0n, 'total bytes of the file system');
  assert.ok(dir.usableBytes >= 0n && dir.usableBytes <= dir.totalBytes);
  const topics = Object.fromEntries(dir.topics.map((t) => [t.name, t.partitions.map((p) => p.partitionIndex)]));
  assert.deepEqual(topics, { 'dirs-a': [0, 1], 'dirs-b': [0] });
  for (const p of dir.topics.flatMap((t) => t.partitions)) {
    assert.equal(p.offsetLag, 0n);
    assert.equal(p.isFutureKey, false);
    assert.ok(p.partitionSize >= 0n);
  }
});

test('DescribeLogDirs v0 with a topic list leaves out unknown topics and partitions', async () => {
  const res = await rawRequest(DescribeLogDirsRequestMessage, DescribeLogDirsResponseMessage, 0, {
    topics: [
      { topic: 'dirs-a', partitions: [1, 5] },
      { topic: 'no-such-topic', partitions: [0] },
    ],
  });
  assert.deepEqual(
    res.results[0].topics.map((t) => [t.name, t.partitions.map((p) => p.partitionIndex)]),
    [['dirs-a', [1]]],
  );
});

function fakeLogs(sizes: Record<string, number>, dropped: string[] = []): LogManager {
  // DescribeLogDirs reads only the id, the index and the size of each open partition log.
  const views = Object.entries(sizes).map(([key, size]) => {
    const [topicId, partition] = key.split('#');
    const view: Pick<PartitionLogView, 'topicId' | 'partition' | 'sizeBytes'> = { topicId, partition: Number(partition), sizeBytes: () => size };
    return view as PartitionLogView;
  });
  return {
    partition: () => Promise.reject(new Error('not used')),
    dropTopic: async (t: TopicRecord) => {
      dropped.push(t.name);
    },
    openPartitions: () => views,
  };
}

test('DescribeLogDirs takes partition sizes from the open partition logs', async () => {
  const ctx = broker.agent.context;
  const a = (await ctx.topics.get('dirs-a'))!;
  const withLogs: BrokerContext = { ...ctx, logs: fakeLogs({ [`${a.id}#1`]: 4096 }) };
  const res = await describeLogDirsHandler(withLogs).handle({ topics: [{ topic: 'dirs-a', partitions: [0, 1] }] }, requestContext(35, 4));
  assert.deepEqual(
    res!.results[0].topics[0].partitions.map((p) => [p.partitionIndex, p.partitionSize]),
    [
      [0, 0n],
      [1, 4096n],
    ],
  );
});

test('DeleteTopics asks the log layer to drop the topic, and succeeds even when that fails', async () => {
  const ctx = broker.agent.context;
  await ctx.topics.create({ name: 'doomed', partitions: 1 });
  await ctx.topics.create({ name: 'doomed-too', partitions: 1 });
  const dropped: string[] = [];
  const handler = deleteTopicsHandler({ ...ctx, logs: fakeLogs({}, dropped) });
  const res = await handler.handle({ ...createDeleteTopicsRequest(), topicNames: ['doomed'] }, requestContext(20, 5));
  assert.equal(res!.responses[0].errorCode, ErrorCode.NONE);
  assert.deepEqual(dropped, ['doomed']);

  const failing: LogManager = { ...fakeLogs({}), dropTopic: () => Promise.reject(new Error('object store down')) };
  const res2 = await deleteTopicsHandler({ ...ctx, logs: failing }).handle({ ...createDeleteTopicsRequest(), topicNames: ['doomed-too'] }, requestContext(20, 5));
  assert.equal(res2!.responses[0].errorCode, ErrorCode.NONE);
  assert.equal(await ctx.topics.get('doomed-too'), undefined);
});
