// Per-partition producer state: the idempotence and transaction bookkeeping Kafka keeps in its
// ProducerStateManager. For each producer id: its epoch, the sequence ranges and offsets of its
// last five batches (so a retried batch is answered with the offsets it got the first time), the
// first offset of its open transaction (for the last stable offset) and the coordinator epoch of
// its last marker. Also the partition's ongoing transactions and its aborted-transaction index,
// which read_committed fetches need.
//
// Pure: no I/O. The partition log calls `checkBatch` before assigning offsets and
// `appendBatch`/`appendMarker` after, in append order; recovery replays stored batches with
// `replayBatch`, which records without checking (Kafka's REPLICATION origin).
//
// Rules follow Kafka 4.x ProducerAppendInfo for client appends:
// - epoch older than the producer's: INVALID_PRODUCER_EPOCH;
// - a batch with the same epoch and the same first and last sequence as one of the last five:
//   a duplicate, answered with its original offsets and not appended again;
// - new epoch: the first sequence must be 0 (unless the producer has no epoch here);
// - same epoch: the first sequence must follow the last one (wrapping at int32 max), else
//   OUT_OF_ORDER_SEQUENCE_NUMBER; a producer unknown here (never written, expired, or its records
//   deleted) may start at any sequence, which is how Kafka since KIP-360 avoids UNKNOWN_PRODUCER_ID;
// - a non-transactional batch while the producer's transaction is open: INVALID_TXN_STATE;
// - a marker with a lower coordinator epoch than the last one: TRANSACTION_COORDINATOR_FENCED.
// DUPLICATE_SEQUENCE_NUMBER and UNKNOWN_PRODUCER_ID are never returned by a Kafka 4.x produce.

import { KafkaError, ErrorCode } from '../../protocol/errors.js';

export const NO_PRODUCER_EPOCH = -1;
export const NO_SEQUENCE = -1;
/** Kafka keeps the last five batches per producer (max.in.flight.requests.per.connection <= 5). */
export const NUM_BATCHES_TO_RETAIN = 5;
const INT32_MAX = 0x7fffffff;

export interface BatchMetadata {
  firstSeq: number;
  lastSeq: number;
  baseOffset: bigint;
  lastOffset: bigint;
  /** The batch's max timestamp (answered to a duplicate of a LogAppendTime topic). */
  timestamp: bigint;
}

export interface ProducerEntry {
  producerId: bigint;
  producerEpoch: number;
  /** Oldest first, at most NUM_BATCHES_TO_RETAIN, all of `producerEpoch`. */
  batches: BatchMetadata[];
  /** -1 until the producer's first marker on this partition. */
  coordinatorEpoch: number;
  /** First offset of the producer's open transaction on this partition, null when none. */
  currentTxnFirstOffset: bigint | null;
  /** Wall-clock ms of the last append or marker (producer.id.expiration.ms counts from here). */
  lastUpdateMs: number;
}

/** A transaction whose records are on this partition; aborted ones are kept in the index. */
export interface TxnRange {
  producerId: bigint;
  firstOffset: bigint;
  /** Offset of the marker that ended it. */
  lastOffset: bigint;
}

/** What the log needs of a produced batch's header (BatchHeader has all of these). */
export interface ProducerBatchHeader {
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly baseSequence: number;
  readonly lastSequence: number;
  readonly isTransactional: boolean;
  readonly lastOffsetDelta: number;
  readonly maxTimestamp: bigint;
}

export interface DuplicateOf {
  baseOffset: bigint;
  lastOffset: bigint;
  timestamp: bigint;
}

export type Marker = 'commit' | 'abort';

/** Whether `next` directly follows `last`, wrapping at int32 max like Kafka's sequences. */
export function inSequence(last: number, next: number): boolean {
  return next === last + 1 || (next === 0 && last === INT32_MAX);
}

function lastSeqOf(entry: ProducerEntry): number {
  return entry.batches.length ? entry.batches[entry.batches.length - 1]!.lastSeq : NO_SEQUENCE;
}

export class PartitionProducerState {
  private readonly producers = new Map<bigint, ProducerEntry>();
  /** Open transactions, by first offset order of arrival (offsets only grow). */
  private readonly ongoing = new Map<bigint, bigint>(); // producerId -> firstOffset
  /** Ended transactions whose marker may still be above the high watermark. */
  private unstable: TxnRange[] = [];
  /** Aborted transactions, ordered by marker offset. */
  private aborted: TxnRange[] = [];
  /** Offset of the last batch recorded, -1 when none: what a snapshot covers. */
  lastOffset = -1n;

  constructor(private readonly now: () => number = Date.now) {}

  get(producerId: bigint): ProducerEntry | undefined {
    return this.producers.get(producerId);
  }

