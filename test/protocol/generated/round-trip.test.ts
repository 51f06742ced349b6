// Round-trips every message at every valid version (Kafka's MessageTest idea), with values built
// from protocol-spec/ so every field present at that version holds a non-default value.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Reader } from '../../../src/protocol/primitives.js';
import { assertRoundTrip, encode } from './codec-harness.js';
import { isFlexible, loadMessages, sampleMessage, versionsOf } from './spec-walk.js';

const messages = await loadMessages();

test('every spec in protocol-spec/ has a generated descriptor', () => {
  assert.ok(messages.length > 150, `only ${messages.length} specs found`);
  for (const m of messages) assert.equal(m.descriptor?.name, m.spec.name);
});

for (const m of messages) {
  test(`${m.spec.name} round-trips at every version`, () => {
    for (const version of versionsOf(m.spec)) {
      const full = sampleMessage(m, version, version * 7919 + 1, { nulls: false, unknownTags: true });
      assertRoundTrip(m.descriptor, full, version);
      const nulls = sampleMessage(m, version, version * 104729 + 3, { nulls: true, unknownTags: false });
      assertRoundTrip(m.descriptor, nulls, version);
      assertRoundTrip(m.descriptor, m.descriptor.create(), version);
      if (isFlexible(m.spec, version)) {
        // Unknown tagged fields survive: the sample carries two at the top level.
        const r = new Reader(encode(m.descriptor, full, version));
        const decoded = m.descriptor.decode(r, version) as { unknownTaggedFields?: { tag: number }[] };
        assert.equal(decoded.unknownTaggedFields?.length, 2, `${m.spec.name} v${version}: unknown tags dropped`);
      }
    }
  });
}
