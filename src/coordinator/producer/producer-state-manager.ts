// The producer state of every partition this agent leads, behind the partition log's
// ProducerStateChecker hook. Routes each batch to its partition's PartitionProducerState, adds the
// KIP-890 part 1 check (a transactional batch that starts a transaction on a partition must come
// from a producer whose transaction contains that partition), and reads markers out of control
// batches so recovery can rebuild the aborted-transaction index from stored batches.
//
// KIP-890 as Kafka does it: the produce path asks the transaction coordinator first
// (`verifyBeforeAppend`, asynchronous: the coordinator may be another agent) and leaves a
// verification guard for the producer on the partition; the append itself (`check`, synchronous)
// requires the guard, and any marker for the producer on the partition removes it. So a transaction
// that ended between the verification and the append cannot be extended by a late batch.
import type { ProducerBatch, ProducerStateChecker } from '../../log/types.js';
import { BatchHeader, decodeEndTxnMarker, decodeRecords } from '../../protocol/records/index.js';
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import { DEFAULT_REBUILD_MAX_BYTES } from '../../log/producer-state-rebuild.js';
import { PartitionProducerState, type DuplicateOf } from './producer-state.js';

/** Whether a transactional produce may write to a partition: throws KafkaError when not. */
export interface TxnVerifier {
  verifyTransactionalProduce(transactionalId: string, producerId: bigint, producerEpoch: number, topicId: string, partition: number): Promise<void>;
}

// Record batch v2 header fields read before the batch is decoded.
const ATTRIBUTES_OFFSET = 21;
const PRODUCER_ID_OFFSET = 43;
const PRODUCER_EPOCH_OFFSET = 51;
const HEADER_BYTES = 61;
const TRANSACTIONAL_FLAG = 0x10;

export interface ProducerStateManagerOptions {
  /** producer.id.expiration.ms (Kafka's default: one day). */
  producerIdExpirationMs?: number;
  /**
   * Bound on the segment bytes a partition open may scan to rebuild producer state when the newest
   * segments carry no snapshot (see src/log/producer-state-rebuild.ts). Default 1 GiB.
   */
  rebuildMaxBytes?: number;
  now?: () => number;
}

export const DEFAULT_PRODUCER_ID_EXPIRATION_MS = 86_400_000;

function key(topicId: string, partition: number): string {
  return `${topicId}:${partition}`;
}

export class ProducerStateManager implements ProducerStateChecker {
  private readonly partitions = new Map<string, PartitionProducerState>();
  /**
   * The state as of the end of the newest committed segment, advanced only by uploaded batches.
   * Snapshots come from here rather than from the live state, which may include tail batches that
   * are not durable yet: a snapshot must never remember a batch the log could still lose, or a
   * retry of that batch would be answered as a duplicate of records that do not exist.
   */
  private readonly committed = new Map<string, PartitionProducerState>();
  private readonly now: () => number;
  readonly producerIdExpirationMs: number;
  readonly rebuildMaxBytes: number;
  /** Set by the composition root once the transaction coordinator exists. */
  verifier: TxnVerifier | null = null;
  /** KIP-890 verification guards: "topicId:partition:producerId" -> the verified producer epoch. */
  private readonly verified = new Map<string, number>();

  constructor(opts: ProducerStateManagerOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.producerIdExpirationMs = opts.producerIdExpirationMs ?? DEFAULT_PRODUCER_ID_EXPIRATION_MS;
    this.rebuildMaxBytes = opts.rebuildMaxBytes ?? DEFAULT_REBUILD_MAX_BYTES;
  }

  /** The partition's state, created empty on first use. */
  partition(topicId: string, partition: number): PartitionProducerState {
    const k = key(topicId, partition);
    let s = this.partitions.get(k);
    if (!s) {
      s = new PartitionProducerState(this.now);
      this.partitions.set(k, s);
    }
    return s;
  }

  /** Existing state only (DescribeProducers on a partition never written). */
  peek(topicId: string, partition: number): PartitionProducerState | undefined {
    return this.partitions.get(key(topicId, partition));
  }

