// Writer's zero-copy mode: large byte strings are referenced, not copied, and the output (size
// prefixes included) is byte-identical to the copying Writer's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writer } from '../../src/protocol/primitives.js';

function write(w: Writer, blobs: Buffer[]): void {
  const outer = w.markSize();
  w.int32(42);
  for (const b of blobs) {
    const inner = w.markSize();
    w.compactNullableBytes(b);
    w.int16(7);
    w.fillSize(inner);
  }
  w.uvarint(0);
  w.fillSize(outer);
}

test('referenced buffers give the same bytes as copying, and are not copied', () => {
  const big1 = Buffer.alloc(20_000, 1);
  const big2 = Buffer.alloc(70_000, 2);
  const blobs = [Buffer.from('small'), big1, Buffer.alloc(0), big2, Buffer.alloc(16_383, 3)];
  const plain = new Writer(16);
  write(plain, blobs);
  const zc = new Writer(16, { referenceFrom: 16 * 1024 });
  write(zc, blobs);

  const chunks = zc.finishChunks();
  assert.ok(chunks.includes(big1) && chunks.includes(big2), 'large buffers are the very objects passed in');
  assert.equal(zc.length, plain.offset);
  assert.equal(plain.offset - zc.offset, 90_000, 'only the two large buffers were left out of the copy');
  assert.deepEqual(Buffer.concat(chunks), plain.finish());
  assert.deepEqual(zc.finish(), plain.finish());
  assert.equal(plain.finish().readInt32BE(0), plain.offset - 4);
});

test('without references finishChunks is the single finish() view', () => {
  const w = new Writer(8, { referenceFrom: 1024 });
  w.int32(1);
  w.raw(Buffer.alloc(100, 9));
  const chunks = w.finishChunks();
  assert.equal(chunks.length, 1);
  assert.deepEqual(chunks[0], w.finish());
  assert.equal(w.length, 104);
});
