// OffsetForLeaderEpoch (key 23), versions 0-4.
// For each partition: the end offset of the requested leader epoch, i.e. the start offset of the
// next larger epoch the log knows, or the log end offset when the requested epoch is the current
// one; leaderEpoch (v1+) is the largest known epoch <= the requested one. An epoch newer than the
// current one, or older than any the log knows, answers -1/-1 (Kafka's UNDEFINED_EPOCH answer).
// Epochs are known from the committed segments' rows, the WAL-recovered tail and the current
// leader epoch of the partition row (one leader per partition: this agent). CurrentLeaderEpoch
// (v2+) is checked: older is FENCED_LEADER_EPOCH, newer UNKNOWN_LEADER_EPOCH. replicaId (v3+) is
// not used: there are no follower brokers.
import {
  OffsetForLeaderEpochRequestMessage,
  OffsetForLeaderEpochResponseMessage,
  createOffsetForLeaderEpochResponse,
  type OffsetForLeaderEpochRequest,
  type OffsetForLeaderEpochResponse,
} from '../protocol/generated/index.js';
import type { EpochEndOffset } from '../protocol/generated/OffsetForLeaderEpochResponse.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import type { BrokerContext } from './context.js';
import { defineHandler } from './types.js';

function failed(partition: number, errorCode: number): EpochEndOffset {
  return { errorCode, partition, leaderEpoch: -1, endOffset: -1n };
}

export function offsetForLeaderEpochHandler(b: BrokerContext) {
  return defineHandler<OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse>({
    request: OffsetForLeaderEpochRequestMessage,
    response: OffsetForLeaderEpochResponseMessage,
    minVersion: 0,
    maxVersion: 4,
    async handle(req, ctx) {
      const topics = [];
      for (const t of req.topics) {
        const topic = await b.topics.get(t.topic);
        const partitions: EpochEndOffset[] = [];
        for (const p of t.partitions) {
          if (!topic || p.partition < 0 || p.partition >= topic.partitions || !b.logs) {
            partitions.push(failed(p.partition, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
            continue;
          }
          try {
            const log = await b.logs.partition(topic, p.partition);
            if (p.currentLeaderEpoch >= 0 && p.currentLeaderEpoch !== log.leaderEpoch) {
              partitions.push(failed(p.partition, p.currentLeaderEpoch < log.leaderEpoch ? ErrorCode.FENCED_LEADER_EPOCH : ErrorCode.UNKNOWN_LEADER_EPOCH));
              continue;
            }
            const r = log.endOffsetForEpoch(p.leaderEpoch);
            partitions.push({ errorCode: ErrorCode.NONE, partition: p.partition, leaderEpoch: r.leaderEpoch, endOffset: r.endOffset });
          } catch (err) {
            if (!(err instanceof KafkaError)) ctx.log.error({ err, topic: t.topic, partition: p.partition }, 'OffsetForLeaderEpoch failed');
            partitions.push(failed(p.partition, err instanceof KafkaError ? err.code : ErrorCode.UNKNOWN_SERVER_ERROR));
          }
        }
        topics.push({ topic: t.topic, partitions });
      }
      return { ...createOffsetForLeaderEpochResponse(), topics };
    },
    errorResponse: (req, code) => ({
      ...createOffsetForLeaderEpochResponse(),
      topics: req.topics.map((t) => ({ topic: t.topic, partitions: t.partitions.map((p) => failed(p.partition, code)) })),
    }),
  });
}