  /** All producers with state here (DescribeProducers). */
  entries(): ProducerEntry[] {
    return [...this.producers.values()];
  }

  /**
   * Checks a client batch before offsets are assigned. Returns the original offsets of a
   * duplicate, null to append, or throws KafkaError. Batches without a producer id pass.
   */
  checkBatch(h: ProducerBatchHeader): DuplicateOf | null {
    if (h.producerId < 0n) return null;
    const entry = this.producers.get(h.producerId);
    if (!entry) return null;
    if (h.producerEpoch === entry.producerEpoch) {
      const firstSeq = h.baseSequence;
      const lastSeq = h.lastSequence;
      for (const b of entry.batches) {
        if (b.firstSeq === firstSeq && b.lastSeq === lastSeq) {
          return { baseOffset: b.baseOffset, lastOffset: b.lastOffset, timestamp: b.timestamp };
        }
      }
    }
    this.checkEpoch(entry, h.producerEpoch);
    if (h.producerEpoch !== entry.producerEpoch) {
      if (h.baseSequence !== 0 && entry.producerEpoch !== NO_PRODUCER_EPOCH) {
        throw new KafkaError(
          ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
          `invalid sequence number for new epoch ${h.producerEpoch} of producer ${h.producerId}: ${h.baseSequence} (a new epoch starts at 0; current epoch ${entry.producerEpoch})`,
        );
      }
    } else {
      const last = lastSeqOf(entry);
      if (!inSequence(last, h.baseSequence)) {
        throw new KafkaError(
          ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
          `out of order sequence number for producer ${h.producerId} epoch ${h.producerEpoch}: ${h.baseSequence} (incoming seq. number), ${last} (current end sequence number)`,
        );
      }
    }
    if (entry.currentTxnFirstOffset !== null && !h.isTransactional) {
      throw new KafkaError(
        ErrorCode.INVALID_TXN_STATE,
        `expected a transactional write from producer ${h.producerId}: it has an open transaction on this partition`,
      );
    }
    return null;
  }

  /** Whether the producer has an open transaction here (KIP-890 verification skips those). */
  hasOngoingTxn(producerId: bigint): boolean {
    return this.ongoing.has(producerId);
  }

  /** Records a batch that was checked with `checkBatch` and got offsets [baseOffset, +lastOffsetDelta]. */
  appendBatch(h: ProducerBatchHeader, baseOffset: bigint): void {
    const lastOffset = baseOffset + BigInt(h.lastOffsetDelta);
    if (lastOffset > this.lastOffset) this.lastOffset = lastOffset;
    if (h.producerId < 0n) return;
    let entry = this.producers.get(h.producerId);
    if (!entry) {
      entry = {
        producerId: h.producerId,
        producerEpoch: h.producerEpoch,
        batches: [],
        coordinatorEpoch: -1,
        currentTxnFirstOffset: null,
        lastUpdateMs: this.now(),
      };
      this.producers.set(h.producerId, entry);
    }
    if (entry.producerEpoch !== h.producerEpoch) {
      entry.producerEpoch = h.producerEpoch;
      entry.batches = [];
    }
    if (h.baseSequence !== NO_SEQUENCE) {
      entry.batches.push({ firstSeq: h.baseSequence, lastSeq: h.lastSequence, baseOffset, lastOffset, timestamp: h.maxTimestamp });
      if (entry.batches.length > NUM_BATCHES_TO_RETAIN) entry.batches.shift();
    }
    entry.lastUpdateMs = this.now();
    if (h.isTransactional && entry.currentTxnFirstOffset === null) {
      entry.currentTxnFirstOffset = baseOffset;
      this.ongoing.set(h.producerId, baseOffset);
    }
  }

  /** Records a stored batch without checks (recovery, or state rebuilt from the log). */
  replayBatch(h: ProducerBatchHeader, baseOffset: bigint): void {
    this.appendBatch(h, baseOffset);
  }

  /**
   * Undoes an `appendBatch` of this producer when that append did not reach the log, so a retry
   * of the batch is not mistaken for a duplicate of records that do not exist.
   */
  revertBatch(h: ProducerBatchHeader, baseOffset: bigint): void {
    const entry = this.producers.get(h.producerId);
    if (!entry) return;
    // Not necessarily the last one: pipelined appends that fail together are reverted oldest first,
    // and a failed batch left behind would answer its retry as a duplicate of records never stored.
    const i = entry.batches.findIndex((b) => b.baseOffset === baseOffset);
    if (i >= 0) entry.batches.splice(i, 1);
    if (entry.currentTxnFirstOffset === baseOffset) {
      entry.currentTxnFirstOffset = null;
      this.ongoing.delete(h.producerId);
    }
    // A producer first seen in the failed batch is forgotten, so its retry may start anywhere.
    if (entry.batches.length === 0 && entry.currentTxnFirstOffset === null && entry.coordinatorEpoch < 0) {
      this.producers.delete(h.producerId);
    }
  }

