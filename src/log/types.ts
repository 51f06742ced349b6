// The partition-log layer's face towards the handlers. One PartitionLog per partition this agent
// leads; the LogManager opens them lazily (and eagerly at start for partitions with WAL records)
// and routes by topic id.
import type { TopicRecord } from '../metadata/types.js';
import type { BatchHeader } from '../protocol/records/index.js';

export interface AppendResult {
  baseOffset: bigint;
  /** Offset of the batch's last record. */
  lastOffset: bigint;
  /** -1 unless the topic uses LogAppendTime. */
  logAppendTime: bigint;
  logStartOffset: bigint;
}

export interface AppendOptions {
  /** 0, 1 or -1, as in the produce request. */
  acks: number;
  /** Produce request version (zstd needs v7+). */
  produceVersion: number;
  /** Transactional id from the produce request, if any. */
  transactionalId: string | null;
}

/**
 * The two moments of an append. `appended` resolves when acks=1 may answer (the local append:
 * the WAL write() where the profile has a WAL), `durable` when acks=all may answer (the profile's
 * durability point, which is also when the high watermark passes the batch). Both reject with a
 * KafkaError naming the partition error.
 */
export interface AppendHandle {
  appended: Promise<AppendResult>;
  durable: Promise<AppendResult>;
}

export interface ReadOptions {
  /** Byte budget; whole batches only, except that `minOneBatch` lets the first batch exceed it (KIP-74). */
  maxBytes: number;
  minOneBatch: boolean;
  /** 0 read_uncommitted (up to the HW), 1 read_committed (up to the LSO). */
  isolationLevel: number;
}

export interface FetchedData {
  /** Concatenated whole record batches (empty when there is nothing to read). */
  records: Buffer;
  highWatermark: bigint;
  lastStableOffset: bigint;
  logStartOffset: bigint;
  /** read_committed: aborted transactions overlapping the returned range (null for read_uncommitted). */
  abortedTransactions: { producerId: bigint; firstOffset: bigint }[] | null;
}

export interface TimestampAndOffset {
  timestamp: bigint;
  /** -1 when no record qualifies. */
  offset: bigint;
  /** Leader epoch of the batch holding `offset`, -1 when unknown. */
  leaderEpoch: number;
}

/** ListOffsets' special timestamps. */
export const LATEST_TIMESTAMP = -1n;
export const EARLIEST_TIMESTAMP = -2n;
export const MAX_TIMESTAMP = -3n;
export const EARLIEST_LOCAL_TIMESTAMP = -4n;
export const LATEST_TIERED_TIMESTAMP = -5n;

export interface PartitionLogView {
  readonly topicId: string;
  readonly partition: number;
  readonly leaderEpoch: number;
  logStartOffset(): bigint;
  highWatermark(): bigint;
  lastStableOffset(): bigint;
  /** Bytes held: committed segments plus the in-memory tail. */
  sizeBytes(): number;
}

/** What the data-path handlers use: the view plus appends, reads and offset lookups. */
export interface PartitionLogHandle extends PartitionLogView {
  /** Next offset to assign (records between the HW and here are not yet durable). */
  logEndOffset(): bigint;

  /** Validates, assigns offsets and appends one produced records field. Throws KafkaError when refused. */
  append(records: Buffer, opts: AppendOptions): AppendHandle;
  /** Appends a broker-built control batch (transaction marker); resolves with its offset once durable. */
  appendControl?(batch: Buffer): Promise<bigint>;
  /** Reads from `offset`; throws KafkaError OFFSET_OUT_OF_RANGE outside [logStart, logEnd]. */
  read(offset: bigint, opts: ReadOptions): Promise<FetchedData>;
  /** Resolves on the next high-watermark move (or log start move), or when `signal` aborts. */
  waitForData(signal: AbortSignal): Promise<void>;
  /** Calls `wake` once on the next high-watermark (or log start) move; returns a cancel function. */
  watch(wake: () => void): () => void;
  /** ListOffsets: a special timestamp (-1..-5) or the first offset with a timestamp >= `timestamp`. */
  offsetForTimestamp(timestamp: bigint, isolationLevel: number): Promise<TimestampAndOffset>;
  /** DeleteRecords: moves the log start offset to `offset` (<= HW) and returns the new one. */
  deleteRecordsBefore(offset: bigint): Promise<bigint>;
  /** OffsetForLeaderEpoch: the end offset of `epoch` and the largest known epoch <= it. */
  endOffsetForEpoch(epoch: number): { leaderEpoch: number; endOffset: bigint };
}

export interface LogManager {
  /** The partition's log, opened (and recovered) on first use. Throws KafkaError UNKNOWN_TOPIC_OR_PARTITION. */
  partition(topic: TopicRecord, partition: number): Promise<PartitionLogHandle>;
  /** Closes the topic's partition logs and deletes their objects (after the rows are gone). */
  dropTopic(topic: TopicRecord): Promise<void>;
  /** Every open partition log, for DescribeLogDirs and metrics. */
  openPartitions(): PartitionLogView[];
}

/** Producer id, epoch and sequences of a batch, as its header carries them (idempotence hook). */
export interface ProducerBatch {
  topicId: string;
  partition: number;
  /** A view of the client's batch; read producerId, producerEpoch, baseSequence, lastSequence, isTransactional. */
  header: BatchHeader;
  transactionalId: string | null;
}

/**
 * The exactly-once hook. `check` runs synchronously in the partition's append order, before offsets
 * are assigned: return null to append, `{ duplicateOf }` to answer with the offsets a duplicate got
 * the first time, or throw a KafkaError (OUT_OF_ORDER_SEQUENCE_NUMBER, INVALID_PRODUCER_EPOCH, ...).
 * `appended` runs right after offsets are assigned; `failed` if that append then did not reach the WAL.
 */
export interface ProducerStateChecker {
  check(batch: ProducerBatch): { duplicateOf: { baseOffset: bigint; lastOffset: bigint } } | null;
  appended(batch: ProducerBatch, baseOffset: bigint): void;
  failed?(batch: ProducerBatch, baseOffset: bigint): void;
  // ---- exactly-once hooks (src/coordinator/producer/producer-state-manager.ts implements them) ----
  /** Partition open: installs the state of the newest segment snapshot; returns the offset it covers (-1: none). */
  load?(topicId: string, partition: number, snapshot: Buffer | null): bigint;
  /** Records a stored batch (data or control) without checks: WAL recovery and control appends. */
  replay?(topicId: string, partition: number, header: BatchHeader, baseOffset: bigint): void;
  /** Like `replay`, for a batch of a committed segment: also advances the state later snapshots start from. */
  replayCommitted?(topicId: string, partition: number, header: BatchHeader, baseOffset: bigint): void;
  /** Bound on segment bytes scanned at open to rebuild state past the newest snapshot (default 1 GiB). */
  readonly rebuildMaxBytes?: number;
  /** The producer state as of the end of a segment made of `batches`, to commit with it. */
  segmentSnapshot?(topicId: string, partition: number, batches: readonly Buffer[]): Buffer;
  /** min(HW, first offset of an unfinished transaction). */
  lastStableOffset?(topicId: string, partition: number, highWatermark: bigint): bigint;
  /** read_committed: aborted transactions overlapping [fetchOffset, upperBound). */
  abortedTransactions?(topicId: string, partition: number, fetchOffset: bigint, upperBound: bigint): { producerId: bigint; firstOffset: bigint }[];
  /** The log start offset moved (retention, DeleteRecords): drop state below it. */
  truncateHead?(topicId: string, partition: number, logStartOffset: bigint): void;
}
