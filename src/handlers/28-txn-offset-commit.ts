// TxnOffsetCommit (key 28), versions 0-4.
// Stages a transaction's consumer offsets; they become the group's committed offsets when the
// transaction commits and are dropped when it aborts. The group must have been added with
// AddOffsetsToTxn (else INVALID_TXN_STATE, TRANSACTION_ABORTABLE at v4, as Kafka's verification
// answers). Then the v3+ member id, group instance id and generation are checked against the group
// when any is given (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID; STALE_MEMBER_EPOCH or
// FENCED_MEMBER_EPOCH for KIP-848 groups); an unknown group with generation -1 becomes a simple group.
import {
  TxnOffsetCommitRequestMessage,
  TxnOffsetCommitResponseMessage,
  createTxnOffsetCommitResponse,
  type TxnOffsetCommitRequest,
  type TxnOffsetCommitResponse,
} from '../protocol/generated/index.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { coordinatorErrorCode, txnCoordinator, type BrokerContext } from './context.js';
import { defineHandler } from './types.js';

function respond(req: TxnOffsetCommitRequest, code: (topic: string, partition: number) => number): TxnOffsetCommitResponse {
  return {
    ...createTxnOffsetCommitResponse(),
    topics: req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: code(t.name, p.partitionIndex) })),
    })),
  };
}

export function txnOffsetCommitHandler(b: BrokerContext) {
  return defineHandler<TxnOffsetCommitRequest, TxnOffsetCommitResponse>({
    request: TxnOffsetCommitRequestMessage,
    response: TxnOffsetCommitResponseMessage,
    minVersion: 0,
    maxVersion: 4,
    async handle(req, ctx) {
      if (req.groupId === '') return respond(req, () => ErrorCode.INVALID_GROUP_ID);
      const unknown = new Set<string>();
      for (const t of req.topics) if (!(await b.topics.get(t.name))) unknown.add(t.name);
      const offsets = req.topics
        .filter((t) => !unknown.has(t.name))
        .flatMap((t) =>
          t.partitions.map((p) => ({
            topic: t.name,
            partition: p.partitionIndex,
            offset: p.committedOffset,
            leaderEpoch: p.committedLeaderEpoch,
            metadata: p.committedMetadata,
          })),
        );
      let code: number;
      try {
        const notAdded = ctx.apiVersion >= 4 ? ErrorCode.TRANSACTION_ABORTABLE : ErrorCode.INVALID_TXN_STATE;
        const member = { groupId: req.groupId, memberId: req.memberId, groupInstanceId: req.groupInstanceId, generationId: req.generationId };
        const checkGroup = () => (b.groups ? b.groups.validateTxnOffsetCommit(member) : ErrorCode.NONE);
        code = await txnCoordinator(b).txnOffsetCommit(req.transactionalId, req.groupId, req.producerId, req.producerEpoch, offsets, notAdded, checkGroup);
      } catch (err) {
        code = coordinatorErrorCode(err);
      }
      return respond(req, (topic) => (unknown.has(topic) ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : code));
    },
    errorResponse: (req, code) => respond(req, () => code),
  });
}
