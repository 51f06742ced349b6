// Committed offsets: validation of each partition and the rows written to the metadata store.
// Offsets live in the store only (no cache): a commit is acknowledged once its transaction is
// durable, and a fetch always reads what a restart would read.
import { ErrorCode } from '../../protocol/errors.js';
import type { GroupOffsetStore, LeaseFence, OffsetCommit } from '../../metadata/types.js';
import type { GroupCoordinatorConfig } from './config.js';

export interface OffsetCommitPartitionInput {
  partitionIndex: number;
  committedOffset: bigint;
  committedLeaderEpoch: number;
  committedMetadata: string | null;
}

export interface OffsetCommitTopicInput {
  name: string;
  partitions: OffsetCommitPartitionInput[];
}

export interface PartitionResult {
  partitionIndex: number;
  errorCode: number;
}

export interface TopicResult {
  name: string;
  partitions: PartitionResult[];
}

export interface FetchedOffset {
  partitionIndex: number;
  committedOffset: bigint;
  committedLeaderEpoch: number;
  metadata: string | null;
  errorCode: number;
}

/** Partition count of a topic by name, or undefined when it does not exist. */
export type PartitionCount = (topic: string) => number | undefined;

export function everyPartition(topics: OffsetCommitTopicInput[], errorCode: number): TopicResult[] {
  return topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })) }));
}

/** Writes the valid partitions in one transaction; invalid ones get their own error code. */
export async function commitOffsets(
  store: GroupOffsetStore,
  config: GroupCoordinatorConfig,
  groupId: string,
  topics: OffsetCommitTopicInput[],
  partitionCount: PartitionCount,
  now: number,
  /** OffsetCommit v2-4 RetentionTimeMs; -1 means the broker's retention, counted from the group emptying. */
  retentionTimeMs: number,
  /** Cluster mode: the coordinator shard's lease, so a moved shard's old owner cannot commit. */
  fence?: LeaseFence,
): Promise<TopicResult[]> {
  const rows: OffsetCommit[] = [];
  const results = topics.map((t) => {
    const count = partitionCount(t.name);
    return {
      name: t.name,
      partitions: t.partitions.map((p) => {
        let errorCode: number = ErrorCode.NONE;
        if (count === undefined || p.partitionIndex < 0 || p.partitionIndex >= count) errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        else if (p.committedMetadata !== null && Buffer.byteLength(p.committedMetadata) > config.offsetMetadataMaxBytes) {
          errorCode = ErrorCode.OFFSET_METADATA_TOO_LARGE;
        } else {
          rows.push({
            topic: t.name,
            partition: p.partitionIndex,
            offset: p.committedOffset,
            leaderEpoch: p.committedLeaderEpoch,
            metadata: p.committedMetadata ?? '',
            commitTimestamp: now,
            expireTimestamp: retentionTimeMs >= 0 ? now + retentionTimeMs : null,
          });
        }
        return { partitionIndex: p.partitionIndex, errorCode };
      }),
    };
  });
  await store.commitOffsets(groupId, rows, fence);
  return results;
}

/** The requested partitions (or every committed one when `topics` is null), -1 where none is committed. */
export async function fetchOffsets(
  store: GroupOffsetStore,
  groupId: string,
  topics: { name: string; partitionIndexes: number[] }[] | null,
): Promise<{ name: string; partitions: FetchedOffset[] }[]> {
  const committed = await store.fetchOffsets(groupId, topics?.map((t) => ({ topic: t.name, partitions: t.partitionIndexes })));
  const found = new Map(committed.map((c) => [`${c.topic}\u0000${c.partition}`, c]));
  const toFetched = (partitionIndex: number, c = found.get('')): FetchedOffset =>
    c
      ? { partitionIndex, committedOffset: c.offset, committedLeaderEpoch: c.leaderEpoch, metadata: c.metadata, errorCode: ErrorCode.NONE }
      : { partitionIndex, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: ErrorCode.NONE };
  if (topics === null) {
    const byTopic = new Map<string, FetchedOffset[]>();
    for (const c of committed) {
      const list = byTopic.get(c.topic) ?? [];
      list.push(toFetched(c.partition, c));
      byTopic.set(c.topic, list);
    }
    return [...byTopic].map(([name, partitions]) => ({ name, partitions }));
  }
  return topics.map((t) => ({
    name: t.name,
    partitions: t.partitionIndexes.map((p) => toFetched(p, found.get(`${t.name}\u0000${p}`))),
  }));
}
