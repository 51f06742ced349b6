// The partition-log layer's face towards the handlers. One PartitionLog per partition this agent
// leads; the LogManager opens them lazily and routes by topic id.
import type { TopicRecord } from '../metadata/types.js';

export interface AppendResult {
  baseOffset: bigint;
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

export interface FetchedData {
  /** Concatenated record batches, possibly ending in a partial batch when cut by maxBytes. */
  records: Buffer;
  highWatermark: bigint;
  lastStableOffset: bigint;
  logStartOffset: bigint;
  /** read_committed: aborted transactions overlapping the returned range. */
  abortedTransactions: { producerId: bigint; firstOffset: bigint }[] | null;
}

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

export interface LogManager {
  /** The partition's log, opened (and recovered) on first use. Throws KafkaError UNKNOWN_TOPIC_OR_PARTITION. */
  partition(topic: TopicRecord, partition: number): Promise<PartitionLogView>;
  /** Closes the topic's partition logs and deletes their objects (after the rows are gone). */
  dropTopic(topic: TopicRecord): Promise<void>;
  /** Every open partition log, for DescribeLogDirs and metrics. */
  openPartitions(): PartitionLogView[];
}
