// Message sets of magic 0 and 1 (the pre-0.11 "message format v0/v1"), sent by old clients.
//
// Decision: detect and refuse; never decode or up-convert. Kafka 4.0 removed both formats
// (KIP-724) and the Produce versions 0-2 that carried them (KIP-896), so a produce that reaches
// us is v3+, and for v3+ Kafka's ProduceRequest.validateRecords answers a batch whose magic is
// not 2 with INVALID_RECORD (87), message "Produce requests with version N are only allowed to
// contain record batches with magic version 2". We return the same code and text, plus the fix.
// (UNSUPPORTED_FOR_MESSAGE_FORMAT, 43, is what Kafka gave when a v2-only feature met a topic
// stored in an old format; StreamHouse stores only v2, so that case cannot arise.)
//
// Both legacy layouts put the magic byte where v2 does: offset int64, size int32, crc int32
// (CRC-32, not CRC-32C), then magic int8 at byte 16. That is what makes detection one read.

import { fault, type RecordsFault } from './errors.js';

/** Position of the magic byte in v0, v1 and v2 entries alike. */
const MAGIC_AT = 16;

export type MessageFormat = 0 | 1 | 2;

/**
 * The magic of the entry starting at `start`, or undefined when the bytes are too short or the
 * value is not a known format.
 */
export function messageFormatOf(buf: Buffer, start = 0): MessageFormat | undefined {
  if (buf.length - start <= MAGIC_AT) return undefined;
  const magic = buf.readInt8(start + MAGIC_AT);
  return magic === 0 || magic === 1 || magic === 2 ? magic : undefined;
}

export function isLegacyMessageSet(buf: Buffer, start = 0): boolean {
  const f = messageFormatOf(buf, start);
  return f === 0 || f === 1;
}

/** The refusal for a magic 0/1 entry, as Kafka 4 gives it. */
export function legacyMessageFault(magic: number, produceVersion?: number): RecordsFault {
  const version = produceVersion === undefined ? '3+' : String(produceVersion);
  return fault(
    'INVALID_RECORD',
    `Produce requests with version ${version} are only allowed to contain record batches with magic version 2; ` +
      `this one is message format v${magic}, which Kafka 4 removed (KIP-724). ` +
      'Upgrade the client (Kafka 0.11+ clients write magic 2) or stop forcing an old message format',
  );
}
