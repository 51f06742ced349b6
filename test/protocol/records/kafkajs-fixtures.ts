// Reference batches from kafkajs's own record-batch encoder (a real client's code), used as a
// golden cross-check of layout and CRC-32C.

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface KafkajsEncoder {
  buffer: Buffer;
}
type KafkajsRecord = (r: {
  offsetDelta: number;
  timestampDelta: number;
  key: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, string>;
}) => unknown;

const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as {
  RecordBatch: (opts: Record<string, unknown>) => Promise<KafkajsEncoder>;
};
const KRecord = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as KafkajsRecord;
const { Types } = require('kafkajs/src/protocol/message/compression/index.js') as { Types: Record<string, number> };

export const KAFKAJS_BASE_TIMESTAMP = 1700000000000;

/** Two records: one with a header, one with a null key; optionally gzip. */
export async function kafkajsBatch(gzip: boolean): Promise<Buffer> {
  const records = [
    KRecord({ offsetDelta: 0, timestampDelta: 0, key: Buffer.from('key-1'), value: Buffer.from('value-1'), headers: { trace: 'abc' } }),
    KRecord({ offsetDelta: 1, timestampDelta: 7, key: null, value: Buffer.from('value-2') }),
  ];
  const enc = await RecordBatch({
    compression: gzip ? Types.GZIP : Types.None,
    firstTimestamp: KAFKAJS_BASE_TIMESTAMP,
    maxTimestamp: KAFKAJS_BASE_TIMESTAMP + 7,
    lastOffsetDelta: 1,
    records,
  });
  return Buffer.from(enc.buffer);
}

/** The uncompressed kafkajs batch above, captured once (kafkajs 2.2.4). */
export const KAFKAJS_GOLDEN_HEX =
  '00000000000000000000005c0000000002dc292e460000000000010000018bcfe568000000018bcfe56807ffffffffffffffff' +
  '00000000000000000002380000000a6b65792d310e76616c75652d31020a7472616365066162631a000e02010e76616c75652d3200';
