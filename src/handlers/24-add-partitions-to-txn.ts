// AddPartitionsToTxn (key 24), versions 0-5.
// v0-3 (clients): one transaction's partitions join it; a topic that does not exist fails its
// partitions with UNKNOWN_TOPIC_OR_PARTITION and the others with OPERATION_NOT_ATTEMPTED, as in Kafka.
// v4+ (broker to broker): a batch of transactions, each either added or, with verifyOnly, only
// checked (KIP-890 part 1): a partition outside the transaction is INVALID_TXN_STATE at v4 and
// TRANSACTION_ABORTABLE at v5. Errors: INVALID_PRODUCER_ID_MAPPING for an unknown transactional id
// or producer id, PRODUCER_FENCED (INVALID_PRODUCER_EPOCH before v2) for an old epoch,
// CONCURRENT_TRANSACTIONS while the previous transaction is being completed.
import {
  AddPartitionsToTxnRequestMessage,
  AddPartitionsToTxnResponseMessage,
  createAddPartitionsToTxnResponse,
  type AddPartitionsToTxnRequest,
  type AddPartitionsToTxnResponse,
} from '../protocol/generated/index.js';
import type { AddPartitionsToTxnTopicResult } from '../protocol/generated/AddPartitionsToTxnResponse.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import type { PartitionErrors } from '../coordinator/txn/txn-coordinator.js';
import { coordinatorErrorCode, txnCoordinator, type BrokerContext } from './context.js';
import { defineHandler } from './types.js';

type Topics = { name: string; partitions: number[] }[];

function results(errors: PartitionErrors, fenceCode: number): AddPartitionsToTxnTopicResult[] {
  return [...errors].map(([name, parts]) => ({
    name,
    resultsByPartition: [...parts].map(([partitionIndex, code]) => ({
      partitionIndex,
      partitionErrorCode: code === ErrorCode.PRODUCER_FENCED ? fenceCode : code,
    })),
  }));
}

function uniform(topics: Topics, code: number): PartitionErrors {
  return new Map(topics.map((t) => [t.name, new Map(t.partitions.map((p) => [p, code]))]));
}

export function addPartitionsToTxnHandler(b: BrokerContext) {
  async function run(id: string, pid: bigint, epoch: number, topics: Topics, verifyOnly: boolean, version: number): Promise<PartitionErrors> {
    try {
      const coord = txnCoordinator(b);
      if (verifyOnly) {
        return await coord.verifyPartitions(id, pid, epoch, topics, version >= 5 ? ErrorCode.TRANSACTION_ABORTABLE : ErrorCode.INVALID_TXN_STATE);
      }
      return await coord.addPartitions(id, pid, epoch, topics);
    } catch (err) {
      return uniform(topics, coordinatorErrorCode(err));
    }
  }

  return defineHandler<AddPartitionsToTxnRequest, AddPartitionsToTxnResponse>({
    request: AddPartitionsToTxnRequestMessage,
    response: AddPartitionsToTxnResponseMessage,
    minVersion: 0,
    maxVersion: 5,
    async handle(req, ctx) {
      const v = ctx.apiVersion;
      const fenceCode = v < 2 ? ErrorCode.INVALID_PRODUCER_EPOCH : ErrorCode.PRODUCER_FENCED;
      if (v <= 3) {
        const topics = req.v3AndBelowTopics.map((t) => ({ name: t.name, partitions: t.partitions }));
        const errors = await run(req.v3AndBelowTransactionalId, req.v3AndBelowProducerId, req.v3AndBelowProducerEpoch, topics, false, v);
        return { ...createAddPartitionsToTxnResponse(), resultsByTopicV3AndBelow: results(errors, fenceCode) };
      }
      const resultsByTransaction = [];
      for (const t of req.transactions) {
        const topics = t.topics.map((x) => ({ name: x.name, partitions: x.partitions }));
        const errors = await run(t.transactionalId, t.producerId, t.producerEpoch, topics, t.verifyOnly, v);
        resultsByTransaction.push({ transactionalId: t.transactionalId, topicResults: results(errors, fenceCode) });
      }
      return { ...createAddPartitionsToTxnResponse(), resultsByTransaction };
    },
    errorResponse: (req, code) => ({
      ...createAddPartitionsToTxnResponse(),
      errorCode: code,
      resultsByTopicV3AndBelow: results(uniform(req.v3AndBelowTopics, code), code),
    }),
  });
}
