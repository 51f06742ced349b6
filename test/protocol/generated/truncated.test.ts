// Decoding a truncated or corrupted frame must set r.error and return, never throw or spin.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Reader } from '../../../src/protocol/primitives.js';
import { encode } from './codec-harness.js';
import { loadMessages, Rng, sampleMessage, versionsOf } from './spec-walk.js';

const messages = await loadMessages();

function cutPoints(length: number): number[] {
  if (length <= 80) return Array.from({ length }, (_, i) => i);
  const out = new Set<number>();
  for (let i = 0; i < 40; i++) out.add(i);
  for (let i = 0; i < 40; i++) out.add(Math.floor((length * i) / 40));
  for (let i = 1; i <= 20; i++) out.add(length - i);
  return [...out].filter((n) => n >= 0 && n < length).sort((a, b) => a - b);
}

test('every message at every version: truncated encodings set r.error', { timeout: 60_000 }, () => {
  let checked = 0;
  for (const m of messages) {
    for (const version of versionsOf(m.spec)) {
      const value = sampleMessage(m, version, version + 11, { nulls: false, unknownTags: true });
      const bytes = encode(m.descriptor, value, version);
      for (const cut of cutPoints(bytes.length)) {
        const r = new Reader(bytes.subarray(0, cut));
        assert.doesNotThrow(() => m.descriptor.decode(r, version), `${m.spec.name} v${version} cut at ${cut}`);
        assert.notEqual(r.error, null, `${m.spec.name} v${version} cut at ${cut} of ${bytes.length}: no error`);
        checked++;
      }
    }
  }
  assert.ok(checked > 1000);
});

test('every message at every version: corrupted bytes never throw', { timeout: 60_000 }, () => {
  const rng = new Rng(99);
  for (const m of messages) {
    for (const version of versionsOf(m.spec)) {
      const bytes = Buffer.from(encode(m.descriptor, sampleMessage(m, version, version, { nulls: false, unknownTags: true }), version));
      for (let k = 0; k < 8 && bytes.length > 0; k++) {
        const copy = Buffer.from(bytes);
        // Length prefixes set to huge or negative values are the dangerous cases.
        copy[rng.int(0, copy.length - 1)] = [0xff, 0x7f, 0x80, 0x00][rng.int(0, 3)];
        const r = new Reader(copy);
        assert.doesNotThrow(() => m.descriptor.decode(r, version), `${m.spec.name} v${version}`);
      }
    }
  }
});
