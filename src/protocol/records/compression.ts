// Compression codecs of record batches: none, gzip, snappy, lz4, zstd.
//
// Only features that need the records decompress (DESIGN.md); the produce path never does.
// Every decompression takes an output cap and fails with DecompressionLimitError past it, and
// each codec checks the cap before it materializes an unbounded buffer, as far as its library
// lets it:
//   gzip   zlib's maxOutputLength stops inflating at cap + 1 bytes: exact, no overshoot.
//   snappy every raw block starts with its uncompressed length (a varint); all of them are
//          summed and checked before any block is inflated: exact, no overshoot.
//   lz4    lz4-napi has no output limit, so the frame is walked first (the library is not
//          trusted with it): a declared content size over the cap fails at once, and each block
//          inflates to at most the frame's maximum block size (64 KiB..4 MiB), so blocks x max
//          bounds the output. Encoders fill every block but the last, so a frame whose bound is
//          at least cap + one block cannot fit and is refused unread; otherwise it is inflated
//          and measured: the worst overshoot allocated is one maximum block (4 MiB).
//   zstd   declared frame content sizes are summed and checked first; frames without one are
//          inflated by the streaming API into chunks and stopped as soon as the total passes the
//          cap: overshoot at most one chunk (128 KiB). The decoder's window memory stays under
//          zstd's default windowLogMax (27, i.e. 128 MiB).
//
// Threads: zlib, snappy and lz4 work off the event loop (libuv pool); zstd-napi's one-shot API
// is synchronous, so zstd runs on the calling thread.
// Formats accepted: gzip (one or more members); snappy framed by xerial (the Java client) or a
// raw block (librdkafka); lz4 standard frames with any optional fields (content size, block and
// content checksums, dictionary id, skippable frames), which is what the Java client, librdkafka
// and kafkajs's lz4 plug-ins write for magic 2 (kafkajs itself ships only gzip); zstd frames with
// or without a declared content size (zstd-jni's stream in the Java client declares none).

import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { createRequire } from 'node:module';
import * as snappy from 'snappy';
import * as lz4 from 'lz4-napi';
import { CompressionType, compressionName, type CompressionName } from './batch.js';
import { DecompressionLimitError, RecordsError } from './errors.js';

export type { CompressionName } from './batch.js';

const gzipAsync = promisify(zlib.gzip);
const gunzipAsync = promisify(zlib.gunzip);

/** A codec given by name or by its attributes code. */
export type Codec = CompressionName | number;

function codecName(codec: Codec): CompressionName {
  const name = typeof codec === 'number' ? compressionName(codec) : codec;
  if (name === undefined || !(name in CompressionType)) {
    throw new RecordsError('INVALID_RECORD', `unknown compression type ${String(codec)}`);
  }
  return name;
}

function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

function corrupt(codec: string, cause: unknown): RecordsError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new RecordsError('CORRUPT_MESSAGE', `${codec} records do not decompress: ${why}`);
}

export interface CompressOptions {
  /** Snappy framing to write: 'xerial' (default, what the Java client writes) or 'raw'. */
  snappyFraming?: 'xerial' | 'raw';
}

/** Compresses record bytes with `codec`. 'none' returns the input. */
export async function compress(codec: Codec, data: Uint8Array, opts: CompressOptions = {}): Promise<Buffer> {
  const input = asBuffer(data);
  switch (codecName(codec)) {
    case 'none':
      return input;
    case 'gzip':
      return gzipAsync(input);
    case 'snappy':
      return opts.snappyFraming === 'raw' ? snappy.compress(input) : encodeXerialSnappy(input);
    case 'lz4':
      return lz4.compressFrame(input);
    case 'zstd':
      return zstd().compress(input);
  }
}

/**
 * Decompresses record bytes, failing with DecompressionLimitError when the output would exceed
 * `maxBytes`, and with RecordsError(CORRUPT_MESSAGE) when the input is not valid for the codec.
 */
export async function decompress(codec: Codec, data: Uint8Array, maxBytes: number): Promise<Buffer> {
  if (!(maxBytes >= 0)) throw new RangeError(`decompression cap must be a non-negative number, got ${maxBytes}`);
  const input = asBuffer(data);
  const name = codecName(codec);
  switch (name) {
    case 'none':
      if (input.length > maxBytes) throw new DecompressionLimitError(name, maxBytes, `${input.length} bytes`);
      return input;
    case 'gzip':
      return gunzipCapped(input, maxBytes);
    case 'snappy':
      return isXerialSnappy(input) ? decodeXerialSnappy(input, maxBytes) : decodeRawSnappy(input, maxBytes);
    case 'lz4':
      return decodeLz4Frames(input, maxBytes);
    case 'zstd':
      return decodeZstd(input, maxBytes);
  }
}

