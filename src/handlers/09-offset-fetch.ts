// OffsetFetch (key 9), versions 0-9.
// v0-7 fetch one group; v8+ fetch several groups in one request, each answered on its own.
// Null topics (v2+) means every committed offset of the group. A partition without a commit is
// offset -1, leader epoch -1, empty metadata. v9 carries a KIP-848 member id and epoch, checked
// for consumer groups (UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH). RequireStable (v7+): a partition
// with offsets staged by an open transaction (TxnOffsetCommit) answers UNSTABLE_OFFSET_COMMIT
// (retriable) and offset -1, as Kafka does, so the consumer retries once the transaction ends.
// Group-level errors go in each partition for v0-1, which have no top-level error code.
import {
  OffsetFetchRequestMessage,
  OffsetFetchResponseMessage,
  createOffsetFetchResponse,
  type OffsetFetchRequest,
  type OffsetFetchResponse,
} from '../protocol/generated/index.js';
import type { OffsetFetchGroupResult } from '../coordinator/group/coordinator.js';
import { ErrorCode } from '../protocol/errors.js';
import { groupCoordinator, type BrokerContext } from './context.js';
import { defineHandler } from './types.js';

export function offsetFetchHandler(b: BrokerContext) {
  return defineHandler<OffsetFetchRequest, OffsetFetchResponse>({
    request: OffsetFetchRequestMessage,
    response: OffsetFetchResponseMessage,
    minVersion: 0,
    maxVersion: 9,
    async handle(req, ctx) {
      const v = ctx.apiVersion;
      const groups = groupCoordinator(b);
      if (v >= 8) {
        const results = await Promise.all(
          req.groups.map((g) =>
            groups.fetchOffsets({
              groupId: g.groupId,
              memberId: v >= 9 ? g.memberId : null,
              memberEpoch: v >= 9 ? g.memberEpoch : -1,
              topics: g.topics?.map((t) => ({ name: t.name, partitionIndexes: t.partitionIndexes })) ?? null,
            }),
          ),
        );
        return { ...createOffsetFetchResponse(), groups: req.requireStable ? await Promise.all(results.map((r) => markUnstable(b, r))) : results };
      }
      const topics = v < 2 && req.topics === null ? [] : req.topics;
      const r = await groups.fetchOffsets({
        groupId: req.groupId,
        memberId: null,
        memberEpoch: -1,
        topics: topics?.map((t) => ({ name: t.name, partitionIndexes: t.partitionIndexes })) ?? null,
      });
      const stable = v >= 7 && req.requireStable ? await markUnstable(b, r) : r;
      return { ...createOffsetFetchResponse(), errorCode: r.errorCode, topics: singleGroupTopics(stable, topics, v) };
    },
  });
}

/** RequireStable: partitions whose offsets an open transaction may still change are not answered yet. */
async function markUnstable(b: BrokerContext, r: OffsetFetchGroupResult): Promise<OffsetFetchGroupResult> {
  const txns = b.transactions;
  if (!txns || r.errorCode !== ErrorCode.NONE) return r;
  const pending = await txns.pendingOffsetPartitions(r.groupId);
  if (pending.size === 0) return r;
  return {
    ...r,
    topics: r.topics.map((t) => ({
      ...t,
      partitions: t.partitions.map((p) =>
        pending.has(`${t.name}\u0000${p.partitionIndex}`)
          ? { ...p, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT }
          : p,
      ),
    })),
  };
}

function singleGroupTopics(r: OffsetFetchGroupResult, asked: { name: string; partitionIndexes: number[] }[] | null, v: number) {
  if (r.errorCode !== 0 && v < 2 && asked) {
    return asked.map((t) => ({
      name: t.name,
      partitions: t.partitionIndexes.map((p) => ({ partitionIndex: p, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: r.errorCode })),
    }));
  }
  return r.topics;
}
