import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writer } from '../../../src/protocol/primitives.js';
import { BatchHeader } from '../../../src/protocol/records/batch.js';
import { buildBatch, buildBatchSync } from '../../../src/protocol/records/build.js';
import { RecordsError } from '../../../src/protocol/records/errors.js';
import {
  batchRecordsData,
  decodeRecords,
  iterateRecords,
  readBatchRecords,
  writeRecord,
} from '../../../src/protocol/records/records.js';

const CAP = 1 << 20;

function recordsOf(b: Buffer) {
  const h = new BatchHeader(b);
  return decodeRecords(h.recordsData(), h.recordCount);
}

test('records with headers, a null key, a null value and a null header value round-trip', () => {
  const batch = buildBatchSync({
    records: [
      { key: 'a', value: 'one', headers: [{ key: 'h1', value: 'x' }, { key: 'h2', value: null }], timestamp: 100 },
      { key: null, value: 'two', timestamp: 90 },
      { key: 'c', value: null, timestamp: 130 },
      { key: '', value: '', headers: [{ key: '', value: '' }], timestamp: 100 },
    ],
  });
  const recs = recordsOf(batch);
  assert.equal(recs.length, 4);
  assert.deepEqual(recs.map((r) => r.offsetDelta), [0, 1, 2, 3]);
  assert.deepEqual(recs.map((r) => r.timestampDelta), [0n, -10n, 30n, 0n]);
  assert.equal(recs[0].key?.toString(), 'a');
  assert.deepEqual(recs[0].headers.map((h) => [h.key, h.value === null ? null : h.value.toString()]), [['h1', 'x'], ['h2', null]]);
  assert.equal(recs[1].key, null);
  assert.equal(recs[2].value, null);
  assert.equal(recs[3].key?.length, 0);
  assert.equal(recs[3].headers[0].value?.length, 0);
  assert.equal(new BatchHeader(batch).maxTimestamp, 130n);
});

test('iterateRecords is lazy and stops at the first bad record', () => {
  const batch = buildBatchSync({ records: [{ value: 'ok' }, { value: 'also ok' }] });
  const h = new BatchHeader(batch);
  const data = Buffer.from(h.recordsData());
  data[data.length - 1] = 10; // zig-zag 5: the second record's header count now claims more than is there
  const it = iterateRecords(data, 2);
  assert.equal(it.next().value?.value?.toString(), 'ok');
  assert.throws(() => it.next(), (e: unknown) => e instanceof RecordsError && e.errorName === 'INVALID_RECORD' && /record 1 of 2: header count 5/.test(e.message));
});

function encode(fn: (w: Writer) => void): Buffer {
  const w = new Writer();
  fn(w);
  return Buffer.from(w.finish());
}

test('malformed records fail with INVALID_RECORD naming the record and field', () => {
  const cases: Array<[string, Buffer, number, RegExp]> = [
    ['count larger than the bytes allow', Buffer.alloc(10), 2, /claims 2 records but its 10 record bytes/],
    ['negative count', Buffer.alloc(10), -1, /negative record count/],
    ['negative length', encode((w) => { w.varint(-5); w.raw(Buffer.alloc(8)); }), 1, /record 0 of 1: length -5/],
    ['length past the end', encode((w) => { w.varint(100); w.raw(Buffer.alloc(8)); }), 1, /length 100 does not fit/],
    [
      'key longer than the record',
      encode((w) => { w.varint(7); w.int8(0); w.varlong(0n); w.varint(0); w.varint(50); w.raw(Buffer.alloc(3)); }),
      1,
      /key length 50 exceeds/,
    ],
    [
      'negative key length',
      encode((w) => { w.varint(7); w.int8(0); w.varlong(0n); w.varint(0); w.varint(-3); w.raw(Buffer.alloc(3)); }),
      1,
      /negative key length -3/,
    ],
    [
      'null header key',
      encode((w) => { w.varint(8); w.int8(0); w.varlong(0n); w.varint(0); w.varint(-1); w.varint(-1); w.varint(1); w.varint(-1); w.varint(-1); }),
      1,
      /header 0 has a null key/,
    ],
    [
      'declared length longer than the fields',
      encode((w) => { w.varint(8); w.int8(0); w.varlong(0n); w.varint(0); w.varint(-1); w.varint(-1); w.varint(0); w.int8(0); w.int8(0); }),
      1,
      /declared 8 bytes but its fields take 6/,
    ],
    [
      'bytes left after the last record',
      encode((w) => { w.varint(6); w.int8(0); w.varlong(0n); w.varint(0); w.varint(-1); w.varint(-1); w.varint(0); w.raw(Buffer.alloc(7)); }),
      1,
      /7 bytes left after the batch's 1 records/,
    ],
    [
      'declared length shorter than the fixed fields',
      encode((w) => { w.varint(1); w.int8(0); w.varlong(0n); w.varint(0); w.varint(-1); w.varint(-1); w.varint(0); }),
      1,
      /declared length 1 is too short/,
    ],
    [
      'value running past the declared length',
      encode((w) => { w.varint(4); w.int8(0); w.varlong(0n); w.varint(0); w.varint(-1); w.varint(2); w.raw(Buffer.alloc(3)); }),
      1,
      /value length runs past the record's declared length/,
    ],
    ['truncated varint', Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80]), 1, /record 0 of 1: length/],
  ];
  for (const [name, data, count, pattern] of cases) {
    assert.throws(
      () => decodeRecords(data, count),
      (e: unknown) => e instanceof RecordsError && e.errorName === 'INVALID_RECORD' && e.code === 87 && pattern.test(e.message),
      name,
    );
  }
});

