// The segment object layout and the block cache, without a broker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBatchSync, patchBatch } from '../../src/protocol/records/index.js';
import {
  SegmentFormatError,
  decodeFooter,
  encodeSegment,
  entryEnd,
  findEntry,
  parseSegmentKey,
  segmentKey,
} from '../../src/log/segment-format.js';
import { BlockCache } from '../../src/log/block-cache.js';
import { FileStore } from '../../src/s3/index.js';

function batches(n: number, perBatch = 3): Buffer[] {
  const out: Buffer[] = [];
  let offset = 100n;
  for (let i = 0; i < n; i++) {
    const b = buildBatchSync({ records: Array.from({ length: perBatch }, (_, j) => ({ value: `b${i}r${j}`, timestamp: 1000 + i * 10 + j })) });
    patchBatch(b, offset, 7);
    offset += BigInt(perBatch);
    out.push(b);
  }
  return out;
}

test('a segment round-trips: index entries point at each batch, the trailer checks out', () => {
  const bs = batches(5);
  const seg = encodeSegment(bs);
  assert.equal(seg.baseOffset, 100n);
  assert.equal(seg.lastOffset, 114n);
  assert.equal(seg.maxTimestamp, 1042n);
  const idx = decodeFooter(seg.body, seg.body.length, 'k');
  assert.ok('entries' in idx);
  assert.equal(idx.entries.length, 5);
  for (let i = 0; i < 5; i++) {
    assert.ok(seg.body.subarray(idx.entries[i].position, entryEnd(idx, i)).equals(bs[i]));
    assert.equal(idx.entries[i].baseOffset, 100n + BigInt(i * 3));
  }
  assert.equal(findEntry(idx, 100n), 0);
  assert.equal(findEntry(idx, 104n), 1);
  assert.equal(findEntry(idx, 114n), 4);
  assert.equal(findEntry(idx, 99n), 0);
});

test('a short tail asks for more bytes; a flipped index byte fails the CRC; a foreign object is refused', () => {
  const seg = encodeSegment(batches(4));
  const short = decodeFooter(seg.body.subarray(seg.body.length - 30), seg.body.length, 'k');
  assert.deepEqual(short, { need: 4 * 20 + 20 });
  const bad = Buffer.from(seg.body);
  bad[seg.index.dataEnd + 3] ^= 0xff;
  assert.throws(() => decodeFooter(bad, bad.length, 'k'), SegmentFormatError);
  assert.throws(() => decodeFooter(Buffer.alloc(40), 40, 'k'), /magic/);
});

test('segment keys are unique, sortable by base offset and parse back', () => {
  const id = '3f1c2a4e-8b9d-4c0e-9f1a-2b3c4d5e6f70';
  const a = segmentKey(id, 3, 42n, 5);
  const b = segmentKey(id, 3, 42n, 5);
  assert.notEqual(a, b);
  assert.match(a, /^topics\/3f1c2a4e-8b9d-4c0e-9f1a-2b3c4d5e6f70\/3\/00000000000000000042-5-[0-9a-f]+\.seg$/);
  assert.deepEqual(parseSegmentKey(a), { topicId: id, partition: 3, baseOffset: 42n });
  assert.equal(parseSegmentKey('topics/x/0/foo.seg'), null);
});

test('the block cache stays within its byte bound, serves repeated reads from memory, and reads ahead for sequential readers', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'blockcache-'));
  try {
    const store = await FileStore.open(dir);
    const body = Buffer.alloc(10 * 1024);
    for (let i = 0; i < body.length; i++) body[i] = i % 251;
    await store.put('obj', body);
    let gets = 0;
    const counting = { ...store, getRange: (k: string, s: number, e: number) => (gets++, store.getRange(k, s, e)) } as typeof store;
    const cache = new BlockCache(counting, { maxBytes: 4096, blockBytes: 1024 });
    assert.ok((await cache.read('obj', 100, 1500, body.length)).equals(body.subarray(100, 1500)));
    assert.equal(gets, 2);
    // Continues where the last read ended: blocks 0-1 come from memory, block 2 is fetched ahead.
    assert.ok((await cache.read('obj', 1500, 2000, body.length)).equals(body.subarray(1500, 2000)));
    assert.equal(gets, 3);
    assert.ok((await cache.read('obj', 2000, 3000, body.length)).equals(body.subarray(2000, 3000)));
    assert.equal(gets, 4, 'block 2 came from the read-ahead; only block 3 was fetched (ahead)');
    assert.ok(cache.hits >= 2);
    // A non-sequential read triggers no read-ahead.
    const before = gets;
    await cache.read('obj', 8200, 8300, body.length);
    assert.equal(gets, before + 1);
    await cache.read('obj', 5000, 9000, body.length);
    assert.ok(cache.usedBytes() <= 4096);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