// ---------------------------------------------------------------------------------------------
// gzip

async function gunzipCapped(input: Buffer, maxBytes: number): Promise<Buffer> {
  try {
    // maxOutputLength must be >= 1; one byte of slack still detects an empty-cap overflow below.
    const out = await gunzipAsync(input, { maxOutputLength: Math.max(1, Math.min(maxBytes, BUFFER_MAX)) });
    if (out.length > maxBytes) throw new DecompressionLimitError('gzip', maxBytes, `at least ${out.length} bytes`);
    return out;
  } catch (err) {
    if (err instanceof RecordsError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new DecompressionLimitError('gzip', maxBytes, 'zlib stopped at the limit');
    }
    throw corrupt('gzip', err);
  }
}

const BUFFER_MAX = 2 ** 31 - 1;

// ---------------------------------------------------------------------------------------------
// snappy: raw blocks, and the xerial framing of snappy-java that the Java client writes:
//   magic 0x82 'S' 'N' 'A' 'P' 'P' 'Y' 0x00, version int32 BE (1), compatible version int32 BE (1),
//   then chunks of int32 BE compressed length + one raw snappy block.

export const XERIAL_MAGIC: Buffer = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
export const XERIAL_HEADER_SIZE = 16;
export const XERIAL_VERSION = 1;
export const XERIAL_COMPATIBLE_VERSION = 1;
/** snappy-java's default block size, used by the Java producer. */
export const XERIAL_BLOCK_SIZE = 32 * 1024;

export function isXerialSnappy(data: Uint8Array): boolean {
  const b = asBuffer(data);
  return b.length >= XERIAL_HEADER_SIZE && XERIAL_MAGIC.compare(b, 0, XERIAL_MAGIC.length) === 0;
}

/** Writes xerial-framed snappy, one raw block per `blockSize` input bytes. */
export async function encodeXerialSnappy(data: Uint8Array, blockSize = XERIAL_BLOCK_SIZE): Promise<Buffer> {
  const input = asBuffer(data);
  const parts: Buffer[] = [];
  const header = Buffer.alloc(XERIAL_HEADER_SIZE);
  XERIAL_MAGIC.copy(header, 0);
  header.writeInt32BE(XERIAL_VERSION, 8);
  header.writeInt32BE(XERIAL_COMPATIBLE_VERSION, 12);
  parts.push(header);
  for (let pos = 0; pos < input.length; pos += blockSize) {
    const block = await snappy.compress(input.subarray(pos, pos + blockSize));
    const len = Buffer.allocUnsafe(4);
    len.writeInt32BE(block.length, 0);
    parts.push(len, block);
  }
  return Buffer.concat(parts);
}

/** The uncompressed length a raw snappy block declares in its varint preamble. */
export function snappyDeclaredLength(block: Buffer): number {
  let result = 0;
  for (let i = 0; i < 5 && i < block.length; i++) {
    const b = block[i];
    result += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) return result;
  }
  throw new RecordsError('CORRUPT_MESSAGE', 'snappy block has no valid length preamble');
}

async function snappyBlock(block: Buffer, expected: number): Promise<Buffer> {
  let out: Buffer;
  try {
    out = (await snappy.uncompress(block, { asBuffer: true })) as Buffer;
  } catch (err) {
    throw corrupt('snappy', err);
  }
  if (out.length !== expected) {
    throw new RecordsError('CORRUPT_MESSAGE', `snappy block inflated to ${out.length} bytes, not the ${expected} it declares`);
  }
  return out;
}

async function decodeRawSnappy(input: Buffer, maxBytes: number): Promise<Buffer> {
  const declared = snappyDeclaredLength(input);
  if (declared > maxBytes) throw new DecompressionLimitError('snappy', maxBytes, `block declares ${declared} bytes`);
  return snappyBlock(input, declared);
}

/**
 * Reads xerial-framed snappy. All chunk boundaries and declared sizes are checked before any
 * block is inflated; blocks are inflated one at a time off the event loop.
 */