  /**
   * Checks a transaction marker the coordinator is about to write: throws INVALID_PRODUCER_EPOCH
   * for an older producer epoch and TRANSACTION_COORDINATOR_FENCED for an older coordinator epoch.
   */
  checkMarker(producerId: bigint, producerEpoch: number, coordinatorEpoch: number): void {
    const entry = this.producers.get(producerId);
    if (!entry) return;
    this.checkEpoch(entry, producerEpoch);
    if (coordinatorEpoch < entry.coordinatorEpoch) {
      throw new KafkaError(
        ErrorCode.TRANSACTION_COORDINATOR_FENCED,
        `transaction marker for producer ${producerId} has coordinator epoch ${coordinatorEpoch}, older than ${entry.coordinatorEpoch}`,
      );
    }
  }

  /**
   * Records a commit or abort marker written at `offset`. Ends the producer's open transaction
   * here; an aborted one goes into the aborted-transaction index. Returns the ended range, or
   * null when the producer had no records in the transaction on this partition.
   */
  appendMarker(producerId: bigint, producerEpoch: number, coordinatorEpoch: number, marker: Marker, offset: bigint): TxnRange | null {
    if (offset > this.lastOffset) this.lastOffset = offset;
    let entry = this.producers.get(producerId);
    if (!entry) {
      entry = { producerId, producerEpoch, batches: [], coordinatorEpoch, currentTxnFirstOffset: null, lastUpdateMs: this.now() };
      this.producers.set(producerId, entry);
    }
    if (entry.producerEpoch !== producerEpoch) {
      entry.producerEpoch = producerEpoch;
      entry.batches = [];
    }
    entry.coordinatorEpoch = coordinatorEpoch;
    entry.lastUpdateMs = this.now();
    const first = entry.currentTxnFirstOffset;
    entry.currentTxnFirstOffset = null;
    this.ongoing.delete(producerId);
    if (first === null) return null;
    const range: TxnRange = { producerId, firstOffset: first, lastOffset: offset };
    this.unstable.push(range);
    if (marker === 'abort') this.aborted.push(range);
    return range;
  }

  /**
   * The first offset a read_committed consumer may not read yet, given the high watermark:
   * the start of the oldest open transaction, or of an ended one whose marker is not yet below
   * the HW. Null when nothing is unstable (the LSO is then the HW).
   */
  firstUnstableOffset(highWatermark: bigint): bigint | null {
    this.unstable = this.unstable.filter((t) => t.lastOffset >= highWatermark);
    let min: bigint | null = null;
    for (const first of this.ongoing.values()) if (min === null || first < min) min = first;
    for (const t of this.unstable) if (min === null || t.firstOffset < min) min = t.firstOffset;
    return min;
  }

  /** The last stable offset for a high watermark. */
  lastStableOffset(highWatermark: bigint): bigint {
    const u = this.firstUnstableOffset(highWatermark);
    return u !== null && u < highWatermark ? u : highWatermark;
  }