  /**
   * Recovery: replaces the partition's state with the snapshot (null: empty). The caller then
   * replays the stored batches above `snapshotLastOffset(...)` with `replay`.
   */
  load(topicId: string, partition: number, snapshot: Buffer | null): bigint {
    const fresh = () => (snapshot ? PartitionProducerState.deserialize(snapshot, this.now) : new PartitionProducerState(this.now));
    const live = fresh();
    this.partitions.set(key(topicId, partition), live);
    this.committed.set(key(topicId, partition), fresh());
    return live.lastOffset;
  }

  /** The offset the partition's state covers (-1 when empty): replay batches above it. */
  coveredOffset(topicId: string, partition: number): bigint {
    return this.peek(topicId, partition)?.lastOffset ?? -1n;
  }

  /** State to store with the commit of a segment made of `batches` (the next ones after the last segment). */
  segmentSnapshot(topicId: string, partition: number, batches: readonly Buffer[]): Buffer {
    const k = key(topicId, partition);
    let s = this.committed.get(k);
    if (!s) this.committed.set(k, (s = new PartitionProducerState(this.now)));
    for (const b of batches) {
      const h = new BatchHeader(b);
      if (h.baseOffset <= s.lastOffset) continue; // a retried upload of batches already counted
      applyBatch(s, h, h.baseOffset);
    }
    return s.serialize();
  }

  lastStableOffset(topicId: string, partition: number, highWatermark: bigint): bigint {
    return this.peek(topicId, partition)?.lastStableOffset(highWatermark) ?? highWatermark;
  }

  abortedTransactions(topicId: string, partition: number, fetchOffset: bigint, upperBound: bigint): { producerId: bigint; firstOffset: bigint }[] {
    return this.peek(topicId, partition)?.abortedTransactions(fetchOffset, upperBound) ?? [];
  }

  truncateHead(topicId: string, partition: number, logStartOffset: bigint): void {
    this.peek(topicId, partition)?.truncateHead(logStartOffset);
    this.committed.get(key(topicId, partition))?.truncateHead(logStartOffset);
  }

  drop(topicId: string, partition?: number): void {
    const prefix = partition !== undefined ? `${key(topicId, partition)}:` : `${topicId}:`;
    for (const k of [...this.verified.keys()]) if (k.startsWith(prefix)) this.verified.delete(k);
    if (partition !== undefined) {
      this.partitions.delete(key(topicId, partition));
      this.committed.delete(key(topicId, partition));
      return;
    }
    for (const m of [this.partitions, this.committed]) {
      for (const k of [...m.keys()]) if (k.startsWith(`${topicId}:`)) m.delete(k);
    }
  }

  /** Every partition with state, for DescribeProducers and ListTransactions-style scans. */
  *all(): Generator<{ topicId: string; partition: number; state: PartitionProducerState }> {
    for (const [k, state] of this.partitions) {
      const i = k.lastIndexOf(':');
      yield { topicId: k.slice(0, i), partition: Number(k.slice(i + 1)), state };
    }
  }

  // ProducerStateChecker ------------------------------------------------------------------------

  check(batch: ProducerBatch): { duplicateOf: DuplicateOf } | null {
    const h = batch.header;
    if (h.producerId < 0n) return null;
    const state = this.partition(batch.topicId, batch.partition);
    const dup = state.checkBatch(h);
    if (dup) return { duplicateOf: dup };
    if (h.isTransactional && batch.transactionalId !== null && this.verifier && !state.hasOngoingTxn(h.producerId)) {
      if (this.verified.get(`${key(batch.topicId, batch.partition)}:${h.producerId}`) !== h.producerEpoch) {
        throw new KafkaError(
          ErrorCode.INVALID_TXN_STATE,
          `transactional produce to a partition not verified in transaction ${batch.transactionalId} (it ended, or AddPartitionsToTxn was not called; KIP-890)`,
        );
      }
    }
    return null;
  }

