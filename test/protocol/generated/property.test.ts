// Property tests: random values for every field present at a version (per spec type) survive
// encode -> decode -> encode unchanged.

import { test } from 'node:test';
import fc from 'fast-check';
import { assertRoundTrip } from './codec-harness.js';
import { loadMessages, messageArb, versionsOf, type Message } from './spec-walk.js';

const messages = await loadMessages();

const REPRESENTATIVE = new Set([
  'ProduceRequest',
  'ProduceResponse',
  'FetchRequest',
  'FetchResponse',
  'MetadataRequest',
  'MetadataResponse',
  'ApiVersionsRequest',
  'ApiVersionsResponse',
  'JoinGroupRequest',
  'JoinGroupResponse',
  'RequestHeader',
  'ResponseHeader',
  'ConsumerProtocolSubscription',
  'ConsumerProtocolAssignment',
]);

function checkAll(m: Message, numRuns: number): void {
  for (const version of versionsOf(m.spec)) {
    fc.assert(
      fc.property(messageArb(m, version), (value) => {
        assertRoundTrip(m.descriptor, value, version);
      }),
      { numRuns, seed: 42 + version },
    );
  }
}

for (const m of messages.filter((m) => REPRESENTATIVE.has(m.spec.name))) {
  test(`${m.spec.name}: random values round-trip at every version`, () => checkAll(m, 60));
}

test('every message: a few random values round-trip at every version', () => {
  for (const m of messages) checkAll(m, 3);
});