export async function decodeXerialSnappy(input: Buffer, maxBytes: number): Promise<Buffer> {
  const blocks: Buffer[] = [];
  const sizes: number[] = [];
  let total = 0;
  let pos = XERIAL_HEADER_SIZE;
  while (pos < input.length) {
    if (input.length - pos < 4) {
      throw new RecordsError('CORRUPT_MESSAGE', `xerial snappy stream ends inside a chunk length at byte ${pos}`);
    }
    const len = input.readInt32BE(pos);
    pos += 4;
    if (len < 0 || len > input.length - pos) {
      throw new RecordsError(
        'CORRUPT_MESSAGE',
        `xerial snappy chunk at byte ${pos - 4} declares ${len} bytes but ${input.length - pos} remain`,
      );
    }
    const block = input.subarray(pos, pos + len);
    pos += len;
    if (len === 0) continue;
    const size = snappyDeclaredLength(block);
    total += size;
    if (total > maxBytes) throw new DecompressionLimitError('snappy', maxBytes, `chunks declare at least ${total} bytes`);
    blocks.push(block);
    sizes.push(size);
  }
  const out: Buffer[] = [];
  for (let i = 0; i < blocks.length; i++) out.push(await snappyBlock(blocks[i], sizes[i]));
  return out.length === 1 ? out[0] : Buffer.concat(out, total);
}

// ---------------------------------------------------------------------------------------------
// lz4 frame format (what the Java client, librdkafka and kafkajs-lz4 write for magic 2; the
// broken header checksum of early Kafka lz4 only ever affected magic 0/1 messages).

const LZ4_FRAME_MAGIC = 0x184d2204;
const LZ4_SKIPPABLE_MAGIC_MASK = 0xfffffff0;
const LZ4_SKIPPABLE_MAGIC = 0x184d2a50;
const LZ4_BLOCK_MAX_SIZES = [0, 0, 0, 0, 64 * 1024, 256 * 1024, 1024 * 1024, 4 * 1024 * 1024];

/** Upper bound on the output of the lz4 frames in `input`, from their structure alone. */
export interface Lz4FrameBound {
  /** Sum over blocks: exact for stored blocks, the frame's maximum block size for compressed ones. */
  bound: number;
  /** Largest maximum block size of any frame. */
  maxBlockSize: number;
  /** Sum of declared content sizes, when every frame declares one. */
  declared: number | null;
}

export function lz4FrameBound(input: Buffer): Lz4FrameBound {
  const bad = (why: string) => new RecordsError('CORRUPT_MESSAGE', `lz4 records are not a valid frame: ${why}`);
  let pos = 0;
  let bound = 0;
  let maxBlockSize = 0;
  let declared: number | null = 0;
  let frames = 0;
  while (pos < input.length) {
    if (input.length - pos < 4) throw bad(`${input.length - pos} stray bytes at byte ${pos}`);
    const magic = input.readUInt32LE(pos);
    if ((magic & LZ4_SKIPPABLE_MAGIC_MASK) >>> 0 === LZ4_SKIPPABLE_MAGIC) {
      if (input.length - pos < 8) throw bad('truncated skippable frame');
      pos += 8 + input.readUInt32LE(pos + 4);
      if (pos > input.length) throw bad('skippable frame runs past the end');
      continue;
    }
    if (magic !== LZ4_FRAME_MAGIC) throw bad(`magic 0x${magic.toString(16)} at byte ${pos}`);
    if (input.length - pos < 7) throw bad('truncated frame descriptor');
    const flg = input[pos + 4];
    const bd = input[pos + 5];
    if (flg >> 6 !== 1) throw bad(`frame version ${flg >> 6}`);
    const blockMax = LZ4_BLOCK_MAX_SIZES[(bd >> 4) & 7];
    if (blockMax === 0) throw bad(`block size code ${(bd >> 4) & 7}`);
    maxBlockSize = Math.max(maxBlockSize, blockMax);
    let p = pos + 6;
    if (flg & 0x08) {
      if (input.length - p < 8) throw bad('truncated content size');
      const size = Number(input.readBigUInt64LE(p));
      declared = declared === null ? null : declared + size;
      p += 8;
    } else {
      declared = null;
    }
    if (flg & 0x01) p += 4; // dictionary id
    p += 1; // header checksum, verified by the decoder
    const blockChecksum = (flg & 0x10) !== 0;
    for (;;) {
      if (input.length - p < 4) throw bad('frame ends without an end mark');
      const word = input.readUInt32LE(p);
      p += 4;
      if (word === 0) break;
      const stored = (word & 0x80000000) !== 0;
      const size = word & 0x7fffffff;
      if (size > blockMax) throw bad(`block of ${size} bytes exceeds the frame's ${blockMax}-byte maximum`);
      p += size + (blockChecksum ? 4 : 0);
      if (p > input.length) throw bad('block runs past the end');
      bound += stored ? size : blockMax;
    }
    if (flg & 0x04) p += 4; // content checksum
    if (p > input.length) throw bad('content checksum runs past the end');
    pos = p;
    frames++;
  }
  return { bound, maxBlockSize, declared: frames === 0 ? 0 : declared };
}

