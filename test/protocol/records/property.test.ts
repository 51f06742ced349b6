import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BatchHeader, CRC_OFFSET, validateBatch } from '../../../src/protocol/records/batch.js';
import { buildBatch } from '../../../src/protocol/records/build.js';
import type { CompressionName } from '../../../src/protocol/records/compression.js';
import { readBatchRecords, type RecordInput } from '../../../src/protocol/records/records.js';

const CAP = 16 << 20;
const T0 = 1_700_000_000_000;

const bytes = fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a));
const recordArb: fc.Arbitrary<RecordInput> = fc.record({
  key: fc.option(bytes, { nil: null }),
  value: fc.option(bytes, { nil: null }),
  headers: fc.array(fc.record({ key: fc.string({ unit: 'grapheme', maxLength: 8 }), value: fc.option(bytes, { nil: null }) }), { maxLength: 3 }),
  timestamp: fc.integer({ min: T0 - 1_000_000, max: T0 + 1_000_000 }),
});
const codecArb = fc.constantFrom<CompressionName>('none', 'gzip', 'snappy', 'lz4', 'zstd');

function normalize(r: { key?: Uint8Array | string | null; value?: Uint8Array | string | null; headers?: ReadonlyArray<{ key: string; value: Uint8Array | string | null }> }) {
  const hex = (b: Uint8Array | string | null | undefined) => (b === null || b === undefined ? null : Buffer.from(b).toString('hex'));
  return { key: hex(r.key), value: hex(r.value), headers: (r.headers ?? []).map((h) => [h.key, hex(h.value)]) };
}

test('random records -> build -> iterate gives the records back', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(recordArb, { minLength: 1, maxLength: 20 }), codecArb, fc.bigInt({ min: 0n, max: 1n << 50n }), async (records, codec, baseOffset) => {
      const batch = await buildBatch({ records, compression: codec, baseOffset });
      assert.deepEqual(validateBatch(batch), { ok: true });
      const out = await readBatchRecords(batch, { maxUncompressedBytes: CAP });
      assert.deepEqual(out.map(normalize), records.map(normalize));
      assert.deepEqual(out.map((r) => r.timestamp), records.map((r) => BigInt(r.timestamp!)));
      assert.deepEqual(out.map((r) => r.offset), records.map((_, i) => baseOffset + BigInt(i)));
    }),
    { numRuns: 150 },
  );
});

test('random corruption is caught by validation, or leaves the records intact', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(recordArb, { minLength: 1, maxLength: 8 }),
      codecArb,
      fc.nat(),
      fc.integer({ min: 1, max: 255 }),
      async (records, codec, where, mask) => {
        const batch = await buildBatch({ records, compression: codec });
        const before = await readBatchRecords(batch, { maxUncompressedBytes: CAP });
        const pos = where % batch.length;
        const bad = Buffer.from(batch);
        bad[pos] ^= mask;
        const check = validateBatch(bad);
        // baseOffset (0..7) and partitionLeaderEpoch (12..15) are outside the CRC by design.
        const uncovered = pos < 8 || (pos >= 12 && pos < 16);
        if (!uncovered) {
          assert.equal(check.ok, false, `byte ${pos} ^ ${mask} passed validation`);
          if (!check.ok && pos >= CRC_OFFSET) assert.equal(check.error, 'CORRUPT_MESSAGE');
          return;
        }
        assert.deepEqual(check, { ok: true });
        const after = await readBatchRecords(bad, { maxUncompressedBytes: CAP });
        assert.deepEqual(after.map(normalize), before.map(normalize));
        assert.equal(new BatchHeader(bad).recordCount, records.length);
      },
    ),
    { numRuns: 300 },
  );
});

test('random multi-byte damage and truncation never pass validation', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(recordArb, { minLength: 1, maxLength: 8 }),
      codecArb,
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 2, maxLength: 6 }),
      fc.nat(),
      async (records, codec, flips, cut) => {
        const batch = await buildBatch({ records, compression: codec });
        const bad = Buffer.from(batch);
        for (const [where, mask] of flips) bad[16 + (where % (bad.length - 16))] ^= mask;
        if (!bad.equals(batch)) assert.equal(validateBatch(bad).ok, false);
        const truncated = batch.subarray(0, cut % batch.length);
        assert.equal(validateBatch(truncated).ok, false);
      },
    ),
    { numRuns: 200 },
  );
});
