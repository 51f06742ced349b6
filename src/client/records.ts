// Reading the record batches of a Fetch answer on the client side: whole v2 batches only (a
// trailing partial batch is dropped, as KIP-74 allows the broker to cut it), control batches
// skipped, and, for read_committed, data of aborted transactions filtered out with the
// aborted-transactions list the broker sends.
import {
  BatchHeader,
  BATCH_LENGTH_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAGIC_V2,
  readBatchRecords,
  decodeControlKey,
  ControlRecordType,
  type BatchRecord,
} from '../protocol/records/index.js';

export interface ConsumedRecord {
  offset: bigint;
  timestamp: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: Array<{ key: string; value: Buffer | null }>;
}

export interface AbortedTxn {
  producerId: bigint;
  firstOffset: bigint;
}

export interface DecodedPartitionRecords {
  records: ConsumedRecord[];
  /** Offset to fetch next: one past the last whole batch seen (control batches included). */
  nextOffset: bigint | null;
}

/** Decompressed bytes allowed per batch: guards the CLI against compression bombs. */
const MAX_UNCOMPRESSED = 256 * 1024 * 1024;

export async function decodeFetchedRecords(
  data: Buffer | null,
  fromOffset: bigint,
  aborted: readonly AbortedTxn[] | null,
): Promise<DecodedPartitionRecords> {
  const out: ConsumedRecord[] = [];
  let nextOffset: bigint | null = null;
  if (!data) return { records: out, nextOffset };
  const pendingAborts = [...(aborted ?? [])].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0));
  const abortedProducers = new Set<bigint>();
  let pos = 0;
  while (data.length - pos >= LOG_OVERHEAD) {
    const size = LOG_OVERHEAD + data.readInt32BE(pos + BATCH_LENGTH_OFFSET);
    if (size > data.length - pos) break; // partial batch at the end
    const bytes = data.subarray(pos, pos + size);
    pos += size;
    if (bytes.length <= MAGIC_OFFSET || bytes[MAGIC_OFFSET] !== MAGIC_V2) {
      throw new Error(`the broker sent a record batch of magic ${bytes[MAGIC_OFFSET]}; this client reads only v2 batches`);
    }
    const header = new BatchHeader(bytes);
    const lastOffset = header.baseOffset + BigInt(header.lastOffsetDelta);
    nextOffset = lastOffset + 1n;
    while (pendingAborts.length > 0 && pendingAborts[0].firstOffset <= lastOffset) {
      abortedProducers.add(pendingAborts.shift()!.producerId);
    }
    if (header.isControl) {
      // An abort marker ends the aborted range of its producer.
      const [marker] = await readBatchRecords(bytes, { maxUncompressedBytes: MAX_UNCOMPRESSED });
      if (marker && decodeControlKey(marker.key).type === ControlRecordType.ABORT) abortedProducers.delete(header.producerId);
      continue;
    }
    if (header.isTransactional && abortedProducers.has(header.producerId)) continue;
    const records: BatchRecord[] = await readBatchRecords(bytes, { maxUncompressedBytes: MAX_UNCOMPRESSED });
    for (const r of records) {
      if (r.offset < fromOffset) continue; // a batch may start before the offset asked for
      out.push({ offset: r.offset, timestamp: r.timestamp, key: r.key, value: r.value, headers: r.headers });
    }
  }
  return { records: out, nextOffset };
}
