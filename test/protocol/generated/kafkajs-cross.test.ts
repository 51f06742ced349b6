// Cross-check against an independent implementation: kafkajs encodes requests that our codec
// decodes, and decodes responses that our codec encodes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Reader, Writer } from '../../../src/protocol/primitives.js';
import {
  decodeFetchRequest,
  decodeJoinGroupRequest,
  decodeMetadataRequest,
  encodeApiVersionsResponse,
  encodeMetadataResponse,
  createApiVersionsResponse,
  createMetadataResponse,
} from '../../../src/protocol/generated/index.js';
import { createApiVersion } from '../../../src/protocol/generated/ApiVersionsResponse.js';
import {
  createMetadataResponseBroker,
  createMetadataResponsePartition,
  createMetadataResponseTopic,
} from '../../../src/protocol/generated/MetadataResponse.js';

const require = createRequire(import.meta.url);
type KafkajsRequest = { encode: () => Promise<{ buffer: Buffer }> };
type KafkajsResponse = { decode: (b: Buffer) => Promise<Record<string, unknown>> };
const request = (path: string) => require(`kafkajs/src/protocol/requests/${path}/request`) as (a: object) => KafkajsRequest;
const response = (path: string) => require(`kafkajs/src/protocol/requests/${path}/response`) as KafkajsResponse;

function reader(b: Buffer): Reader {
  return new Reader(b);
}

test('kafkajs Metadata v6 request decodes', async () => {
  const { buffer } = await request('metadata/v6')({ topics: ['a', 'bc'], allowAutoTopicCreation: false }).encode();
  const r = reader(buffer);
  const m = decodeMetadataRequest(r, 6);
  assert.equal(r.error, null);
  assert.equal(r.remaining, 0);
  assert.deepEqual(m.topics?.map((t) => t.name), ['a', 'bc']);
  assert.equal(m.allowAutoTopicCreation, false);
});

test('kafkajs JoinGroup v5 request decodes', async () => {
  const { buffer } = await request('joinGroup/v5')({
    groupId: 'g',
    sessionTimeout: 30000,
    rebalanceTimeout: 60000,
    memberId: '',
    groupInstanceId: 'static-1',
    protocolType: 'consumer',
    groupProtocols: [{ name: 'range', metadata: Buffer.from([1, 2, 3]) }],
  }).encode();
  const r = reader(buffer);
  const j = decodeJoinGroupRequest(r, 5);
  assert.equal(r.error, null);
  assert.equal(r.remaining, 0);
  assert.equal(j.groupId, 'g');
  assert.equal(j.sessionTimeoutMs, 30000);
  assert.equal(j.rebalanceTimeoutMs, 60000);
  assert.equal(j.groupInstanceId, 'static-1');
  assert.equal(j.protocolType, 'consumer');
  assert.equal(j.protocols.length, 1);
  assert.equal(j.protocols[0].name, 'range');
  assert.deepEqual([...j.protocols[0].metadata], [1, 2, 3]);
});

test('kafkajs Fetch v11 request decodes', async () => {
  const { buffer } = await request('fetch/v11')({
    replicaId: -1,
    maxWaitTime: 500,
    minBytes: 1,
    maxBytes: 1048576,
    topics: [{ topic: 't', partitions: [{ partition: 2, fetchOffset: '42', maxBytes: 1000 }] }],
    rackId: 'rack-a',
  }).encode();
  const r = reader(buffer);
  const f = decodeFetchRequest(r, 11);
  assert.equal(r.error, null);
  assert.equal(r.remaining, 0);
  assert.equal(f.maxWaitMs, 500);
  assert.equal(f.maxBytes, 1048576);
  assert.equal(f.topics[0].topic, 't');
  assert.equal(f.topics[0].partitions[0].partition, 2);
  assert.equal(f.topics[0].partitions[0].fetchOffset, 42n);
  assert.equal(f.topics[0].partitions[0].partitionMaxBytes, 1000);
  assert.equal(f.rackId, 'rack-a');
});

test('kafkajs decodes our ApiVersions v2 response', async () => {
  const w = new Writer();
  encodeApiVersionsResponse(
    w,
    {
      ...createApiVersionsResponse(),
      apiKeys: [{ ...createApiVersion(), apiKey: 3, minVersion: 0, maxVersion: 6 }],
      throttleTimeMs: 5,
    },
    2,
  );
  const d = await response('apiVersions/v2').decode(Buffer.from(w.finish()));
  assert.deepEqual(d.apiVersions, [{ apiKey: 3, minVersion: 0, maxVersion: 6 }]);
  assert.equal(d.clientSideThrottleTime, 5);
});

test('kafkajs decodes our Metadata v5 response', async () => {
  const w = new Writer();
  encodeMetadataResponse(
    w,
    {
      ...createMetadataResponse(),
      brokers: [{ ...createMetadataResponseBroker(), nodeId: 1, host: 'localhost', port: 9092, rack: null }],
      clusterId: 'c1',
      controllerId: 1,
      topics: [
        {
          ...createMetadataResponseTopic(),
          name: 't',
          partitions: [{ ...createMetadataResponsePartition(), partitionIndex: 0, leaderId: 1, replicaNodes: [1], isrNodes: [1] }],
        },
      ],
    },
    5,
  );
  const d = await response('metadata/v5').decode(Buffer.from(w.finish()));
  assert.equal(d.clusterId, 'c1');
  assert.deepEqual(d.brokers, [{ nodeId: 1, host: 'localhost', port: 9092, rack: null }]);
  const topics = d.topicMetadata as { topic: string; partitionMetadata: { leader: number; isr: number[] }[] }[];
  assert.equal(topics[0].topic, 't');
  assert.equal(topics[0].partitionMetadata[0].leader, 1);
  assert.deepEqual(topics[0].partitionMetadata[0].isr, [1]);
});
