import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, KafkaError, allErrors, errorInfo, errorName, kafkaError } from '../../src/protocol/errors.js';

test('every error code and name is unique and codes run from -1 to the newest without gaps', () => {
  const all = allErrors();
  assert.equal(new Set(all.map((e) => e.code)).size, all.length);
  assert.equal(new Set(all.map((e) => e.name)).size, all.length);
  const codes = all.map((e) => e.code).sort((a, b) => a - b);
  assert.deepEqual(codes, Array.from({ length: codes.length }, (_, i) => i - 1));
});

test('well-known codes and retriable flags match the protocol', () => {
  const expect: Array<[string, number, boolean]> = [
    ['UNKNOWN_SERVER_ERROR', -1, false],
    ['OFFSET_OUT_OF_RANGE', 1, false],
    ['CORRUPT_MESSAGE', 2, true],
    ['UNKNOWN_TOPIC_OR_PARTITION', 3, true],
    ['NOT_LEADER_OR_FOLLOWER', 6, true],
    ['REQUEST_TIMED_OUT', 7, true],
    ['NOT_COORDINATOR', 16, true],
    ['REBALANCE_IN_PROGRESS', 27, false],
    ['UNSUPPORTED_VERSION', 35, false],
    ['INVALID_CONFIG', 40, false],
    ['OUT_OF_ORDER_SEQUENCE_NUMBER', 45, false],
    ['CONCURRENT_TRANSACTIONS', 51, true],
    ['KAFKA_STORAGE_ERROR', 56, true],
    ['MEMBER_ID_REQUIRED', 79, false],
    ['INVALID_RECORD', 87, false],
    ['UNKNOWN_TOPIC_ID', 100, true],
    ['FENCED_MEMBER_EPOCH', 110, false],
  ];
  for (const [name, code, retriable] of expect) {
    const info = errorInfo(code);
    assert.equal(info?.name, name);
    assert.equal(info?.retriable, retriable, name);
    assert.equal(ErrorCode[name as keyof typeof ErrorCode], code);
  }
  assert.equal(errorName(9999), 'UNKNOWN_ERROR_CODE_9999');
});

test('KafkaError carries the code, its retriability and a message', () => {
  const e = kafkaError('INVALID_CONFIG', 'retention.ms must be an integer');
  assert.ok(e instanceof KafkaError);
  assert.equal(e.code, 40);
  assert.equal(e.retriable, false);
  assert.equal(e.message, 'retention.ms must be an integer');
  assert.equal(new KafkaError(ErrorCode.NOT_COORDINATOR).retriable, true);
});
