// DescribeProducers (key 61), version 0.
// The producers with state on each requested partition: epoch, last sequence and timestamp of
// their newest batch, coordinator epoch of their last marker, and the start offset of their open
// transaction (-1 when none). kafka-transactions.sh uses it to find hanging transactions.
// A topic or partition that does not exist is UNKNOWN_TOPIC_OR_PARTITION.
import {
  DescribeProducersRequestMessage,
  DescribeProducersResponseMessage,
  createDescribeProducersResponse,
  type DescribeProducersRequest,
  type DescribeProducersResponse,
} from '../protocol/generated/index.js';
import type { PartitionResponse } from '../protocol/generated/DescribeProducersResponse.js';
import { ErrorCode } from '../protocol/errors.js';
import type { BrokerContext } from './context.js';
import { defineHandler } from './types.js';

export function describeProducersHandler(b: BrokerContext) {
  return defineHandler<DescribeProducersRequest, DescribeProducersResponse>({
    request: DescribeProducersRequestMessage,
    response: DescribeProducersResponseMessage,
    minVersion: 0,
    maxVersion: 0,
    async handle(req) {
      const topics = [];
      for (const t of req.topics) {
        const topic = await b.topics.get(t.name);
        const partitions: PartitionResponse[] = t.partitionIndexes.map((p) => {
          if (!topic || p < 0 || p >= topic.partitions) {
            return { partitionIndex: p, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `topic '${t.name}' partition ${p} does not exist`, activeProducers: [] };
          }
          const state = b.producers?.peek(topic.id, p);
          const activeProducers = (state?.entries() ?? []).map((e) => {
            const last = e.batches[e.batches.length - 1];
            return {
              producerId: e.producerId,
              producerEpoch: e.producerEpoch,
              lastSequence: last?.lastSeq ?? -1,
              lastTimestamp: last?.timestamp ?? -1n,
              coordinatorEpoch: e.coordinatorEpoch,
              currentTxnStartOffset: e.currentTxnFirstOffset ?? -1n,
            };
          });
          return { partitionIndex: p, errorCode: ErrorCode.NONE, errorMessage: null, activeProducers };
        });
        topics.push({ name: t.name, partitions });
      }
      return { ...createDescribeProducersResponse(), topics };
    },
    errorResponse: (req, code, message) => ({
      ...createDescribeProducersResponse(),
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((p) => ({ partitionIndex: p, errorCode: code, errorMessage: message, activeProducers: [] })),
      })),
    }),
  });
}