async function decodeLz4Frames(input: Buffer, maxBytes: number): Promise<Buffer> {
  const { bound, maxBlockSize, declared } = lz4FrameBound(input);
  if (declared !== null && declared > maxBytes) {
    throw new DecompressionLimitError('lz4', maxBytes, `frames declare ${declared} bytes`);
  }
  if (bound >= maxBytes + maxBlockSize && bound > maxBytes) {
    throw new DecompressionLimitError('lz4', maxBytes, `its blocks can inflate to ${bound} bytes`);
  }
  if (input.length === 0) return Buffer.alloc(0);
  let out: Buffer;
  try {
    out = await lz4.decompressFrame(input);
  } catch (err) {
    throw corrupt('lz4', err);
  }
  if (out.length > maxBytes) throw new DecompressionLimitError('lz4', maxBytes, `${out.length} bytes`);
  return out;
}

// ---------------------------------------------------------------------------------------------
// zstd, loaded on first use so that a missing native build breaks only zstd batches.

type ZstdBinding = typeof import('zstd-napi/binding.js');
interface Zstd {
  compress(data: Buffer): Buffer;
  binding: ZstdBinding;
}
let zstdModule: Zstd | undefined;

function zstd(): Zstd {
  if (zstdModule) return zstdModule;
  const require = createRequire(import.meta.url);
  try {
    const binding = require('zstd-napi/binding.js') as ZstdBinding;
    const simple = require('zstd-napi') as { compress(data: Uint8Array): Buffer };
    zstdModule = { binding, compress: (data) => simple.compress(data) };
    return zstdModule;
  } catch (err) {
    throw new Error(
      `zstd codec unavailable: the zstd-napi native module did not load (${(err as Error).message}); ` +
        'run `npm rebuild zstd-napi` (it needs a C compiler) and restart',
    );
  }
}

function decodeZstd(input: Buffer, maxBytes: number): Buffer {
  const { binding } = zstd();
  if (input.length === 0) throw new RecordsError('CORRUPT_MESSAGE', 'zstd records are empty: no frame to decompress');
  // Fast path: every frame declares its size, so the output is allocated exactly once.
  let declared: number | null = 0;
  try {
    for (let pos = 0; pos < input.length && declared !== null; ) {
      const frame = input.subarray(pos);
      const size = binding.getFrameContentSize(frame);
      declared = size === null ? null : declared + size;
      pos += binding.findFrameCompressedSize(frame);
    }
  } catch (err) {
    throw corrupt('zstd', err);
  }
  if (declared !== null && declared > maxBytes) {
    throw new DecompressionLimitError('zstd', maxBytes, `frames declare ${declared} bytes`);
  }
  const dctx = new binding.DCtx();
  try {
    if (declared !== null) {
      const out = Buffer.allocUnsafe(declared);
      const n = dctx.decompress(out, input);
      return out.subarray(0, n);
    }
    return zstdStream(binding, dctx, input, maxBytes);
  } catch (err) {
    if (err instanceof RecordsError) throw err;
    throw corrupt('zstd', err);
  }
}

function zstdStream(binding: ZstdBinding, dctx: InstanceType<ZstdBinding['DCtx']>, input: Buffer, maxBytes: number): Buffer {
  const chunkSize = binding.dStreamOutSize();
  const chunks: Buffer[] = [];
  let total = 0;
  let pos = 0;
  let pending = 0; // nonzero while a frame is unfinished
  while (pos < input.length || pending !== 0) {
    // Room for one byte past the cap, which is how an overflow is seen.
    const out = Buffer.allocUnsafe(Math.min(chunkSize, maxBytes - total + 1));
    const [ret, produced, consumed] = dctx.decompressStream(out, input.subarray(pos));
    pos += consumed;
    total += produced;
    pending = ret;
    if (produced > 0) chunks.push(out.subarray(0, produced));
    if (total > maxBytes) throw new DecompressionLimitError('zstd', maxBytes, `more than ${maxBytes} bytes so far`);
    if (produced === 0 && consumed === 0) {
      throw new RecordsError('CORRUPT_MESSAGE', 'zstd records do not decompress: the frame is truncated');
    }
  }
  return Buffer.concat(chunks, total);
}