  /** Open transactions here, oldest first (DescribeProducers' currentTxnStartOffset, ListTransactions). */
  ongoingTransactions(): { producerId: bigint; firstOffset: bigint }[] {
    return [...this.ongoing].map(([producerId, firstOffset]) => ({ producerId, firstOffset })).sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : 1));
  }

  /**
   * Aborted transactions a read_committed fetch of [fetchOffset, upperBound) must skip: those whose
   * marker is at or after fetchOffset and which started before upperBound, by first offset.
   */
  abortedTransactions(fetchOffset: bigint, upperBound: bigint): { producerId: bigint; firstOffset: bigint }[] {
    const out: { producerId: bigint; firstOffset: bigint }[] = [];
    for (const t of this.aborted) {
      if (t.lastOffset >= fetchOffset && t.firstOffset < upperBound) out.push({ producerId: t.producerId, firstOffset: t.firstOffset });
    }
    // Ordered by first offset, not by marker: kafkajs walks the list in order and only enters an
    // aborted transaction when a record reaches the head's first offset, so interleaved
    // transactions listed by marker order would leak aborted records (Java and librdkafka sort anyway).
    return out.sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0));
  }

  /** Drops index entries and batch metadata below the log start offset (retention, DeleteRecords). */
  truncateHead(logStartOffset: bigint): void {
    this.aborted = this.aborted.filter((t) => t.lastOffset >= logStartOffset);
    for (const [id, entry] of this.producers) {
      // As Kafka does: a producer whose records are all gone is forgotten, so it may resume at any sequence.
      const kept = entry.batches.filter((b) => b.lastOffset >= logStartOffset);
      if (kept.length === 0 && entry.currentTxnFirstOffset === null) this.producers.delete(id);
      else entry.batches = kept;
    }
  }

  /**
   * Removes producers idle for `expirationMs` with no open transaction (producer.id.expiration.ms).
   * Returns how many were removed.
   */
  expireProducers(expirationMs: number, nowMs = this.now()): number {
    let removed = 0;
    for (const [id, entry] of this.producers) {
      if (entry.currentTxnFirstOffset === null && nowMs - entry.lastUpdateMs >= expirationMs) {
        this.producers.delete(id);
        removed++;
      }
    }
    return removed;
  }

  private checkEpoch(entry: ProducerEntry, epoch: number): void {
    if (epoch < entry.producerEpoch) {
      throw new KafkaError(
        ErrorCode.INVALID_PRODUCER_EPOCH,
        `epoch ${epoch} of producer ${entry.producerId} is smaller than the last seen epoch ${entry.producerEpoch}; a newer producer instance took over`,
      );
    }
  }

  // -------------------------------------------------------------------------------------------
  // Snapshots: JSON, because it is small (five batches per producer), read only at start-up,
  // and worth being able to read by eye when debugging a fenced or duplicated producer.

  serialize(): Buffer {
    const doc: SnapshotDoc = {
      v: SNAPSHOT_VERSION,
      lastOffset: this.lastOffset.toString(),
      producers: [...this.producers.values()].map((e) => ({
        id: e.producerId.toString(),
        epoch: e.producerEpoch,
        coordinatorEpoch: e.coordinatorEpoch,
        txnFirst: e.currentTxnFirstOffset === null ? null : e.currentTxnFirstOffset.toString(),
        lastUpdateMs: e.lastUpdateMs,
        batches: e.batches.map((b) => [b.firstSeq, b.lastSeq, b.baseOffset.toString(), b.lastOffset.toString(), b.timestamp.toString()]),
      })),
      unstable: this.unstable.map(rangeToJson),
      aborted: this.aborted.map(rangeToJson),
    };
    return Buffer.from(JSON.stringify(doc));
  }

  static deserialize(buf: Buffer, now: () => number = Date.now): PartitionProducerState {
    let doc: SnapshotDoc;
    try {
      doc = JSON.parse(buf.toString('utf8')) as SnapshotDoc;
    } catch (err) {
      throw new Error(`producer state snapshot is not valid JSON (${(err as Error).message}); the snapshot is corrupt`);
    }
    if (doc.v !== SNAPSHOT_VERSION) {
      throw new Error(`producer state snapshot version ${doc.v} is not supported (expected ${SNAPSHOT_VERSION}); upgrade StreamHouse`);
    }
    const s = new PartitionProducerState(now);
    s.lastOffset = BigInt(doc.lastOffset);
    for (const p of doc.producers) {
      const entry: ProducerEntry = {
        producerId: BigInt(p.id),
        producerEpoch: p.epoch,
        coordinatorEpoch: p.coordinatorEpoch,
        currentTxnFirstOffset: p.txnFirst === null ? null : BigInt(p.txnFirst),
        lastUpdateMs: p.lastUpdateMs,
        batches: p.batches.map(([firstSeq, lastSeq, base, last, ts]) => ({
          firstSeq,
          lastSeq,
          baseOffset: BigInt(base),
          lastOffset: BigInt(last),
          timestamp: BigInt(ts),
        })),
      };
      s.producers.set(entry.producerId, entry);
      if (entry.currentTxnFirstOffset !== null) s.ongoing.set(entry.producerId, entry.currentTxnFirstOffset);
    }
    s.unstable = doc.unstable.map(rangeFromJson);
    s.aborted = doc.aborted.map(rangeFromJson);
    return s;
  }
}

const SNAPSHOT_VERSION = 1;

interface SnapshotDoc {
  v: number;
  lastOffset: string;
  producers: {
    id: string;
    epoch: number;
    coordinatorEpoch: number;
    txnFirst: string | null;
    lastUpdateMs: number;
    batches: [number, number, string, string, string][];
  }[];
  unstable: [string, string, string][];
  aborted: [string, string, string][];
}

function rangeToJson(t: TxnRange): [string, string, string] {
  return [t.producerId.toString(), t.firstOffset.toString(), t.lastOffset.toString()];
}

function rangeFromJson([id, first, last]: [string, string, string]): TxnRange {
  return { producerId: BigInt(id), firstOffset: BigInt(first), lastOffset: BigInt(last) };
}
