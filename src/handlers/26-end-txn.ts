// EndTxn (key 26), versions 0-4.
// Commits or aborts the transaction: PrepareCommit/PrepareAbort is stored, markers are written to
// every partition of the transaction, staged offsets are applied on commit, and the transaction is
// stored as CompleteCommit/CompleteAbort. The answer comes after the markers are written, so the
// data is readable by read_committed consumers when the producer hears back; a retried EndTxn of a
// finished transaction answers NONE. v5 (KIP-890 part 2, an epoch bump per transaction) is not
// served, so clients keep transaction version 1. PRODUCER_FENCED is INVALID_PRODUCER_EPOCH before v2.
import {
  EndTxnRequestMessage,
  EndTxnResponseMessage,
  createEndTxnResponse,
  type EndTxnRequest,
  type EndTxnResponse,
} from '../protocol/generated/index.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { coordinatorErrorCode, txnCoordinator, type BrokerContext } from './context.js';
import { defineHandler } from './types.js';

export function endTxnHandler(b: BrokerContext) {
  return defineHandler<EndTxnRequest, EndTxnResponse>({
    request: EndTxnRequestMessage,
    response: EndTxnResponseMessage,
    minVersion: 0,
    maxVersion: 4,
    async handle(req, ctx) {
      let code: number;
      try {
        code = await txnCoordinator(b).endTxn(req.transactionalId, req.producerId, req.producerEpoch, req.committed);
      } catch (err) {
        code = coordinatorErrorCode(err);
      }
      if (code === ErrorCode.PRODUCER_FENCED && ctx.apiVersion < 2) code = ErrorCode.INVALID_PRODUCER_EPOCH;
      return { ...createEndTxnResponse(), errorCode: code, producerId: -1n, producerEpoch: -1 };
    },
    errorResponse: (_req, code) => ({ ...createEndTxnResponse(), errorCode: code, producerId: -1n, producerEpoch: -1 }),
  });
}
