// ListOffsets (key 2), versions 0-10.
// Timestamps: -1 latest (the high watermark, or the last stable offset under read_committed),
// -2 earliest (the log start offset), -3 the offset of the record with the largest timestamp
// (KIP-734), -4 earliest local (KIP-405) = the log start offset, because every offset this broker
// serves is equally "local" to it, -5 latest tiered (KIP-1005) = the last offset already committed
// to object storage (-1 when nothing is), and any time >= 0: the first offset whose record
// timestamp is >= it (-1/-1 when none is). Timestamp lookups use the segment rows' and footer
// indexes' max timestamps and decode only the one batch that holds the answer.
// v0 answers in OldStyleOffsets with at most one offset. LeaderEpoch (v4+) is the epoch of the
// batch holding the offset (the current leader epoch for -1). CurrentLeaderEpoch is checked
// (FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH). replicaId and timeoutMs (v10) are not used.
import {
  ListOffsetsRequestMessage,
  ListOffsetsResponseMessage,
  createListOffsetsResponse,
  type ListOffsetsRequest,
  type ListOffsetsResponse,
} from '../protocol/generated/index.js';
import type { ListOffsetsPartitionResponse } from '../protocol/generated/ListOffsetsResponse.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import type { BrokerContext } from './context.js';
import { defineHandler } from './types.js';

function failed(partitionIndex: number, errorCode: number): ListOffsetsPartitionResponse {
  return { partitionIndex, errorCode, oldStyleOffsets: [], timestamp: -1n, offset: -1n, leaderEpoch: -1 };
}

export function listOffsetsHandler(b: BrokerContext) {
  return defineHandler<ListOffsetsRequest, ListOffsetsResponse>({
    request: ListOffsetsRequestMessage,
    response: ListOffsetsResponseMessage,
    minVersion: 0,
    maxVersion: 10,
    async handle(req, ctx) {
      const topics = [];
      for (const t of req.topics) {
        const topic = await b.topics.get(t.name);
        const partitions: ListOffsetsPartitionResponse[] = [];
        for (const p of t.partitions) {
          if (!topic || p.partitionIndex < 0 || p.partitionIndex >= topic.partitions || !b.logs) {
            partitions.push(failed(p.partitionIndex, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
            continue;
          }
          try {
            const log = await b.logs.partition(topic, p.partitionIndex);
            if (p.currentLeaderEpoch >= 0 && p.currentLeaderEpoch !== log.leaderEpoch) {
              partitions.push(failed(p.partitionIndex, p.currentLeaderEpoch < log.leaderEpoch ? ErrorCode.FENCED_LEADER_EPOCH : ErrorCode.UNKNOWN_LEADER_EPOCH));
              continue;
            }
            const r = await log.offsetForTimestamp(p.timestamp, ctx.apiVersion >= 2 ? req.isolationLevel : 0);
            partitions.push({
              partitionIndex: p.partitionIndex,
              errorCode: ErrorCode.NONE,
              oldStyleOffsets: ctx.apiVersion === 0 && r.offset >= 0n && p.maxNumOffsets > 0 ? [r.offset] : [],
              timestamp: r.timestamp,
              offset: r.offset,
              leaderEpoch: r.leaderEpoch,
            });
          } catch (err) {
            if (!(err instanceof KafkaError)) ctx.log.error({ err, topic: t.name, partition: p.partitionIndex }, 'ListOffsets failed');
            partitions.push(failed(p.partitionIndex, err instanceof KafkaError ? err.code : ErrorCode.UNKNOWN_SERVER_ERROR));
          }
        }
        topics.push({ name: t.name, partitions });
      }
      return { ...createListOffsetsResponse(), topics };
    },
    errorResponse: (req, code) => ({
      ...createListOffsetsResponse(),
      topics: req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => failed(p.partitionIndex, code)) })),
    }),
  });
}
