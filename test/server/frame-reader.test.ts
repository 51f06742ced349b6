import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameReader, FrameTooLargeError } from '../../src/server/frame-reader.js';

function frame(body: Buffer): Buffer {
  const b = Buffer.alloc(4 + body.length);
  b.writeInt32BE(body.length, 0);
  body.copy(b, 4);
  return b;
}

test('frames split at every byte boundary come out whole and in order', () => {
  const stream = Buffer.concat([frame(Buffer.from('hello')), frame(Buffer.alloc(0)), frame(Buffer.from('world!'))]);
  for (let cut = 1; cut < stream.length; cut++) {
    const r = new FrameReader(1024);
    const out = [...r.push(stream.subarray(0, cut)), ...r.push(stream.subarray(cut))];
    assert.deepEqual(out.map((b) => b.toString()), ['hello', '', 'world!']);
    assert.equal(r.pendingBytes, 0);
  }
});

test('one byte at a time', () => {
  const stream = Buffer.concat([frame(Buffer.from('abc')), frame(Buffer.from('de'))]);
  const r = new FrameReader(1024);
  const out: string[] = [];
  for (const byte of stream) out.push(...r.push(Buffer.from([byte])).map((b) => b.toString()));
  assert.deepEqual(out, ['abc', 'de']);
});

test('oversized and negative sizes are rejected before the body arrives', () => {
  const big = Buffer.alloc(4);
  big.writeInt32BE(2000, 0);
  assert.throws(() => new FrameReader(1000).push(big), FrameTooLargeError);
  const neg = Buffer.alloc(4);
  neg.writeInt32BE(-5, 0);
  assert.throws(() => new FrameReader(1000).push(neg), /negative frame size/);
  // HTTP and TLS first bytes read as huge sizes.
  assert.throws(() => new FrameReader(100 * 1024 * 1024).push(Buffer.from('GET / HTTP/1.1\r\n')), FrameTooLargeError);
  assert.throws(() => new FrameReader(100 * 1024 * 1024).push(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00])), FrameTooLargeError);
});

test('a partial frame keeps only the bytes that arrived', () => {
  const r = new FrameReader(100 * 1024 * 1024);
  const head = Buffer.alloc(4);
  head.writeInt32BE(50 * 1024 * 1024, 0);
  assert.deepEqual(r.push(Buffer.concat([head, Buffer.alloc(10)])), []);
  assert.equal(r.pendingBytes, 10);
});
