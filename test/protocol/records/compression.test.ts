import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { createRequire } from 'node:module';
import * as snappy from 'snappy';
import * as lz4 from 'lz4-napi';
import {
  XERIAL_MAGIC,
  compress,
  decompress,
  encodeXerialSnappy,
  isXerialSnappy,
  lz4FrameBound,
  snappyDeclaredLength,
  type CompressionName,
} from '../../../src/protocol/records/compression.js';
import { DecompressionLimitError, RecordsError } from '../../../src/protocol/records/errors.js';

const CODECS: CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
const MiB = 1 << 20;

function payloads(): Buffer[] {
  return [
    Buffer.alloc(0),
    Buffer.from('hello, streamhouse'),
    randomBytes(70_000), // incompressible, spans several snappy/lz4 blocks
    Buffer.from('abcd'.repeat(300_000)), // 1.2 MB, compressible
  ];
}

for (const codec of CODECS) {
  test(`${codec}: compress then decompress returns the input`, async () => {
    for (const input of payloads()) {
      const packed = await compress(codec, input);
      const out = await decompress(codec, packed, 2 * MiB);
      assert.ok(out.equals(input), `${codec} round trip of ${input.length} bytes`);
    }
  });

  test(`${codec}: codec code and name are interchangeable`, async () => {
    const code = CODECS.indexOf(codec);
    const out = await decompress(code, await compress(code, Buffer.from('x')), 10);
    assert.equal(out.toString(), 'x');
  });
}

for (const codec of CODECS) {
  test(`${codec}: output past the cap fails with DecompressionLimitError`, async () => {
    const input = Buffer.alloc(3 * MiB, 7); // a small compression bomb for every real codec
    const packed = await compress(codec, input);
    if (codec !== 'none') assert.ok(packed.length < 300_000, `${codec} packed to ${packed.length}`);
    await assert.rejects(decompress(codec, packed, MiB), (e: unknown) => {
      assert.ok(e instanceof DecompressionLimitError, String(e));
      assert.equal(e.errorName, 'MESSAGE_TOO_LARGE');
      assert.equal(e.code, 10);
      assert.match(e.message, /1048576-byte decompression cap/);
      return true;
    });
    // Exactly at the cap is fine.
    const exact = await decompress(codec, packed, input.length);
    assert.equal(exact.length, input.length);
  });
}

for (const codec of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
  test(`${codec}: garbage input fails with CORRUPT_MESSAGE`, async () => {
    const garbage = Buffer.from('this is not compressed data at all, honestly');
    await assert.rejects(decompress(codec, garbage, MiB), (e: unknown) => e instanceof RecordsError && e.errorName === 'CORRUPT_MESSAGE');
  });
}

test('xerial snappy: a stream built by hand from the byte layout decodes', async () => {
  const part1 = Buffer.from('first chunk, ');
  const part2 = Buffer.from('second chunk');
  const b1 = snappy.compressSync(part1);
  const b2 = snappy.compressSync(part2);
  const header = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]);
  const len = (n: number) => Buffer.from([n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
  const framed = Buffer.concat([header, len(b1.length), b1, len(b2.length), b2]);
  assert.ok(isXerialSnappy(framed));
  assert.equal((await decompress('snappy', framed, 100)).toString(), 'first chunk, second chunk');
  await assert.rejects(decompress('snappy', framed, 20), DecompressionLimitError);
});

test('xerial snappy: our encoder writes the Java layout with 32 KiB blocks', async () => {
  const input = randomBytes(70_000);
  const framed = await encodeXerialSnappy(input);
  assert.ok(framed.subarray(0, 8).equals(XERIAL_MAGIC));
  assert.equal(framed.readInt32BE(8), 1);
  assert.equal(framed.readInt32BE(12), 1);
  const first = framed.readInt32BE(16);
  assert.equal(snappyDeclaredLength(framed.subarray(20, 20 + first)), 32 * 1024);
  assert.ok((await decompress('snappy', framed, MiB)).equals(input));
});

