// AddOffsetsToTxn (key 25), versions 0-4.
// Adds a consumer group to the transaction so TxnOffsetCommit may stage its offsets. Kafka adds
// the group's __consumer_offsets partition; StreamHouse keeps group offsets in the metadata store,
// so the transaction records the group id and applies the staged offsets when it commits.
// PRODUCER_FENCED is INVALID_PRODUCER_EPOCH before v2.
import {
  AddOffsetsToTxnRequestMessage,
  AddOffsetsToTxnResponseMessage,
  createAddOffsetsToTxnResponse,
  type AddOffsetsToTxnRequest,
  type AddOffsetsToTxnResponse,
} from '../protocol/generated/index.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { coordinatorErrorCode, txnCoordinator, type BrokerContext } from './context.js';
import { defineHandler } from './types.js';

export function addOffsetsToTxnHandler(b: BrokerContext) {
  return defineHandler<AddOffsetsToTxnRequest, AddOffsetsToTxnResponse>({
    request: AddOffsetsToTxnRequestMessage,
    response: AddOffsetsToTxnResponseMessage,
    minVersion: 0,
    maxVersion: 4,
    async handle(req, ctx) {
      let code: number;
      if (req.groupId === '') code = ErrorCode.INVALID_GROUP_ID;
      else {
        try {
          code = await txnCoordinator(b).addOffsets(req.transactionalId, req.producerId, req.producerEpoch, req.groupId);
        } catch (err) {
          code = coordinatorErrorCode(err);
        }
      }
      if (code === ErrorCode.PRODUCER_FENCED && ctx.apiVersion < 2) code = ErrorCode.INVALID_PRODUCER_EPOCH;
      return { ...createAddOffsetsToTxnResponse(), errorCode: code };
    },
    errorResponse: (_req, code) => ({ ...createAddOffsetsToTxnResponse(), errorCode: code }),
  });
}