test('writeRecord reuses its scratch writer across records', () => {
  const out = new Writer(8);
  const scratch = new Writer(8);
  writeRecord(out, scratch, { key: 'k'.repeat(300), value: 'v' }, 0, 0n);
  writeRecord(out, scratch, { key: null, value: 'w' }, 1, 5n);
  const recs = decodeRecords(Buffer.from(out.finish()), 2);
  assert.equal(recs[0].key?.length, 300);
  assert.equal(recs[1].value?.toString(), 'w');
  assert.equal(recs[1].timestampDelta, 5n);
});

test('readBatchRecords applies base offset and timestamp, and decompresses', async () => {
  const batch = await buildBatch({
    records: [{ value: 'a', timestamp: 1000 }, { value: 'b', timestamp: 1003 }],
    baseOffset: 500n,
    compression: 'gzip',
  });
  const recs = await readBatchRecords(batch, { maxUncompressedBytes: CAP });
  assert.deepEqual(recs.map((r) => [r.offset, r.timestamp, r.value?.toString()]), [
    [500n, 1000n, 'a'],
    [501n, 1003n, 'b'],
  ]);
});

test('batchRecordsData is a view for uncompressed batches and honours the cap for compressed ones', async () => {
  const plain = buildBatchSync({ records: [{ value: 'x'.repeat(100) }] });
  const data = await batchRecordsData(plain, { maxUncompressedBytes: CAP });
  assert.equal(data.buffer, plain.buffer);
  const big = await buildBatch({ records: [{ value: Buffer.alloc(100_000) }], compression: 'gzip' });
  await assert.rejects(batchRecordsData(big, { maxUncompressedBytes: 10_000 }), { name: 'DecompressionLimitError', errorName: 'MESSAGE_TOO_LARGE' });
});

test('readBatchRecords refuses an unknown codec', async () => {
  const b = buildBatchSync({ records: [{ value: 'x' }] });
  b.writeInt16BE(6, 21);
  await assert.rejects(readBatchRecords(b, { maxUncompressedBytes: CAP }), /unknown compression type id 6/);
});

test('timestamp deltas near ±2^53 and beyond decode exactly', async () => {
  const safe = BigInt(Number.MAX_SAFE_INTEGER); // 2^53 - 1
  const deltas = [0n, 4095n, 4096n, -1n, safe - 1n, safe, safe + 1n, safe + 2n, -safe, -safe - 1n, -safe - 2n, (1n << 62n) + 3n, -(1n << 62n)];
  const batch = buildBatchSync({
    records: deltas.map((d) => ({ value: 'v', timestamp: d })),
    baseTimestamp: 0n,
    baseOffset: 10n,
  });
  assert.deepEqual(recordsOf(batch).map((r) => r.timestampDelta), deltas);
  const recs = await readBatchRecords(batch, { maxUncompressedBytes: CAP });
  assert.deepEqual(recs.map((r) => r.timestampDelta), deltas);
  assert.deepEqual(recs.map((r) => r.timestamp), deltas);
  assert.deepEqual(recs.map((r) => r.offset), deltas.map((_, i) => 10n + BigInt(i)));
  assert.ok(recs.every((r) => typeof r.timestampDelta === 'bigint' && typeof r.timestamp === 'bigint'));

  // A base timestamp near the safe limit: the sums cross 2^53 and must not round.
  const base = safe - 2n;
  const near = buildBatchSync({
    records: [0n, 1n, 2n, 3n, 5n, -1n].map((d) => ({ value: 'v', timestamp: base + d })),
    baseTimestamp: base,
    baseOffset: (1n << 62n) - 1n,
  });
  const nearRecs = await readBatchRecords(near, { maxUncompressedBytes: CAP });
  assert.deepEqual(nearRecs.map((r) => r.timestamp), [0n, 1n, 2n, 3n, 5n, -1n].map((d) => base + d));
  assert.deepEqual(nearRecs.map((r) => r.offset - ((1n << 62n) - 1n)), [0n, 1n, 2n, 3n, 4n, 5n]);
});

test('int64-extreme timestamp deltas written by hand decode like the bigint reader', () => {
  const extremes = [(1n << 63n) - 1n, -(1n << 63n)];
  const out = new Writer(64);
  const scratch = new Writer(64);
  extremes.forEach((d, i) => writeRecord(out, scratch, { value: 'x' }, i, d));
  assert.deepEqual(decodeRecords(Buffer.from(out.finish()), 2).map((r) => r.timestampDelta), extremes);
});

test('header keys that differ between records at the same position are not mixed up', async () => {
  const batch = buildBatchSync({
    records: [
      { value: 'a', headers: [{ key: 'ab', value: '1' }, { key: 'trace', value: null }] },
      { value: 'b', headers: [{ key: 'ba', value: '2' }, { key: 'trace', value: 'x' }] },
      { value: 'c', headers: [{ key: 'ba', value: '3' }] },
      { value: 'd', headers: [{ key: 'abc', value: '4' }, { key: 'tracf', value: null }, { key: 'é', value: null }] },
      { value: 'e', headers: [] },
      { value: 'f', headers: [{ key: '', value: '5' }, { key: 'tracf', value: null }, { key: 'é', value: null }] },
    ],
  });
  const recs = await readBatchRecords(batch, { maxUncompressedBytes: CAP });
  assert.deepEqual(recs.map((r) => r.headers.map((h) => h.key)), [
    ['ab', 'trace'],
    ['ba', 'trace'],
    ['ba'],
    ['abc', 'tracf', 'é'],
    [],
    ['', 'tracf', 'é'],
  ]);
  assert.deepEqual(recs.map((r) => r.headers[0]?.value?.toString()), ['1', '2', '3', '4', undefined, '5']);
});
