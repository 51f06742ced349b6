// Hand-checked byte layouts, derived from the protocol rules (big-endian ints, int16-prefixed
// strings, int32-prefixed arrays; in flexible versions unsigned-varint length+1 prefixes and a
// tagged-field section after every struct).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Reader } from '../../../src/protocol/primitives.js';
import {
  ApiVersionsRequestMessage,
  ApiVersionsResponseMessage,
  createApiVersionsRequest,
  createApiVersionsResponse,
  createDescribeTopicPartitionsRequest,
  createFetchRequest,
  createMetadataRequest,
  createRequestHeader,
  createResponseHeader,
  DescribeTopicPartitionsRequestMessage,
  FetchRequestMessage,
  MetadataRequestMessage,
  RequestHeaderMessage,
  ResponseHeaderMessage,
  type MessageDescriptor,
} from '../../../src/protocol/generated/index.js';
import { createMetadataRequestTopic } from '../../../src/protocol/generated/MetadataRequest.js';
import { createApiVersion } from '../../../src/protocol/generated/ApiVersionsResponse.js';
import { encode } from './codec-harness.js';

function hex(s: string): string {
  return s.replace(/\s+/g, '');
}

function check<T>(d: MessageDescriptor<T>, value: T, version: number, expected: string): void {
  const bytes = encode(d as MessageDescriptor<unknown>, value, version);
  assert.equal(bytes.toString('hex'), hex(expected));
  const r = new Reader(bytes);
  assert.deepStrictEqual(d.decode(r, version), value);
  assert.equal(r.error, null);
}

test('ApiVersionsRequest v3 carries the client software name and version as compact strings', () => {
  const v = { ...createApiVersionsRequest(), clientSoftwareName: 'kcat', clientSoftwareVersion: '1.7.1' };
  // 05 "kcat" | 06 "1.7.1" | no tagged fields
  check(ApiVersionsRequestMessage, v, 3, '05 6b636174  06 312e372e31  00');
  // v0-v2 have no fields at all.
  check(ApiVersionsRequestMessage, createApiVersionsRequest(), 2, '');
});

test('MetadataRequest v0 with one topic', () => {
  const v = { ...createMetadataRequest(), topics: [{ ...createMetadataRequestTopic(), name: 'foo' }] };
  // int32 count 1 | int16 length 3 "foo"
  check(MetadataRequestMessage, v, 0, '00000001  0003 666f6f');
});

test('MetadataRequest v9 with null topics (all topics)', () => {
  const v = { ...createMetadataRequest(), topics: null };
  // compact null array 00 | allowAutoTopicCreation 01 | two false bools | no tagged fields
  check(MetadataRequestMessage, v, 9, '00  01  00  00  00');
  // v0 cannot express null topics: encoding must refuse rather than send something else.
  assert.throws(() => encode(MetadataRequestMessage as MessageDescriptor<unknown>, v, 0), /not nullable/);
});

test('FetchRequest v12 writes ClusterId as tagged field 0 only when set', () => {
  const base = { ...createFetchRequest(), maxWaitMs: 500, minBytes: 1 };
  const head = 'ffffffff 000001f4 00000001 7fffffff 00 00000000 ffffffff 01 01 01';
  check(FetchRequestMessage, base, 12, `${head} 00`);
  // one tagged field: tag 0, size 2, compact string "c" (02 63)
  check(FetchRequestMessage, { ...base, clusterId: 'c' }, 12, `${head} 01 00 02 0263`);
});

test('ApiVersionsResponse v3 with a fixed-size tagged field', () => {
  const v = {
    ...createApiVersionsResponse(),
    apiKeys: [{ ...createApiVersion(), apiKey: 18, minVersion: 0, maxVersion: 4 }],
    finalizedFeaturesEpoch: 5n,
  };
  // error 0000 | compact array of 1 (02): 0012 0000 0004 + tags 00 | throttle 0 | tags: 1 field,
  // tag 1, size 8, int64 5
  check(ApiVersionsResponseMessage, v, 3, '0000 02 0012 0000 0004 00 00000000 01 01 08 0000000000000005');
  // v0: int32 count, no throttle time, no tags
  check(ApiVersionsResponseMessage, { ...v, finalizedFeaturesEpoch: -1n }, 0, '0000 00000001 0012 0000 0004');
});

test('DescribeTopicPartitionsRequest: a nullable struct is prefixed by -1 (null) or 1', () => {
  const v = createDescribeTopicPartitionsRequest();
  // empty compact array 01 | limit 2000 (000007d0) | cursor null ff | tags 00
  check(DescribeTopicPartitionsRequestMessage, v, 0, '01 000007d0 ff 00');
  const withCursor = { ...v, cursor: { topicName: 't', partitionIndex: 3 } };
  check(DescribeTopicPartitionsRequestMessage, withCursor, 0, '01 000007d0 01 0274 00000003 00 00');
});

test('request header v2 keeps the int16-prefixed client id, then tagged fields', () => {
  const h = { ...createRequestHeader(), requestApiKey: 18, requestApiVersion: 3, correlationId: 1, clientId: 'ab' };
  check(RequestHeaderMessage, h, 2, '0012 0003 00000001 0002 6162 00');
  check(RequestHeaderMessage, h, 1, '0012 0003 00000001 0002 6162');
  check(RequestHeaderMessage, { ...h, clientId: null }, 1, '0012 0003 00000001 ffff');
  check(RequestHeaderMessage, { ...h, clientId: '' }, 0, '0012 0003 00000001');
});

test('response header v1 ends with an empty tagged-field section', () => {
  const h = { ...createResponseHeader(), correlationId: 7 };
  check(ResponseHeaderMessage, h, 0, '00000007');
  check(ResponseHeaderMessage, h, 1, '00000007 00');
});

test('defaults follow the spec', () => {
  assert.equal(createFetchRequest().maxBytes, 0x7fffffff);
  assert.equal(createFetchRequest().replicaId, -1);
  assert.equal(createFetchRequest().clusterId, null);
  assert.equal(createMetadataRequest().allowAutoTopicCreation, true);
  assert.deepEqual(createMetadataRequest().topics, []);
  assert.equal(createApiVersionsResponse().finalizedFeaturesEpoch, -1n);
  assert.equal(createDescribeTopicPartitionsRequest().responsePartitionLimit, 2000);
});
