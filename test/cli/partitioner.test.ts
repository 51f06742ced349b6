// The CLI's key partitioner must agree with Kafka's Java client (Utils.murmur2 test vectors).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { murmur2, partitionForKey } from '../../src/cli/partitioner.js';

test('murmur2 matches the Java client on its own test vectors', () => {
  const vectors: Array<[string, number]> = [
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ];
  for (const [key, hash] of vectors) assert.equal(murmur2(Buffer.from(key)), hash, key);
});

test('partitions are the positive hash modulo the count', () => {
  assert.equal(partitionForKey(Buffer.from('foobar'), 4), 2);
  assert.equal(partitionForKey(Buffer.from('a-little-bit-longer-string'), 4), 3);
  for (let n = 1; n < 10; n++) assert.ok(partitionForKey(Buffer.from(`k${n}`), n) < n);
});
