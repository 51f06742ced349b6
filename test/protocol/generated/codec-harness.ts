// Test helper: encode/decode one value and check the round trip.

import assert from 'node:assert/strict';
import { Reader, Writer } from '../../../src/protocol/primitives.js';
import type { MessageDescriptor } from '../../../src/protocol/generated/index.js';

export function encode(d: MessageDescriptor<unknown>, value: unknown, version: number): Buffer {
  const w = new Writer(16);
  d.encode(w, value, version);
  return Buffer.from(w.finish());
}

/** Encodes, decodes, compares, and checks that re-encoding gives the same bytes. */
export function assertRoundTrip(d: MessageDescriptor<unknown>, value: unknown, version: number): Buffer {
  const where = `${d.name} v${version}`;
  const bytes = encode(d, value, version);
  const r = new Reader(bytes);
  const decoded = d.decode(r, version);
  assert.equal(r.error, null, `${where}: decode error`);
  assert.equal(r.offset, bytes.length, `${where}: decode left ${bytes.length - r.offset} bytes`);
  assert.deepStrictEqual(decoded, value, `${where}: decoded value differs`);
  assert.ok(encode(d, decoded, version).equals(bytes), `${where}: re-encoding changed the bytes`);
  return bytes;
}