  /**
   * Before appending `records` (one produce partition's batch) from a transactional producer:
   * when the batch would start the producer's transaction on this partition, asks the coordinator
   * whether the partition is in it and leaves the guard `check` requires. Throws KafkaError.
   */
  async verifyBeforeAppend(topicId: string, partition: number, transactionalId: string, records: Buffer): Promise<void> {
    if (!this.verifier || records.length < HEADER_BYTES) return;
    if ((records.readInt16BE(ATTRIBUTES_OFFSET) & TRANSACTIONAL_FLAG) === 0) return;
    const producerId = records.readBigInt64BE(PRODUCER_ID_OFFSET);
    const producerEpoch = records.readInt16BE(PRODUCER_EPOCH_OFFSET);
    if (this.peek(topicId, partition)?.hasOngoingTxn(producerId)) return;
    const guard = `${key(topicId, partition)}:${producerId}`;
    if (this.verified.get(guard) === producerEpoch) return;
    await this.verifier.verifyTransactionalProduce(transactionalId, producerId, producerEpoch, topicId, partition);
    this.verified.set(guard, producerEpoch);
  }

  appended(batch: ProducerBatch, baseOffset: bigint): void {
    this.replay(batch.topicId, batch.partition, batch.header, baseOffset);
  }

  failed(batch: ProducerBatch, baseOffset: bigint): void {
    this.peek(batch.topicId, batch.partition)?.revertBatch(batch.header, baseOffset);
  }

  /** Records a stored batch (data or control) without checks: recovery and the coordinator's markers. */
  replay(topicId: string, partition: number, h: BatchHeader, baseOffset: bigint): void {
    if (h.isControl) this.verified.delete(`${key(topicId, partition)}:${h.producerId}`);
    applyBatch(this.partition(topicId, partition), h, baseOffset);
  }

  /**
   * Records a batch of a committed segment (rebuild after a missing snapshot) in the live state and
   * in the committed state, so the next segment's snapshot includes it too.
   */
  replayCommitted(topicId: string, partition: number, h: BatchHeader, baseOffset: bigint): void {
    this.replay(topicId, partition, h, baseOffset);
    const k = key(topicId, partition);
    let s = this.committed.get(k);
    if (!s) this.committed.set(k, (s = new PartitionProducerState(this.now)));
    if (baseOffset > s.lastOffset) applyBatch(s, h, baseOffset);
  }

  private expiryTimer: NodeJS.Timeout | null = null;

  /** Runs `expireProducers` periodically (Kafka: producer.id.expiration.check.interval.ms, 10 min). */
  startExpiration(intervalMs = 600_000): void {
    this.expiryTimer = setInterval(() => this.expireProducers(), intervalMs);
    this.expiryTimer.unref();
  }

  stop(): void {
    if (this.expiryTimer) clearInterval(this.expiryTimer);
    this.expiryTimer = null;
  }

  /** Removes idle producers everywhere (producer.id.expiration.ms); returns how many. */
  expireProducers(nowMs = this.now()): number {
    let n = 0;
    for (const s of this.partitions.values()) n += s.expireProducers(this.producerIdExpirationMs, nowMs);
    for (const s of this.committed.values()) s.expireProducers(this.producerIdExpirationMs, nowMs);
    return n;
  }
}

/** Records a stored batch, data or transaction marker, without checks. */
function applyBatch(state: PartitionProducerState, h: BatchHeader, baseOffset: bigint): void {
  if (!h.isControl) {
    state.replayBatch(h, baseOffset);
    return;
  }
  const [rec] = decodeRecords(h.recordsData(), h.recordCount);
  let marker;
  try {
    marker = rec ? decodeEndTxnMarker(rec.key, rec.value) : null;
  } catch {
    marker = null; // not a transaction marker (KRaft control types never reach data partitions)
  }
  if (marker) state.appendMarker(h.producerId, h.producerEpoch, marker.coordinatorEpoch, marker.marker, baseOffset);
  else if (baseOffset > state.lastOffset) state.lastOffset = baseOffset;
}