test('snappy: raw blocks (librdkafka style) are accepted, and raw output can be requested', async () => {
  const input = Buffer.from('raw snappy block '.repeat(100));
  const raw = snappy.compressSync(input);
  assert.equal(isXerialSnappy(raw), false);
  assert.ok((await decompress('snappy', raw, MiB)).equals(input));
  const ours = await compress('snappy', input, { snappyFraming: 'raw' });
  assert.equal(isXerialSnappy(ours), false);
  assert.ok((await decompress('snappy', ours, MiB)).equals(input));
  await assert.rejects(decompress('snappy', raw, 100), /declares 1700 bytes/);
});

test('xerial snappy: a chunk length past the end is CORRUPT_MESSAGE', async () => {
  const framed = await encodeXerialSnappy(Buffer.from('some data to frame'));
  const cut = framed.subarray(0, framed.length - 3);
  await assert.rejects(decompress('snappy', cut, MiB), /chunk at byte 16 declares \d+ bytes but \d+ remain/);
});

test('lz4: frames from the library are accepted and their structure bounds the output', async () => {
  const input = Buffer.from('lz4 '.repeat(50_000));
  const frame = await lz4.compressFrame(input);
  const bound = lz4FrameBound(frame);
  assert.ok(bound.bound >= input.length);
  assert.ok(bound.bound < input.length + bound.maxBlockSize);
  assert.ok((await decompress('lz4', frame, MiB)).equals(input));
});

test('lz4: a declared content size over the cap is refused before inflating', async () => {
  // A frame descriptor claiming 1 GiB of content, followed by a valid empty frame body.
  const frame = Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x68, 0x40, 0, 0, 0, 0x40, 0, 0, 0, 0, 0x00, 0, 0, 0, 0]);
  await assert.rejects(decompress('lz4', frame, MiB), /frames declare 1073741824 bytes/);
});

test('lz4: structural problems are CORRUPT_MESSAGE', () => {
  assert.throws(() => lz4FrameBound(Buffer.from([1, 2, 3, 4, 5])), /magic 0x4030201/);
  assert.throws(() => lz4FrameBound(Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82])), /without an end mark/);
  assert.throws(() => lz4FrameBound(Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x60, 0x10, 0x82, 0, 0, 0, 0])), /block size code 1/);
});

test('gzip: streams from other writers (zlib default level) decode', async () => {
  const input = Buffer.from('gzip from elsewhere');
  assert.ok((await decompress('gzip', gzipSync(input, { level: 9 }), MiB)).equals(input));
});

test('decompress refuses an unknown codec and a bad cap', async () => {
  await assert.rejects(decompress(5, Buffer.alloc(1), 10), /unknown compression type 5/);
  await assert.rejects(decompress('gzip', Buffer.alloc(1), -1), RangeError);
});

/** A zstd frame written by the streaming API, which (like zstd-jni's ZstdOutputStream in the
 * Java client) does not declare the content size, so decompression must stream under the cap. */
async function zstdStreamFrame(input: Buffer): Promise<Buffer> {
  const { CompressStream } = createRequire(import.meta.url)('zstd-napi') as { CompressStream: new () => NodeJS.ReadWriteStream };
  const s = new CompressStream();
  const chunks: Buffer[] = [];
  s.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise((resolve, reject) => {
    s.on('end', resolve);
    s.on('error', reject);
  });
  s.end(input);
  await done;
  return Buffer.concat(chunks);
}

test('zstd: frames without a declared size stream under the cap', async () => {
  const input = Buffer.from('zstd streaming '.repeat(100_000)); // 1.5 MB
  const frame = await zstdStreamFrame(input);
  assert.ok((await decompress('zstd', frame, 2 * MiB)).equals(input));
  await assert.rejects(decompress('zstd', frame, MiB), (e: unknown) => e instanceof DecompressionLimitError && /more than 1048576 bytes so far/.test(e.message));
  const two = Buffer.concat([frame, await zstdStreamFrame(Buffer.from('tail'))]);
  assert.equal((await decompress('zstd', two, 2 * MiB)).length, input.length + 4);
  await assert.rejects(decompress('zstd', frame.subarray(0, frame.length - 5), 2 * MiB), /zstd records do not decompress/);
});
