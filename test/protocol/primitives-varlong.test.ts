import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Reader, Writer } from '../../src/protocol/primitives.js';

function encodeVarlong(v: bigint): Buffer {
  const w = new Writer(16);
  w.varlong(v);
  return Buffer.from(w.finish());
}

const SAFE = BigInt(Number.MAX_SAFE_INTEGER); // 2^53 - 1

test('varlongNumber gives numbers up to ±(2^53 - 1) and bigints beyond', () => {
  const cases: Array<[bigint, 'number' | 'bigint']> = [
    [0n, 'number'],
    [1n, 'number'],
    [-1n, 'number'],
    [63n, 'number'],
    [-64n, 'number'],
    [(1n << 27n) - 1n, 'number'],
    [1n << 27n, 'number'],
    [-(1n << 27n) - 1n, 'number'],
    [1_700_000_000_000n, 'number'],
    [SAFE - 1n, 'number'],
    [SAFE, 'number'],
    [-SAFE, 'number'],
    [SAFE + 1n, 'bigint'],
    [-SAFE - 1n, 'bigint'],
    [SAFE + 2n, 'bigint'],
    [-SAFE - 2n, 'bigint'],
    [1n << 55n, 'bigint'],
    [(1n << 63n) - 1n, 'bigint'],
    [-(1n << 63n), 'bigint'],
  ];
  for (const [v, kind] of cases) {
    const bytes = encodeVarlong(v);
    const padded = Buffer.concat([bytes, Buffer.from([0x2a])]);
    const r = new Reader(padded);
    const got = r.varlongNumber();
    assert.equal(typeof got, kind, `${v}`);
    assert.equal(BigInt(got), v, `${v}`);
    assert.equal(r.error, null);
    assert.equal(r.offset, bytes.length, `${v} consumed ${r.offset} of ${bytes.length} bytes`);
    assert.equal(r.uint8(), 0x2a);
  }
});

test('varlongNumber agrees with varlong on every int64', () => {
  fc.assert(
    fc.property(fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }), (v) => {
      const bytes = encodeVarlong(v);
      const r = new Reader(bytes);
      const got = r.varlongNumber();
      assert.equal(BigInt(got), v);
      assert.equal(typeof got === 'number', v >= -SAFE && v <= SAFE);
      assert.equal(r.offset, bytes.length);
    }),
    { numRuns: 2000 },
  );
});

test('varlongNumber fails like varlong on truncated, overlong and arbitrary bytes', () => {
  const cases = [
    Buffer.from([]),
    Buffer.from([0x80]),
    Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
    Buffer.alloc(11, 0x80),
  ];
  for (const bytes of cases) {
    const a = new Reader(bytes);
    const b = new Reader(bytes);
    assert.equal(a.varlongNumber(), 0);
    b.varlong();
    assert.notEqual(a.error, null);
    assert.equal(a.error, b.error);
    assert.equal(a.offset, b.offset);
  }
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 12 }), fc.nat({ max: 12 }), (arr, cut) => {
      const buf = Buffer.from(arr);
      const a = new Reader(buf, 0, Math.min(cut, buf.length));
      const b = new Reader(buf, 0, Math.min(cut, buf.length));
      const got = a.varlongNumber();
      const want = b.varlong();
      assert.equal(a.error, b.error);
      assert.equal(a.offset, b.offset);
      assert.equal(BigInt(got), want);
    }),
    { numRuns: 3000 },
  );
});

test('varlongNumber leaves a sticky error alone', () => {
  const r = new Reader(Buffer.from([0x02, 0x02]));
  r.fail('earlier problem');
  assert.equal(r.varlongNumber(), 0);
  assert.match(r.error ?? '', /^earlier problem/);
});
