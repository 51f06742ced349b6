// DeleteRecords (key 21), versions 0-2.
// Moves each partition's log start offset to the requested offset (-1 means the high watermark)
// and deletes the rows and objects of segments wholly below it; a segment straddling the new start
// stays until retention removes it, but nothing below the start is served any more. The new log
// start offset is persisted in the metadata store before anything is deleted, and is returned as
// lowWatermark. An offset above the high watermark (or below -1) is OFFSET_OUT_OF_RANGE; an offset
// at or below the current start is a no-op. timeoutMs is not needed: the move completes before the
// answer (there are no followers to wait for).
import {
  DeleteRecordsRequestMessage,
  DeleteRecordsResponseMessage,
  createDeleteRecordsResponse,
  type DeleteRecordsRequest,
  type DeleteRecordsResponse,
} from '../protocol/generated/index.js';
import type { DeleteRecordsPartitionResult } from '../protocol/generated/DeleteRecordsResponse.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import type { BrokerContext } from './context.js';
import { defineHandler } from './types.js';

export function deleteRecordsHandler(b: BrokerContext) {
  return defineHandler<DeleteRecordsRequest, DeleteRecordsResponse>({
    request: DeleteRecordsRequestMessage,
    response: DeleteRecordsResponseMessage,
    minVersion: 0,
    maxVersion: 2,
    async handle(req, ctx) {
      const topics = [];
      for (const t of req.topics) {
        const topic = await b.topics.get(t.name);
        const partitions: DeleteRecordsPartitionResult[] = [];
        for (const p of t.partitions) {
          const fail = (errorCode: number) => partitions.push({ partitionIndex: p.partitionIndex, lowWatermark: -1n, errorCode });
          if (!topic || p.partitionIndex < 0 || p.partitionIndex >= topic.partitions || !b.logs) {
            fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
            continue;
          }
          try {
            const log = await b.logs.partition(topic, p.partitionIndex);
            if (p.offset < -1n) {
              fail(ErrorCode.OFFSET_OUT_OF_RANGE);
              continue;
            }
            const target = p.offset === -1n ? log.highWatermark() : p.offset;
            const lowWatermark = await log.deleteRecordsBefore(target);
            partitions.push({ partitionIndex: p.partitionIndex, lowWatermark, errorCode: ErrorCode.NONE });
          } catch (err) {
            if (!(err instanceof KafkaError)) ctx.log.error({ err, topic: t.name, partition: p.partitionIndex }, 'DeleteRecords failed');
            fail(err instanceof KafkaError ? err.code : ErrorCode.UNKNOWN_SERVER_ERROR);
          }
        }
        topics.push({ name: t.name, partitions });
      }
      return { ...createDeleteRecordsResponse(), topics };
    },
    errorResponse: (req, code) => ({
      ...createDeleteRecordsResponse(),
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, lowWatermark: -1n, errorCode: code })),
      })),
    }),
  });
}
