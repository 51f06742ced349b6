// OffsetCommit (key 8), versions 0-9.
// Commits are checked against the group: a member commits with its generation (classic) or
// member epoch (KIP-848 groups, v9); a commit without membership (generation -1, empty member
// id) is accepted only while the group is Empty, and creates a "simple" group if there is none.
// Offsets keep their leader epoch (v6+) and metadata (offset.metadata.max.bytes, 4096). v2-4
// RetentionTimeMs sets an explicit expiry; otherwise offsets.retention.minutes applies from
// when the group becomes empty (KIP-211). Unknown topics or partitions are
// UNKNOWN_TOPIC_OR_PARTITION. v1's per-partition commit timestamp is ignored, as Kafka 4 does.
import {
  OffsetCommitRequestMessage,
  OffsetCommitResponseMessage,
  createOffsetCommitResponse,
  type OffsetCommitRequest,
  type OffsetCommitResponse,
} from '../protocol/generated/index.js';
import { groupCoordinator, type BrokerContext } from './context.js';
import { defineHandler } from './types.js';

export function offsetCommitHandler(b: BrokerContext) {
  return defineHandler<OffsetCommitRequest, OffsetCommitResponse>({
    request: OffsetCommitRequestMessage,
    response: OffsetCommitResponseMessage,
    minVersion: 0,
    maxVersion: 9,
    async handle(req, ctx) {
      const v = ctx.apiVersion;
      const topics = await groupCoordinator(b).commitOffsets({
        apiVersion: v,
        groupId: req.groupId,
        generationIdOrMemberEpoch: v >= 1 ? req.generationIdOrMemberEpoch : -1,
        memberId: v >= 1 ? req.memberId : '',
        groupInstanceId: v >= 7 ? req.groupInstanceId : null,
        retentionTimeMs: v >= 2 && v <= 4 ? Number(req.retentionTimeMs) : -1,
        topics: req.topics.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => ({
            partitionIndex: p.partitionIndex,
            committedOffset: p.committedOffset,
            committedLeaderEpoch: v >= 6 ? p.committedLeaderEpoch : -1,
            committedMetadata: p.committedMetadata,
          })),
        })),
      });
      return { ...createOffsetCommitResponse(), topics };
    },
    errorResponse(req, errorCode) {
      return {
        ...createOffsetCommitResponse(),
        topics: (req?.topics ?? []).map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })) })),
      };
    },
  });
}
